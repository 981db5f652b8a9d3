//! The engine: runs the jobs the store keeps (escalation steps, page deliveries,
//! acknowledgement timeouts, test messages) when they are due. A job is claimed with a
//! lease, so a crashed worker's job runs again elsewhere; its outcome, the timeline
//! events about it and the jobs it leads to are written in one transaction. Time is the
//! injectable clock, so tests move it instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::incident::{self, Command, Context, EventKind, Incident, Source, Status};
use klaxon_domain::paging::{self, JobKind, PlannedJob};
use klaxon_domain::{DomainError, Handle};
use klaxon_notify::DeliveryError;
use klaxon_store::{Change, Job, JobDone, JobOutcome, StoreError};

use crate::lookups::Lookups;
use crate::state::AppState;

/// How long a claimed job is held before another worker may take it: longer than any
/// delivery (channel timeouts are 10 s), short enough that a crash delays a page little.
pub const LEASE: SignedDuration = SignedDuration::from_secs(30);
/// Jobs run at once. Every claimed job starts at once (none waits for a slot, which could
/// outlast its lease), and the queue is claimed again whenever half the slots are free,
/// so one slow delivery never holds up the jobs behind it.
const IN_FLIGHT: usize = 256;
/// How often a busy engine looks for newly due jobs between completions.
const RECHECK: Duration = Duration::from_millis(50);
/// Attempts at a delivery before it is given up (dead-lettered) and the timeline says so.
pub const MAX_ATTEMPTS: u32 = 8;
/// How often the engine looks for due jobs when nothing wakes it.
const POLL: Duration = Duration::from_millis(500);

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

