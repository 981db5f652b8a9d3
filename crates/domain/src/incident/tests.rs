//! Unit and property tests of the incident rules.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::policy::Policy;
use crate::{DomainError, Handle, IncidentNumber, Severity};

fn t0() -> Timestamp {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

fn ctx(policy: &Policy, minutes: i64) -> Context<'_> {
    Context {
        actor: Handle::parse("alice").unwrap(),
        source: Source::Cli,
        now: t0() + SignedDuration::from_mins(minutes),
        policy,
        link_base: Some("https://klaxon.example.com".into()),
    }
}

fn declared(policy: &Policy, severity: u8) -> Incident {
    let input = DeclareInput {
        title: "API returning 502 errors".into(),
        severity: Some(Severity::new(severity.into()).unwrap()),
        ..Default::default()
    };
    let events = declare(&input, &ctx(policy, 0)).unwrap();
    Incident::replay(IncidentNumber(42), "incident-20261126-api", &events).unwrap()
}

fn run(
    incident: &mut Incident,
    command: Command,
    ctx: &Context,
) -> Result<Vec<TimelineEvent>, DomainError> {
    let events = decide(incident, &command, ctx)?;
    for e in &events {
        incident.apply(e);
    }
    Ok(events)
}

#[test]
fn the_happy_path_records_every_milestone() {
    let p = Policy::builtin();
    let mut i = declared(&p, 2);
    run(&mut i, Command::Acknowledge { at: None }, &ctx(&p, 3)).unwrap();
    run(
        &mut i,
        Command::Assign {
            role: Role::Commander,
            user: Handle::parse("bob").unwrap(),
        },
        &ctx(&p, 4),
    )
    .unwrap();
    let mitigate = Command::Mitigate {
        strategy: MitigationStrategy::Rollback,
        action: "rolled back".into(),
        at: None,
    };
    run(&mut i, mitigate, &ctx(&p, 18)).unwrap();
    run(
        &mut i,
        Command::Resolve {
            root_cause: Some("OOM".into()),
            fix: None,
            at: None,
        },
        &ctx(&p, 45),
    )
    .unwrap();
    assert_eq!(i.status, Status::Resolved);
    let view = IncidentView::new(i, &p, t0() + SignedDuration::from_mins(60));
    assert_eq!(view.durations.to_acknowledge, Some(180));
    assert_eq!(view.durations.to_mitigate, Some(18 * 60));
    assert_eq!(view.durations.to_resolve, Some(45 * 60));
    assert_eq!(view.durations.duration, Some(45 * 60));
    assert!(!view.response.breached);
    assert_eq!(view.incident.participants, vec!["alice", "bob"]);
}

