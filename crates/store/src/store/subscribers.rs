//! [`SubscriberStore`] for [`SqlStore`]: the queries of `sql/subscribers.rs`.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::status::{Subscriber, SubscriberKind};
use klaxon_domain::{Secret, SubscriberId};

use crate::backend::{Backend, SqlStore};
use crate::sql::{jobs, subscribers as sql};
use crate::subscribers::{NewSubscriberRow, SubscriberJobs, SubscriberStore};
use crate::Result;

#[async_trait]
impl<B: Backend> SubscriberStore for SqlStore<B> {
    async fn create_subscriber(
        &self,
        new: NewSubscriberRow<'_>,
        plan: SubscriberJobs<'_>,
        at: Timestamp,
    ) -> Result<Subscriber> {
        let mut tx = self.write().await?;
        let id = sql::insert(&mut tx, &new, at).await?;
        let planned = plan(id);
        let rows: Vec<_> = planned.iter().map(|j| (None, j, at)).collect();
        jobs::insert_jobs(&mut tx, &rows).await?;
        let created = sql::subscriber(&mut tx, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn subscribers(&self) -> Result<Vec<Subscriber>> {
        sql::subscribers(&self.reader).await
    }

    async fn subscriber(&self, id: SubscriberId) -> Result<Subscriber> {
        sql::subscriber(&mut *self.reader.acquire().await?, id).await
    }

    async fn subscriber_by_address(
        &self,
        kind: SubscriberKind,
        address_key: &str,
    ) -> Result<Option<Subscriber>> {
        sql::by_address(&mut *self.reader.acquire().await?, kind, address_key).await
    }

    async fn subscriber_secret(&self, id: SubscriberId) -> Result<Option<Secret>> {
        sql::secret(&self.reader, id).await
    }

    async fn confirm_subscriber(&self, id: SubscriberId, at: Timestamp) -> Result<bool> {
        let mut tx = self.write().await?;
        let confirmed = sql::confirm(&mut tx, id, at).await?;
        tx.commit().await?;
        Ok(confirmed)
    }

    async fn delete_subscriber(&self, id: SubscriberId) -> Result<()> {
        let mut tx = self.write().await?;
        sql::delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }
}
