//! The store contract for post-incident reviews: a review is written whole with its
//! history, items, reminders and the incident's events; a stale or second write changes
//! nothing; action items list across incidents by owner and deadline, restricted ones
//! only for their participants. The same tests on SQLite and PostgreSQL.

mod support;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::incident::{self, Context, DeclareInput, EventKind, Incident, Source};
use klaxon_domain::paging::JobKind;
use klaxon_domain::policy::Policy;
use klaxon_domain::review::{
    self, ActionItemPatch, ActionStatus, Category, NewActionItem, OpenReview, ReviewChange,
    ReviewCommand, Summary,
};
use klaxon_domain::{Handle, Severity};
use klaxon_store::{ActionFilter, ReviewWrite, Store, StoreError};

fn now() -> Timestamp {
    klaxon_domain::time::to_millis_precision(Timestamp::now())
}

fn handle(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

fn ctx(policy: &Policy) -> Context<'_> {
    Context {
        actor: handle("alice"),
        source: Source::Api,
        now: now(),
        policy,
        link_base: None,
    }
}

async fn declare(store: &Arc<dyn Store>, title: &str, restricted: bool) -> Incident {
    let policy = Policy::builtin();
    let input = DeclareInput {
        title: title.into(),
        severity: Some(Severity::new(2).unwrap()),
        restricted,
        ..Default::default()
    };
    let events = incident::declare(&input, &ctx(&policy)).unwrap();
    store
        .declare(support::declaration(title, events))
        .await
        .unwrap()
}

/// The write of `change`, with its events on the incident's timeline.
async fn write(
    store: &Arc<dyn Store>,
    incident: &Incident,
    change: ReviewChange,
) -> Result<(), StoreError> {
    let policy = Policy::builtin();
    let events = incident::record(incident, change.timeline.clone(), &ctx(&policy)).unwrap();
    let incident = (!events.is_empty()).then(|| support::change(incident, events));
    store.write_review(ReviewWrite { change, incident }).await
}

async fn open(store: &Arc<dyn Store>, incident: &Incident) -> ReviewChange {
    let policy = Policy::builtin();
    let events = store.timeline(incident.number).await.unwrap();
    let change = review::open(incident, &events, &OpenReview::default(), &ctx(&policy)).unwrap();
    write(store, incident, change.clone()).await.unwrap();
    change
}

fn item(title: &str, owner: &str) -> NewActionItem {
    NewActionItem {
        title: title.into(),
        owner: handle(owner),
        category: Category::ShortTerm,
        due_at: None,
        status: None,
        answers: None,
        ticket: None,
    }
}

async fn a_review_is_written_whole(store: Arc<dyn Store>) {
    let policy = Policy::builtin();
    let i = declare(&store, "Checkout failing", false).await;
    assert!(store.review(i.number).await.unwrap().is_none());
    let opened = open(&store, &i).await;
    let stored = store.review(i.number).await.unwrap().unwrap();
    assert_eq!(stored, opened.record);
    let timeline = store.timeline(i.number).await.unwrap();
    assert!(matches!(
        timeline.last().unwrap().kind,
        EventKind::ReviewOpened { .. }
    ));
    let reminders = store.jobs(Some(i.number)).await.unwrap();
    assert!(
        reminders
            .iter()
            .filter(|j| j.kind == JobKind::ReviewRemind)
            .count()
            >= 2,
        "{reminders:?}"
    );

    // A second opening is refused and leaves the first as it was.
    let i = store.incident(i.number).await.unwrap();
    let again = review::open(&i, &timeline, &OpenReview::default(), &ctx(&policy)).unwrap();
    assert!(matches!(
        write(&store, &i, again).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert_eq!(store.review(i.number).await.unwrap().unwrap(), stored);

    // An item and a section, then a change decided from the old version is stale.
    let add = review::decide(
        &stored,
        &i,
        &ReviewCommand::AddAction(item("Alert on memory", "bob")),
        &ctx(&policy),
    )
    .unwrap();
    write(&store, &i, add.clone()).await.unwrap();
    let summary = ReviewCommand::Summary(Summary {
        what_happened: "It broke.".into(),
        ..Default::default()
    });
    let stale = review::decide(&stored, &i, &summary, &ctx(&policy)).unwrap();
    assert!(matches!(
        write(&store, &i, stale).await,
        Err(StoreError::Stale(_))
    ));
    let now_stored = store.review(i.number).await.unwrap().unwrap();
    assert_eq!(now_stored, add.record);
    let done = ActionItemPatch {
        status: Some(ActionStatus::Done),
        ..Default::default()
    };
    let change = review::decide(
        &now_stored,
        &i,
        &ReviewCommand::UpdateAction {
            number: 1,
            patch: done,
        },
        &ctx(&policy),
    )
    .unwrap();
    write(&store, &i, change).await.unwrap();
    let items = store.review(i.number).await.unwrap().unwrap().items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].status, ActionStatus::Done);
    let history: Vec<_> = store
        .review_history(i.number)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.seq, h.what))
        .collect();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[2].1, "action item 1-1: status open → done");
}

async fn action_items_list_across_incidents(store: Arc<dyn Store>) {
    let policy = Policy::builtin();
    let open_one = declare(&store, "Open one", false).await;
    let secret = declare(&store, "Secret one", true).await;
    for (i, owner) in [(&open_one, "bob"), (&secret, "bob")] {
        let record = open(&store, i).await.record;
        let i = store.incident(i.number).await.unwrap();
        let mut late = item("Late", owner);
        late.due_at = Some(now() + SignedDuration::from_mins(5));
        for new in [item("Later", owner), late, item("Carol's", "carol")] {
            let current = store.review(i.number).await.unwrap().unwrap();
            let change =
                review::decide(&current, &i, &ReviewCommand::AddAction(new), &ctx(&policy))
                    .unwrap();
            write(&store, &i, change).await.unwrap();
        }
        let _ = record;
    }
    let titles = |rows: Vec<(review::ActionItem, String)>| {
        rows.into_iter()
            .map(|(i, t)| format!("{t}/{}", i.title))
            .collect::<Vec<_>>()
    };
    let all = ActionFilter {
        limit: 50,
        ..Default::default()
    };
    assert_eq!(store.action_items(&all).await.unwrap().len(), 6);
    let bobs = ActionFilter {
        owner: Some(handle("bob")),
        viewer: Some(handle("bob")),
        ..all.clone()
    };
    assert_eq!(
        titles(store.action_items(&bobs).await.unwrap()),
        ["Open one/Late", "Open one/Later"],
        "the restricted incident's items are not bob's to see"
    );
    let overdue = ActionFilter {
        pending: true,
        due_before: Some(now() + SignedDuration::from_hours(1)),
        viewer: Some(handle("alice")),
        ..all.clone()
    };
    assert_eq!(
        titles(store.action_items(&overdue).await.unwrap()),
        ["Open one/Late", "Secret one/Late"],
        "alice declared both"
    );
}

contract!(
    a_review_is_written_whole,
    action_items_list_across_incidents
);
