//! The engine's jobs on both backends: jobs finished at once are written together, each
//! exactly once, and one that was cancelled while it ran fails alone.

mod support;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::incident::{self, Context, DeclareInput, EventKind, Incident, Source};
use klaxon_domain::paging::{EscalateJob, JobKind, PlannedJob};
use klaxon_domain::policy::Policy;
use klaxon_domain::{Handle, JobId, Severity};
use klaxon_store::{JobDone, JobOutcome, Store, StoreError};

fn now() -> Timestamp {
    klaxon_domain::time::to_millis_precision(Timestamp::now())
}

fn ctx(policy: &Policy) -> Context<'_> {
    Context {
        actor: Handle::parse("klaxon").unwrap(),
        source: Source::Engine,
        now: now(),
        policy,
        link_base: None,
    }
}

/// A drill (it plans no jobs of its own), with one escalation job due now.
async fn incident_with_a_due_job(store: &Arc<dyn Store>, title: &str) -> Incident {
    let policy = Policy::builtin();
    let input = DeclareInput {
        title: title.into(),
        severity: Some(Severity::new(2).unwrap()),
        drill: true,
        ..Default::default()
    };
    let events = incident::declare(&input, &ctx(&policy)).unwrap();
    let incident = store
        .declare(support::declaration(title, events))
        .await
        .unwrap();
    let job = EscalateJob {
        generation: "0".into(),
        round: 0,
        step: 0,
    }
    .planned(now());
    store
        .add_jobs(Some(incident.number), &[job], now())
        .await
        .unwrap();
    incident
}

/// What an escalation step writes: its timeline event and a page job.
fn step_done(id: JobId, incident: &Incident) -> JobDone {
    let policy = Policy::builtin();
    let paged = EventKind::Paged {
        round: 0,
        step: 0,
        users: vec!["alice".into()],
        urgency: "high".into(),
    };
    let events = incident::record(incident, vec![paged], &ctx(&policy)).unwrap();
    let page = PlannedJob {
        kind: JobKind::Page,
        key: format!("page-{}", incident.number),
        run_at: now(),
        payload: serde_json::json!({"user": "alice", "contact_method": 1}),
    };
    JobDone {
        id,
        outcome: JobOutcome::Done,
        changes: vec![support::change(incident, events)],
        jobs: vec![(Some(incident.number), page)],
    }
}

async fn jobs_finished_at_once_are_each_written_once(store: Arc<dyn Store>) {
    let mut incidents = vec![];
    for i in 0..40 {
        incidents.push(incident_with_a_due_job(&store, &format!("due-{i}")).await);
    }
    let claimed = store
        .claim_jobs(now(), SignedDuration::from_secs(30), 100)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 40);
    // Every job finishes at once, so the group commit writes them together; the first
    // job is finished twice, and the second time must fail without writing anything.
    let mut finishing = vec![];
    for job in &claimed {
        let incident = incidents
            .iter()
            .find(|i| Some(i.number) == job.incident)
            .unwrap();
        let store = store.clone();
        let done = step_done(job.id, incident);
        finishing.push(tokio::spawn(async move { store.finish_job(done).await }));
    }
    let first = &claimed[0];
    let again = step_done(
        first.id,
        incidents
            .iter()
            .find(|i| Some(i.number) == first.incident)
            .unwrap(),
    );
    let twice = {
        let store = store.clone();
        tokio::spawn(async move { store.finish_job(again).await })
    };
    let mut failed = 0;
    for f in finishing.into_iter().chain([twice]) {
        match f.await.unwrap() {
            Ok(()) => {}
            Err(StoreError::AlreadyApplied(_)) => failed += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(failed, 1, "the job finished twice is written once");

    for incident in &incidents {
        let timeline = store.timeline(incident.number).await.unwrap();
        let paged = timeline
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Paged { .. }))
            .count();
        assert_eq!(paged, 1, "incident {}", incident.number);
        let stored = store.incident(incident.number).await.unwrap();
        assert_eq!(stored.version, incident.version + 1);
        let jobs = store.jobs(Some(incident.number)).await.unwrap();
        assert_eq!(jobs.len(), 1, "only the page job is left");
        assert_eq!(jobs[0].kind, JobKind::Page);
    }
    let backlog = store
        .job_backlog(now() + SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(backlog.len(), 1);
    assert_eq!(
        (backlog[0].kind, backlog[0].due, backlog[0].dead),
        (JobKind::Page, 40, 0)
    );
}

