//! Incidents and the status page together: what a change does to the components'
//! history, and what customers are told.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::incident::{
    decide, declare, declare_with_components, record, Command, Context, DeclareInput, EventKind,
    Incident, Source, StatusUpdateInput, TimelineEvent, UpdateAudience, UpdateKind,
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

fn component(id: i64, name: &str, group: bool, group_id: Option<i64>) -> Component {
    Component {
        id: ComponentId(id),
        name: name.into(),
        description: None,
        position: id,
        group,
        group_id: group_id.map(ComponentId),
        services: vec![],
        only_show_if_degraded: false,
        showcase: !group,
        start_date: None,
        manual_status: ComponentStatus::Operational,
        status: ComponentStatus::Operational,
        created_at: t0() - SignedDuration::from_hours(24 * 10),
        updated_at: t0() - SignedDuration::from_hours(24 * 10),
    }
}

fn public_id(what: Public) -> String {
    match what {
        Public::Page => "page00000001".into(),
        Public::Component(c) => format!("cmp{:09}", c.0),
        Public::Incident(n) => format!("inc{:09}", n.0),
        Public::Update(n, seq) => format!("upd{:05}{:04}", n.0, seq),
        Public::Maintenance(m) => format!("mnt{:09}", m.0),
        Public::MaintenanceUpdate(m, seq) => format!("mup{:05}{:04}", m.0, seq),
        Public::ComponentUpdate(c, _) => format!("cup{:09}", c.0),
    }
}

/// An incident's whole story on the page: declared naming API, a customer update, an
/// internal one, resolved with a resolution notice; beside it a restricted incident and
/// a drill that say the same to customers.
fn story(p: &Policy) -> (Vec<Incident>, Vec<(IncidentNumber, TimelineEvent)>) {
    let mut incidents = Vec::new();
    let mut all = Vec::new();
    for (number, restricted, drill) in [(1, false, false), (2, true, false), (3, false, true)] {
        let components = if restricted {
            vec![]
        } else {
            vec![api(ComponentStatus::PartialOutage)]
        };
        let events =
            declare_with_components(&input(true, restricted, drill), components, &ctx(p, 0))
                .unwrap();
        let mut incident = Incident::replay(IncidentNumber(number), "s", &events).unwrap();
        let mut timeline = events;
        run(
            &mut incident,
            &mut timeline,
            customer(UpdateKind::Detected, "investigating"),
            &ctx(p, 2),
        );
        let mut internal = StatusUpdateInput::new(UpdateKind::Update);
        internal.status = Some("SECRET internal detail".into());
        run(
            &mut incident,
            &mut timeline,
            Command::PostUpdate(internal),
            &ctx(p, 3),
        );
        if number == 1 {
            run(
                &mut incident,
                &mut timeline,
                Command::Resolve {
                    root_cause: None,
                    fix: None,
                    at: None,
                },
                &ctx(p, 30),
            );
            run(
                &mut incident,
                &mut timeline,
                customer(UpdateKind::Resolved, "fixed"),
                &ctx(p, 31),
            );
        }
        all.extend(timeline.into_iter().map(|e| (incident.number, e)));
        incidents.push(incident);
    }
    incidents.reverse();
    (incidents, all)
}