#[test]
fn illegal_transitions_name_the_current_status() {
    let p = Policy::builtin();
    let mut i = declared(&p, 3);
    let err = run(&mut i, Command::Close, &ctx(&p, 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "incident #42 is triggered; closing is not possible: resolve it first"
    );
    run(&mut i, Command::Acknowledge { at: None }, &ctx(&p, 1)).unwrap();
    let err = run(&mut i, Command::Acknowledge { at: None }, &ctx(&p, 2)).unwrap_err();
    assert_eq!(err.to_string(), "incident #42 is already acknowledged");
    run(&mut i, Command::Decline { reason: None }, &ctx(&p, 3)).unwrap();
    assert!(matches!(
        run(&mut i, Command::Reopen { reason: None }, &ctx(&p, 4)),
        Err(DomainError::Conflict(_))
    ));
}

#[test]
fn mitigating_a_triggered_incident_acknowledges_it_first() {
    let p = Policy::builtin();
    let mut i = declared(&p, 1);
    let cmd = Command::Mitigate {
        strategy: MitigationStrategy::ScaleUp,
        action: "5 replicas".into(),
        at: None,
    };
    let events = run(&mut i, cmd, &ctx(&p, 7)).unwrap();
    let names: Vec<_> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(names, ["acknowledged", "mitigated"]);
    let view = IncidentView::new(i, &p, t0() + SignedDuration::from_mins(7));
    assert!(
        view.response.breached,
        "SEV1 must be acknowledged within 5 minutes"
    );
}

#[test]
fn a_late_acknowledgement_is_a_breach_and_an_early_one_is_not() {
    let p = Policy::builtin();
    let mut late = declared(&p, 2);
    run(&mut late, Command::Acknowledge { at: None }, &ctx(&p, 16)).unwrap();
    assert!(IncidentView::new(late, &p, t0()).response.breached);
    let mut early = declared(&p, 2);
    run(&mut early, Command::Acknowledge { at: None }, &ctx(&p, 15)).unwrap();
    assert!(!IncidentView::new(early, &p, t0()).response.breached);
    let open = declared(&p, 2);
    assert!(
        IncidentView::new(open, &p, t0() + SignedDuration::from_mins(16))
            .response
            .breached
    );
}

#[test]
fn stated_times_must_not_run_backwards_or_into_the_future() {
    let p = Policy::builtin();
    let mut i = declared(&p, 2);
    let before = Some(t0() - SignedDuration::from_mins(1));
    let err = run(&mut i, Command::Acknowledge { at: before }, &ctx(&p, 5)).unwrap_err();
    assert!(
        matches!(err, DomainError::Invalid { field: "at", .. }),
        "{err}"
    );
    let future = Some(t0() + SignedDuration::from_mins(30));
    assert!(run(&mut i, Command::Acknowledge { at: future }, &ctx(&p, 5)).is_err());
    let stated = Some(t0() + SignedDuration::from_mins(2));
    run(&mut i, Command::Acknowledge { at: stated }, &ctx(&p, 5)).unwrap();
    assert_eq!(i.acknowledged_at, stated);
}

#[test]
fn single_roles_hand_over_and_investigators_accumulate() {
    let p = Policy::builtin();
    let mut i = declared(&p, 1);
    let h = |s: &str| Handle::parse(s).unwrap();
    run(
        &mut i,
        Command::Assign {
            role: Role::Commander,
            user: h("alice"),
        },
        &ctx(&p, 1),
    )
    .unwrap();
    let events = run(
        &mut i,
        Command::Assign {
            role: Role::Commander,
            user: h("bob"),
        },
        &ctx(&p, 2),
    )
    .unwrap();
    assert_eq!(
        events.len(),
        2,
        "the previous commander is relieved on the timeline"
    );
    assert_eq!(i.roles.commander, Some(h("bob")));
    run(
        &mut i,
        Command::Assign {
            role: Role::Investigator,
            user: h("carol"),
        },
        &ctx(&p, 3),
    )
    .unwrap();
    run(
        &mut i,
        Command::Assign {
            role: Role::Investigator,
            user: h("dave"),
        },
        &ctx(&p, 3),
    )
    .unwrap();
    assert_eq!(i.roles.investigators.len(), 2);
    let err = run(
        &mut i,
        Command::Relieve {
            role: Role::Scribe,
            user: h("dave"),
        },
        &ctx(&p, 4),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "dave is not the scribe of #42");
    let view = IncidentView::new(i, &p, t0());
    assert_eq!(view.missing_roles, vec![Role::Communicator, Role::Scribe]);
}

#[test]
fn updates_render_the_runbook_templates() {
    let p = Policy::builtin();
    let mut i = declared(&p, 2);
    run(
        &mut i,
        Command::Assign {
            role: Role::Commander,
            user: Handle::parse("alice").unwrap(),
        },
        &ctx(&p, 1),
    )
    .unwrap();
    let input = StatusUpdateInput {
        impact: Some("~50% of API requests failing".into()),
        ..StatusUpdateInput::new(UpdateKind::Detected)
    };
    let events = run(&mut i, Command::PostUpdate(input.clone()), &ctx(&p, 2)).unwrap();
    let EventKind::StatusUpdated { message, .. } = &events[0].kind else {
        panic!()
    };
    assert_eq!(
        message.text,
        "🚨 INCIDENT DETECTED\nSeverity: 2\nIssue: API returning 502 errors\nImpact: ~50% of API requests failing\n\
         Started: 10:00 UTC\nStatus: Investigating\nIncident Commander: @alice\nIncident: https://klaxon.example.com/incidents/42"
    );
    let view = IncidentView::new(i.clone(), &p, t0());
    assert_eq!(
        view.next_update_due_at,
        Some(t0() + SignedDuration::from_mins(32))
    );
    let resolved = StatusUpdateInput {
        kind: UpdateKind::Resolved,
        ..input
    };
    let err = run(&mut i, Command::PostUpdate(resolved), &ctx(&p, 3)).unwrap_err();
    assert!(err.to_string().contains("resolve it before"), "{err}");
}

#[test]
fn merging_closes_the_source_and_notes_the_target() {
    let p = Policy::builtin();
    let source = declared(&p, 2);
    let mut target = declared(&p, 2);
    target.number = IncidentNumber(41);
    let (out, into) = merge(&source, &target, &ctx(&p, 1)).unwrap();
    let mut source = source;
    source.apply(&out[0]);
    target.apply(&into[0]);
    assert_eq!(source.status, Status::Merged);
    assert_eq!(target.merged_from, vec![IncidentNumber(42)]);
    let err = decide(&source, &Command::Acknowledge { at: None }, &ctx(&p, 2)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "incident #42 was merged into #41; work on #41 instead"
    );
    assert!(merge(&target, &target, &ctx(&p, 2)).is_err());
}

#[test]
fn triage_walks_the_decision_tree() {
    let p = Policy::builtin();
    let sev = |answers: &[bool]| p.triage(answers).map(|s| s.level());
    assert_eq!(sev(&[true]), Ok(1));
    assert_eq!(sev(&[false, true]), Ok(2));
    assert_eq!(sev(&[false, false, true]), Ok(3));
    assert_eq!(sev(&[false, false, false, true]), Ok(4));
    assert_eq!(sev(&[false, false, false, false]), Ok(3));
    assert!(sev(&[false]).is_err());
    assert!(sev(&[false; 5]).is_err());
}

#[test]
fn evidence_over_the_limit_is_refused_as_too_large() {
    let p = Policy::builtin();
    let mut i = declared(&p, 3);
    let big = Evidence::Command {
        command: "kubectl logs".into(),
        output: "x".repeat(MAX_EVIDENCE_BYTES + 1),
        exit_code: Some(0),
        truncated: false,
    };
    assert!(matches!(
        run(&mut i, Command::AttachEvidence(big), &ctx(&p, 1)),
        Err(DomainError::TooLarge(_))
    ));
}

/// Any command the CLI could send, with small random content.
fn any_command() -> impl Strategy<Value = (Command, i64)> {
    let role = prop_oneof![
        Just(Role::Commander),
        Just(Role::Investigator),
        Just(Role::Communicator),
        Just(Role::Scribe)
    ];
    let user = prop_oneof![Just("alice"), Just("bob"), Just("carol")]
        .prop_map(|u| Handle::parse(u).unwrap());
    let strategy = prop_oneof![
        Just(MitigationStrategy::Rollback),
        Just(MitigationStrategy::Failover)
    ];
    let kind = prop_oneof![
        Just(UpdateKind::Detected),
        Just(UpdateKind::Update),
        Just(UpdateKind::Mitigated),
        Just(UpdateKind::Resolved)
    ];
    let stated =
        prop::option::of(-30i64..30).prop_map(|m| m.map(|m| t0() + SignedDuration::from_mins(m)));
    let command = prop_oneof![
        stated.clone().prop_map(|at| Command::Acknowledge { at }),
        (role.clone(), user.clone()).prop_map(|(role, user)| Command::Assign { role, user }),
        (role, user).prop_map(|(role, user)| Command::Relieve { role, user }),
        (1i64..=4, ".{0,3}").prop_map(|(s, reason)| Command::ChangeSeverity {
            severity: Severity::new(s).unwrap(),
            reason
        }),
        (kind, prop::option::of("[a-z ]{0,5}")).prop_map(|(kind, status)| Command::PostUpdate(
            StatusUpdateInput {
                status,
                ..StatusUpdateInput::new(kind)
            }
        )),
        (strategy, "[a-z]{0,3}", stated.clone()).prop_map(|(strategy, action, at)| {
            Command::Mitigate {
                strategy,
                action,
                at,
            }
        }),
        stated.clone().prop_map(|at| Command::Resolve {
            root_cause: None,
            fix: None,
            at
        }),
        Just(Command::Close),
        Just(Command::Reopen { reason: None }),
        Just(Command::Decline { reason: None }),
        ("[a-z]{0,3}", stated).prop_map(|(text, at)| Command::Note { text, at }),
        (0i64..3, 0..5usize).prop_map(|(id, status)| Command::SetComponents {
            components: (1..=id)
                .map(|c| crate::status::AffectedComponent {
                    component: crate::ComponentId(c),
                    name: format!("c{c}"),
                    status: crate::status::ComponentStatus::ALL[status],
                })
                .collect()
        }),
    ];
    (command, 0i64..20)
}

proptest! {
    /// The stored projection is the fold of the stored events: replaying the timeline
    /// from JSON gives exactly the incident that was built step by step, and the
    /// projection's times never run backwards.
    #[test]
    fn projection_always_agrees_with_its_events(commands in prop::collection::vec(any_command(), 0..40)) {
        let p = Policy::builtin();
        let first = declare(&DeclareInput { title: "t".into(), severity: Some(Severity::new(2).unwrap()), ..Default::default() }, &ctx(&p, 0)).unwrap();
        let mut incident = Incident::replay(IncidentNumber(7), "s", &first).unwrap();
        let mut timeline = first;
        let mut minute = 0;
        for (command, step) in commands {
            minute += step;
            if let Ok(events) = decide(&incident, &command, &ctx(&p, minute)) {
                for e in &events {
                    incident.apply(e);
                }
                timeline.extend(events);
            }
        }
        let json = serde_json::to_string(&timeline).unwrap();
        let stored: Vec<TimelineEvent> = serde_json::from_str(&json).unwrap();
        let replayed = Incident::replay(IncidentNumber(7), "s", &stored).unwrap();
        prop_assert_eq!(&replayed, &incident);
        prop_assert_eq!(incident.version, timeline.len() as i64);
        prop_assert!(timeline.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1));
        let view = IncidentView::new(incident.clone(), &p, t0() + SignedDuration::from_mins(minute));
        for d in [view.durations.to_acknowledge, view.durations.to_mitigate, view.durations.to_resolve, view.durations.duration].into_iter().flatten() {
            prop_assert!(d >= 0, "negative duration {}", d);
        }
        match incident.status {
            Status::Triggered => prop_assert!(incident.acknowledged_at.is_none()),
            Status::Acknowledged => prop_assert!(incident.acknowledged_at.is_some() && incident.resolved_at.is_none()),
            Status::Mitigated => prop_assert!(incident.mitigated_at.is_some()),
            Status::Resolved => prop_assert!(incident.resolved_at.is_some() && incident.closed_at.is_none()),
            Status::Closed => prop_assert!(incident.closed_at.is_some()),
            Status::Declined | Status::Merged => prop_assert!(incident.ended_at.is_some()),
        }
    }
}

