//! [`ServiceStore`] for [`SqlStore`]: the queries of `sql/services.rs`.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::alert::{ChangeEvent, StoredChange};
use klaxon_domain::service::{
    Heartbeat, IntegrationKey, MaintenanceWindow, Service, ServiceFields, ServiceName,
};
use klaxon_domain::{HeartbeatId, KeyId, MaintenanceId, ServiceId};

use crate::backend::{Backend, SqlStore};
use crate::services::{NewKey, ServiceStore};
use crate::sql::services as sql;
use crate::Result;

#[async_trait]
impl<B: Backend> ServiceStore for SqlStore<B> {
    async fn create_service(
        &self,
        name: &ServiceName,
        fields: &ServiceFields,
        key: &NewKey,
        at: Timestamp,
    ) -> Result<Service> {
        let mut tx = self.write().await?;
        let service = sql::create_service(&mut tx, name, fields, key, at).await?;
        tx.commit().await?;
        Ok(service)
    }

    async fn services(&self) -> Result<Vec<Service>> {
        sql::services(&self.reader).await
    }

    async fn service(&self, name: &ServiceName) -> Result<Service> {
        sql::service(&mut *self.reader.acquire().await?, name).await
    }

    async fn update_service(&self, name: &ServiceName, fields: &ServiceFields) -> Result<Service> {
        let mut tx = self.write().await?;
        let service = sql::update_service(&mut tx, name, fields).await?;
        tx.commit().await?;
        Ok(service)
    }

    async fn delete_service(&self, name: &ServiceName) -> Result<()> {
        let mut tx = self.write().await?;
        sql::delete_service(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_integration_key(
        &self,
        name: &ServiceName,
        key: &NewKey,
        at: Timestamp,
    ) -> Result<IntegrationKey> {
        let mut tx = self.write().await?;
        let created = sql::add_key(&mut tx, name, key, at).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn revoke_integration_key(
        &self,
        name: &ServiceName,
        id: KeyId,
        at: Timestamp,
    ) -> Result<IntegrationKey> {
        let mut tx = self.write().await?;
        let revoked = sql::revoke_key(&mut tx, name, id, at).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    async fn rotate_integration_key(
        &self,
        name: &ServiceName,
        id: KeyId,
        key: &NewKey,
        at: Timestamp,
    ) -> Result<IntegrationKey> {
        let mut tx = self.write().await?;
        let created = sql::rotate_key(&mut tx, name, id, key, at).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn service_by_key(&self, key: &str) -> Result<Option<Service>> {
        sql::service_by_key(&self.reader, key).await
    }

    async fn record_change(
        &self,
        service_id: ServiceId,
        change: &ChangeEvent,
        received_at: Timestamp,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        let id = sql::record_change(&mut tx, service_id, change, received_at).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn changes(
        &self,
        service: &ServiceName,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<StoredChange>> {
        sql::changes(&self.reader, service, from, to, limit).await
    }

    async fn add_maintenance(
        &self,
        service: &ServiceName,
        window: (Timestamp, Timestamp, String),
        created_by: &str,
        at: Timestamp,
    ) -> Result<MaintenanceWindow> {
        let mut tx = self.write().await?;
        let added = sql::add_maintenance(&mut tx, service, window, created_by, at).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn maintenance(
        &self,
        service: &ServiceName,
        after: Timestamp,
    ) -> Result<Vec<MaintenanceWindow>> {
        sql::maintenance(&self.reader, service, after).await
    }

    async fn remove_maintenance(&self, service: &ServiceName, id: MaintenanceId) -> Result<()> {
        let mut tx = self.write().await?;
        sql::remove_maintenance(&mut tx, service, id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn in_maintenance(&self, service_id: ServiceId, at: Timestamp) -> Result<bool> {
        sql::in_maintenance(&self.reader, service_id, at).await
    }

    async fn create_heartbeat(
        &self,
        service: &ServiceName,
        name: &str,
        interval_seconds: i64,
        key: &str,
        at: Timestamp,
    ) -> Result<Heartbeat> {
        let mut tx = self.write().await?;
        let created =
            sql::create_heartbeat(&mut tx, service, name, interval_seconds, key, at).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn heartbeats(&self) -> Result<Vec<Heartbeat>> {
        sql::heartbeats(&self.reader).await
    }

    async fn heartbeat_by_key(&self, key: &str) -> Result<Option<Heartbeat>> {
        sql::heartbeat_by_key(&self.reader, key).await
    }

    async fn ping_heartbeat(&self, id: HeartbeatId, at: Timestamp) -> Result<()> {
        let mut tx = self.write().await?;
        sql::ping_heartbeat(&mut tx, id, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_heartbeat_down(&self, id: HeartbeatId) -> Result<()> {
        let mut tx = self.write().await?;
        sql::mark_heartbeat_down(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }
}