#[test]
fn the_public_view_shows_only_what_customers_may_see() {
    let p = Policy::builtin();
    let (incidents, events) = story(&p);
    let components = vec![
        component(1, "API", false, Some(9)),
        component(9, "Core", true, None),
        component(2, "Web", false, None),
    ];
    let periods = vec![ComponentPeriod {
        component: ComponentId(1),
        incident: Some(IncidentNumber(1)),
        period: Period {
            status: ComponentStatus::PartialOutage,
            start: t0(),
            end: Some(t0() + SignedDuration::from_mins(30)),
        },
    }];
    let now = t0() + SignedDuration::from_hours(2);
    let view = PublicView::build(&Sources {
        name: "Acme",
        url: "https://status.acme.example",
        components: &components,
        periods: &periods,
        incidents: &incidents,
        events: &events,
        maintenances: &[],
        policy: &p,
        now,
        ids: &public_id,
    });
    assert_eq!(
        view.incidents.len(),
        1,
        "the restricted incident and the drill stay out"
    );
    let i = &view.incidents[0];
    assert_eq!(i.id, "inc000000001");
    assert_eq!(i.status, PublicStatus::Resolved);
    assert_eq!(i.impact, Impact::Major);
    assert_eq!(
        i.shortlink,
        "https://status.acme.example/status/incidents/inc000000001"
    );
    let labels: Vec<_> = i.updates.iter().map(|u| u.label).collect();
    assert_eq!(labels, ["Resolved", "Investigating"], "newest first");
    assert!(i.updates.iter().all(|u| !u.body.contains("SECRET")));
    assert_eq!(view.status.description, "All Systems Operational");

    let order: Vec<_> = view
        .components
        .iter()
        .map(|c| c.component.name.as_str())
        .collect();
    assert_eq!(order, ["Web", "Core", "API"]);
    let core = view.component("cmp000000009").unwrap();
    assert_eq!(core.children, ["cmp000000001"]);
    let api = view.component("cmp000000001").unwrap();
    assert_eq!(api.group_id.as_deref(), Some("cmp000000009"));
    let today = api.days.last().unwrap();
    assert_eq!(today.partial, 30 * 60_000);
    assert_eq!(api.days.len(), 90);

    let json = serde_json::to_value(statuspage::summary(&view)).unwrap();
    assert_eq!(json["incidents"], serde_json::json!([]), "only unresolved");
    assert_eq!(json["status"]["indicator"], "none");
    assert_eq!(json["page"]["updated_at"].as_str().unwrap().len(), 24);
    let web = &json["components"][0];
    assert_eq!(web["group_id"], serde_json::Value::Null);
    assert_eq!(web["description"], serde_json::Value::Null);
    assert!(
        web.get("components").is_none(),
        "only groups list components"
    );
    assert_eq!(json["components"][1]["components"][0], "cmp000000001");
    let all = serde_json::to_value(statuspage::incidents(&view)).unwrap();
    let incident = &all["incidents"][0];
    assert_eq!(incident["monitoring_at"], serde_json::Value::Null);
    assert_eq!(incident["postmortem_body"], serde_json::Value::Null);
    assert_eq!(incident["components"][0]["name"], "API");
    let newest = &incident["incident_updates"][0];
    assert_eq!(newest["status"], "resolved");
    assert_eq!(
        newest["affected_components"][0],
        serde_json::json!({"code": "cmp000000001", "name": "API",
            "old_status": "partial_outage", "new_status": "operational"})
    );
    assert_eq!(newest["tweet_id"], serde_json::Value::Null);
    assert_eq!(
        statuspage::time("2026-05-01T12:05:00Z".parse().unwrap()),
        "2026-05-01T12:05:00.000Z"
    );
}

#[test]
fn an_open_incident_sets_the_banner_and_its_components() {
    let p = Policy::builtin();
    let (mut incidents, events) = story(&p);
    // Only the unresolved ones: drop #1 (resolved), keep the restricted one and drill.
    incidents.retain(|i| i.number.0 != 1);
    let components = vec![component(1, "API", false, None)];
    let periods = vec![ComponentPeriod {
        component: ComponentId(1),
        incident: Some(IncidentNumber(5)),
        period: Period {
            status: ComponentStatus::MajorOutage,
            start: t0(),
            end: None,
        },
    }];
    let view = PublicView::build(&Sources {
        name: "Acme",
        url: "",
        components: &components,
        periods: &periods,
        incidents: &incidents,
        events: &events,
        maintenances: &[],
        policy: &p,
        now: t0() + SignedDuration::from_mins(10),
        ids: &public_id,
    });
    assert!(view.incidents.is_empty());
    assert_eq!(
        view.components[0].component.status,
        ComponentStatus::MajorOutage
    );
    assert_eq!(view.status.description, "Major System Outage");
}

/// A maintenance scheduled for 12:00–14:00 on API (1) and Web (2), posted at 09:00.
fn maintenance() -> ScheduledMaintenance {
    let components = vec![
        component(1, "API", false, None),
        component(2, "Web", false, None),
    ];
    let mut m = NewScheduledMaintenance {
        name: "Database upgrade".into(),
        components: vec![ComponentId(1), ComponentId(2)],
        scheduled_for: t0() + SignedDuration::from_hours(2),
        scheduled_until: t0() + SignedDuration::from_hours(4),
        body: None,
        auto_start: None,
        auto_complete: None,
        mute_services: false,
    }
    .decide(&components, "ana", t0())
    .unwrap()
    .maintenance;
    m.id = crate::ScheduledMaintenanceId(4);
    m.updates.push(MaintenanceUpdate {
        seq: 1,
        status: MaintenanceStatus::Scheduled,
        body: "We upgrade the database.".into(),
        by: "ana".into(),
        at: t0(),
    });
    m
}