#[test]
fn alerts_open_incidents_titled_by_their_summary() {
    use crate::alert::{AlertAction, AlertEvent, AlertSeverity};
    let p = Policy::builtin();
    let mut alert = AlertEvent::new(AlertAction::Trigger, AlertSeverity::Critical);
    alert.summary = Some("x".repeat(300));
    let sev = Severity::new(2).unwrap();
    let events = declare_from_alert("api", &alert, "k1", sev, &ctx(&p, 0)).unwrap();
    let incident = Incident::replay(IncidentNumber(1), "s", &events).unwrap();
    assert_eq!(incident.title.chars().count(), MAX_TITLE);
    assert_eq!(incident.service.as_deref(), Some("api"));
    assert_eq!(incident.alert_count, 1);
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn a_late_acknowledgement_records_the_missed_response_target() {
    let policy = Policy::builtin();
    let declared: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
    let input = DeclareInput {
        title: "API down".into(),
        severity: Some(Severity::new(2).unwrap()),
        ..Default::default()
    };
    let ctx_at = |now| Context {
        actor: Handle::parse("alice").unwrap(),
        source: Source::Api,
        now,
        policy: &policy,
        link_base: None,
    };
    let events = declare(&input, &ctx_at(declared)).unwrap();
    let incident = Incident::replay(IncidentNumber(1), "s", &events).unwrap();
    let on_time = decide(
        &incident,
        &Command::Acknowledge { at: None },
        &ctx_at(declared + jiff::SignedDuration::from_mins(15)),
    )
    .unwrap();
    assert_eq!(on_time.len(), 1, "15 minutes is within SEV2's target");
    let late = decide(
        &incident,
        &Command::Acknowledge { at: None },
        &ctx_at(declared + jiff::SignedDuration::from_mins(22)),
    )
    .unwrap();
    assert_eq!(
        late[1].kind,
        EventKind::ResponseTargetMissed {
            due_at: declared + jiff::SignedDuration::from_mins(15),
            late_by_seconds: 7 * 60,
        }
    );
}

#[test]
fn whoever_is_paged_takes_part_and_sees_a_restricted_incident() {
    let policy = Policy::builtin();
    let mut incident = declared(&policy, 1);
    incident.restricted = true;
    assert!(!incident.visible_to("bob"));
    let paged = TimelineEvent {
        seq: incident.version + 1,
        kind: EventKind::Paged {
            round: 0,
            step: 0,
            users: vec!["bob".into(), "alice".into()],
            urgency: "high".into(),
        },
        actor: "klaxon".into(),
        source: Source::Engine,
        recorded_at: t0(),
        occurred_at: None,
    };
    incident.apply(&paged);
    assert!(incident.visible_to("bob"));
    assert_eq!(incident.participants, ["alice", "bob"]);
}

/// An incident in each state a responder can meet: as declared, acknowledged,
/// mitigated, resolved, closed, declined, and merged away.
fn in_every_state(p: &Policy) -> Vec<Incident> {
    let steps: Vec<Vec<Command>> = vec![
        vec![],
        vec![Command::Acknowledge { at: None }],
        vec![Command::Mitigate {
            strategy: MitigationStrategy::Rollback,
            action: "rolled back".into(),
            at: None,
        }],
        vec![Command::Resolve {
            root_cause: None,
            fix: None,
            at: None,
        }],
        vec![
            Command::Resolve {
                root_cause: None,
                fix: None,
                at: None,
            },
            Command::Close,
        ],
        vec![Command::Decline { reason: None }],
    ];
    let mut incidents: Vec<Incident> = steps
        .into_iter()
        .map(|commands| {
            let mut i = declared(p, 2);
            for (m, c) in commands.into_iter().enumerate() {
                run(&mut i, c, &ctx(p, 1 + m as i64)).unwrap();
            }
            i
        })
        .collect();
    let mut away = declared(p, 2);
    let mut target = declared(p, 3);
    target.number = IncidentNumber(43);
    let (out, _) = merge(&away, &target, &ctx(p, 1)).unwrap();
    out.iter().for_each(|e| away.apply(e));
    incidents.push(away);
    incidents
}

/// Each command, with inputs that are valid, and whether `actions` offers it.
fn offered(actions: &Actions) -> Vec<(Command, bool)> {
    let update = |kind| {
        let mut input = StatusUpdateInput::new(kind);
        input.status = Some("investigating".into());
        Command::PostUpdate(input)
    };
    let mut commands = vec![
        (Command::Acknowledge { at: None }, actions.acknowledge),
        (
            Command::Assign {
                role: Role::Scribe,
                user: Handle::parse("carol").unwrap(),
            },
            actions.roles,
        ),
        (
            Command::ChangeSeverity {
                severity: Severity::new(1).unwrap(),
                reason: "worse".into(),
            },
            actions.change_severity,
        ),
        (
            Command::Mitigate {
                strategy: MitigationStrategy::Failover,
                action: "failed over".into(),
                at: None,
            },
            actions.mitigate,
        ),
        (
            Command::Resolve {
                root_cause: None,
                fix: None,
                at: None,
            },
            actions.resolve,
        ),
        (Command::Close, actions.close),
        (Command::Reopen { reason: None }, actions.reopen),
        (Command::Decline { reason: None }, actions.decline),
        (
            Command::Note {
                text: "checked the dashboards".into(),
                at: None,
            },
            actions.note,
        ),
        (
            Command::AttachEvidence(Evidence::Text {
                text: "a log line".into(),
            }),
            actions.evidence,
        ),
        (
            Command::SetComponents {
                components: vec![crate::status::AffectedComponent {
                    component: crate::ComponentId(1),
                    name: "API".into(),
                    status: crate::status::ComponentStatus::PartialOutage,
                }],
            },
            actions.components,
        ),
    ];
    for kind in Actions::UPDATE_KINDS {
        commands.push((update(kind), actions.update(kind)));
    }
    commands
}

#[test]
fn the_actions_offered_are_exactly_those_decide_accepts() {
    let p = Policy::builtin();
    for incident in in_every_state(&p) {
        let actions = Actions::of(&incident);
        for (command, offered) in offered(&actions) {
            let accepted = decide(&incident, &command, &ctx(&p, 30)).is_ok();
            assert_eq!(
                offered,
                accepted,
                "{:?} on a {} incident (merged: {})",
                command,
                incident.status,
                incident.merged_into.is_some()
            );
        }
    }
}

#[test]
fn a_numbered_declaration_is_its_replay_under_that_number() {
    let p = Policy::builtin();
    let input = DeclareInput {
        title: "Disk full".into(),
        severity: Some(Severity::new(2).unwrap()),
        commander: Some(Handle::parse("bob").unwrap()),
        ..Default::default()
    };
    let events = declare(&input, &ctx(&p, 0)).unwrap();
    let declaration =
        Declaration::new("incident-disk", events.clone(), &Default::default()).unwrap();
    assert_eq!(
        declaration.numbered(IncidentNumber(7), "incident-disk-7".into()),
        Incident::replay(IncidentNumber(7), "incident-disk-7", &events).unwrap()
    );
}
