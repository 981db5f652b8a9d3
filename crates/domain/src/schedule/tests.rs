//! Hand-worked examples with known answers, across real DST changes.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::*;

pub(super) fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn wall(s: &str) -> DateTime {
    s.parse().unwrap()
}

pub(super) fn handles(names: &[&str]) -> Vec<Handle> {
    names.iter().map(|n| Handle::parse(n).unwrap()).collect()
}

pub(super) fn layer(name: &str, people: &[&str], shift: ShiftLength, start: &str) -> Layer {
    Layer {
        name: name.to_owned(),
        participants: handles(people),
        shift,
        start: wall(start),
        restrictions: vec![],
    }
}

pub(super) fn schedule(tz: &str, layers: Vec<Layer>, overrides: Vec<Override>) -> Schedule {
    Schedule::new(NewSchedule {
        name: "Payments".to_owned(),
        time_zone: tz.to_owned(),
        layers,
        overrides,
    })
    .unwrap()
}

/// `(user, start, end)` of each shift, for compact assertions.
fn table(shifts: &[Shift]) -> Vec<(String, String, String)> {
    shifts
        .iter()
        .map(|s| (s.user.to_string(), s.start.to_string(), s.end.to_string()))
        .collect()
}

fn row(user: &str, start: &str, end: &str) -> (String, String, String) {
    (user.to_owned(), start.to_owned(), end.to_owned())
}

fn new_york() -> TimeZone {
    TimeZone::get("America/New_York").unwrap()
}