fn with_maintenance(
    m: &ScheduledMaintenance,
    periods: &[ComponentPeriod],
    now: Timestamp,
) -> PublicView {
    let p = Policy::builtin();
    let components = vec![
        component(1, "API", false, None),
        component(2, "Web", false, None),
    ];
    PublicView::build(&Sources {
        name: "Acme",
        url: "https://status.acme.example",
        components: &components,
        periods,
        incidents: &[],
        events: &[],
        maintenances: std::slice::from_ref(m),
        policy: &p,
        now,
        ids: &public_id,
    })
}

#[test]
fn maintenance_is_upcoming_then_active_then_in_the_history() {
    let upcoming = maintenance();
    let view = with_maintenance(&upcoming, &[], t0() + SignedDuration::from_hours(1));
    assert_eq!(view.upcoming().count(), 1);
    assert_eq!(view.active().count(), 0);
    assert_eq!(view.status.indicator, Impact::None);
    let json = serde_json::to_value(statuspage::summary(&view)).unwrap();
    let m = &json["scheduled_maintenances"][0];
    assert_eq!(m["status"], "scheduled");
    assert_eq!(m["impact"], "maintenance");
    assert_eq!(m["scheduled_for"], "2026-11-26T12:00:00.000Z");
    assert_eq!(m["scheduled_until"], "2026-11-26T14:00:00.000Z");
    assert_eq!(m["started_at"], "2026-11-26T12:00:00.000Z");
    assert_eq!(m["resolved_at"], serde_json::Value::Null);
    assert_eq!(m["monitoring_at"], serde_json::Value::Null);
    assert_eq!(
        m["shortlink"],
        "https://status.acme.example/status/maintenances/mnt000000004"
    );
    assert_eq!(m["components"][0]["name"], "API");
    assert_eq!(m["incident_updates"][0]["incident_id"], "mnt000000004");
    assert_eq!(
        m["incident_updates"][0]["affected_components"],
        serde_json::Value::Null
    );

    let started_at = t0() + SignedDuration::from_hours(2);
    let mut active = upcoming
        .post(
            &MaintenancePost {
                status: Some(MaintenanceStatus::InProgress),
                body: None,
            },
            "klaxon",
            started_at,
        )
        .unwrap()
        .maintenance;
    active.updates.push(MaintenanceUpdate {
        seq: 2,
        status: MaintenanceStatus::InProgress,
        body: "Started.".into(),
        by: "klaxon".into(),
        at: started_at,
    });
    // An incident gives Web a partial outage meanwhile: the worst wins.
    let outage = [ComponentPeriod {
        component: ComponentId(2),
        incident: Some(IncidentNumber(9)),
        period: Period {
            status: ComponentStatus::PartialOutage,
            start: started_at,
            end: None,
        },
    }];
    let view = with_maintenance(&active, &outage, started_at + SignedDuration::from_mins(30));
    let status = |v: &PublicView, id: &str| v.component(id).unwrap().component.status;
    assert_eq!(
        status(&view, "cmp000000001"),
        ComponentStatus::UnderMaintenance
    );
    assert_eq!(
        status(&view, "cmp000000002"),
        ComponentStatus::PartialOutage
    );
    assert_eq!(view.status.indicator, Impact::Major);
    let quiet = with_maintenance(&active, &[], started_at + SignedDuration::from_mins(30));
    assert_eq!(quiet.status.indicator, Impact::Maintenance);
    assert_eq!(quiet.status.description, "Service Under Maintenance");
    let json = serde_json::to_value(statuspage::active(&quiet)).unwrap();
    let m = &json["scheduled_maintenances"][0];
    assert_eq!(m["status"], "in_progress");
    let newest = &m["incident_updates"][0];
    assert_eq!(newest["status"], "in_progress");
    assert_eq!(
        newest["affected_components"][0]["new_status"],
        "under_maintenance"
    );
    assert_eq!(
        serde_json::to_value(statuspage::upcoming(&quiet)).unwrap()["scheduled_maintenances"],
        serde_json::json!([])
    );
    // Maintenance counts as up on the bar, and colours the day.
    let api = quiet.component("cmp000000001").unwrap();
    let today = api.days.last().unwrap();
    assert_eq!(today.maintenance, 30 * 60_000);
    assert_eq!(api.uptime, Some(1.0));

    let mut done = active.clone();
    done.status = MaintenanceStatus::Completed;
    done.completed_at = Some(started_at + SignedDuration::from_hours(1));
    let view = with_maintenance(&done, &[], started_at + SignedDuration::from_hours(2));
    assert_eq!(status(&view, "cmp000000001"), ComponentStatus::Operational);
    let json = serde_json::to_value(statuspage::summary(&view)).unwrap();
    assert_eq!(json["scheduled_maintenances"], serde_json::json!([]));
    let all = serde_json::to_value(statuspage::maintenances(&view)).unwrap();
    assert_eq!(all["scheduled_maintenances"][0]["status"], "completed");
    assert_eq!(
        all["scheduled_maintenances"][0]["resolved_at"],
        "2026-11-26T13:00:00.000Z"
    );

    let mut cancelled = upcoming.clone();
    cancelled.status = MaintenanceStatus::Cancelled;
    let view = with_maintenance(&cancelled, &[], t0() + SignedDuration::from_hours(1));
    assert!(
        view.maintenances.is_empty(),
        "a cancelled maintenance leaves the page"
    );
}

