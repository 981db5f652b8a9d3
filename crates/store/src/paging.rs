//! Storage of what paging needs: people's contact methods and notification rules,
//! on-call schedules, escalation policies, and the durable job queue.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use klaxon_domain::paging::verify::SentCode;
use klaxon_domain::paging::{
    ContactKind, ContactMethod, EscalationPolicy, JobKind, NewContactMethod, NewEscalationPolicy,
    NewNotificationRule, NotificationRule, PlannedJob,
};
use klaxon_domain::schedule::Schedule;
use klaxon_domain::{ContactMethodId, Handle, IncidentNumber, JobId, NotificationRuleId};

use crate::{Change, Result};

/// A job as stored, claimed by a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub incident: Option<IncidentNumber>,
    pub dedup_key: String,
    pub run_at: Timestamp,
    pub payload: serde_json::Value,
    /// Claims so far, this one included.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Set once the job was given up on.
    pub dead_at: Option<Timestamp>,
}

/// What became of a claimed job, written in one transaction with `changes` (timeline
/// events about it) and `jobs` (work it leads to).
#[derive(Debug, Clone)]
pub struct JobDone {
    pub id: JobId,
    pub outcome: JobOutcome,
    pub changes: Vec<Change>,
    pub jobs: Vec<(Option<IncidentNumber>, PlannedJob)>,
}

/// How many jobs of a kind wait, and how many were given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobBacklog {
    pub kind: JobKind,
    pub due: i64,
    pub dead: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Done: the job is deleted.
    Done,
    /// Failed for now: run again at `at`.
    Retry { at: Timestamp, error: String },
    /// Given up on: kept, with `dead_at`, and never run again.
    Dead { at: Timestamp, error: String },
    /// Not run now: it must wait for an earlier job (events are delivered in order), or
    /// for a time it watches (a customer update falling due). Run again at `at`; the
    /// claim does not count as an attempt, so waiting behind a failing delivery never
    /// uses up this job's own attempts.
    Wait { at: Timestamp, reason: String },
}

/// Where an incident is discussed in chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The channel id (or name) messages go to.
    pub channel: String,
    /// The thread in that channel, when the incident has no channel of its own.
    pub thread_ts: Option<String>,
    /// The headline message, edited as the incident changes.
    pub headline_ts: String,
}