#[test]
fn daily_handoff_stays_at_nine_when_clocks_spring_forward() {
    let l = layer(
        "Primary",
        &["alice", "bob", "carol"],
        ShiftLength::Days(1),
        "2026-03-06T09:00",
    );
    let shifts = l.shifts(
        &new_york(),
        at("2026-03-06T00:00Z"),
        at("2026-03-10T00:00Z"),
    );
    assert_eq!(
        table(&shifts),
        [
            row("alice", "2026-03-06T14:00:00Z", "2026-03-07T14:00:00Z"),
            // Saturday 09:00 EST to Sunday 09:00 EDT: 23 hours.
            row("bob", "2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"),
            row("carol", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"),
            row("alice", "2026-03-09T13:00:00Z", "2026-03-10T00:00:00Z"),
        ]
    );
}

#[test]
fn daily_handoff_stays_at_nine_when_clocks_fall_back() {
    let l = layer(
        "Primary",
        &["alice", "bob", "carol"],
        ShiftLength::Days(1),
        "2026-10-30T09:00",
    );
    let shifts = l.shifts(
        &new_york(),
        at("2026-10-30T13:00Z"),
        at("2026-11-02T14:00Z"),
    );
    assert_eq!(
        table(&shifts),
        [
            row("alice", "2026-10-30T13:00:00Z", "2026-10-31T13:00:00Z"),
            // Saturday 09:00 EDT to Sunday 09:00 EST: 25 hours.
            row("bob", "2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z"),
            row("carol", "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"),
        ]
    );
}

#[test]
fn twelve_hour_rotation_moves_an_hour_on_the_wall_clock() {
    let tz = new_york();
    let l = layer(
        "Follow the sun",
        &["alice", "bob"],
        ShiftLength::Hours(12),
        "2026-03-07T08:00",
    );
    let shifts = l.shifts(&tz, at("2026-03-07T13:00Z"), at("2026-03-08T13:00Z"));
    assert_eq!(
        table(&shifts),
        [
            row("alice", "2026-03-07T13:00:00Z", "2026-03-08T01:00:00Z"),
            row("bob", "2026-03-08T01:00:00Z", "2026-03-08T13:00:00Z"),
        ]
    );
    // Handoffs were at 08:00 and 20:00 EST; after the change they are at 09:00 EDT.
    let handoff = tz.to_datetime(shifts[1].end);
    assert_eq!(handoff, wall("2026-03-08T09:00"));
    // 08:30 EDT on Sunday is still bob's night shift.
    assert_eq!(
        l.on_call_at(&tz, at("2026-03-08T12:30Z")).unwrap().as_str(),
        "bob"
    );
}

#[test]
fn start_inside_the_spring_gap_moves_forward_and_ambiguous_handoffs_take_the_first() {
    let tz = new_york();
    // 02:30 does not exist on 2026-03-08: the first shift starts at 03:30 EDT.
    let l = layer(
        "Gap",
        &["alice", "bob"],
        ShiftLength::Days(1),
        "2026-03-08T02:30",
    );
    assert_eq!(l.on_call_at(&tz, at("2026-03-08T07:29:59Z")), None);
    let shifts = l.shifts(&tz, at("2026-03-08T00:00Z"), at("2026-03-09T12:00Z"));
    assert_eq!(
        table(&shifts),
        [
            row("alice", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"),
            row("bob", "2026-03-09T06:30:00Z", "2026-03-09T12:00:00Z"),
        ]
    );
    // 01:30 happens twice on 2026-11-01; the handoff is at the first (EDT, 05:30Z).
    let l = layer(
        "Fold",
        &["alice", "bob"],
        ShiftLength::Days(1),
        "2026-10-31T01:30",
    );
    let shifts = l.shifts(&tz, at("2026-10-31T05:30Z"), at("2026-11-02T06:30Z"));
    assert_eq!(
        table(&shifts),
        [
            row("alice", "2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z"),
            row("bob", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"),
        ]
    );
}

#[test]
fn nobody_before_the_first_shift_and_boundaries_belong_to_the_next_shift() {
    let tz = new_york();
    let l = layer(
        "Primary",
        &["alice", "bob"],
        ShiftLength::Weeks(1),
        "2026-11-02T09:00",
    );
    assert_eq!(l.on_call_at(&tz, at("2026-11-02T13:59:59Z")), None);
    assert_eq!(
        l.on_call_at(&tz, at("2026-11-02T14:00Z")).unwrap().as_str(),
        "alice"
    );
    assert_eq!(
        l.on_call_at(&tz, at("2026-11-09T13:59:59Z"))
            .unwrap()
            .as_str(),
        "alice"
    );
    assert_eq!(
        l.on_call_at(&tz, at("2026-11-09T14:00Z")).unwrap().as_str(),
        "bob"
    );
}

#[test]
fn restricted_layers_are_on_call_only_inside_their_windows() {
    let tz = new_york();
    let mut l = layer(
        "Business hours",
        &["alice", "bob"],
        ShiftLength::Weeks(1),
        "2026-11-23T09:00",
    );
    l.restrictions = vec![Restriction::business_hours()];
    let who = |t: &str| l.on_call_at(&tz, at(t)).map(|h| h.to_string());
    assert_eq!(who("2026-11-23T15:00Z").as_deref(), Some("alice")); // Mon 10:00 EST
    assert_eq!(who("2026-11-23T22:00Z"), None); // Mon 17:00 EST: window closed
    assert_eq!(who("2026-11-28T15:00Z"), None); // Saturday
    assert_eq!(who("2026-11-30T15:00Z").as_deref(), Some("bob")); // next Monday
    let shifts = l.shifts(&tz, at("2026-11-23T00:00Z"), at("2026-11-30T00:00Z"));
    assert_eq!(shifts.len(), 5);
    assert!(shifts.iter().all(|s| s.user.as_str() == "alice"));
    assert_eq!(
        (shifts[4].start, shifts[4].end),
        (at("2026-11-27T14:00Z"), at("2026-11-27T22:00Z"))
    );
}

#[test]
fn a_window_that_crosses_midnight_belongs_to_the_day_it_opens() {
    use crate::policy::{Day, TimeOfDay};
    use jiff::civil::{time, Weekday};
    let tz = TimeZone::UTC;
    let mut l = layer(
        "Nights",
        &["alice"],
        ShiftLength::Days(1),
        "2026-01-01T00:00",
    );
    l.restrictions = vec![Restriction {
        days: vec![Day(Weekday::Friday)],
        start: TimeOfDay(time(22, 0, 0, 0)),
        end: TimeOfDay(time(6, 0, 0, 0)),
    }];
    // Friday 2026-01-02 22:00 to Saturday 06:00.
    assert!(l.on_call_at(&tz, at("2026-01-03T05:59Z")).is_some());
    assert!(l.on_call_at(&tz, at("2026-01-03T06:00Z")).is_none());
    assert!(l.on_call_at(&tz, at("2026-01-02T05:00Z")).is_none());
}

#[test]
fn later_layers_and_overrides_win() {
    let mut business = layer("Day", &["carol"], ShiftLength::Weeks(1), "2026-01-01T00:00");
    business.restrictions = vec![Restriction::business_hours()];
    let s = schedule(
        "UTC",
        vec![
            layer(
                "Base",
                &["alice", "bob"],
                ShiftLength::Days(1),
                "2026-01-01T00:00",
            ),
            business,
        ],
        vec![
            Override {
                user: handles(&["dave"]).remove(0),
                start: at("2026-01-05T12:00Z"),
                end: at("2026-01-05T13:00Z"),
            },
            Override {
                user: handles(&["erin"]).remove(0),
                start: at("2026-01-05T12:30Z"),
                end: at("2026-01-05T14:00Z"),
            },
        ],
    );
    // Monday 2026-01-05 is day 4 of the base rotation: alice.
    let shifts = s.shifts(at("2026-01-05T00:00Z"), at("2026-01-06T00:00Z"));
    assert_eq!(
        table(&shifts),
        [
            row("alice", "2026-01-05T00:00:00Z", "2026-01-05T09:00:00Z"),
            row("carol", "2026-01-05T09:00:00Z", "2026-01-05T12:00:00Z"),
            row("dave", "2026-01-05T12:00:00Z", "2026-01-05T12:30:00Z"),
            row("erin", "2026-01-05T12:30:00Z", "2026-01-05T14:00:00Z"),
            row("carol", "2026-01-05T14:00:00Z", "2026-01-05T17:00:00Z"),
            row("alice", "2026-01-05T17:00:00Z", "2026-01-06T00:00:00Z"),
        ]
    );
    assert_eq!(
        shifts[0].source,
        ShiftSource::Layer {
            index: 0,
            name: "Base".into()
        }
    );
    assert_eq!(shifts[3].source, ShiftSource::Override { index: 1 });
    for (t, who) in [
        ("2026-01-05T08:59Z", "alice"),
        ("2026-01-05T12:45Z", "erin"),
        ("2026-01-05T12:10Z", "dave"),
    ] {
        assert_eq!(s.on_call_at(at(t)).unwrap().as_str(), who, "at {t}");
    }
    let erin = handles(&["erin"]).remove(0);
    assert_eq!(
        s.shifts_for(&erin, at("2026-01-05T00:00Z"), at("2026-01-06T00:00Z"))
            .len(),
        1
    );
}

#[test]
fn a_schedule_joins_back_to_back_shifts_of_one_person() {
    let l = layer("Solo", &["alice"], ShiftLength::Days(1), "2026-01-01T09:00");
    assert_eq!(
        l.shifts(
            &TimeZone::UTC,
            at("2026-01-02T00:00Z"),
            at("2026-01-05T00:00Z")
        )
        .len(),
        4
    );
    let s = schedule("UTC", vec![l], vec![]);
    assert_eq!(
        table(&s.shifts(at("2026-01-02T00:00Z"), at("2026-01-05T00:00Z"))),
        [row("alice", "2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z")]
    );
}

#[test]
fn old_rotations_are_computed_not_walked() {
    // An hourly rotation from 2016 and a daily one from the year 1000, queried for 2026.
    let s = schedule(
        "Europe/Berlin",
        vec![layer(
            "Hourly",
            &["alice", "bob", "carol"],
            ShiftLength::Hours(1),
            "2016-01-01T00:00",
        )],
        vec![],
    );
    let l = &s.layers()[0];
    let tz = s.time_zone().zone();
    let year = l.shifts(tz, at("2026-01-01T00:00Z"), at("2027-01-01T00:00Z"));
    assert_eq!(year.len(), 8760);
    let old = layer(
        "Ancient",
        &["alice", "bob"],
        ShiftLength::Days(1),
        "1000-01-01T09:00",
    );
    assert_eq!(
        old.shifts(tz, at("2026-01-01T00:00Z"), at("2027-01-01T00:00Z"))
            .len(),
        366
    );
}

#[test]
fn a_year_of_a_busy_schedule_is_cheap() {
    let mut day = layer(
        "Day",
        &["carol", "dave"],
        ShiftLength::Hours(1),
        "2016-06-01T09:00",
    );
    day.restrictions = vec![Restriction::business_hours()];
    let overrides = (0..300)
        .map(|i| Override {
            user: handles(&["erin"]).remove(0),
            start: at("2026-01-01T00:00Z") + jiff::SignedDuration::from_hours(i * 29),
            end: at("2026-01-01T00:00Z") + jiff::SignedDuration::from_hours(i * 29 + 3),
        })
        .collect();
    let s = schedule(
        "Australia/Lord_Howe",
        vec![
            layer(
                "Base",
                &["alice", "bob"],
                ShiftLength::Hours(1),
                "2010-01-01T00:30",
            ),
            layer(
                "Week",
                &["frank"],
                ShiftLength::Weeks(1),
                "2026-02-01T09:00",
            ),
            day,
        ],
        overrides,
    );
    let shifts = s.shifts(at("2026-01-01T00:00Z"), at("2027-01-01T00:00Z"));
    assert!(shifts.len() > 1_000);
    assert_eq!(shifts.first().unwrap().start, at("2026-01-01T00:00Z"));
    assert_eq!(shifts.last().unwrap().end, at("2027-01-01T00:00Z"));
    assert!(shifts.windows(2).all(|p| p[0].end == p[1].start));
}

#[test]
fn the_end_of_time_does_not_panic() {
    let l = layer(
        "Far",
        &["alice", "bob"],
        ShiftLength::Weeks(52),
        "9990-01-01T00:00",
    );
    let shifts = l.shifts(&TimeZone::UTC, Timestamp::MIN, Timestamp::MAX);
    assert_eq!(shifts.last().unwrap().end, Timestamp::MAX);
    assert!(l.on_call_at(&TimeZone::UTC, Timestamp::MAX).is_some());
    assert!(l.on_call_at(&TimeZone::UTC, Timestamp::MIN).is_none());
    let hourly = layer(
        "Far",
        &["alice"],
        ShiftLength::Hours(8784),
        "9999-06-01T00:00",
    );
    assert!(hourly.on_call_at(&TimeZone::UTC, Timestamp::MAX).is_some());
}
