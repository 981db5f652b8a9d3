//! Scheduled maintenance: planned work on components, announced on the status page.
//!
//! - A maintenance names the components it affects (at least one, none a group) and a
//!   window, `scheduled_for` to `scheduled_until` (after it starts, at most 7 days).
//! - Its status goes `scheduled → in_progress → verifying → completed` (verifying may go
//!   back to in_progress, and in_progress may complete without verifying). A maintenance
//!   that has not started may be **cancelled**; one that has started is completed
//!   instead. Completed and cancelled are final.
//! - While it is in progress or verifying, its components show `under_maintenance`,
//!   unless an incident gives them worse ([`super::ComponentStatus::rank`]).
//! - The engine starts it at `scheduled_for` and completes it at `scheduled_until`
//!   (`auto_start`, `auto_complete`, both on unless turned off), and records the
//!   reminder due the policy's lead time before it starts.
//! - Every change of status posts an update (a body of its own, or the default words
//!   Statuspage pages use); an update may also be posted without a change of status.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Component, ComponentStatus};
use crate::paging::{JobPayload, PlannedJob};
use crate::{ComponentId, DomainError, ScheduledMaintenanceId};

/// The longest name, in characters.
pub const MAX_NAME: usize = 200;
/// The longest update body, in characters.
pub const MAX_BODY: usize = 10_000;
/// The longest window.
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 7);
/// The most components one maintenance names.
pub const MAX_COMPONENTS: usize = 50;
/// The most updates one maintenance holds.
pub const MAX_UPDATES: usize = 100;

/// Where a maintenance is, in Statuspage's words (and `cancelled`, which never reaches
/// the public JSON: a cancelled maintenance leaves the page).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceStatus {
    #[default]
    Scheduled,
    InProgress,
    Verifying,
    Completed,
    Cancelled,
}

impl MaintenanceStatus {
    pub const ALL: [MaintenanceStatus; 5] = [
        Self::Scheduled,
        Self::InProgress,
        Self::Verifying,
        Self::Completed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::InProgress => "in_progress",
            Self::Verifying => "verifying",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The words a page and the feeds show: "In progress".
    pub fn label(self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::InProgress => "In progress",
            Self::Verifying => "Verifying",
            Self::Completed => "Completed",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Under way: its components are under maintenance.
    pub fn is_active(self) -> bool {
        matches!(self, Self::InProgress | Self::Verifying)
    }

    /// Completed or cancelled: nothing changes any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == t)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!(
                        "'{text}' is not a maintenance status; use scheduled, in_progress, verifying, completed or cancelled"
                    ),
                )
            })
    }

    /// The body of an update that changes to this status without words of its own.
    pub fn default_body(self) -> &'static str {
        match self {
            Self::Scheduled => "This maintenance is scheduled.",
            Self::InProgress => {
                "Scheduled maintenance is currently in progress. We will provide updates as necessary."
            }
            Self::Verifying => "Verification is currently underway for the maintenance items.",
            Self::Completed => "The scheduled maintenance has been completed.",
            Self::Cancelled => "This scheduled maintenance has been cancelled.",
        }
    }
}

impl fmt::Display for MaintenanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One update of a maintenance, as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MaintenanceUpdate {
    /// Its place among the maintenance's updates, from 1.
    pub seq: i64,
    /// The maintenance's status once it was posted.
    pub status: MaintenanceStatus,
    pub body: String,
    /// Who posted it (`klaxon` for the engine).
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// A scheduled maintenance as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduledMaintenance {
    pub id: ScheduledMaintenanceId,
    pub name: String,
    /// The components it affects.
    pub components: Vec<ComponentId>,
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_for: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_until: Timestamp,
    pub status: MaintenanceStatus,
    /// The engine moves it to in_progress at `scheduled_for`.
    pub auto_start: bool,
    /// The engine completes it at `scheduled_until`.
    pub auto_complete: bool,
    /// The services linked to its components get a maintenance window (which mutes
    /// their alerts) for the same time.
    pub mute_services: bool,
    /// When it actually started and ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    /// The start time the reminder before it was recorded for, if it was.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reminded_for: Option<Timestamp>,
    /// Oldest first.
    pub updates: Vec<MaintenanceUpdate>,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Moves on with every change; a write made from an older one is refused.
    pub version: i64,
}

