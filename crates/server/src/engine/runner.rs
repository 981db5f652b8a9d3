//! The engine: runs the jobs the store keeps (escalation steps, page deliveries,
//! acknowledgement timeouts, test messages) when they are due. A job is claimed with a
//! lease, so a crashed worker's job runs again elsewhere; its outcome, the timeline
//! events about it and the jobs it leads to are written in one transaction. Time is the
//! injectable clock, so tests move it instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use klaxon_domain::incident::{self, Command, Incident};
use klaxon_domain::paging::{Announcement, JobPayload};
use klaxon_store::{Change, Job, JobDone, JobOutcome, StoreError};

use crate::app::lookups::Lookups;
use crate::engine::announcements;
use crate::engine::deliveries;
use crate::engine::escalations;
use crate::engine::job::{backoff, domain, engine_context, Ran, MAX_ATTEMPTS};
use crate::engine::maintenance;
use crate::engine::notices;
use crate::engine::publish;
use crate::engine::reminders;
use crate::engine::reviews;
use crate::engine::rooms;
use crate::engine::subscribers;
use crate::infra::state::AppState;

/// How long a claimed job is held before another worker may take it: longer than any
/// delivery (channel timeouts are 10 s), short enough that a crash delays a page little.
pub const LEASE: SignedDuration = SignedDuration::from_secs(30);
/// Jobs run at once. Every claimed job starts at once (none waits for a slot, which could
/// outlast its lease), and the queue is claimed again whenever half the slots are free,
/// so one slow delivery never holds up the jobs behind it.
const IN_FLIGHT: usize = 256;
/// How often a busy engine looks for newly due jobs between completions.
const RECHECK: Duration = Duration::from_millis(50);
/// How often the engine looks for due jobs when nothing wakes it.
const POLL: Duration = Duration::from_millis(500);

/// Runs every job due now, until none is left; how many ran.
pub async fn run_due_jobs(state: &AppState) -> Result<usize, StoreError> {
    let mut ran = 0;
    // Each job is a task of its own: it makes progress (and gives back the database
    // connection it holds) while this loop waits on the next claim.
    let mut running = tokio::task::JoinSet::new();
    loop {
        if running.len() <= IN_FLIGHT / 2 {
            let free = (IN_FLIGHT - running.len()) as u32;
            let jobs = match state.store.claim_jobs(state.clock.now(), LEASE, free).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    // Let the jobs already running write their outcomes first.
                    while running.join_next().await.is_some() {}
                    return Err(e);
                }
            };
            if jobs.is_empty() && running.is_empty() {
                return Ok(ran);
            }
            ran += jobs.len();
            // The jobs of one claim share their reads of services, policies and
            // people, and read their incidents together.
            let lookups = Arc::new(Lookups::new(state.store.clone()));
            let mut numbers: Vec<_> = jobs.iter().filter_map(|j| j.incident).collect();
            numbers.sort_unstable_by_key(|n| n.0);
            numbers.dedup();
            if let Err(e) = lookups.read_incidents(&numbers).await {
                // Each job reads its own incident instead.
                tracing::warn!(error = %e, "cannot read a claim's incidents together");
            }
            let announced: Vec<_> = jobs
                .iter()
                .filter_map(
                    |job| match (job.incident, JobPayload::read(job.kind, &job.payload)) {
                        (Some(n), Ok(JobPayload::Announce(Announcement::Event { seq }))) => {
                            Some((n, seq))
                        }
                        _ => None,
                    },
                )
                .collect();
            if let Err(e) = lookups.read_timeline_events(&announced).await {
                // Each announcement reads its own event instead.
                tracing::warn!(error = %e, "cannot read a claim's announced events together");
            }
            for job in jobs {
                let (state, lookups) = (state.clone(), lookups.clone());
                running.spawn(async move { run_job(&state, job, &lookups).await });
            }
        }
        tokio::select! {
            done = running.join_next() => {
                if let Some(Err(e)) = done {
                    tracing::error!(error = %e, "a job failed to run to its end; it runs again when its lease ends");
                }
            }
            _ = tokio::time::sleep(RECHECK) => {}
        }
    }
}

