//! Incidents and the status page together: what a change does to the components'
//! history, and what customers are told.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::incident::{
    decide, declare, declare_with_components, Command, Context, DeclareInput, Incident, Source,
    StatusUpdateInput, TimelineEvent, UpdateAudience, UpdateKind,
};
use crate::policy::Policy;
use crate::{ComponentId, Handle, IncidentNumber, Severity};

fn t0() -> Timestamp {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

fn ctx(policy: &Policy, minutes: i64) -> Context<'_> {
    Context {
        actor: Handle::parse("alice").unwrap(),
        source: Source::Web,
        now: t0() + SignedDuration::from_mins(minutes),
        policy,
        link_base: None,
    }
}

fn api(status: ComponentStatus) -> AffectedComponent {
    AffectedComponent {
        component: ComponentId(1),
        name: "API".into(),
        status,
    }
}

fn input(customer_facing: bool, restricted: bool, drill: bool) -> DeclareInput {
    DeclareInput {
        title: "Elevated API errors".into(),
        severity: Some(Severity::new(2).unwrap()),
        customer_facing,
        restricted,
        drill,
        ..Default::default()
    }
}

/// Runs `command`, returning the events and what they did to the page.
fn run(
    incident: &mut Incident,
    timeline: &mut Vec<TimelineEvent>,
    command: Command,
    ctx: &Context,
) -> StatusPageChange {
    let events = decide(incident, &command, ctx).unwrap();
    let change = StatusPageChange::of(Some(incident), &events);
    for e in &events {
        incident.apply(e);
    }
    timeline.extend(events);
    change
}

fn customer(kind: UpdateKind, status: &str) -> Command {
    let mut input = StatusUpdateInput::new(kind);
    input.audience = UpdateAudience::Customer;
    input.status = Some(status.into());
    input.impact = Some("API requests".into());
    Command::PostUpdate(input)
}

#[test]
fn an_incident_starts_and_ends_its_components_history() {
    let p = Policy::builtin();
    let events = declare_with_components(
        &input(true, false, false),
        vec![api(ComponentStatus::PartialOutage)],
        &ctx(&p, 0),
    )
    .unwrap();
    let declared = StatusPageChange::of(None, &events);
    assert!(declared.published && declared.touched);
    assert_eq!(
        declared.periods,
        [PeriodChange::Start {
            component: ComponentId(1),
            status: ComponentStatus::PartialOutage,
            at: t0()
        }]
    );
    let mut incident = Incident::replay(IncidentNumber(7), "s", &events).unwrap();
    let mut timeline = events;

    let worse = run(
        &mut incident,
        &mut timeline,
        Command::SetComponents {
            components: vec![api(ComponentStatus::MajorOutage)],
        },
        &ctx(&p, 5),
    );
    let at = t0() + SignedDuration::from_mins(5);
    assert_eq!(
        worse.periods,
        [
            PeriodChange::End {
                component: ComponentId(1),
                at
            },
            PeriodChange::Start {
                component: ComponentId(1),
                status: ComponentStatus::MajorOutage,
                at
            }
        ]
    );

    let note = run(
        &mut incident,
        &mut timeline,
        Command::Note {
            text: "looking at the pods".into(),
            at: None,
        },
        &ctx(&p, 6),
    );
    assert_eq!(
        note,
        StatusPageChange::default(),
        "notes never reach the page"
    );
    let mut internal = StatusUpdateInput::new(UpdateKind::Update);
    internal.status = Some("rolling back".into());
    let internal = run(
        &mut incident,
        &mut timeline,
        Command::PostUpdate(internal),
        &ctx(&p, 7),
    );
    assert!(!internal.touched, "internal updates never reach the page");

    let told = run(
        &mut incident,
        &mut timeline,
        customer(UpdateKind::Update, "a bad deploy is being rolled back"),
        &ctx(&p, 8),
    );
    assert!(told.touched && told.periods.is_empty());

    let resolved = run(
        &mut incident,
        &mut timeline,
        Command::Resolve {
            root_cause: None,
            fix: None,
            at: None,
        },
        &ctx(&p, 30),
    );
    assert_eq!(
        resolved.periods,
        [PeriodChange::End {
            component: ComponentId(1),
            at: t0() + SignedDuration::from_mins(30)
        }]
    );
    assert!(impacts(&incident).is_empty());
    run(
        &mut incident,
        &mut timeline,
        customer(UpdateKind::Resolved, "the API is back"),
        &ctx(&p, 31),
    );

    // What customers read: newest last here, each with its Statuspage status, and the
    // components' changes since the update before.
    let public = public_timeline(&timeline);
    let statuses: Vec<_> = public.updates.iter().map(|u| u.status).collect();
    assert_eq!(statuses, [PublicStatus::Identified, PublicStatus::Resolved]);
    let first = public.updates[0].affected.clone().unwrap();
    assert_eq!(
        (first[0].old, first[0].new),
        (ComponentStatus::Operational, ComponentStatus::MajorOutage)
    );
    let last = public.updates[1].affected.clone().unwrap();
    assert_eq!(
        (last[0].old, last[0].new),
        (ComponentStatus::MajorOutage, ComponentStatus::Operational)
    );
    assert!(public.updates[1]
        .body
        .starts_with("Resolved: the API is back"));
    assert_eq!(public.updates.len(), 2, "the internal update stays inside");
}