/// `POST /maintenances`: schedules a maintenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScheduledMaintenance {
    pub name: String,
    pub components: Vec<ComponentId>,
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_for: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_until: Timestamp,
    /// The first update's words: what customers read about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Started by the engine at `scheduled_for`; on unless `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_start: Option<bool>,
    /// Completed by the engine at `scheduled_until`; on unless `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_complete: Option<bool>,
    /// Give the linked services maintenance windows for the same time.
    #[serde(default)]
    pub mute_services: bool,
}

/// `PATCH /maintenances/{id}`: fields left out stay as they are. The window can move
/// only before the maintenance starts; once it has, only `scheduled_until` can.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<ComponentId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_for: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_start: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_complete: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_services: Option<bool>,
}

/// `POST /maintenances/{id}/updates`: posts an update, changing the status if `status`
/// is given (and differs). Without a body, a status change posts the default words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenancePost {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MaintenanceStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// An update to add, decided by the rules; the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpdate {
    pub status: MaintenanceStatus,
    pub body: String,
    pub by: String,
    pub at: Timestamp,
}

/// A change decided by the rules: the maintenance as it is to be written (its id and
/// version those it was read with; a new one has id 0) and the updates it adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceDecision {
    pub maintenance: ScheduledMaintenance,
    pub updates: Vec<NewUpdate>,
}