#[tracing::instrument(skip_all, fields(job = job.id.0, kind = job.kind.as_str(), incident = job.incident.map(|n| n.0)))]
async fn run_job(state: &AppState, job: Job, lookups: &Lookups) {
    // The payload is read once, by the job's kind; one that does not fit fails the job.
    let ran = match JobPayload::read(job.kind, &job.payload) {
        Err(e) => Err(StoreError::Other(e)),
        Ok(JobPayload::Escalate(at)) => escalations::escalate(state, &job, &at, lookups).await,
        Ok(JobPayload::Page(to) | JobPayload::Notify(to)) => {
            deliveries::deliver(state, &job, &to, lookups).await
        }
        Ok(JobPayload::AckTimeout(timeout)) => {
            escalations::ack_timeout(state, &job, &timeout, lookups).await
        }
        Ok(JobPayload::Announce(what)) => {
            announcements::announce(state, &job, &what, lookups).await
        }
        Ok(JobPayload::Remind(r)) => reminders::remind(state, &job, &r).await,
        Ok(JobPayload::Publish(event)) => publish::publish(state, &job, event.seq).await,
        Ok(JobPayload::RoomPost(post)) => rooms::post_in_room(state, &job, &post).await,
        Ok(JobPayload::Maintenance(m)) => maintenance::run(state, &m).await,
        Ok(JobPayload::ReviewOpen(_)) => reviews::open_review(state, &job).await,
        Ok(JobPayload::ReviewRemind(r)) => reviews::remind_review(state, &job, &r, lookups).await,
        Ok(JobPayload::ActionRemind(r)) => reviews::remind_action(state, &job, &r, lookups).await,
        Ok(JobPayload::StatusNotice(source)) => notices::fan_out(state, &job, &source).await,
        Ok(JobPayload::SubscriberDelivery(d)) => subscribers::deliver(state, &job, &d).await,
    };
    let ran = match ran {
        Ok(ran) => ran,
        Err(e) => {
            // A fault of Klaxon's own (the database, a corrupt row): try again later;
            // the claim's attempt counts, so a job that always fails ends up dead.
            tracing::warn!(error = %e, "job failed");
            let error = e.to_string();
            let outcome = if job.attempts >= MAX_ATTEMPTS {
                JobOutcome::Dead {
                    at: state.clock.now(),
                    error,
                }
            } else {
                JobOutcome::Retry {
                    at: state.clock.now() + backoff(job.attempts),
                    error,
                }
            };
            Ran {
                outcome,
                ..Ran::done()
            }
        }
    };
    if let Err(e) = finish(state, &job, ran).await {
        match e {
            StoreError::Stale(m) | StoreError::AlreadyApplied(m) => {
                tracing::debug!(reason = %m, "job outcome not written")
            }
            other => {
                tracing::warn!(error = %other, "cannot record a job's outcome; its lease will run out and it runs again")
            }
        }
    }
    state.engine_wake.notify_one();
}

/// Writes a job's outcome with its timeline events and follow-up jobs. Deliveries
/// for one incident finish one at a time in this process; a change another replica
/// made meanwhile is read again and the events placed after it.
async fn finish(state: &AppState, job: &Job, ran: Ran) -> Result<(), StoreError> {
    let _held = match job.incident {
        Some(n) => Some(state.incident_locks.lock(&[n.0]).await),
        None => None,
    };
    let mut tries = 1;
    let mut seen = ran.incident.clone();
    loop {
        match try_finish(state, job, &ran, seen.take()).await {
            Err(StoreError::Stale(_)) if tries < 5 => tries += 1,
            other => return other,
        }
    }
}