impl AppState {
    fn engine_context(&self) -> Context<'_> {
        Context {
            actor: Handle::parse("klaxon").expect("a valid handle"),
            source: Source::Engine,
            now: self.clock.now(),
            policy: &self.policy,
            link_base: self.public_url.clone(),
        }
    }

    /// Runs every job due now, until none is left; how many ran.
    pub async fn run_due_jobs(&self) -> Result<usize, StoreError> {
        let mut ran = 0;
        // Each job is a task of its own: it makes progress (and gives back the database
        // connection it holds) while this loop waits on the next claim.
        let mut running = tokio::task::JoinSet::new();
        loop {
            if running.len() <= IN_FLIGHT / 2 {
                let free = (IN_FLIGHT - running.len()) as u32;
                let jobs = match self.store.claim_jobs(self.clock.now(), LEASE, free).await {
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
                let lookups = Arc::new(Lookups::new(self.store.clone()));
                let mut numbers: Vec<_> = jobs.iter().filter_map(|j| j.incident).collect();
                numbers.sort_unstable_by_key(|n| n.0);
                numbers.dedup();
                if let Err(e) = lookups.read_incidents(&numbers).await {
                    // Each job reads its own incident instead.
                    tracing::warn!(error = %e, "cannot read a claim's incidents together");
                }
                let announced: Vec<_> = jobs
                    .iter()
                    .filter_map(|job| match crate::announce::Announcement::of(job) {
                        Some(crate::announce::Announcement::Event(n, seq)) => Some((n, seq)),
                        _ => None,
                    })
                    .collect();
                if let Err(e) = lookups.read_timeline_events(&announced).await {
                    // Each announcement reads its own event instead.
                    tracing::warn!(error = %e, "cannot read a claim's announced events together");
                }
                for job in jobs {
                    let (state, lookups) = (self.clone(), lookups.clone());
                    running.spawn(async move { state.run_job(job, &lookups).await });
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

    #[tracing::instrument(skip_all, fields(job = job.id, kind = job.kind.as_str(), incident = job.incident.map(|n| n.0)))]
    async fn run_job(&self, job: Job, lookups: &Lookups) {
        let ran = match job.kind {
            JobKind::Escalate => self.escalate(&job, lookups).await,
            JobKind::Page | JobKind::Notify => self.deliver(&job, lookups).await,
            JobKind::AckTimeout => self.ack_timeout(&job, lookups).await,
            JobKind::Announce => self.announce(&job, lookups).await,
            JobKind::Remind => self.remind(&job).await,
            JobKind::Publish => self.publish(&job).await,
            JobKind::RoomPost => self.post_in_room(&job).await,
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
                        at: self.clock.now(),
                        error,
                    }
                } else {
                    JobOutcome::Retry {
                        at: self.clock.now() + backoff(job.attempts),
                        error,
                    }
                };
                Ran {
                    outcome,
                    ..Ran::done()
                }
            }
        };
        if let Err(e) = self.finish(&job, ran).await {
            match e {
                StoreError::Stale(m) | StoreError::AlreadyApplied(m) => {
                    tracing::debug!(reason = %m, "job outcome not written")
                }
                other => {
                    tracing::warn!(error = %other, "cannot record a job's outcome; its lease will run out and it runs again")
                }
            }
        }
        self.engine_wake.notify_one();
    }

    /// Writes a job's outcome with its timeline events and follow-up jobs. Deliveries
    /// for one incident finish one at a time in this process; a change another replica
    /// made meanwhile is read again and the events placed after it.
    async fn finish(&self, job: &Job, ran: Ran) -> Result<(), StoreError> {
        let _held = match job.incident {
            Some(n) => Some(self.incident_locks.lock(&[n.0]).await),
            None => None,
        };
        let mut tries = 1;
        let mut seen = ran.incident.clone();
        loop {
            match self.try_finish(job, &ran, seen.take()).await {
                Err(StoreError::Stale(_)) if tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    async fn try_finish(
        &self,
        job: &Job,
        ran: &Ran,
        seen: Option<Incident>,
    ) -> Result<(), StoreError> {
        let mut changes = vec![];
        if let (Some(n), false) = (job.incident, ran.events.is_empty() && ran.notes.is_empty()) {
            let incident = match seen.filter(|i| i.number == n) {
                Some(incident) => incident,
                None => self.store.incident(n).await?,
            };
            let ctx = self.engine_context();
            let mut events =
                incident::record(&incident, ran.events.clone(), &ctx).map_err(domain)?;
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
            changes.push(Change::new(&incident, events));
        }
        let jobs = ran.jobs.iter().map(|j| (job.incident, j.clone())).collect();
        self.store
            .finish_job(JobDone {
                id: job.id,
                outcome: ran.outcome.clone(),
                changes,
                jobs,
            })
            .await
    }

    /// What becomes of a delivery that failed: retried after [`backoff`] (or later, if
    /// the service asked so) while the failure may pass and attempts remain; else dead.
    pub(crate) fn after_failure(&self, job: &Job, e: &DeliveryError, error: String) -> JobOutcome {
        let now = self.clock.now();
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
                job = job.id,
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
        &self,
        job: &Job,
        lane: impl Fn(&Job) -> bool,
    ) -> Result<Option<Ran>, StoreError> {
        let Some(n) = job.incident else {
            return Ok(None);
        };
        let seq = |j: &Job| j.payload["seq"].as_i64().unwrap_or_default();
        let earlier = self
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
                at: first.run_at.max(self.clock.now()),
                reason: format!("waiting for event {} to be delivered first", seq(&first)),
            },
            ..Ran::done()
        }))
    }

    /// Pages the step the job names and schedules the next one.
    async fn escalate(&self, job: &Job, lookups: &Lookups) -> Result<Ran, StoreError> {
        let at: paging::EscalateJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| StoreError::Other(format!("escalation job payload: {e}")))?;
        let Some(n) = job.incident else {
            return Ok(Ran::done());
        };
        let incident = lookups.incident(n).await?;
        // A first escalation pages while nobody has acknowledged; one restarted by an
        // acknowledgement timeout pages while nobody has mitigated.
        let pages = match at.generation.as_str() {
            "0" => incident.status == Status::Triggered,
            _ => matches!(incident.status, Status::Triggered | Status::Acknowledged),
        };
        if !pages {
            return Ok(Ran::done());
        }
        let policy = match self.escalation_policy_of(&incident, lookups).await? {
            Policy::Found(policy) => policy,
            // A service without a policy: the timeline says nobody was paged. An
            // incident without a (known) service has nobody to page by design.
            Policy::Missing(service) => {
                let mut ran = Ran::seen(incident);
                if at.round == 0 && at.step == 0 {
                    ran.notes.push(nobody_to_page(&service));
                }
                return Ok(ran);
            }
            Policy::NoService => return Ok(Ran::done()),
        };
        let position = paging::Position {
            round: at.round,
            step: at.step as usize,
        };
        let Some(step) = policy.step(position) else {
            return Ok(Ran::done());
        };
        let now = self.clock.now();
        let users = self.who_is_paged(lookups, &step.targets, now).await?;
        let urgency = self.policy.severity(incident.severity).paging;
        let mut ran = Ran::seen(incident);
        for user in &users {
            ran.jobs
                .extend(self.pages_for(lookups, user, urgency, &at, now).await?);
        }
        ran.events.push(EventKind::Paged {
            round: at.round,
            step: at.step,
            users: users.iter().map(|u| u.to_string()).collect(),
            urgency: urgency.as_str().to_owned(),
        });
        if let Some((next, minutes)) = policy.after(position) {
            let next = paging::EscalateJob {
                generation: at.generation.clone(),
                round: next.round,
                step: next.step as u32,
            };
            ran.jobs
                .push(next.planned(now + SignedDuration::from_mins(i64::from(minutes))));
        }
        Ok(ran)
    }

    /// The people `targets` stand for at `now`, each once: the users named, and whoever
    /// is on call on the schedules named (a schedule that is gone names nobody).
    pub(crate) async fn who_is_paged(
        &self,
        lookups: &Lookups,
        targets: &[paging::Target],
        now: Timestamp,
    ) -> Result<Vec<Handle>, StoreError> {
        let mut users: Vec<Handle> = vec![];
        for target in targets {
            let user = match target {
                paging::Target::User(h) => Some(h.clone()),
                paging::Target::Schedule(name) => lookups
                    .schedule(name)
                    .await?
                    .and_then(|schedule| schedule.on_call_at(now)),
            };
            if let Some(user) = user.filter(|u| !users.contains(u)) {
                users.push(user);
            }
        }
        Ok(users)
    }

    /// A page job per notification rule of `user` for this urgency. Someone without
    /// rules for it is paged at once on every contact method that suits the urgency, so
    /// a missing rule never means a silent page.
    pub(crate) async fn pages_for(
        &self,
        lookups: &Lookups,
        user: &Handle,
        urgency: paging::Urgency,
        at: &paging::EscalateJob,
        now: Timestamp,
    ) -> Result<Vec<PlannedJob>, StoreError> {
        let methods = lookups.contact_methods(user).await?;
        let rules: Vec<(i64, u32)> = lookups
            .notification_rules(user)
            .await?
            .iter()
            .filter(|r| r.urgency == urgency)
            .map(|r| (r.contact_method, r.delay_minutes))
            .collect();
        let chosen: Vec<(i64, u32)> = if rules.is_empty() {
            methods
                .iter()
                .filter(|m| urgency == paging::Urgency::High || !m.kind.interrupts())
                .map(|m| (m.id, 0))
                .collect()
        } else {
            rules
        };
        Ok(chosen
            .into_iter()
            .map(|(method, delay)| PlannedJob {
                kind: JobKind::Page,
                key: format!(
                    "{}/{}/{}/{user}/{method}/{delay}",
                    at.generation, at.round, at.step
                ),
                run_at: now + SignedDuration::from_mins(i64::from(delay)),
                payload: serde_json::json!({ "user": user, "contact_method": method }),
            })
            .collect())
    }

    /// Pages `user` now about `message`, from `by`: a delivery per high-urgency rule (or
    /// per contact method, without rules), each at its rule's delay. How many.
    pub async fn page_directly(
        &self,
        user: &Handle,
        message: &str,
        by: &Handle,
    ) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let direct = paging::EscalateJob {
            generation: format!("direct-{}", now.as_millisecond()),
            round: 0,
            step: 0,
        };
        let jobs: Vec<PlannedJob> = self
            .pages_for(
                &Lookups::new(self.store.clone()),
                user,
                paging::Urgency::High,
                &direct,
                now,
            )
            .await?
            .into_iter()
            .map(|mut job| {
                job.kind = JobKind::Notify;
                job.payload["message"] = serde_json::json!(message);
                job.payload["from"] = serde_json::json!(by);
                job
            })
            .collect();
        self.store.add_jobs(None, &jobs, now).await?;
        self.engine_wake.notify_one();
        Ok(jobs.len())
    }

    async fn escalation_policy_of(
        &self,
        incident: &Incident,
        lookups: &Lookups,
    ) -> Result<Policy, StoreError> {
        let Some(name) = incident
            .service
            .as_deref()
            .and_then(|s| klaxon_domain::service::ServiceName::parse(s).ok())
        else {
            return Ok(Policy::NoService);
        };
        let Some(service) = lookups.service(&name).await? else {
            return Ok(Policy::NoService);
        };
        let Some(policy) = &service.rules.escalation_policy else {
            return Ok(Policy::Missing(name.to_string()));
        };
        match lookups.policy(policy).await? {
            Some(p) => Ok(Policy::Found(p)),
            None => Ok(Policy::Missing(name.to_string())),
        }
    }

    /// After an acknowledgement: with a policy that has a timeout, waits for it; if the
    /// incident is still only acknowledged then, pages again from the first step.
    async fn ack_timeout(&self, job: &Job, lookups: &Lookups) -> Result<Ran, StoreError> {
        let Some(n) = job.incident else {
            return Ok(Ran::done());
        };
        let incident = lookups.incident(n).await?;
        if incident.status != Status::Acknowledged {
            return Ok(Ran::done());
        }
        let Policy::Found(policy) = self.escalation_policy_of(&incident, lookups).await? else {
            return Ok(Ran::done());
        };
        let Some(minutes) = policy.ack_timeout_minutes else {
            return Ok(Ran::done());
        };
        let seq = job.payload["acknowledged_seq"].as_i64().unwrap_or_default();
        let mut ran = Ran::done();
        if job.payload["due"].as_bool() != Some(true) {
            let acked = incident.acknowledged_at.unwrap_or(job.run_at);
            ran.jobs.push(PlannedJob {
                kind: JobKind::AckTimeout,
                key: format!("{seq}/due"),
                run_at: acked + SignedDuration::from_mins(i64::from(minutes)),
                payload: serde_json::json!({ "acknowledged_seq": seq, "due": true }),
            });
            return Ok(ran);
        }
        ran.notes.push(format!(
            "Acknowledged but not mitigated within {minutes} minutes: paging again from the first step."
        ));
        let again = paging::EscalateJob {
            generation: format!("ack{seq}"),
            round: 0,
            step: 0,
        };
        ran.jobs.push(again.planned(self.clock.now()));
        Ok(ran)
    }
}

/// The escalation policy an incident pages by.
enum Policy {
    Found(Arc<paging::EscalationPolicy>),
    /// The incident's service has none (or names one that is gone).
    Missing(String),
    /// The incident has no service Klaxon knows.
    NoService,
}

fn nobody_to_page(service: &str) -> String {
    format!(
        "Nobody was paged: service {service} has no escalation policy \
         (klaxon service update {service} --escalation-policy NAME)."
    )
}

fn domain(e: DomainError) -> StoreError {
    match e {
        DomainError::Conflict(m) => StoreError::Stale(m),
        other => StoreError::Other(format!("the engine broke an incident rule: {other}")),
    }
}

/// Runs due jobs until `stop` changes, waking when work is added or every [`POLL`].
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = state.run_due_jobs().await {
            tracing::warn!(error = %e, "running jobs failed; will try again");
        }
        tokio::select! {
            _ = state.engine_wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => break,
        }
    }
}