/// A time for update bodies: `2026-11-26 10:00 UTC`.
fn at(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn check_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(DomainError::invalid(
            "name",
            format!("name the maintenance in 1 to {MAX_NAME} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            "a name is one line without control characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_body(body: &str) -> Result<String, DomainError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_BODY {
        return Err(DomainError::invalid(
            "body",
            format!("write the update in 1 to {MAX_BODY} characters"),
        ));
    }
    Ok(body.to_owned())
}

/// Checks a window: it ends after it starts, after `now`, and lasts at most
/// [`MAX_WINDOW`].
fn check_window(from: Timestamp, until: Timestamp, now: Timestamp) -> Result<(), DomainError> {
    if until <= from {
        return Err(DomainError::invalid(
            "scheduled_until",
            format!(
                "the maintenance would end ({}) before it starts ({}); end it after it starts",
                at(until),
                at(from)
            ),
        ));
    }
    if until <= now {
        return Err(DomainError::invalid(
            "scheduled_until",
            format!(
                "{} is already past; a maintenance must end in the future",
                at(until)
            ),
        ));
    }
    if until.duration_since(from) > MAX_WINDOW {
        return Err(DomainError::invalid(
            "scheduled_until",
            "a maintenance lasts at most 7 days; schedule several",
        ));
    }
    Ok(())
}

/// Checks that every component named exists and is not a group, and that none is named
/// twice; the ids sorted.
pub fn check_components(
    named: &[ComponentId],
    all: &[Component],
) -> Result<Vec<ComponentId>, DomainError> {
    if named.is_empty() {
        return Err(DomainError::invalid(
            "components",
            "name at least one component the maintenance affects",
        ));
    }
    if named.len() > MAX_COMPONENTS {
        return Err(DomainError::invalid(
            "components",
            format!("at most {MAX_COMPONENTS} components"),
        ));
    }
    let mut ids = Vec::with_capacity(named.len());
    for id in named {
        let Some(c) = all.iter().find(|c| c.id == *id) else {
            return Err(DomainError::invalid(
                "components",
                format!("there is no component {id}; see `klaxon component list`"),
            ));
        };
        if c.group {
            return Err(DomainError::invalid(
                "components",
                format!("'{}' is a group; name the components in it", c.name),
            ));
        }
        if ids.contains(id) {
            return Err(DomainError::invalid(
                "components",
                format!("'{}' is named twice", c.name),
            ));
        }
        ids.push(*id);
    }
    ids.sort();
    Ok(ids)
}

impl NewScheduledMaintenance {
    /// The maintenance this schedules, checked against `all` the components, with its
    /// first update.
    pub fn decide(
        self,
        all: &[Component],
        by: &str,
        now: Timestamp,
    ) -> Result<MaintenanceDecision, DomainError> {
        let name = check_name(&self.name)?;
        let components = check_components(&self.components, all)?;
        check_window(self.scheduled_for, self.scheduled_until, now)?;
        let body = match self.body.as_deref() {
            Some(b) => check_body(b)?,
            None => format!(
                "Maintenance is scheduled from {} to {}.",
                at(self.scheduled_for),
                at(self.scheduled_until)
            ),
        };
        let maintenance = ScheduledMaintenance {
            id: ScheduledMaintenanceId(0),
            name,
            components,
            scheduled_for: self.scheduled_for,
            scheduled_until: self.scheduled_until,
            status: MaintenanceStatus::Scheduled,
            auto_start: self.auto_start.unwrap_or(true),
            auto_complete: self.auto_complete.unwrap_or(true),
            mute_services: self.mute_services,
            started_at: None,
            completed_at: None,
            reminded_for: None,
            updates: Vec::new(),
            created_by: by.to_owned(),
            created_at: now,
            updated_at: now,
            version: 0,
        };
        Ok(MaintenanceDecision {
            maintenance,
            updates: vec![NewUpdate {
                status: MaintenanceStatus::Scheduled,
                body,
                by: by.to_owned(),
                at: now,
            }],
        })
    }
}

impl ScheduledMaintenance {
    fn refuse_final(&self) -> Result<(), DomainError> {
        if self.status.is_final() {
            return Err(DomainError::conflict(format!(
                "maintenance {} is {}; it can no longer change",
                self.id,
                self.status.label().to_lowercase()
            )));
        }
        Ok(())
    }

    fn room_for_update(&self) -> Result<(), DomainError> {
        if self.updates.len() >= MAX_UPDATES {
            return Err(DomainError::conflict(format!(
                "maintenance {} holds {MAX_UPDATES} updates already",
                self.id
            )));
        }
        Ok(())
    }

    /// Applies `change` (checked against `all` the components): the window moves only
    /// before the start (its end may move later too, within the rules); a moved window
    /// posts an update saying so.
    pub fn change(
        &self,
        change: &MaintenanceChange,
        all: &[Component],
        by: &str,
        now: Timestamp,
    ) -> Result<MaintenanceDecision, DomainError> {
        self.refuse_final()?;
        let mut m = self.clone();
        if let Some(name) = &change.name {
            m.name = check_name(name)?;
        }
        if let Some(components) = &change.components {
            m.components = check_components(components, all)?;
        }
        if let Some(from) = change.scheduled_for {
            if from != self.scheduled_for && self.status != MaintenanceStatus::Scheduled {
                return Err(DomainError::conflict(format!(
                    "maintenance {} has started; only its end (scheduled_until) can move",
                    self.id
                )));
            }
            m.scheduled_for = from;
        }
        if let Some(until) = change.scheduled_until {
            m.scheduled_until = until;
        }
        let moved =
            m.scheduled_for != self.scheduled_for || m.scheduled_until != self.scheduled_until;
        if moved {
            check_window(m.scheduled_for, m.scheduled_until, now)?;
        }
        m.auto_start = change.auto_start.unwrap_or(m.auto_start);
        m.auto_complete = change.auto_complete.unwrap_or(m.auto_complete);
        m.mute_services = change.mute_services.unwrap_or(m.mute_services);
        m.updated_at = now;
        let mut updates = Vec::new();
        if moved {
            self.room_for_update()?;
            let body = if m.status == MaintenanceStatus::Scheduled {
                format!(
                    "The maintenance is rescheduled: from {} to {}.",
                    at(m.scheduled_for),
                    at(m.scheduled_until)
                )
            } else {
                format!(
                    "The maintenance is now expected to end at {}.",
                    at(m.scheduled_until)
                )
            };
            updates.push(NewUpdate {
                status: m.status,
                body,
                by: by.to_owned(),
                at: now,
            });
        }
        Ok(MaintenanceDecision {
            maintenance: m,
            updates,
        })
    }

    /// Posts an update, moving to `post.status` if given: scheduled → in_progress or
    /// cancelled; in_progress → verifying or completed; verifying → in_progress or
    /// completed. Completed and cancelled are final.
    pub fn post(
        &self,
        post: &MaintenancePost,
        by: &str,
        now: Timestamp,
    ) -> Result<MaintenanceDecision, DomainError> {
        use MaintenanceStatus::*;
        self.refuse_final()?;
        self.room_for_update()?;
        let to = post.status.unwrap_or(self.status);
        let allowed = to == self.status
            || matches!(
                (self.status, to),
                (Scheduled, InProgress | Cancelled)
                    | (InProgress, Verifying | Completed)
                    | (Verifying, InProgress | Completed)
            );
        if !allowed {
            let hint = match (self.status, to) {
                (Scheduled, Verifying | Completed) => "; start it first, or cancel it",
                (InProgress | Verifying, Cancelled) => {
                    "; it has started, so complete it (the update can say what was left undone)"
                }
                _ => "",
            };
            return Err(DomainError::conflict(format!(
                "maintenance {} is {}; it cannot become {}{hint}",
                self.id,
                self.status.as_str(),
                to.as_str()
            )));
        }
        let body = match post.body.as_deref() {
            Some(b) => check_body(b)?,
            None if to != self.status => to.default_body().to_owned(),
            None => {
                return Err(DomainError::invalid(
                    "body",
                    "write the update, or give a new status",
                ))
            }
        };
        let mut m = self.clone();
        m.status = to;
        m.updated_at = now;
        if to == InProgress && m.started_at.is_none() {
            m.started_at = Some(now);
        }
        if to.is_final() {
            m.completed_at = Some(now);
        }
        Ok(MaintenanceDecision {
            maintenance: m,
            updates: vec![NewUpdate {
                status: to,
                body,
                by: by.to_owned(),
                at: now,
            }],
        })
    }

    /// The window the linked services' alerts are muted for: from the start (or the
    /// actual start, if earlier) to `scheduled_until` (or completion, if earlier); none
    /// if it does not mute services, was cancelled, or the window is empty.
    pub fn mute_window(&self) -> Option<(Timestamp, Timestamp)> {
        if !self.mute_services || self.status == MaintenanceStatus::Cancelled {
            return None;
        }
        let start = self
            .started_at
            .map_or(self.scheduled_for, |s| s.min(self.scheduled_for));
        let end = self
            .completed_at
            .map_or(self.scheduled_until, |c| c.min(self.scheduled_until));
        (end > start).then_some((start, end))
    }

    /// The engine's jobs for the maintenance as it is now: the reminder `lead` before it
    /// starts (if that is still ahead of `now`), the start at `scheduled_for` and the
    /// completion at `scheduled_until`, each only while it can still apply.
    pub fn jobs(&self, lead: SignedDuration, now: Timestamp) -> Vec<PlannedJob> {
        use MaintenanceStatus::*;
        let mut out = Vec::new();
        let mut plan = |step: MaintenanceStep, run_at: Timestamp, at: Timestamp| {
            let job = MaintenanceJob {
                maintenance: self.id,
                step,
                at,
            };
            out.push(JobPayload::Maintenance(job).planned(job.key(), run_at));
        };
        if self.status == Scheduled {
            if let Ok(remind_at) = self.scheduled_for.checked_sub(lead) {
                if remind_at > now && self.reminded_for != Some(self.scheduled_for) {
                    plan(MaintenanceStep::Remind, remind_at, self.scheduled_for);
                }
            }
            if self.auto_start {
                plan(
                    MaintenanceStep::Start,
                    self.scheduled_for,
                    self.scheduled_for,
                );
            }
        }
        if self.auto_complete && matches!(self.status, Scheduled | InProgress | Verifying) {
            plan(
                MaintenanceStep::Complete,
                self.scheduled_until,
                self.scheduled_until,
            );
        }
        out
    }

    /// Whether `job` still applies to the maintenance as it is now: a job planned for a
    /// window that has moved, a status that has moved on or a flag turned off does
    /// nothing.
    pub fn due(&self, job: &MaintenanceJob) -> bool {
        use MaintenanceStatus::*;
        match job.step {
            MaintenanceStep::Remind => {
                self.status == Scheduled
                    && self.scheduled_for == job.at
                    && self.reminded_for != Some(job.at)
            }
            MaintenanceStep::Start => {
                self.status == Scheduled && self.auto_start && self.scheduled_for == job.at
            }
            MaintenanceStep::Complete => {
                self.status.is_active() && self.auto_complete && self.scheduled_until == job.at
            }
        }
    }
}

/// The statuses active maintenances give their components: under maintenance.
pub fn impacts(maintenances: &[ScheduledMaintenance]) -> Vec<(ComponentId, ComponentStatus)> {
    maintenances
        .iter()
        .filter(|m| m.status.is_active())
        .flat_map(|m| m.components.iter())
        .map(|c| (*c, ComponentStatus::UnderMaintenance))
        .collect()
}

/// What a maintenance job does when its time comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceStep {
    /// Record that the reminder before the start is due (subscribers are told).
    Remind,
    /// Move it to in_progress.
    Start,
    /// Complete it.
    Complete,
}

impl MaintenanceStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Remind => "remind",
            Self::Start => "start",
            Self::Complete => "complete",
        }
    }
}

