//! The post-incident review on the real server: the scenario (a SEV2 declared,
//! acknowledged late, mitigated and resolved; its review opens due 48 h after the
//! resolution; every section filled through the API; a 5-whys chain with action items
//! linked to it; the Markdown report as a snapshot; reminders before the deadline, at
//! it, and an escalation to the stakeholders after it, on the timeline), and bad input
//! refused with nothing changed.

mod common;

use common::{declare_input, problem, spawn_app};
use jiff::{SignedDuration, Timestamp};
use klaxon_domain::api::{MitigateRequest, NewUser, ResolveRequest};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{DeclareInput, EventKind, MitigationStrategy};
use klaxon_domain::paging::api::Subscription;
use klaxon_domain::review::api::{ActionQuery, NoteInput, ReviewSettings};
use klaxon_domain::review::{
    ActionItemPatch, ActionStatus, AgendaItem, Answers, Category, FactorInput, Impact,
    ImpactFigure, Lessons, Meeting, NewActionItem, OpenReview, ReminderStage, ReviewStatus,
    RootCauseInput, Summary, WhyNode, WhyNodeInput,
};
use klaxon_domain::{Handle, IncidentNumber, Severity};

fn h(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn advance_to(app: &common::TestApp, t: Timestamp) {
    use klaxon_server::Clock;
    app.clock.advance(t.duration_since(app.clock.now()));
}

async fn person(app: &common::TestApp, handle: &str) {
    let new = NewUser {
        handle: h(handle),
        name: handle.to_uppercase(),
        email: format!("{handle}@example.com"),
        role: None,
    };
    app.admin.create_user(&new).await.unwrap();
}

fn item(title: &str, owner: &str, category: Category) -> NewActionItem {
    NewActionItem {
        title: title.into(),
        owner: h(owner),
        category,
        due_at: None,
        status: None,
        answers: None,
        ticket: None,
    }
}

/// Which reminders the timeline holds: (stage, who).
async fn reminders(app: &common::TestApp, n: IncidentNumber) -> Vec<(ReminderStage, Vec<String>)> {
    let timeline = app.admin.incident(n).await.unwrap().timeline.unwrap();
    timeline
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::ReviewReminded {
                stage, reminded, ..
            } => Some((stage, reminded)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_sev2_is_reviewed_from_resolution_to_publication() {
    let app = spawn_app().await;
    for p in ["alice", "bob", "carol"] {
        person(&app, p).await;
    }
    app.admin
        .subscribe(&Subscription {
            team: "engineering".into(),
            user: h("carol"),
        })
        .await
        .unwrap();
    let input = DeclareInput {
        title: "Checkout failing".into(),
        severity: Some(Severity::new(2).unwrap()),
        commander: Some(h("alice")),
        ..Default::default()
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    app.run_jobs().await;

    // Acknowledged 20 minutes in: 5 past SEV2's target. Mitigated at 10:30, resolved at 10:50.
    app.clock.advance(SignedDuration::from_mins(20));
    app.admin.ack(n, &Default::default()).await.unwrap();
    app.clock.advance(SignedDuration::from_mins(10));
    app.run_jobs().await;
    let rollback = MitigateRequest {
        strategy: MitigationStrategy::Rollback,
        action: "rolled back to v2.3.0".into(),
        at: None,
    };
    app.admin.mitigate(n, &rollback).await.unwrap();
    app.clock.advance(SignedDuration::from_mins(20));
    let resolve = ResolveRequest {
        root_cause: Some("A memory leak in v2.3.1 exhausted the API pods.".into()),
        fix: Some("v2.3.2".into()),
        at: None,
    };
    app.admin.resolve(n, &resolve).await.unwrap();
    app.run_jobs().await;

    // The review opened on resolution, due 48 h after it, owned by the commander.
    let review = app.admin.review(n).await.unwrap();
    assert_eq!(review.review.due_at, at("2026-11-28T10:50:00Z"));
    assert_eq!(review.review.owner, Some(h("alice")));
    assert_eq!(review.review.status, ReviewStatus::Draft);
    assert!(review.incident.response_target_missed);
    assert_eq!(review.incident.durations.duration, Some(50 * 60));
    let close = problem(app.admin.close(n).await);
    assert_eq!(close.status, 409);
    assert!(
        close.detail.contains("/incidents/1/review) is draft"),
        "{}",
        close.detail
    );

    // Every section, through the API.
    let summary = Summary {
        what_happened: "Checkout requests failed with **500s** after the v2.3.1 deploy.".into(),
        who_affected: "About 1,000 customers trying to pay.".into(),
        detection: review.review.summary.detection.clone(),
    };
    app.admin.review_summary(n, &summary).await.unwrap();
    let impact = Impact {
        description: "No data was lost.".into(),
        figures: vec![
            ImpactFigure {
                name: "Users affected".into(),
                value: 1000.0,
                unit: "users".into(),
                source: "RUM dashboard".into(),
            },
            ImpactFigure {
                name: "API requests failed".into(),
                value: 50000.0,
                unit: "requests".into(),
                source: "load balancer logs".into(),
            },
        ],
    };
    app.admin.review_impact(n, &impact).await.unwrap();
    let root = RootCauseInput {
        technical_cause: "A memory leak in the v2.3.1 image cache exhausted the pods.".into(),
        factors: vec![
            FactorInput {
                id: None,
                text: "No memory alert on the API pods".into(),
            },
            FactorInput {
                id: None,
                text: "The canary ran for 5 minutes only".into(),
            },
        ],
        why_not_caught: "Load tests run for 10 minutes; the leak needs 40.".into(),
    };
    app.admin.review_root_cause(n, &root).await.unwrap();
    app.admin
        .review_lessons(
            n,
            &Lessons {
                went_well: "- Fast rollback\n- Good communication".into(),
                could_improve: "- Earlier detection\n- Longer canaries".into(),
            },
        )
        .await
        .unwrap();
    let mut meeting = Meeting {
        at: Some(at("2026-11-27T15:00:00Z")),
        attendees: vec!["alice".into(), "bob".into(), "carol".into()],
        ..Meeting::default()
    };
    meeting.agenda[0] = AgendaItem {
        notes: "The page reached alice 20 minutes in.".into(),
        ..meeting.agenda[0].clone()
    };
    app.admin.review_meeting(n, &meeting).await.unwrap();
    let acked = review
        .timeline
        .iter()
        .find(|e| e.kind == "acknowledged")
        .unwrap()
        .seq;
    let star = NoteInput {
        starred: true,
        context: "Five minutes past the target: the page went to a phone on silent.".into(),
    };
    app.admin.note_event(n, acked, &star).await.unwrap();

    // A chain of three whys, and the action items that answer it.
    let mut follows = None;
    for (why, because) in [
        ("Why did checkout fail?", "The API pods ran out of memory."),
        (
            "Why did they run out of memory?",
            "v2.3.1 leaks memory in its image cache.",
        ),
        (
            "Why did the leak reach production?",
            "The canary was too short to show it.",
        ),
    ] {
        let view = app
            .admin
            .add_why(
                n,
                &WhyNodeInput {
                    follows,
                    why: why.into(),
                    because: because.into(),
                },
            )
            .await
            .unwrap();
        follows = view.review.whys.last().map(|w| w.id);
    }
    let mut rolled = item("Roll back to v2.3.0", "alice", Category::Immediate);
    rolled.status = Some(ActionStatus::Done);
    app.admin.add_action(n, &rolled).await.unwrap();
    let mut canary = item("Run canaries for an hour", "bob", Category::ShortTerm);
    canary.answers = Some(Answers::Why(3));
    canary.ticket = Some("https://linear.app/acme/issue/ENG-42".into());
    let canary = app.admin.add_action(n, &canary).await.unwrap();
    assert_eq!(canary.reference, "1-2");
    assert_eq!(canary.item.due_at, at("2026-12-03T10:50:00Z"));
    let mut alert = item("Alert on pod memory", "carol", Category::LongTerm);
    alert.answers = Some(Answers::Factor(1));
    app.admin.add_action(n, &alert).await.unwrap();
    let started = ActionItemPatch {
        status: Some(ActionStatus::InProgress),
        ..Default::default()
    };
    app.admin
        .update_action(canary.item.reference(), &started)
        .await
        .unwrap();

    let review = app.admin.review(n).await.unwrap();
    assert!(
        review.missing_sections.is_empty(),
        "{:?}",
        review.missing_sections
    );
    assert_eq!(review.lists.completed.len(), 1);
    assert_eq!(review.lists.in_progress.len(), 1);
    assert_eq!(review.lists.planned.len(), 1);
    assert!(review.history.len() >= 14, "{:#?}", review.history);
    let markdown = app.admin.export_review(n, "markdown").await.unwrap();
    insta::assert_snapshot!("sev2_review", markdown);
    let html = app.admin.export_review(n, "html").await.unwrap();
    assert!(html.contains("<strong>500s</strong>"), "{html}");

    // The engine reminds the owner a day before, at the deadline, then escalates.
    advance_to(&app, at("2026-11-27T10:50:00Z"));
    app.run_jobs().await;
    assert_eq!(
        reminders(&app, n).await,
        [(ReminderStage::Before, vec!["alice".to_owned()])]
    );
    advance_to(&app, at("2026-11-28T10:50:00Z"));
    app.run_jobs().await;
    advance_to(&app, at("2026-11-29T10:50:00Z"));
    app.run_jobs().await;
    assert_eq!(
        reminders(&app, n).await,
        [
            (ReminderStage::Before, vec!["alice".to_owned()]),
            (ReminderStage::Due, vec!["alice".to_owned()]),
            (
                ReminderStage::Escalate,
                vec!["alice".to_owned(), "carol".to_owned()]
            ),
        ]
    );
    assert!(app.admin.review(n).await.unwrap().overdue);

    // Published, the incident closes, and nothing is reminded any more.
    app.admin
        .set_review_status(n, ReviewStatus::InReview)
        .await
        .unwrap();
    app.admin
        .set_review_status(n, ReviewStatus::Published)
        .await
        .unwrap();
    app.admin.close(n).await.unwrap();
    let mine = app
        .admin
        .actions(&ActionQuery {
            owner: Some(h("bob")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].item.status, ActionStatus::InProgress);
    // The items' reminders come later still: a week and a month out.
    app.run_jobs().await;
    app.cleanup().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    person(&app, "alice").await;
    let n = app
        .admin
        .declare(&declare_input("Search is slow", 3))
        .await
        .unwrap()
        .incident
        .number;
    // SEV3 needs no review: none opens on resolution, and one may be opened by hand.
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.run_jobs().await;
    assert_eq!(problem(app.admin.review(n).await).status, 404);
    let ghost = OpenReview {
        owner: Some(h("ghost")),
        due_at: None,
    };
    let p = problem(app.admin.open_review(n, &ghost).await);
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "owner"));
    assert_eq!(problem(app.admin.review(n).await).status, 404);
    app.admin
        .open_review(n, &OpenReview::default())
        .await
        .unwrap();
    assert_eq!(
        problem(app.admin.open_review(n, &OpenReview::default()).await).status,
        409
    );
    let before = app.admin.review(n).await.unwrap();

    let refusals = [
        problem(
            app.admin
                .review_settings(
                    n,
                    &ReviewSettings {
                        owner: Some(h("ghost")),
                        due_at: None,
                    },
                )
                .await,
        ),
        problem(
            app.admin
                .add_action(n, &item("Fix it", "ghost", Category::ShortTerm))
                .await,
        ),
        problem(
            app.admin
                .add_action(
                    n,
                    &NewActionItem {
                        due_at: Some(at("2026-11-20T00:00:00Z")),
                        ..item("Fix it", "alice", Category::ShortTerm)
                    },
                )
                .await,
        ),
        problem(
            app.admin
                .set_whys(
                    n,
                    vec![
                        WhyNode {
                            id: 1,
                            follows: Some(2),
                            why: "a".into(),
                            because: "b".into(),
                        },
                        WhyNode {
                            id: 2,
                            follows: Some(1),
                            why: "c".into(),
                            because: "d".into(),
                        },
                    ],
                )
                .await,
        ),
        problem(
            app.admin
                .add_why(
                    n,
                    &WhyNodeInput {
                        follows: Some(7),
                        why: "a".into(),
                        because: "b".into(),
                    },
                )
                .await,
        ),
    ];
    let fields: Vec<_> = refusals
        .iter()
        .map(|p| (p.status, p.errors[0].field.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            (422, "owner".to_owned()),
            (422, "owner".to_owned()),
            (422, "due_at".to_owned()),
            (422, "whys.follows".to_owned()),
            (422, "whys.follows".to_owned()),
        ]
    );
    assert!(
        refusals[3].detail.contains("cycle"),
        "{}",
        refusals[3].detail
    );
    assert!(
        refusals[4].detail.contains("does not exist"),
        "{}",
        refusals[4].detail
    );
    app.admin
        .set_review_status(n, ReviewStatus::InReview)
        .await
        .unwrap();
    let p = problem(
        app.admin
            .set_review_status(n, ReviewStatus::Published)
            .await,
    );
    assert_eq!(p.status, 422);
    assert!(
        p.detail.contains("impact, root_cause, whys, lessons"),
        "{}",
        p.detail
    );
    let after = app.admin.review(n).await.unwrap();
    assert_eq!(
        after.review.version,
        before.review.version + 1,
        "only the submission"
    );
    assert_eq!(after.action_items, before.action_items);
    assert_eq!(after.review.whys, before.review.whys);
    assert_eq!(after.review.owner, before.review.owner);
    app.cleanup().await;
}

#[tokio::test]
async fn a_restricted_incidents_review_is_hidden_from_outsiders() {
    let app = spawn_app().await;
    person(&app, "alice").await;
    let eve = app.user("eve", Scope::Responder).await;
    // alice commands it, so takes part: she may own its action items.
    let input = DeclareInput {
        restricted: true,
        commander: Some(h("alice")),
        ..declare_input("Suspicious logins", 1)
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.run_jobs().await;
    app.admin
        .add_action(n, &item("Rotate keys", "alice", Category::ShortTerm))
        .await
        .unwrap();
    assert_eq!(app.admin.review(n).await.unwrap().action_items.len(), 1);

    let missing = |p: klaxon_domain::api::Problem| assert_eq!(p.status, 404, "{}", p.detail);
    missing(problem(eve.review(n).await));
    missing(problem(eve.export_review(n, "markdown").await));
    missing(problem(eve.review_summary(n, &Summary::default()).await));
    missing(problem(
        eve.add_action(n, &item("x", "eve", Category::ShortTerm))
            .await,
    ));
    missing(problem(eve.open_review(n, &OpenReview::default()).await));
    let item_ref = "1-1".parse().unwrap();
    missing(problem(eve.action(item_ref).await));
    missing(problem(
        eve.update_action(
            item_ref,
            &ActionItemPatch {
                status: Some(ActionStatus::Done),
                ..Default::default()
            },
        )
        .await,
    ));
    assert!(eve
        .actions(&ActionQuery::default())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        app.admin
            .actions(&ActionQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
    app.cleanup().await;
}

/// Which action item reminders the timeline holds: (item, stage, who).
async fn item_reminders(
    app: &common::TestApp,
    n: IncidentNumber,
) -> Vec<(String, ReminderStage, Vec<String>)> {
    let timeline = app.admin.incident(n).await.unwrap().timeline.unwrap();
    timeline
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::ActionItemReminded {
                item,
                stage,
                reminded,
                ..
            } => Some((item, stage, reminded)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn action_items_are_reminded_and_escalated_until_done() {
    let app = spawn_app().await;
    for p in ["alice", "bob", "carol"] {
        person(&app, p).await;
    }
    app.admin
        .subscribe(&Subscription {
            team: "engineering".into(),
            user: h("carol"),
        })
        .await
        .unwrap();
    let input = DeclareInput {
        commander: Some(h("alice")),
        ..declare_input("Checkout failing", 2)
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.run_jobs().await;
    let mut fix = item("Fix the leak", "bob", Category::ShortTerm);
    fix.due_at = Some(at("2026-11-30T10:00:00Z"));
    let fix = app.admin.add_action(n, &fix).await.unwrap();
    let mut later = item("Chaos tests", "bob", Category::LongTerm);
    later.due_at = Some(at("2026-11-30T10:00:00Z"));
    let later = app.admin.add_action(n, &later).await.unwrap();
    // Done before its deadline: never reminded.
    let done = ActionItemPatch {
        status: Some(ActionStatus::Done),
        ..Default::default()
    };
    app.admin
        .update_action(later.item.reference(), &done)
        .await
        .unwrap();

    advance_to(&app, at("2026-11-29T10:00:00Z"));
    app.run_jobs().await;
    advance_to(&app, at("2026-11-30T10:00:00Z"));
    app.run_jobs().await;
    advance_to(&app, at("2026-12-01T10:00:00Z"));
    app.run_jobs().await;
    let bob = || vec!["bob".to_owned()];
    assert_eq!(
        item_reminders(&app, n).await,
        [
            ("1-1".to_owned(), ReminderStage::Before, bob()),
            ("1-1".to_owned(), ReminderStage::Due, bob()),
            (
                "1-1".to_owned(),
                ReminderStage::Escalate,
                vec!["bob".to_owned(), "alice".to_owned(), "carol".to_owned()]
            ),
        ]
    );
    let overdue = app
        .admin
        .actions(&ActionQuery {
            overdue: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].reference, fix.reference);
    app.cleanup().await;
}
