//! What every job kind shares: what a run decided ([`Ran`]), the retry policy of a
//! delivery that failed, and keeping an incident's deliveries in order.

use jiff::SignedDuration;
use klaxon_domain::incident::{Context, EventKind, Incident, Source};
use klaxon_domain::paging::{JobPayload, PlannedJob};
use klaxon_domain::{DomainError, Handle};
use klaxon_notify::DeliveryError;
use klaxon_store::{Job, JobOutcome, StoreError};

use crate::infra::state::AppState;

/// The delay before attempt `attempt + 1`: 10 s doubling to at most 30 minutes, with up
/// to a fifth more at random so that retries of many deliveries spread out.
pub fn backoff(attempt: u32) -> SignedDuration {
    let base = 10_i64.saturating_mul(1 << attempt.saturating_sub(1).min(10));
    let seconds = base.min(30 * 60);
    let jitter = rand::random_range(0..=seconds / 5);
    SignedDuration::from_secs(seconds + jitter)
}

/// What a job runner decided, before it is written.
pub(crate) struct Ran {
    pub(crate) outcome: JobOutcome,
    pub(crate) events: Vec<EventKind>,
    pub(crate) notes: Vec<String>,
    pub(crate) jobs: Vec<PlannedJob>,
    /// The incident as the runner read it, so writing the outcome need not read it
    /// again (a change meanwhile is caught by its version, and then it is read again).
    pub(crate) incident: Option<Incident>,
}

impl Ran {
    pub(crate) fn done() -> Self {
        Ran {
            outcome: JobOutcome::Done,
            events: vec![],
            notes: vec![],
            jobs: vec![],
            incident: None,
        }
    }

    /// Done, having read `incident`.
    pub(crate) fn seen(incident: Incident) -> Self {
        Ran {
            incident: Some(incident),
            ..Ran::done()
        }
    }
}

pub(crate) fn engine_context(state: &AppState) -> Context<'_> {
    Context {
        actor: Handle::parse("klaxon").expect("a valid handle"),
        source: Source::Engine,
        now: state.clock.now(),
        policy: &state.policy,
        link_base: state.public_url.clone(),
    }
}

/// What becomes of a delivery that failed: retried after [`backoff`] (or later, if
/// the service asked so) while the failure may pass and attempts remain; else dead.
pub(crate) fn after_failure(
    state: &AppState,
    job: &Job,
    e: &DeliveryError,
    error: String,
) -> JobOutcome {
    let now = state.clock.now();
    if e.is_transient() && job.attempts < MAX_ATTEMPTS {
        let wait = backoff(job.attempts);
        let asked = e
            .retry_after()
            .and_then(|d| SignedDuration::try_from(d).ok())
            .unwrap_or(wait);
        JobOutcome::Retry {
            at: now + wait.max(asked),
            error,
        }
    } else {
        tracing::error!(
            job = job.id.0,
            attempts = job.attempts,
            error,
            "delivery given up; the job stays dead in the jobs table"
        );
        JobOutcome::Dead { at: now, error }
    }
}

/// Keeps an incident's deliveries in seq order: if an earlier job of the same kind
/// and `lane` (the same room, say) is still pending on this job's incident, a
/// [`JobOutcome::Wait`] until that one's next run, which costs this job no attempt.
/// A dead earlier job does not hold later ones back: it stays in `jobs` for an
/// operator, and the receiver sees the gap in `seq`.
pub(crate) async fn wait_for_earlier(
    state: &AppState,
    job: &Job,
    lane: impl Fn(&Job) -> bool,
) -> Result<Option<Ran>, StoreError> {
    let Some(n) = job.incident else {
        return Ok(None);
    };
    let seq = |j: &Job| {
        JobPayload::read(j.kind, &j.payload)
            .ok()
            .and_then(|p| p.seq())
            .unwrap_or_default()
    };
    let earlier = state
        .store
        .jobs(Some(n))
        .await?
        .into_iter()
        .filter(|j| j.kind == job.kind && j.id != job.id && j.dead_at.is_none())
        .filter(|j| lane(j) && seq(j) < seq(job))
        .min_by_key(|j| seq(j));
    Ok(earlier.map(|first| Ran {
        // An earlier job that is running now finishes before the next claim.
        outcome: JobOutcome::Wait {
            at: first.run_at.max(state.clock.now()),
            reason: format!("waiting for event {} to be delivered first", seq(&first)),
        },
        ..Ran::done()
    }))
}

pub(crate) fn domain(e: DomainError) -> StoreError {
    match e {
        DomainError::Conflict(m) => StoreError::Stale(m),
        other => StoreError::Other(format!("the engine broke an incident rule: {other}")),
    }
}

/// Attempts at a delivery before it is given up (dead-lettered) and the timeline says so.
pub const MAX_ATTEMPTS: u32 = 8;
