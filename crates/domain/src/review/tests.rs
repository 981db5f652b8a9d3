use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::incident::{self, Command, Context, DeclareInput, EventKind, Incident, Source};
use crate::paging::JobKind;
use crate::policy::Policy;
use crate::{Handle, IncidentNumber, Severity};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn ctx(policy: &Policy, now: Timestamp) -> Context<'_> {
    Context {
        actor: Handle::parse("alice").unwrap(),
        source: Source::Api,
        now,
        policy,
        link_base: None,
    }
}

/// A SEV2 declared at 10:00 with alice as commander, resolved at 10:50.
fn resolved(policy: &Policy) -> (Incident, Vec<incident::TimelineEvent>) {
    let input = DeclareInput {
        title: "Checkout failing".into(),
        severity: Some(Severity::new(2).unwrap()),
        commander: Some(Handle::parse("alice").unwrap()),
        ..Default::default()
    };
    let mut events = incident::declare(&input, &ctx(policy, at("2026-11-26T10:00:00Z"))).unwrap();
    let mut i = Incident::replay(IncidentNumber(7), "s", &events).unwrap();
    let resolve = Command::Resolve {
        root_cause: Some("a memory leak".into()),
        fix: None,
        at: None,
    };
    let more = incident::decide(&i, &resolve, &ctx(policy, at("2026-11-26T10:50:00Z"))).unwrap();
    more.iter().for_each(|e| i.apply(e));
    events.extend(more);
    (i, events)
}

fn opened(policy: &Policy) -> (Incident, ReviewRecord) {
    let (i, events) = resolved(policy);
    let change = open(
        &i,
        &events,
        &OpenReview::default(),
        &ctx(policy, at("2026-11-26T10:51:00Z")),
    )
    .unwrap();
    (i, change.record)
}

fn run(
    policy: &Policy,
    i: &Incident,
    r: &ReviewRecord,
    c: ReviewCommand,
) -> Result<ReviewChange, crate::DomainError> {
    decide(r, i, &c, &ctx(policy, at("2026-11-26T12:00:00Z")))
}

fn node(id: u32, follows: Option<u32>) -> WhyNode {
    WhyNode {
        id,
        follows,
        why: format!("why {id}?"),
        because: format!("because {id}"),
    }
}

fn item(title: &str, category: Category) -> NewActionItem {
    NewActionItem {
        title: title.into(),
        owner: Handle::parse("bob").unwrap(),
        category,
        due_at: None,
        status: None,
        answers: None,
        ticket: None,
    }
}

#[test]
fn a_review_opens_due_by_the_policy_after_resolution_owned_by_the_commander() {
    let p = Policy::builtin();
    let (i, events) = resolved(&p);
    let change = open(
        &i,
        &events,
        &OpenReview::default(),
        &ctx(&p, at("2026-11-26T10:51:00Z")),
    )
    .unwrap();
    let r = &change.record.review;
    assert_eq!(r.due_at, at("2026-11-28T10:50:00Z"));
    assert_eq!(r.owner.as_ref().unwrap().as_str(), "alice");
    assert!(r.required);
    assert_eq!(r.status, ReviewStatus::Draft);
    assert_eq!(r.version, 1);
    assert_eq!(r.root_cause.technical_cause, "a memory leak");
    assert!(
        r.summary.detection.starts_with("Declared by @alice"),
        "{}",
        r.summary.detection
    );
    assert_eq!(r.meeting.agenda.iter().map(|a| a.minutes).sum::<u32>(), 60);
    assert!(matches!(
        change.timeline[..],
        [EventKind::ReviewOpened { .. }]
    ));
    // Reminded 24 h before, at the deadline, and escalated 24 h after it.
    let runs: Vec<_> = change.jobs.add.iter().map(|j| (j.kind, j.run_at)).collect();
    assert_eq!(
        runs,
        [
            (JobKind::ReviewRemind, at("2026-11-27T10:50:00Z")),
            (JobKind::ReviewRemind, at("2026-11-28T10:50:00Z")),
            (JobKind::ReviewRemind, at("2026-11-29T10:50:00Z")),
        ]
    );
}

