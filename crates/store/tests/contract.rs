//! The store contract for users, tokens and incidents: the same tests against SQLite and
//! PostgreSQL (services and their alerts: `services.rs`). PostgreSQL tests need
//! `KLAXON_TEST_POSTGRES_URL` (each test gets a fresh database); without it they are
//! skipped locally and fail under CI.

mod support;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::api::NewUser;
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{
    self, Command, Context, DeclareInput, Incident, Role, Source, Status,
};
use klaxon_domain::policy::Policy;
use klaxon_domain::{Handle, IncidentNumber, Severity};
use klaxon_store::{IncidentFilter, Store, StoreError};
use std::sync::Arc;

fn now() -> Timestamp {
    klaxon_domain::time::to_millis_precision(Timestamp::now())
}

fn handle(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

fn new_user(h: &str) -> NewUser {
    NewUser {
        handle: handle(h),
        name: h.to_uppercase(),
        email: format!("{h}@example.com"),
        role: None,
    }
}

fn ctx<'a>(policy: &'a Policy, actor: &str, at: Timestamp) -> Context<'a> {
    Context {
        actor: handle(actor),
        source: Source::Api,
        now: at,
        policy,
        link_base: None,
    }
}

async fn declare(
    store: &Arc<dyn Store>,
    title: &str,
    severity: i64,
    restricted: bool,
    drill: bool,
) -> Incident {
    let policy = Policy::builtin();
    let input = DeclareInput {
        title: title.into(),
        severity: Some(Severity::new(severity).unwrap()),
        service: Some("api".into()),
        restricted,
        drill,
        ..Default::default()
    };
    let at = now();
    let events = incident::declare(&input, &ctx(&policy, "alice", at)).unwrap();
    let slug = incident::slug_base(title, at, policy.time_zone.zone());
    store
        .declare(support::declaration(&slug, events))
        .await
        .unwrap()
}

async fn run(
    store: &Arc<dyn Store>,
    number: IncidentNumber,
    command: Command,
    actor: &str,
) -> Incident {
    let policy = Policy::builtin();
    let incident = store.incident(number).await.unwrap();
    let events = incident::decide(&incident, &command, &ctx(&policy, actor, now())).unwrap();
    let change = support::change(&incident, events);
    store.commit(std::slice::from_ref(&change)).await.unwrap();
    change.incident
}