async fn try_finish(
    state: &AppState,
    job: &Job,
    ran: &Ran,
    seen: Option<Incident>,
) -> Result<(), StoreError> {
    let mut changes = vec![];
    if let (Some(n), false) = (job.incident, ran.events.is_empty() && ran.notes.is_empty()) {
        let incident = match seen.filter(|i| i.number == n) {
            Some(incident) => incident,
            None => state.store.incident(n).await?,
        };
        let ctx = engine_context(state);
        let mut events = incident::record(&incident, ran.events.clone(), &ctx).map_err(domain)?;
        let mut projected = incident.clone();
        events.iter().for_each(|e| projected.apply(e));
        for text in &ran.notes {
            let note = Command::Note {
                text: text.clone(),
                at: None,
            };
            let more = incident::decide(&projected, &note, &ctx).map_err(domain)?;
            more.iter().for_each(|e| projected.apply(e));
            events.extend(more);
        }
        changes.push(Change::new(&incident, events, &state.outlets));
    }
    let jobs = ran.jobs.iter().map(|j| (job.incident, j.clone())).collect();
    state
        .store
        .finish_job(JobDone {
            id: job.id,
            outcome: ran.outcome.clone(),
            changes,
            jobs,
        })
        .await
}

/// Runs due jobs until `stop` changes, waking when work is added or every [`POLL`].
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = run_due_jobs(&state).await {
            tracing::warn!(error = %e, "running jobs failed; will try again");
        }
        tokio::select! {
            _ = state.engine_wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The engine's status-page notices, run as the runner runs them.

    use klaxon_domain::status::{Notice, NoticeKind, SubscriberFields, SubscriberKind};
    use klaxon_domain::Secret;
    use klaxon_store::NewSubscriberRow;
    use serde_json::json;

    use crate::app::subscribers::enqueue_notice;

    /// A notice made whole by its caller (as scheduled maintenance makes them) reaches
    /// each subscriber once, however often it is queued, in the webhook shape.
    #[tokio::test]
    async fn an_enqueued_notice_is_delivered_once_per_subscriber() {
        use wiremock::matchers::{header, method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let (_db, store, state, _) = crate::testing::state_with_service().await;
        let hook = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/hook"))
            .and(header("x-klaxon-event", "maintenance.update"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&hook)
            .await;
        let fields = SubscriberFields {
            kind: SubscriberKind::Webhook,
            address: format!("{}/hook", hook.uri()),
            components: None,
        };
        let secret = Secret::from("s3cret");
        let row = NewSubscriberRow {
            fields: &fields,
            secret: Some(&secret),
            confirmed: true,
        };
        store
            .create_subscriber(row, &|_| vec![], jiff::Timestamp::now())
            .await
            .unwrap();
        let notice = Notice {
            kind: NoticeKind::Maintenance,
            key: "maintenance/7/reminder".into(),
            subject: "Database upgrade in an hour".into(),
            body: "The database is upgraded at 10:00 UTC.".into(),
            components: vec![],
            link: None,
            webhook: [(
                "scheduled_maintenance".to_owned(),
                json!({"name": "Database upgrade"}),
            )]
            .into_iter()
            .collect(),
            page: None,
        };
        enqueue_notice(&state, notice.clone()).await.unwrap();
        enqueue_notice(&state, notice).await.unwrap();
        super::run_due_jobs(&state).await.unwrap();
        let got = hook.received_requests().await.unwrap();
        assert_eq!(got.len(), 1, "queued twice, delivered once");
        let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
        assert_eq!(body["scheduled_maintenance"]["name"], "Database upgrade");
        assert_eq!(body["page"]["status_indicator"], "none");
        assert!(body["meta"]["unsubscribe"]
            .as_str()
            .unwrap()
            .contains("/status/subscribers/unsubscribe?s=1&t="));
        assert!(store.jobs(None).await.unwrap().is_empty());
    }
}
