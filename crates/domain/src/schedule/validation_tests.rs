//! Validation messages and the JSON form a schedule is stored and sent in.

use super::tests::{at, handles, layer, schedule};
use super::*;
use crate::DomainError;

fn field_of(input: NewSchedule) -> (&'static str, String) {
    match Schedule::new(input) {
        Err(DomainError::Invalid { field, message }) => (field, message),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn validation_names_the_field_and_the_fix() {
    let ok = NewSchedule {
        name: "Payments".to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
        layers: vec![layer(
            "Primary",
            &["alice"],
            ShiftLength::Days(1),
            "2026-01-01T09:00",
        )],
        overrides: vec![],
    };
    assert!(Schedule::new(ok.clone()).is_ok());
    let with = |f: &dyn Fn(&mut NewSchedule)| {
        let mut input = ok.clone();
        f(&mut input);
        field_of(input)
    };
    assert_eq!(with(&|s| s.name = "  ".into()).0, "name");
    let (field, message) = with(&|s| s.time_zone = "Mars/Olympus".into());
    assert_eq!(field, "time_zone");
    assert!(message.contains("Mars/Olympus"), "{message}");
    assert_eq!(with(&|s| s.layers[0].name = String::new()).0, "layers.name");
    let (field, message) = with(&|s| {
        s.layers.push(layer(
            "Secondary",
            &[],
            ShiftLength::Days(1),
            "2026-01-01T09:00",
        ))
    });
    assert_eq!(field, "layers.participants");
    assert!(message.starts_with("layers[1] (Secondary)"), "{message}");
    assert_eq!(
        with(&|s| s.layers[0].shift = ShiftLength::Hours(0)).0,
        "layers.shift"
    );
    assert_eq!(
        with(&|s| s.layers[0].shift = ShiftLength::Weeks(53)).0,
        "layers.shift"
    );
    let (field, _) = with(&|s| {
        let mut r = Restriction::business_hours();
        r.end = r.start;
        s.layers[0].restrictions.push(r);
    });
    assert_eq!(field, "layers.restrictions.end");
    assert_eq!(
        with(&|s| s.layers[0].restrictions.push(Restriction {
            days: vec![],
            ..Restriction::business_hours()
        }))
        .0,
        "layers.restrictions.days"
    );
    let (field, _) = with(&|s| {
        s.overrides.push(Override {
            user: handles(&["bob"]).remove(0),
            start: at("2026-01-02T00:00Z"),
            end: at("2026-01-02T00:00Z"),
        })
    });
    assert_eq!(field, "overrides.end");
    // No layers at all is allowed: only overrides put anyone on call.
    assert!(Schedule::new(NewSchedule {
        layers: vec![],
        ..ok
    })
    .is_ok());
}

#[test]
fn schedules_round_trip_through_json_and_are_checked_on_the_way_in() {
    let mut l = layer(
        "Primary",
        &["alice", "bob"],
        ShiftLength::Hours(12),
        "2026-03-07T08:00",
    );
    l.restrictions = vec![Restriction::business_hours()];
    let s = schedule("America/New_York", vec![l], vec![]);
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains(r#""shift":{"hours":12}"#), "{json}");
    assert!(
        json.contains(r#""days":["mon","tue","wed","thu","fri"]"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), s);
    let bad = json.replace("America/New_York", "Nowhere/Special");
    let err = serde_json::from_str::<Schedule>(&bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Nowhere/Special"), "{err}");
}

#[test]
fn a_schedule_converts_back_to_its_input_for_edits() {
    let s = schedule("Europe/Berlin", vec![], vec![]);
    let mut input = NewSchedule::from(s.clone());
    assert_eq!(Schedule::new(input.clone()).unwrap(), s);
    input.overrides.push(Override {
        user: handles(&["alice"]).remove(0),
        start: at("2026-01-01T00:00Z"),
        end: at("2026-01-02T00:00Z"),
    });
    let edited = Schedule::new(input).unwrap();
    assert_eq!(
        edited.on_call_at(at("2026-01-01T12:00Z")).unwrap().as_str(),
        "alice"
    );
    assert_eq!(edited.on_call_at(at("2026-01-02T00:00Z")), None);
}
