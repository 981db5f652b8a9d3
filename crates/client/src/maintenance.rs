//! Scheduled maintenance on the status page.

use klaxon_domain::status::{
    MaintenanceChange, MaintenancePost, NewScheduledMaintenance, ScheduledMaintenance,
};
use klaxon_domain::ScheduledMaintenanceId;
use reqwest::Method;

use crate::{Client, ClientError};

impl Client {
    /// The maintenances not over yet and those of the last 90 days, latest window first.
    pub async fn scheduled_maintenances(&self) -> Result<Vec<ScheduledMaintenance>, ClientError> {
        self.get("/maintenances").await
    }

    pub async fn scheduled_maintenance(
        &self,
        id: ScheduledMaintenanceId,
    ) -> Result<ScheduledMaintenance, ClientError> {
        self.get(&format!("/maintenances/{id}")).await
    }

    pub async fn schedule_maintenance(
        &self,
        body: &NewScheduledMaintenance,
    ) -> Result<ScheduledMaintenance, ClientError> {
        self.post("/maintenances", body).await
    }

    pub async fn change_maintenance(
        &self,
        id: ScheduledMaintenanceId,
        body: &MaintenanceChange,
    ) -> Result<ScheduledMaintenance, ClientError> {
        let path = format!("/maintenances/{id}");
        self.send(self.request(Method::PATCH, &path).json(body), &path)
            .await
    }

    /// Posts an update, changing the status if it names one.
    pub async fn post_maintenance_update(
        &self,
        id: ScheduledMaintenanceId,
        body: &MaintenancePost,
    ) -> Result<ScheduledMaintenance, ClientError> {
        self.post(&format!("/maintenances/{id}/updates"), body)
            .await
    }
}