/// What an action link lets its holder do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionLink {
    pub incident: IncidentNumber,
    /// `acknowledge` or `resolve`.
    pub action: String,
    /// Who the link was sent to; the action is theirs.
    pub handle: Handle,
    /// The contact method the link went to; `None` for links made before this was kept.
    pub contact_method: Option<ContactMethodId>,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait PagingStore: Send + Sync + 'static {
    /// Adds a contact method. `NotFound` for an unknown user, `Duplicate` if the user
    /// has it already.
    async fn add_contact_method(
        &self,
        user: &Handle,
        method: &NewContactMethod,
        at: Timestamp,
    ) -> Result<ContactMethod>;
    async fn contact_methods(&self, user: &Handle) -> Result<Vec<ContactMethod>>;
    async fn contact_method(&self, id: ContactMethodId) -> Result<ContactMethod>;
    /// The contact method of this kind and address, if anyone has it (for replies): a
    /// verified one if there is one, else the oldest.
    async fn contact_method_by_address(
        &self,
        kind: ContactKind,
        address: &str,
    ) -> Result<Option<ContactMethod>>;
    /// Removes a contact method of `user`, and the rules that use it; its number stops
    /// being `user`'s verified number unless another of their methods has it verified.
    async fn remove_contact_method(&self, user: &Handle, id: ContactMethodId) -> Result<()>;
    /// Marks a method verified by a delivered test message (not for phone numbers: see
    /// [`PagingStore::verify_number`]).
    async fn mark_contact_verified(&self, id: ContactMethodId, at: Timestamp) -> Result<()>;
    /// Who has this phone number verified, if anyone.
    async fn number_verified_by(&self, number: &str) -> Result<Option<Handle>>;
    /// Keeps `code` as the one pending code of contact method `id`, replacing one sent at
    /// or before `replaces_up_to`. A later one blocks it: then nothing changes and the
    /// answer is that later code.
    async fn save_contact_code(
        &self,
        id: ContactMethodId,
        code: &SentCode,
        replaces_up_to: Timestamp,
    ) -> Result<Option<SentCode>>;
    /// Forgets the pending code of contact method `id` (it could not be sent).
    async fn drop_contact_code(&self, id: ContactMethodId) -> Result<()>;
    /// Counts one try at the pending code of contact method `id` and answers it with the
    /// try counted (concurrent tries each count); `None` without a pending code.
    async fn try_contact_code(&self, id: ContactMethodId) -> Result<Option<SentCode>>;
    /// Marks the phone contact method `id` verified at `at`, its number as its owner's
    /// verified number, and drops its pending code, all or nothing. `Duplicate` if another
    /// user has the number verified.
    async fn verify_number(&self, id: ContactMethodId, at: Timestamp) -> Result<ContactMethod>;
    /// Adds a rule; `NotFound` unless the contact method is the user's own.
    async fn add_notification_rule(
        &self,
        user: &Handle,
        rule: &NewNotificationRule,
    ) -> Result<NotificationRule>;
    async fn notification_rules(&self, user: &Handle) -> Result<Vec<NotificationRule>>;
    async fn remove_notification_rule(&self, user: &Handle, id: NotificationRuleId) -> Result<()>;

    /// `Duplicate` if the name is taken.
    async fn create_schedule(&self, schedule: &Schedule, at: Timestamp) -> Result<()>;
    /// Replaces the schedule called `name` (which `schedule` may rename).
    async fn update_schedule(&self, name: &str, schedule: &Schedule) -> Result<()>;
    async fn schedules(&self) -> Result<Vec<Schedule>>;
    async fn schedule(&self, name: &str) -> Result<Schedule>;
    async fn delete_schedule(&self, name: &str) -> Result<()>;

    async fn create_policy(
        &self,
        policy: &NewEscalationPolicy,
        at: Timestamp,
    ) -> Result<EscalationPolicy>;
    async fn update_policy(
        &self,
        name: &str,
        policy: &NewEscalationPolicy,
    ) -> Result<EscalationPolicy>;
    async fn policies(&self) -> Result<Vec<EscalationPolicy>>;
    async fn policy(&self, name: &str) -> Result<EscalationPolicy>;
    async fn delete_policy(&self, name: &str) -> Result<()>;

    /// Adds jobs, each at most once: a job whose kind, incident and key match a stored
    /// one is left out.
    async fn add_jobs(
        &self,
        incident: Option<IncidentNumber>,
        jobs: &[PlannedJob],
        at: Timestamp,
    ) -> Result<()>;
    /// Claims up to `limit` jobs due at `now` that nobody holds, for `lease`; oldest
    /// due first. Each claim counts as an attempt.
    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Job>>;
    /// Records what became of a claimed job, with its effects, all or nothing.
    /// `AlreadyApplied` (and nothing written) if the job was cancelled meanwhile.
    async fn finish_job(&self, done: JobDone) -> Result<()>;
    /// Jobs not yet done (dead ones included), by due time; of one incident if given.
    async fn jobs(&self, incident: Option<IncidentNumber>) -> Result<Vec<Job>>;
    /// When the next live job is due, if any.
    async fn next_job_at(&self) -> Result<Option<Timestamp>>;
    /// Per kind of job: how many live ones are due by `now` (the engine's backlog) and
    /// how many are dead (given up). Kinds without any are left out.
    async fn job_backlog(&self, now: Timestamp) -> Result<Vec<JobBacklog>>;

    /// Subscribes `user` to incidents the policy tells `team` about; `Duplicate` if so already.
    async fn subscribe(&self, team: &str, user: &Handle) -> Result<()>;
    async fn unsubscribe(&self, team: &str, user: &Handle) -> Result<()>;
    /// Every (team, user) subscription, by team.
    async fn subscriptions(&self) -> Result<Vec<(String, Handle)>>;

    /// The incident's chat room, once announced.
    async fn room(&self, incident: IncidentNumber) -> Result<Option<Room>>;
    /// Records the incident's chat room; `Duplicate` if it has one already.
    async fn save_room(&self, incident: IncidentNumber, room: &Room) -> Result<()>;

    /// Stores an action link by the hash of its token.
    async fn create_link(&self, token_hash: &str, link: &ActionLink) -> Result<()>;
    /// The link with this token hash, if it exists and is unused and unexpired at `now`.
    async fn peek_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<ActionLink>>;
    /// Uses the link up: the same as `peek_link`, but only once.
    async fn use_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<ActionLink>>;
}