async fn users_are_unique_by_handle(store: Arc<dyn Store>) {
    let alice = store.create_user(&new_user("alice"), now()).await.unwrap();
    assert_eq!(store.user(&handle("alice")).await.unwrap(), alice);
    let err = store
        .create_user(&new_user("alice"), now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { ref message, .. } if message.contains("'alice' already exists")),
        "{err}"
    );
    store.create_user(&new_user("bob"), now()).await.unwrap();
    let handles: Vec<_> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.handle.to_string())
        .collect();
    assert_eq!(handles, ["alice", "bob"]);
    assert!(matches!(
        store.user(&handle("carol")).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn bootstrap_happens_once(store: Arc<dyn Store>) {
    let admin = store
        .bootstrap(&new_user("admin"), "bootstrap", "hash-1", now())
        .await
        .unwrap();
    assert!(admin.is_some());
    let again = store
        .bootstrap(&new_user("root"), "bootstrap", "hash-2", now())
        .await
        .unwrap();
    assert!(again.is_none());
    assert_eq!(store.users().await.unwrap().len(), 1);
    let auth = store.authenticate("hash-1").await.unwrap().unwrap();
    assert_eq!(
        (auth.user.handle.as_str(), auth.token.scope),
        ("admin", Scope::Admin)
    );
    assert!(store.authenticate("hash-2").await.unwrap().is_none());
}

async fn revoked_tokens_stop_working(store: Arc<dyn Store>) {
    store.create_user(&new_user("alice"), now()).await.unwrap();
    let token = store
        .create_token("laptop", Scope::Responder, &handle("alice"), "h", now())
        .await
        .unwrap();
    assert_eq!(store.authenticate("h").await.unwrap().unwrap().token, token);
    let revoked = store.revoke_token(token.id, now()).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(store.authenticate("h").await.unwrap().is_none());
    assert!(matches!(
        store.revoke_token(token.id, now()).await,
        Err(StoreError::AlreadyApplied(_))
    ));
    assert!(matches!(
        store.revoke_token(klaxon_domain::TokenId(999), now()).await,
        Err(StoreError::NotFound(_))
    ));
    let missing = store
        .create_token("x", Scope::Viewer, &handle("nobody"), "h2", now())
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
    assert_eq!(store.tokens().await.unwrap().len(), 1);
}

async fn declarations_get_numbers_and_unique_slugs(store: Arc<dyn Store>) {
    let first = declare(&store, "API down", 1, false, false).await;
    let second = declare(&store, "API down", 2, false, false).await;
    assert_eq!((first.number.0, second.number.0), (1, 2));
    assert!(first.slug.ends_with("-api-down"), "{}", first.slug);
    assert_eq!(second.slug, format!("{}-2", first.slug));
    assert_eq!(store.incident(first.number).await.unwrap(), first);
    assert!(matches!(
        store.incident(IncidentNumber(99)).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn the_projection_matches_the_stored_timeline(store: Arc<dyn Store>) {
    let i = declare(&store, "Login failures", 2, false, false).await;
    run(&store, i.number, Command::Acknowledge { at: None }, "alice").await;
    run(
        &store,
        i.number,
        Command::Assign {
            role: Role::Commander,
            user: handle("bob"),
        },
        "alice",
    )
    .await;
    run(
        &store,
        i.number,
        Command::Assign {
            role: Role::Commander,
            user: handle("carol"),
        },
        "bob",
    )
    .await;
    let resolve = Command::Resolve {
        root_cause: Some("bad deploy".into()),
        fix: None,
        at: None,
    };
    run(&store, i.number, resolve, "carol").await;
    let stored = store.incident(i.number).await.unwrap();
    let timeline = store.timeline(i.number).await.unwrap();
    assert_eq!(timeline.len(), 6);
    assert_eq!(
        Incident::replay(i.number, &stored.slug, &timeline).unwrap(),
        stored
    );
    assert_eq!(stored.status, Status::Resolved);
    assert_eq!(stored.participants, ["alice", "bob", "carol"]);
}

async fn a_stale_version_changes_nothing(store: Arc<dyn Store>) {
    let i = declare(&store, "Queue backlog", 3, false, false).await;
    let policy = Policy::builtin();
    let stale = store.incident(i.number).await.unwrap();
    run(&store, i.number, Command::Acknowledge { at: None }, "alice").await;
    let events = incident::decide(
        &stale,
        &Command::Note {
            text: "late".into(),
            at: None,
        },
        &ctx(&policy, "bob", now()),
    )
    .unwrap();
    let change = support::change(&stale, events);
    let err = store.commit(&[change]).await.unwrap_err();
    assert!(matches!(err, StoreError::Stale(_)), "{err}");
    assert_eq!(store.timeline(i.number).await.unwrap().len(), 2);
    assert_eq!(
        store.incident(i.number).await.unwrap().status,
        Status::Acknowledged
    );
}

async fn a_failed_change_rolls_back_the_whole_commit(store: Arc<dyn Store>) {
    let a = declare(&store, "first", 3, false, false).await;
    let b = declare(&store, "second", 3, false, false).await;
    let policy = Policy::builtin();
    let (out, into) = incident::merge(&a, &b, &ctx(&policy, "alice", now())).unwrap();
    // The second change expects a version b is not at: nothing of the first may stay.
    let mut stale = support::change(&b, into);
    stale.expected_version += 5;
    let changes = [support::change(&a, out), stale];
    assert!(matches!(
        store.commit(&changes).await,
        Err(StoreError::Stale(_))
    ));
    assert_eq!(store.incident(a.number).await.unwrap(), a);
    assert_eq!(store.timeline(a.number).await.unwrap().len(), 1);
}

/// Runs `command` as if at `at`.
async fn run_at(store: &Arc<dyn Store>, number: IncidentNumber, command: Command, at: Timestamp) {
    let policy = Policy::builtin();
    let incident = store.incident(number).await.unwrap();
    let events = incident::decide(&incident, &command, &ctx(&policy, "alice", at)).unwrap();
    let change = support::change(&incident, events);
    store.commit(std::slice::from_ref(&change)).await.unwrap();
}

async fn facts_carry_the_events_reports_need(store: Arc<dyn Store>) {
    let a = declare(&store, "API down", 2, false, false).await;
    let drill = declare(&store, "practice", 1, false, true).await;
    let secret = declare(&store, "breach", 1, true, false).await;
    let declined = declare(&store, "false alarm", 3, false, false).await;
    let late = a.declared_at + SignedDuration::from_hours(2);
    run_at(&store, a.number, Command::Acknowledge { at: None }, late).await;
    let mut customer = incident::StatusUpdateInput::new(incident::UpdateKind::Update);
    customer.audience = incident::UpdateAudience::Customer;
    customer.status = Some("Investigating".into());
    run_at(&store, a.number, Command::PostUpdate(customer), late).await;
    let mut internal = incident::StatusUpdateInput::new(incident::UpdateKind::Update);
    internal.status = Some("Rolling back".into());
    run_at(&store, a.number, Command::PostUpdate(internal), late).await;
    let before = store.incident(a.number).await.unwrap();
    let attached = incident::TimelineEvent {
        seq: before.version + 1,
        kind: incident::EventKind::AlertAttached {
            dedup_key: "disk-full-db1".into(),
            summary: "disk full".into(),
            severity: klaxon_domain::alert::AlertSeverity::Critical,
        },
        actor: "klaxon".into(),
        source: Source::Engine,
        recorded_at: late,
        occurred_at: None,
    };
    store
        .commit(&[support::change(&before, vec![attached])])
        .await
        .unwrap();
    run_at(
        &store,
        declined.number,
        Command::Decline { reason: None },
        late,
    )
    .await;

    let window = |viewer: Option<&str>| klaxon_store::FactsFilter {
        since: a.declared_at - SignedDuration::from_hours(1),
        until: late + SignedDuration::from_hours(1),
        severity: None,
        service: None,
        viewer: viewer.map(handle),
    };
    let all = store.incident_facts(&window(None)).await.unwrap();
    let numbers: Vec<i64> = all.iter().map(|f| f.number.0).collect();
    assert_eq!(
        numbers,
        [
            a.number.0,
            drill.number.0,
            secret.number.0,
            declined.number.0
        ]
    );
    let f = &all[0];
    assert_eq!(f.acknowledged_at, Some(late));
    assert!(f.response_missed, "acknowledged two hours after a SEV2");
    assert_eq!(
        f.updates,
        [
            (late, incident::UpdateAudience::Customer),
            (late, incident::UpdateAudience::Internal)
        ]
    );
    assert_eq!(f.dedup_keys, ["disk-full-db1"]);
    assert!(all[1].drill && !all[1].response_missed);
    assert!(all[3].ended_without_resolution);

    // A viewer who takes no part in the restricted incident does not read it.
    let seen = store.incident_facts(&window(Some("zed"))).await.unwrap();
    assert!(seen.iter().all(|f| f.number != secret.number));
    assert_eq!(seen.len(), 3);
    let mut sev2 = window(None);
    sev2.severity = Some(Severity::new(2).unwrap());
    assert_eq!(store.incident_facts(&sev2).await.unwrap().len(), 1);
    let mut later = window(None);
    later.since = late;
    assert!(store.incident_facts(&later).await.unwrap().is_empty());
}

async fn listing_filters_and_pages(store: Arc<dyn Store>) {
    for (title, sev) in [
        ("one", 1),
        ("two", 2),
        ("three", 3),
        ("four", 4),
        ("five", 2),
    ] {
        declare(&store, title, sev, false, false).await;
    }
    let hidden = declare(&store, "breach", 1, true, false).await;
    run(
        &store,
        IncidentNumber(1),
        Command::Resolve {
            root_cause: None,
            fix: None,
            at: None,
        },
        "alice",
    )
    .await;
    let list = |f: IncidentFilter| {
        let store = store.clone();
        async move {
            store
                .incidents(&IncidentFilter { limit: 50, ..f })
                .await
                .unwrap()
                .iter()
                .map(|i| i.number.0)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(IncidentFilter::default()).await, [6, 5, 4, 3, 2, 1]);
    assert_eq!(
        list(IncidentFilter {
            severity: Some(Severity::new(2).unwrap()),
            ..Default::default()
        })
        .await,
        [5, 2]
    );
    assert_eq!(
        list(IncidentFilter {
            open: Some(false),
            ..Default::default()
        })
        .await,
        [1]
    );
    assert_eq!(
        list(IncidentFilter {
            open: Some(true),
            ..Default::default()
        })
        .await,
        [6, 5, 4, 3, 2]
    );
    assert_eq!(
        list(IncidentFilter {
            status: Some(Status::Resolved),
            ..Default::default()
        })
        .await,
        [1]
    );
    assert_eq!(
        list(IncidentFilter {
            service: Some("web".into()),
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
    let viewer = Some(handle("bob"));
    assert_eq!(
        list(IncidentFilter {
            viewer: viewer.clone(),
            ..Default::default()
        })
        .await,
        [5, 4, 3, 2, 1]
    );
    run(
        &store,
        hidden.number,
        Command::Assign {
            role: Role::Investigator,
            user: handle("bob"),
        },
        "alice",
    )
    .await;
    assert_eq!(
        list(IncidentFilter {
            viewer,
            ..Default::default()
        })
        .await,
        [6, 5, 4, 3, 2, 1]
    );
    let page = store
        .incidents(&IncidentFilter {
            limit: 2,
            before: Some(IncidentNumber(5)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|i| i.number.0).collect::<Vec<_>>(), [4, 3]);
    let future = now() + SignedDuration::from_hours(1);
    assert_eq!(
        list(IncidentFilter {
            since: Some(future),
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
}

/// The incident page reads its timeline a page at a time, newest first, and the live
/// timeline only what follows the last event it sent.
async fn timelines_are_read_a_page_at_a_time(store: Arc<dyn Store>) {
    let i = declare(&store, "Slow queries", 2, false, false).await;
    let other = declare(&store, "Elsewhere", 3, false, false).await;
    for n in 0..24 {
        let note = Command::Note {
            text: format!("note {n}"),
            at: None,
        };
        run(&store, i.number, note, "alice").await;
    }
    run(
        &store,
        other.number,
        Command::Acknowledge { at: None },
        "bob",
    )
    .await;
    let seqs =
        |events: Vec<incident::TimelineEvent>| events.iter().map(|e| e.seq).collect::<Vec<_>>();
    let page = |before: Option<i64>| {
        let store = store.clone();
        async move { seqs(store.timeline_page(i.number, before, 10).await.unwrap()) }
    };
    assert_eq!(page(None).await, (16..=25).rev().collect::<Vec<_>>());
    assert_eq!(page(Some(16)).await, (6..=15).rev().collect::<Vec<_>>());
    assert_eq!(page(Some(6)).await, [5, 4, 3, 2, 1]);
    assert_eq!(page(Some(1)).await, Vec::<i64>::new());
    let newest = store.timeline_page(i.number, None, 1).await.unwrap();
    assert_eq!(newest, store.timeline(i.number).await.unwrap()[24..]);
    assert_eq!(
        seqs(store.timeline_after(i.number, 21).await.unwrap()),
        [22, 23, 24, 25]
    );
    assert!(store.timeline_after(i.number, 25).await.unwrap().is_empty());
    assert_eq!(
        seqs(store.timeline_after(other.number, 0).await.unwrap()),
        [1, 2]
    );
}

async fn counts_leave_out_drills(store: Arc<dyn Store>) {
    declare(&store, "real", 2, false, false).await;
    declare(&store, "real too", 2, false, false).await;
    declare(&store, "practice", 2, false, true).await;
    let counts = store.incident_counts().await.unwrap();
    assert_eq!(counts, [(Status::Triggered, Severity::new(2).unwrap(), 2)]);
}

/// Writes submitted together are committed together (group commit), yet a write that
/// fails takes only itself down.
async fn a_bad_write_in_a_batch_fails_alone(store: Arc<dyn Store>) {
    let policy = Policy::builtin();
    let mut incidents = Vec::new();
    for i in 0..10 {
        incidents.push(declare(&store, &format!("incident {i}"), 3, false, false).await);
    }
    let mut writes = Vec::new();
    for (i, incident) in incidents.iter().enumerate() {
        let note = Command::Note {
            text: format!("note {i}"),
            at: None,
        };
        let events = incident::decide(incident, &note, &ctx(&policy, "alice", now())).unwrap();
        let mut change = support::change(incident, events);
        if i == 4 {
            change.expected_version += 1;
        }
        let store = store.clone();
        writes.push(tokio::spawn(async move { store.commit(&[change]).await }));
    }
    for (i, write) in writes.into_iter().enumerate() {
        let result = write.await.unwrap();
        let timeline = store.timeline(incidents[i].number).await.unwrap();
        if i == 4 {
            assert!(matches!(result, Err(StoreError::Stale(_))), "{result:?}");
            assert_eq!(timeline.len(), 1);
        } else {
            result.unwrap();
            assert_eq!(timeline.len(), 2);
        }
    }
}

contract!(
    a_bad_write_in_a_batch_fails_alone,
    users_are_unique_by_handle,
    bootstrap_happens_once,
    revoked_tokens_stop_working,
    declarations_get_numbers_and_unique_slugs,
    the_projection_matches_the_stored_timeline,
    a_stale_version_changes_nothing,
    a_failed_change_rolls_back_the_whole_commit,
    listing_filters_and_pages,
    timelines_are_read_a_page_at_a_time,
    counts_leave_out_drills,
    facts_carry_the_events_reports_need
);

#[tokio::test]
async fn sqlite_keeps_everything_across_a_reopen() {
    let db = klaxon_store::testing::TempSqlite::new();
    let store = klaxon_store::open(&db.url).await.unwrap();
    let i = declare(&store, "persisted", 2, false, false).await;
    run(&store, i.number, Command::Acknowledge { at: None }, "alice").await;
    drop(store);
    let reopened = klaxon_store::open(&db.url).await.unwrap();
    assert_eq!(
        reopened.incident(i.number).await.unwrap().status,
        Status::Acknowledged
    );
    assert_eq!(reopened.timeline(i.number).await.unwrap().len(), 2);
}

/// The writer never checkpoints (that stalled commits); a background task copies the
/// write-ahead log into the database file instead, so the file grows as data arrives.
#[tokio::test]
async fn sqlite_checkpoints_in_the_background() {
    let db = klaxon_store::testing::TempSqlite::new();
    let store = klaxon_store::open(&db.url).await.unwrap();
    let file = db.dir.join("klaxon.db");
    let at_open = std::fs::metadata(&file).unwrap().len();
    for i in 0..200 {
        declare(&store, &format!("incident {i}"), 3, false, false).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let after = std::fs::metadata(&file).unwrap().len();
    assert!(
        after > at_open + 100_000,
        "database file {at_open} -> {after} bytes: nothing was checkpointed"
    );
}
