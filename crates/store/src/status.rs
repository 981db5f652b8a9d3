//! Storage of the status page: components, their status history, the incidents
//! published on the page and the page's version.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::incident::{Incident, TimelineEvent};
use klaxon_domain::paging::PlannedJob;
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::maintenance::MaintenanceDecision;
use klaxon_domain::status::{
    Component, ComponentFields, ComponentPeriod, ComponentStatus, ScheduledMaintenance,
};
use klaxon_domain::{ComponentId, IncidentNumber, ScheduledMaintenanceId};

use crate::Result;

/// A scheduled maintenance to write: what the rules decided, the maintenance windows it
/// gives services (replacing the ones it gave before) and who writes it when.
#[derive(Debug, Clone)]
pub struct MaintenanceWrite<'a> {
    /// The maintenance as it is to be (id 0: a new one; otherwise written only if it is
    /// still at the version it carries) and the updates it adds.
    pub decision: &'a MaintenanceDecision,
    /// The services whose alerts it mutes, and for when (with the windows' reason);
    /// `None`: it mutes none (any it made are removed).
    pub services: Vec<ServiceName>,
    pub window: Option<(Timestamp, Timestamp, String)>,
    pub by: &'a str,
    pub at: Timestamp,
}

/// The engine's jobs for a maintenance as written (with its id).
pub type MaintenancePlan<'a> = &'a (dyn Fn(&ScheduledMaintenance) -> Vec<PlannedJob> + Send + Sync);

/// Components and the status page's history. Every method is atomic; every write moves
/// the page's version on.
#[async_trait]
pub trait StatusStore: Send + Sync + 'static {
    /// Creates a component (or group); `position: None` puts it after its last sibling.
    /// `Duplicate` if another has the name (letter case aside).
    async fn create_component(&self, fields: &ComponentFields, at: Timestamp) -> Result<Component>;
    /// Every component and group, by id, with `status` equal to the status set by hand
    /// (the effective status is the caller's to work out).
    async fn components(&self) -> Result<Vec<Component>>;
    async fn component(&self, id: ComponentId) -> Result<Component>;
    /// Replaces a component's fields and, if `status` is given, its status set by hand
    /// (ending the stretch set by hand before, starting one unless operational), and
    /// adds `jobs` (the notice of the change to subscribers), all in one transaction.
    async fn update_component(
        &self,
        id: ComponentId,
        fields: &ComponentFields,
        status: Option<ComponentStatus>,
        jobs: &[PlannedJob],
        at: Timestamp,
    ) -> Result<Component>;
    /// Deletes a component and its history.
    async fn delete_component(&self, id: ComponentId) -> Result<()>;
    /// The stretches of history that end at or after `since`, or still last.
    async fn component_periods(&self, since: Timestamp) -> Result<Vec<ComponentPeriod>>;
    /// The incidents published on the page that were declared at or after `since` or
    /// are still open, newest first, at most `limit`.
    async fn public_incidents(&self, since: Timestamp, limit: u32) -> Result<Vec<Incident>>;
    /// The events of these incidents the page reads (life cycle, components, status
    /// updates), in order per incident.
    async fn public_events(
        &self,
        numbers: &[IncidentNumber],
    ) -> Result<Vec<(IncidentNumber, TimelineEvent)>>;
    /// Writes a scheduled maintenance, all or nothing: its row, its new updates, the
    /// services' maintenance windows it makes, and its engine jobs (those planned for its
    /// old state are cancelled, `plan`'s added); the page's version moves on. `Stale` if
    /// it changed since it was read, `NotFound` if it is gone.
    async fn save_maintenance(
        &self,
        write: &MaintenanceWrite<'_>,
        plan: MaintenancePlan<'_>,
    ) -> Result<ScheduledMaintenance>;
    /// Scheduled maintenance `id` with its updates.
    async fn scheduled_maintenance(
        &self,
        id: ScheduledMaintenanceId,
    ) -> Result<ScheduledMaintenance>;
    /// The maintenances that end at or after `since` or are not over, latest window
    /// first, at most `limit`, with their updates.
    async fn scheduled_maintenances(
        &self,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<ScheduledMaintenance>>;
    /// The page's secret (its public ids are derived from it) and version.
    async fn status_page(&self) -> Result<(String, i64)>;
    /// The page's version alone: cheap, for polling.
    async fn status_page_version(&self) -> Result<i64>;
}