#[test]
fn restricted_incidents_and_drills_never_reach_the_page() {
    let p = Policy::builtin();
    let refused = declare_with_components(
        &input(true, true, false),
        vec![api(ComponentStatus::MajorOutage)],
        &ctx(&p, 0),
    )
    .unwrap_err();
    assert!(refused.to_string().contains("restricted"), "{refused}");

    let events = declare(&input(true, true, false), &ctx(&p, 0)).unwrap();
    let mut restricted = Incident::replay(IncidentNumber(8), "s", &events).unwrap();
    let e = decide(
        &restricted,
        &Command::SetComponents {
            components: vec![api(ComponentStatus::MajorOutage)],
        },
        &ctx(&p, 1),
    )
    .unwrap_err();
    assert!(e.to_string().contains("never reach the status page"), "{e}");
    let mut timeline = events;
    let told = run(
        &mut restricted,
        &mut timeline,
        customer(UpdateKind::Detected, "investigating"),
        &ctx(&p, 2),
    );
    assert_eq!(told, StatusPageChange::default());
    assert!(!published(&restricted));

    let events = declare_with_components(
        &input(true, false, true),
        vec![api(ComponentStatus::MajorOutage)],
        &ctx(&p, 0),
    )
    .unwrap();
    assert_eq!(
        StatusPageChange::of(None, &events),
        StatusPageChange::default(),
        "a drill practises naming components without showing them"
    );
    let drill = Incident::replay(IncidentNumber(9), "s", &events).unwrap();
    assert!(impacts(&drill).is_empty() && !published(&drill));
}

#[test]
fn an_incident_is_published_by_its_first_customer_update() {
    let p = Policy::builtin();
    let events = declare(&input(false, false, false), &ctx(&p, 0)).unwrap();
    assert!(!StatusPageChange::of(None, &events).published);
    let mut incident = Incident::replay(IncidentNumber(10), "s", &events).unwrap();
    let mut timeline = events;
    let told = run(
        &mut incident,
        &mut timeline,
        customer(UpdateKind::Detected, "investigating"),
        &ctx(&p, 3),
    );
    assert!(told.published && told.touched);
    let public = public_timeline(&timeline);
    assert_eq!(public.updates[0].status, PublicStatus::Investigating);
    assert_eq!(public.updates[0].affected, None);
}

#[test]
fn components_are_named_once_each_and_only_while_open() {
    let p = Policy::builtin();
    let events = declare(&input(true, false, false), &ctx(&p, 0)).unwrap();
    let mut incident = Incident::replay(IncidentNumber(11), "s", &events).unwrap();
    let twice = Command::SetComponents {
        components: vec![
            api(ComponentStatus::MajorOutage),
            api(ComponentStatus::PartialOutage),
        ],
    };
    let e = decide(&incident, &twice, &ctx(&p, 1)).unwrap_err();
    assert!(e.to_string().contains("'API' is named twice"), "{e}");
    let mut timeline = events;
    let set = Command::SetComponents {
        components: vec![api(ComponentStatus::MajorOutage)],
    };
    run(&mut incident, &mut timeline, set.clone(), &ctx(&p, 1));
    let again = decide(&incident, &set, &ctx(&p, 2)).unwrap_err();
    assert!(again.to_string().contains("already names"), "{again}");
    run(
        &mut incident,
        &mut timeline,
        Command::Resolve {
            root_cause: None,
            fix: None,
            at: None,
        },
        &ctx(&p, 3),
    );
    let e = decide(
        &incident,
        &Command::SetComponents { components: vec![] },
        &ctx(&p, 4),
    )
    .unwrap_err();
    assert!(e.to_string().contains("reopen it first"), "{e}");
    let reopened = run(
        &mut incident,
        &mut timeline,
        Command::Reopen { reason: None },
        &ctx(&p, 5),
    );
    assert!(
        matches!(
            reopened.periods[..],
            [PeriodChange::Start {
                status: ComponentStatus::MajorOutage,
                ..
            }]
        ),
        "reopening affects its components again"
    );
}