/// A maintenance job's payload: the step, and the time of the window it was planned
/// for (`scheduled_for` for a reminder or a start, `scheduled_until` for a completion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceJob {
    pub maintenance: ScheduledMaintenanceId,
    pub step: MaintenanceStep,
    pub at: Timestamp,
}

impl MaintenanceJob {
    /// The job's key: one live job per maintenance, step and time.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.maintenance.0,
            self.step.as_str(),
            self.at.as_millisecond()
        )
    }

    /// The prefix of the keys of every job of maintenance `id`.
    pub fn key_prefix(id: ScheduledMaintenanceId) -> String {
        format!("{}/", id.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::component::tests::component;
    use MaintenanceStatus::*;

    fn t(s: &str) -> Timestamp {
        format!("2026-11-26T{s}:00Z").parse().unwrap()
    }

    fn all() -> Vec<Component> {
        vec![
            component(1, "Core", true, None),
            component(2, "API", false, Some(1)),
            component(3, "Web", false, None),
        ]
    }

    fn new(from: &str, until: &str) -> NewScheduledMaintenance {
        NewScheduledMaintenance {
            name: " Database upgrade ".into(),
            components: vec![ComponentId(3), ComponentId(2)],
            scheduled_for: t(from),
            scheduled_until: t(until),
            body: None,
            auto_start: None,
            auto_complete: None,
            mute_services: false,
        }
    }

    fn scheduled() -> ScheduledMaintenance {
        let mut m = new("12:00", "14:00")
            .decide(&all(), "ana", t("09:00"))
            .unwrap()
            .maintenance;
        m.id = ScheduledMaintenanceId(7);
        m
    }

    #[test]
    fn scheduling_checks_name_components_and_window() {
        let d = new("12:00", "14:00")
            .decide(&all(), "ana", t("09:00"))
            .unwrap();
        let m = &d.maintenance;
        assert_eq!(m.name, "Database upgrade");
        assert_eq!(m.components, [ComponentId(2), ComponentId(3)]);
        assert!(m.auto_start && m.auto_complete && !m.mute_services);
        assert_eq!(m.status, Scheduled);
        assert_eq!(d.updates.len(), 1);
        assert!(d.updates[0].body.contains("2026-11-26 12:00 UTC"));

        let e = new("14:00", "12:00")
            .decide(&all(), "ana", t("09:00"))
            .unwrap_err();
        assert!(
            matches!(&e, DomainError::Invalid { field: "scheduled_until", message } if message.contains("before it starts")),
            "{e}"
        );
        assert!(new("07:00", "08:00")
            .decide(&all(), "ana", t("09:00"))
            .is_err());
        let mut long = new("12:00", "14:00");
        long.scheduled_until = t("12:00") + SignedDuration::from_hours(24 * 8);
        assert!(long.decide(&all(), "ana", t("09:00")).is_err());
        let mut unknown = new("12:00", "14:00");
        unknown.components = vec![ComponentId(9)];
        let e = unknown.decide(&all(), "ana", t("09:00")).unwrap_err();
        assert!(e.to_string().contains("there is no component 9"), "{e}");
        let mut group = new("12:00", "14:00");
        group.components = vec![ComponentId(1)];
        assert!(group.decide(&all(), "ana", t("09:00")).is_err());
        let mut none = new("12:00", "14:00");
        none.components = vec![];
        assert!(none.decide(&all(), "ana", t("09:00")).is_err());
        let mut twice = new("12:00", "14:00");
        twice.components = vec![ComponentId(2), ComponentId(2)];
        assert!(twice.decide(&all(), "ana", t("09:00")).is_err());
        let mut blank = new("12:00", "14:00");
        blank.name = " ".into();
        assert!(blank.decide(&all(), "ana", t("09:00")).is_err());
    }

    #[test]
    fn the_status_moves_forward_and_cancelling_is_before_the_start() {
        let m = scheduled();
        let post = |m: &ScheduledMaintenance, s: MaintenanceStatus| {
            m.post(
                &MaintenancePost {
                    status: Some(s),
                    body: None,
                },
                "ana",
                t("12:05"),
            )
        };
        let e = post(&m, Completed).unwrap_err();
        assert!(e.to_string().contains("start it first"), "{e}");
        assert!(post(&m, Verifying).is_err());
        let started = post(&m, InProgress).unwrap();
        assert_eq!(started.maintenance.started_at, Some(t("12:05")));
        assert_eq!(
            started.updates[0].body,
            InProgress.default_body().to_owned()
        );
        let started = started.maintenance;
        let e = post(&started, Cancelled).unwrap_err();
        assert!(e.to_string().contains("complete it"), "{e}");
        assert!(post(&started, Scheduled).is_err());
        let verifying = post(&started, Verifying).unwrap().maintenance;
        let back = post(&verifying, InProgress).unwrap().maintenance;
        assert_eq!(back.started_at, Some(t("12:05")), "the first start stays");
        let done = post(&verifying, Completed).unwrap().maintenance;
        assert_eq!(done.completed_at, Some(t("12:05")));
        assert!(post(&done, InProgress).is_err());
        let e = done
            .post(
                &MaintenancePost {
                    status: None,
                    body: Some("more".into()),
                },
                "ana",
                t("12:06"),
            )
            .unwrap_err();
        assert!(matches!(e, DomainError::Conflict(_)));
        let cancelled = post(&m, Cancelled).unwrap().maintenance;
        assert!(cancelled.status.is_final());
        // Words without a change of status are an update of their own; neither is not.
        assert!(m
            .post(&MaintenancePost::default(), "ana", t("10:00"))
            .is_err());
        let note = m
            .post(
                &MaintenancePost {
                    status: None,
                    body: Some("Expect a short blip.".into()),
                },
                "ana",
                t("10:00"),
            )
            .unwrap();
        assert_eq!(note.maintenance.status, Scheduled);
        assert_eq!(note.updates[0].body, "Expect a short blip.");
    }

    #[test]
    fn rescheduling_moves_the_window_before_the_start_and_only_the_end_after() {
        let m = scheduled();
        let moved = m
            .change(
                &MaintenanceChange {
                    scheduled_for: Some(t("13:00")),
                    scheduled_until: Some(t("15:00")),
                    ..Default::default()
                },
                &all(),
                "ana",
                t("10:00"),
            )
            .unwrap();
        assert_eq!(moved.maintenance.scheduled_for, t("13:00"));
        assert!(moved.updates[0].body.contains("rescheduled"));
        let e = m
            .change(
                &MaintenanceChange {
                    scheduled_until: Some(t("11:00")),
                    ..Default::default()
                },
                &all(),
                "ana",
                t("10:00"),
            )
            .unwrap_err();
        assert!(e.to_string().contains("before it starts"), "{e}");
        let renamed = m
            .change(
                &MaintenanceChange {
                    name: Some("Upgrade".into()),
                    ..Default::default()
                },
                &all(),
                "ana",
                t("10:00"),
            )
            .unwrap();
        assert!(renamed.updates.is_empty());
        let started = m
            .post(
                &MaintenancePost {
                    status: Some(InProgress),
                    body: None,
                },
                "ana",
                t("12:00"),
            )
            .unwrap()
            .maintenance;
        let e = started
            .change(
                &MaintenanceChange {
                    scheduled_for: Some(t("12:30")),
                    ..Default::default()
                },
                &all(),
                "ana",
                t("12:10"),
            )
            .unwrap_err();
        assert!(e.to_string().contains("has started"), "{e}");
        let longer = started
            .change(
                &MaintenanceChange {
                    scheduled_until: Some(t("15:00")),
                    ..Default::default()
                },
                &all(),
                "ana",
                t("12:10"),
            )
            .unwrap();
        assert!(longer.updates[0]
            .body
            .contains("expected to end at 2026-11-26 15:00"));
        assert_eq!(longer.updates[0].status, InProgress);
    }

    #[test]
    fn jobs_are_planned_for_what_can_still_apply_and_stale_ones_do_nothing() {
        let hour = SignedDuration::from_hours(1);
        let m = scheduled();
        let jobs = m.jobs(hour, t("09:00"));
        let steps: Vec<_> = jobs
            .iter()
            .map(|j| (j.payload["step"].as_str().unwrap().to_owned(), j.run_at))
            .collect();
        assert_eq!(
            steps,
            [
                ("remind".to_owned(), t("11:00")),
                ("start".to_owned(), t("12:00")),
                ("complete".to_owned(), t("14:00"))
            ]
        );
        assert!(jobs.iter().all(|j| j.key.starts_with("7/")));
        // Too close to the start for a reminder.
        assert_eq!(m.jobs(hour, t("11:30")).len(), 2);
        let mut manual = m.clone();
        manual.auto_start = false;
        manual.auto_complete = false;
        assert_eq!(manual.jobs(hour, t("09:00")).len(), 1);

        let job = |step, at| MaintenanceJob {
            maintenance: m.id,
            step,
            at,
        };
        assert!(m.due(&job(MaintenanceStep::Remind, t("12:00"))));
        assert!(m.due(&job(MaintenanceStep::Start, t("12:00"))));
        assert!(!m.due(&job(MaintenanceStep::Start, t("11:00"))), "moved");
        assert!(
            !m.due(&job(MaintenanceStep::Complete, t("14:00"))),
            "not started"
        );
        let mut reminded = m.clone();
        reminded.reminded_for = Some(t("12:00"));
        assert!(!reminded.due(&job(MaintenanceStep::Remind, t("12:00"))));
        assert!(!manual.due(&job(MaintenanceStep::Start, t("12:00"))));
        let mut running = m.clone();
        running.status = Verifying;
        assert!(running.due(&job(MaintenanceStep::Complete, t("14:00"))));
        assert_eq!(
            impacts(&[running.clone(), m.clone()]),
            [
                (ComponentId(2), ComponentStatus::UnderMaintenance),
                (ComponentId(3), ComponentStatus::UnderMaintenance)
            ]
        );
    }

    #[test]
    fn the_mute_window_follows_the_maintenance() {
        let mut m = scheduled();
        assert_eq!(m.mute_window(), None);
        m.mute_services = true;
        assert_eq!(m.mute_window(), Some((t("12:00"), t("14:00"))));
        m.started_at = Some(t("11:50"));
        m.completed_at = Some(t("13:00"));
        assert_eq!(m.mute_window(), Some((t("11:50"), t("13:00"))));
        m.status = Cancelled;
        assert_eq!(m.mute_window(), None);
    }
}