#[test]
fn a_policy_may_count_the_deadline_in_business_hours() {
    let source = crate::policy::DEFAULT_POLICY_TOML.replacen(
        "review = { required = true, due = \"48h\" }",
        "review = { required = true, due = \"16h\", business_hours = true }",
        2,
    );
    let p = Policy::from_toml(&source).unwrap();
    let (i, events) = resolved(&p);
    // Resolved Thursday 10:50: 6 h 10 min that day, 8 h on Friday, 1 h 50 min on Monday.
    let change = open(
        &i,
        &events,
        &OpenReview::default(),
        &ctx(&p, at("2026-11-26T10:51:00Z")),
    )
    .unwrap();
    assert_eq!(change.record.review.due_at, at("2026-11-30T10:50:00Z"));
}

#[test]
fn the_status_moves_draft_in_review_published_and_publishing_needs_the_sections() {
    let p = Policy::builtin();
    let (i, mut r) = opened(&p);
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::SetStatus(ReviewStatus::Published),
    )
    .unwrap_err();
    assert!(e.to_string().contains("submit it for review"), "{e}");
    r = run(&p, &i, &r, ReviewCommand::SetStatus(ReviewStatus::InReview))
        .unwrap()
        .record;
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::SetStatus(ReviewStatus::Published),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "sections: fill these sections before publishing: summary, impact, whys, lessons"
    );
    let summary = Summary {
        what_happened: "Checkout failed for 50 minutes.".into(),
        ..Default::default()
    };
    r = run(&p, &i, &r, ReviewCommand::Summary(summary))
        .unwrap()
        .record;
    r = run(
        &p,
        &i,
        &r,
        ReviewCommand::Impact(Impact {
            description: "slow".into(),
            figures: vec![],
        }),
    )
    .unwrap()
    .record;
    r = run(&p, &i, &r, ReviewCommand::SetWhys(vec![node(1, None)]))
        .unwrap()
        .record;
    r = run(
        &p,
        &i,
        &r,
        ReviewCommand::Lessons(Lessons {
            went_well: "fast rollback".into(),
            could_improve: String::new(),
        }),
    )
    .unwrap()
    .record;
    let published = run(
        &p,
        &i,
        &r,
        ReviewCommand::SetStatus(ReviewStatus::Published),
    )
    .unwrap();
    assert_eq!(published.jobs.cancel, [JobKind::ReviewRemind]);
    assert!(matches!(
        published.timeline[..],
        [EventKind::ReviewPublished]
    ));
    r = published.record;
    assert_eq!(r.review.published_at, Some(at("2026-11-26T12:00:00Z")));
    let e = run(&p, &i, &r, ReviewCommand::Lessons(Lessons::default())).unwrap_err();
    assert!(e.to_string().contains("is published; reopen it"), "{e}");
    // Action items go on after publishing.
    assert!(run(
        &p,
        &i,
        &r,
        ReviewCommand::AddAction(item("Add a memory alert", Category::ShortTerm))
    )
    .is_ok());
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::SetStatus(ReviewStatus::Published),
    )
    .unwrap_err();
    assert!(e.to_string().contains("published already"), "{e}");
    let reopened = run(&p, &i, &r, ReviewCommand::SetStatus(ReviewStatus::Draft)).unwrap();
    assert_eq!(reopened.record.review.published_at, None);
    assert_eq!(reopened.history[0].what, "status published → draft");
}

