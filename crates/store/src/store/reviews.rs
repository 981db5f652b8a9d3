//! [`ReviewStore`] on any backend.

use async_trait::async_trait;
use klaxon_domain::review::{ActionItem, HistoryEntry, ReviewRecord};
use klaxon_domain::IncidentNumber;

use crate::backend::{Backend, SqlStore};
use crate::reviews::{ActionFilter, ReviewStore, ReviewWrite};
use crate::sql::reviews;
use crate::Result;

#[async_trait]
impl<B: Backend> ReviewStore for SqlStore<B> {
    async fn review(&self, number: IncidentNumber) -> Result<Option<ReviewRecord>> {
        reviews::review(&self.reader, number).await
    }

    async fn review_history(&self, number: IncidentNumber) -> Result<Vec<HistoryEntry>> {
        reviews::history(&self.reader, number).await
    }

    async fn write_review(&self, write: ReviewWrite) -> Result<()> {
        let mut tx = self.write().await?;
        reviews::write(&mut tx, &write).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn action_items(&self, filter: &ActionFilter) -> Result<Vec<(ActionItem, String)>> {
        reviews::action_items(&self.reader, filter).await
    }
}
