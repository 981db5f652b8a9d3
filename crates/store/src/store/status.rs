//! [`StatusStore`] for [`SqlStore`]: the queries of `sql/status.rs`.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::incident::{Incident, TimelineEvent};
use klaxon_domain::paging::PlannedJob;
use klaxon_domain::status::ScheduledMaintenance;
use klaxon_domain::status::{Component, ComponentFields, ComponentPeriod, ComponentStatus};
use klaxon_domain::{ComponentId, IncidentNumber, ScheduledMaintenanceId};

use crate::backend::{Backend, SqlStore};
use crate::sql::maintenance;
use crate::sql::status as sql;
use crate::status::{MaintenancePlan, MaintenanceWrite, StatusStore};
use crate::Result;

#[async_trait]
impl<B: Backend> StatusStore for SqlStore<B> {
    async fn create_component(&self, fields: &ComponentFields, at: Timestamp) -> Result<Component> {
        let mut tx = self.write().await?;
        let id = sql::create_component(&mut tx, fields, at).await?;
        sql::bump_version(&mut tx).await?;
        let created = sql::component(&mut tx, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn components(&self) -> Result<Vec<Component>> {
        sql::components(&self.reader).await
    }

    async fn component(&self, id: ComponentId) -> Result<Component> {
        sql::component(&mut *self.reader.acquire().await?, id).await
    }

    async fn update_component(
        &self,
        id: ComponentId,
        fields: &ComponentFields,
        status: Option<ComponentStatus>,
        jobs: &[PlannedJob],
        at: Timestamp,
    ) -> Result<Component> {
        let mut tx = self.write().await?;
        sql::update_component(&mut tx, id, fields, at).await?;
        if let Some(status) = status {
            sql::set_manual_status(&mut tx, id, status, at).await?;
        }
        let rows: Vec<_> = jobs.iter().map(|j| (None, j, at)).collect();
        crate::sql::jobs::insert_jobs(&mut tx, &rows).await?;
        sql::bump_version(&mut tx).await?;
        let updated = sql::component(&mut tx, id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_component(&self, id: ComponentId) -> Result<()> {
        let mut tx = self.write().await?;
        sql::delete_component(&mut tx, id).await?;
        sql::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn component_periods(&self, since: Timestamp) -> Result<Vec<ComponentPeriod>> {
        sql::component_periods(&self.reader, since).await
    }

    async fn public_incidents(&self, since: Timestamp, limit: u32) -> Result<Vec<Incident>> {
        sql::public_incidents(&self.reader, since, limit).await
    }

    async fn public_events(
        &self,
        numbers: &[IncidentNumber],
    ) -> Result<Vec<(IncidentNumber, TimelineEvent)>> {
        sql::public_events(&self.reader, numbers).await
    }

    async fn save_maintenance(
        &self,
        write: &MaintenanceWrite<'_>,
        plan: MaintenancePlan<'_>,
    ) -> Result<ScheduledMaintenance> {
        let m = &write.decision.maintenance;
        let mut tx = self.write().await?;
        let id = if m.id.0 == 0 {
            maintenance::insert(&mut tx, m).await?
        } else {
            maintenance::update(&mut tx, m).await?;
            m.id
        };
        maintenance::add_updates(&mut tx, id, &write.decision.updates).await?;
        maintenance::replace_windows(
            &mut tx,
            id,
            &write.services,
            write.window.clone(),
            write.by,
            write.at,
        )
        .await?;
        let saved = maintenance::maintenance(&mut tx, id).await?;
        maintenance::cancel_jobs(&mut tx, id).await?;
        let jobs = plan(&saved);
        let rows: Vec<_> = jobs.iter().map(|j| (None, j, write.at)).collect();
        crate::sql::jobs::insert_jobs(&mut tx, &rows).await?;
        sql::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn scheduled_maintenance(
        &self,
        id: ScheduledMaintenanceId,
    ) -> Result<ScheduledMaintenance> {
        maintenance::maintenance(&mut *self.reader.acquire().await?, id).await
    }

    async fn scheduled_maintenances(
        &self,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<ScheduledMaintenance>> {
        maintenance::maintenances(&self.reader, since, limit).await
    }

    async fn status_page(&self) -> Result<(String, i64)> {
        sql::status_page(&self.reader).await
    }

    async fn status_page_version(&self) -> Result<i64> {
        sql::status_page_version(&self.reader).await
    }
}