/// Records a published review on `incident`'s timeline, as the review's change does.
fn publish_review(
    incident: &mut Incident,
    timeline: &mut Vec<TimelineEvent>,
    ctx: &Context,
) -> StatusPageChange {
    let events = record(incident, vec![EventKind::ReviewPublished], ctx).unwrap();
    let change = StatusPageChange::of(Some(incident), &events);
    for e in &events {
        incident.apply(e);
    }
    timeline.extend(events);
    change
}

#[test]
fn a_review_published_after_the_resolution_is_the_postmortem_once() {
    let p = Policy::builtin();
    let events = declare_with_components(
        &input(true, false, false),
        vec![api(ComponentStatus::PartialOutage)],
        &ctx(&p, 0),
    )
    .unwrap();
    let mut incident = Incident::replay(IncidentNumber(7), "s", &events).unwrap();
    let mut timeline = events;
    run(
        &mut incident,
        &mut timeline,
        customer(UpdateKind::Detected, ""),
        &ctx(&p, 1),
    );
    // Published while the incident is open: the page has nothing to say yet.
    let early = publish_review(&mut incident, &mut timeline, &ctx(&p, 2));
    assert!(early.touched, "the page is rebuilt, and finds nothing new");
    assert_eq!(public_timeline(&timeline).updates.len(), 1);
    run(
        &mut incident,
        &mut timeline,
        Command::Resolve {
            root_cause: None,
            fix: None,
            at: None,
        },
        &ctx(&p, 30),
    );
    let change = publish_review(&mut incident, &mut timeline, &ctx(&p, 600));
    assert!(change.touched && change.periods.is_empty());
    publish_review(&mut incident, &mut timeline, &ctx(&p, 700));
    let public = public_timeline(&timeline);
    let statuses: Vec<_> = public.updates.iter().map(|u| u.status).collect();
    assert_eq!(
        statuses,
        [PublicStatus::Investigating, PublicStatus::Postmortem]
    );
    let postmortem = &public.updates[1];
    assert_eq!(postmortem.body, POSTMORTEM_BODY);
    assert_eq!(postmortem.at, t0() + SignedDuration::from_mins(600));
    assert_eq!(postmortem.affected, None);
    assert_eq!(public.changed_at, Some(postmortem.at));

    // Nothing of a drill's or a restricted incident's review reaches the page.
    for (restricted, drill) in [(true, false), (false, true)] {
        let events = declare(&input(true, restricted, drill), &ctx(&p, 0)).unwrap();
        let mut other = Incident::replay(IncidentNumber(8), "s", &events).unwrap();
        let mut timeline = events;
        run(
            &mut other,
            &mut timeline,
            Command::Resolve {
                root_cause: None,
                fix: None,
                at: None,
            },
            &ctx(&p, 30),
        );
        let change = publish_review(&mut other, &mut timeline, &ctx(&p, 60));
        assert_eq!(change, StatusPageChange::default());
        assert!(!published(&other));
    }
}