#[test]
fn whys_refuse_cycles_and_dangling_links() {
    let p = Policy::builtin();
    let (i, r) = opened(&p);
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::SetWhys(vec![node(1, None), node(2, Some(3)), node(3, Some(2))]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("cycle"), "{e}");
    let e = run(&p, &i, &r, ReviewCommand::SetWhys(vec![node(1, Some(1))])).unwrap_err();
    assert!(e.to_string().contains("cycle"), "{e}");
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::SetWhys(vec![node(1, None), node(2, Some(9))]),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("follows node 9, which does not exist"),
        "{e}"
    );
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::SetWhys(vec![node(1, None), node(1, Some(1))]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("unique"), "{e}");
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::AddWhy(WhyNodeInput {
            follows: Some(4),
            why: "a".into(),
            because: "b".into(),
        }),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "whys.follows: node 1 follows node 4, which does not exist"
    );

    // A chain of three, branching at its second node, with an item answering node 3.
    let r = run(
        &p,
        &i,
        &r,
        ReviewCommand::SetWhys(vec![
            node(1, None),
            node(2, Some(1)),
            node(3, Some(2)),
            node(4, Some(1)),
        ]),
    )
    .unwrap()
    .record;
    let mut linked = item("Fix the leak", Category::ShortTerm);
    linked.answers = Some(Answers::Why(3));
    let r = run(&p, &i, &r, ReviewCommand::AddAction(linked))
        .unwrap()
        .record;
    let order: Vec<Vec<(usize, u32)>> = chains(&r.review.whys)
        .iter()
        .map(|c| c.iter().map(|(d, n)| (*d, n.id)).collect())
        .collect();
    assert_eq!(order, [vec![(0, 1), (1, 2), (2, 3), (1, 4)]]);
    // Removing the node the item answers would leave its link dangling.
    let e = run(&p, &i, &r, ReviewCommand::SetWhys(vec![node(1, None)])).unwrap_err();
    assert!(
        e.to_string()
            .contains("answers node 3, which would no longer exist"),
        "{e}"
    );
    let mut dangling = item("Nothing", Category::ShortTerm);
    dangling.answers = Some(Answers::Why(42));
    let e = run(&p, &i, &r, ReviewCommand::AddAction(dangling)).unwrap_err();
    assert_eq!(e.to_string(), "answers: the 5-whys have no node 42");
    let mut factor = item("Nothing", Category::ShortTerm);
    factor.answers = Some(Answers::Factor(1));
    assert!(run(&p, &i, &r, ReviewCommand::AddAction(factor)).is_err());
}

#[test]
fn action_items_are_due_by_category_and_past_deadlines_are_refused() {
    let p = Policy::builtin();
    let (i, r) = opened(&p);
    let now = at("2026-11-26T12:00:00Z");
    let due = |c| {
        run(&p, &i, &r, ReviewCommand::AddAction(item("x", c)))
            .unwrap()
            .items[0]
            .due_at
    };
    assert_eq!(due(Category::Immediate), at("2026-11-26T10:50:00Z"));
    assert_eq!(
        due(Category::ShortTerm),
        now + SignedDuration::from_hours(7 * 24)
    );
    assert_eq!(
        due(Category::LongTerm),
        now + SignedDuration::from_hours(30 * 24)
    );
    let mut past = item("x", Category::ShortTerm);
    past.due_at = Some(at("2026-11-25T00:00:00Z"));
    let e = run(&p, &i, &r, ReviewCommand::AddAction(past)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("due_at: 2026-11-25T00:00:00Z is in the past"),
        "{e}"
    );
    let mut bad = item("x", Category::ShortTerm);
    bad.ticket = Some("javascript:alert(1)".into());
    assert!(run(&p, &i, &r, ReviewCommand::AddAction(bad)).is_err());
}

