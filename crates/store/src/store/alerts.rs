//! [`AlertStore`] and [`InboxWriter`] for [`SqlStore`]: the queries of `sql/alerts.rs`
//! and `sql/inbox.rs`, the inbox worker's writes through the group commit, and
//! accepted events through the backend's accept path.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::alert::Alert;
use klaxon_domain::incident::Incident;
use klaxon_domain::service::Service;
use klaxon_domain::{AlertId, IncidentNumber, ServiceId};

use crate::alerts::{
    AlertChange, AlertFilter, AlertLogEntry, AlertOpening, AlertStore, InboxEntry, InboxFailure,
    InboxItem, InboxWriter, Repeat,
};
use crate::backend::{Backend, SqlStore};
use crate::group::Write;
use crate::sql::{alerts, inbox};
use crate::Result;

#[async_trait]
impl<B: Backend> AlertStore for SqlStore<B> {
    async fn open_alert(&self, service_id: ServiceId, dedup_key: &str) -> Result<Option<Alert>> {
        alerts::open_alert(&self.reader, service_id, dedup_key).await
    }

    async fn grouping_candidate(
        &self,
        service: &Service,
        group_key: Option<&str>,
        since: Option<Timestamp>,
    ) -> Result<Option<IncidentNumber>> {
        alerts::grouping_candidate(&self.reader, service, group_key, since).await
    }

    async fn enqueue_alerts(&self, entries: Vec<InboxEntry>) -> Result<usize> {
        self.accept(entries).await
    }

    async fn inbox(&self, limit: u32) -> Result<Vec<InboxItem>> {
        inbox::inbox(&self.reader, limit, B::DIALECT.inbox_order).await
    }

    async fn inbox_depth(&self) -> Result<i64> {
        inbox::inbox_depth(&self.reader).await
    }

    async fn open_alert_ids(
        &self,
        service_id: ServiceId,
        dedup_keys: &[String],
    ) -> Result<Vec<(String, AlertId)>> {
        alerts::open_alert_ids(&self.reader, service_id, dedup_keys).await
    }

    async fn open_alert_count(&self, incident: IncidentNumber) -> Result<i64> {
        alerts::open_alert_count(&self.reader, incident).await
    }

    async fn alert(&self, id: AlertId) -> Result<Alert> {
        alerts::alert(&self.reader, id).await
    }

    async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        alerts::alerts(&self.reader, filter).await
    }

    async fn alert_log(
        &self,
        id: AlertId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AlertLogEntry>> {
        alerts::alert_log(&self.reader, id, before, limit).await
    }
}

#[async_trait]
impl<B: Backend> InboxWriter for SqlStore<B> {
    async fn open_new_alert(&self, opening: AlertOpening) -> Result<(AlertId, Option<Incident>)> {
        self.submit(Write::OpenAlert, opening).await
    }

    async fn update_alert(&self, change: AlertChange) -> Result<()> {
        self.submit(Write::UpdateAlert, change).await
    }

    async fn repeat_alerts(&self, repeats: Vec<Repeat>) -> Result<()> {
        self.submit(Write::Repeats, repeats).await
    }

    async fn discard_inbox(&self, ids: &[i64]) -> Result<()> {
        self.submit(Write::Discard, ids.to_vec()).await
    }

    async fn inbox_failed(&self, failure: &InboxFailure) -> Result<()> {
        let mut tx = self.write().await?;
        inbox::inbox_failed(&mut tx, failure).await?;
        tx.commit().await?;
        Ok(())
    }
}