async fn a_cancelled_job_fails_alone_in_a_batch(store: Arc<dyn Store>) {
    let a = incident_with_a_due_job(&store, "kept").await;
    let b = incident_with_a_due_job(&store, "cancelled").await;
    let claimed = store
        .claim_jobs(now(), SignedDuration::from_secs(30), 10)
        .await
        .unwrap();
    let job = |i: &Incident| {
        claimed
            .iter()
            .find(|j| j.incident == Some(i.number))
            .unwrap()
            .id
    };
    // b's job is finished by someone else first (as a cancellation would delete it).
    store
        .finish_job(JobDone {
            id: job(&b),
            outcome: JobOutcome::Done,
            changes: vec![],
            jobs: vec![],
        })
        .await
        .unwrap();
    let (kept, cancelled) = tokio::join!(
        store.finish_job(step_done(job(&a), &a)),
        store.finish_job(step_done(job(&b), &b)),
    );
    kept.unwrap();
    assert!(
        matches!(cancelled, Err(StoreError::AlreadyApplied(_))),
        "{cancelled:?}"
    );
    assert_eq!(store.timeline(a.number).await.unwrap().len(), 2);
    assert_eq!(
        store.timeline(b.number).await.unwrap().len(),
        1,
        "nothing of b's step is written"
    );
    assert!(store.jobs(Some(b.number)).await.unwrap().is_empty());
}

async fn a_claim_takes_at_most_its_limit_once(store: Arc<dyn Store>) {
    for i in 0..20 {
        incident_with_a_due_job(&store, &format!("due-{i}")).await;
    }
    let lease = SignedDuration::from_secs(30);
    let first = store.claim_jobs(now(), lease, 5).await.unwrap();
    assert_eq!(first.len(), 5, "no more than the limit");
    let rest = store.claim_jobs(now(), lease, 100).await.unwrap();
    assert_eq!(rest.len(), 15, "the others, and none claimed twice");
    assert!(rest.iter().all(|j| first.iter().all(|f| f.id != j.id)));
    assert!(
        store
            .claim_jobs(now(), lease, 100)
            .await
            .unwrap()
            .is_empty(),
        "all are leased"
    );
    let later = store
        .claim_jobs(now() + SignedDuration::from_secs(31), lease, 100)
        .await
        .unwrap();
    assert_eq!(
        later.len(),
        20,
        "a lease that ran out lets the job be claimed again"
    );
}

async fn a_claims_incidents_are_read_together(store: Arc<dyn Store>) {
    let mut made = Vec::new();
    for i in 0..3 {
        made.push(incident_with_a_due_job(&store, &format!("disk full {i}")).await);
    }
    let mut numbers: Vec<_> = made.iter().map(|i| i.number).collect();
    numbers.push(klaxon_domain::IncidentNumber(9_999));
    let mut read: Vec<_> = store
        .incidents_by_number(&numbers)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.number, i.title, i.version))
        .collect();
    read.sort_by_key(|(n, ..)| n.0);
    let made: Vec<_> = made
        .into_iter()
        .map(|i| (i.number, i.title, i.version))
        .collect();
    assert_eq!(
        read, made,
        "each existing incident once, a missing one left out"
    );
    assert!(store.incidents_by_number(&[]).await.unwrap().is_empty());
}

async fn a_claims_announced_events_are_read_together(store: Arc<dyn Store>) {
    let mut wanted = Vec::new();
    let mut expected = Vec::new();
    for i in 0..3 {
        let incident = incident_with_a_due_job(&store, &format!("disk full {i}")).await;
        let timeline = store.timeline(incident.number).await.unwrap();
        let last = timeline.last().unwrap().clone();
        wanted.push((incident.number, last.seq));
        expected.push((incident.number, last));
    }
    let first = wanted[0].0;
    wanted.push((first, 9_999));
    wanted.push((klaxon_domain::IncidentNumber(9_999), 1));
    let mut read = store.timeline_events(&wanted).await.unwrap();
    read.sort_by_key(|(n, _)| n.0);
    assert_eq!(
        read, expected,
        "each existing event once, missing ones left out"
    );
    assert!(store.timeline_events(&[]).await.unwrap().is_empty());
}

contract!(
    a_claims_incidents_are_read_together,
    a_claims_announced_events_are_read_together,
    a_claim_takes_at_most_its_limit_once,
    jobs_finished_at_once_are_each_written_once,
    a_cancelled_job_fails_alone_in_a_batch,
);