#[test]
fn the_lists_follow_the_statuses_and_changes_are_in_the_history() {
    let p = Policy::builtin();
    let (i, mut r) = opened(&p);
    for (title, c) in [
        ("Roll back", Category::Immediate),
        ("Profile memory in CI", Category::ShortTerm),
        ("Chaos tests", Category::LongTerm),
    ] {
        r = run(&p, &i, &r, ReviewCommand::AddAction(item(title, c)))
            .unwrap()
            .record;
    }
    let done = ActionItemPatch {
        status: Some(ActionStatus::Done),
        ..Default::default()
    };
    let change = run(
        &p,
        &i,
        &r,
        ReviewCommand::UpdateAction {
            number: 1,
            patch: done.clone(),
        },
    )
    .unwrap();
    assert_eq!(
        change.history[0].what,
        "action item 7-1: status open → done"
    );
    assert!(change.jobs.add.is_empty(), "a done item is not reminded");
    assert_eq!(change.items[0].closed_at, Some(at("2026-11-26T12:00:00Z")));
    r = change.record;
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::UpdateAction {
            number: 1,
            patch: done,
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("like that already"), "{e}");
    let started = ActionItemPatch {
        status: Some(ActionStatus::InProgress),
        ..Default::default()
    };
    r = run(
        &p,
        &i,
        &r,
        ReviewCommand::UpdateAction {
            number: 2,
            patch: started,
        },
    )
    .unwrap()
    .record;
    let lists = ActionLists::of(&r.items);
    let titles = |l: &[ActionItem]| l.iter().map(|i| i.title.clone()).collect::<Vec<_>>();
    assert_eq!(titles(&lists.completed), ["Roll back"]);
    assert_eq!(titles(&lists.in_progress), ["Profile memory in CI"]);
    assert_eq!(titles(&lists.planned), ["Chaos tests"]);
    assert_eq!(r.review.version, 6);
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::UpdateAction {
            number: 9,
            patch: ActionItemPatch::default(),
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("no action item 7-9"), "{e}");
}

#[test]
fn a_required_review_holds_the_incident_open_until_published() {
    let p = Policy::builtin();
    let (i, r) = opened(&p);
    let e = may_close(&i, &p, None).unwrap_err();
    assert!(e.to_string().contains("klaxon review open 7"), "{e}");
    let e = may_close(&i, &p, Some(&r.review)).unwrap_err();
    assert!(
        e.to_string().contains("/incidents/7/review) is draft"),
        "{e}"
    );
    let published = Review {
        status: ReviewStatus::Published,
        ..r.review.clone()
    };
    assert!(may_close(&i, &p, Some(&published)).is_ok());
    let sev3 = Incident {
        severity: Severity::new(3).unwrap(),
        ..i
    };
    assert!(may_close(&sev3, &p, None).is_ok());
}

#[test]
fn references_and_links_parse() {
    let r: ActionItemRef = "42-3".parse().unwrap();
    assert_eq!((r.incident.0, r.number), (42, 3));
    assert_eq!(r.to_string(), "42-3");
    assert!("42".parse::<ActionItemRef>().is_err());
    assert!("42-0".parse::<ActionItemRef>().is_err());
    assert_eq!("why:3".parse::<Answers>().unwrap(), Answers::Why(3));
    assert_eq!("factor 2".parse::<Answers>().unwrap(), Answers::Factor(2));
    assert!("node:2".parse::<Answers>().is_err());
    let patch: ActionItemPatch = serde_json::from_str(r#"{"answers": null}"#).unwrap();
    assert_eq!(patch.answers, Some(None));
    let patch: ActionItemPatch = serde_json::from_str(r#"{"answers": {"why": 2}}"#).unwrap();
    assert_eq!(patch.answers, Some(Some(Answers::Why(2))));
    let patch: ActionItemPatch = serde_json::from_str("{}").unwrap();
    assert_eq!(patch.answers, None);
}

#[test]
fn notes_star_events_without_changing_them() {
    let p = Policy::builtin();
    let (i, r) = opened(&p);
    let note = ReviewCommand::Note {
        seq: 2,
        starred: true,
        context: "the page went to alice".into(),
    };
    let r = run(&p, &i, &r, note).unwrap().record;
    assert_eq!(
        r.review.notes,
        [TimelineNote {
            seq: 2,
            starred: true,
            context: "the page went to alice".into()
        }]
    );
    let e = run(
        &p,
        &i,
        &r,
        ReviewCommand::Note {
            seq: 99,
            starred: true,
            context: String::new(),
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("no event 99"), "{e}");
}
