//! The store's traits implemented for [`SqlStore`] on any [`Backend`]: each method runs
//! the queries of `sql/` on the reader pool, in a write transaction of its own, or
//! through the group commit.

mod alerts;
mod paging;
mod reviews;
mod services;
mod status;
mod subscribers;
mod web;

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::api::NewUser;
use klaxon_domain::auth::{Scope, TokenInfo, User};
use klaxon_domain::incident::{Declaration, Incident, Status, TimelineEvent};
use klaxon_domain::metrics::IncidentFacts;
use klaxon_domain::{Handle, IncidentNumber, Severity, TokenId};

use crate::backend::{Backend, SqlStore};
use crate::group::Write;
use crate::sql::{incidents, users};
use crate::{Authenticated, Change, FactsFilter, IncidentFilter, Result, Store};

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn create_user(&self, user: &NewUser, at: Timestamp) -> Result<User> {
        let mut tx = self.write().await?;
        let created = users::insert_user(&mut tx, user, at).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn users(&self) -> Result<Vec<User>> {
        users::users(&self.reader).await
    }

    async fn user(&self, handle: &Handle) -> Result<User> {
        users::user(&mut *self.reader.acquire().await?, handle).await
    }

    async fn set_role(&self, handle: &Handle, role: Scope) -> Result<User> {
        let mut tx = self.write().await?;
        users::set_role(&mut tx, handle, role).await?;
        tx.commit().await?;
        self.user(handle).await
    }

    async fn bootstrap(
        &self,
        admin: &NewUser,
        token_name: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<Option<User>> {
        let mut tx = self.write().await?;
        let user = users::bootstrap(&mut tx, admin, token_name, token_hash, at).await?;
        if user.is_some() {
            tx.commit().await?;
        }
        Ok(user)
    }

    async fn create_token(
        &self,
        name: &str,
        scope: Scope,
        user: &Handle,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<TokenInfo> {
        let mut tx = self.write().await?;
        let token = users::create_token(&mut tx, name, scope, user, token_hash, at).await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        users::tokens(&self.reader).await
    }

    async fn revoke_token(&self, id: TokenId, at: Timestamp) -> Result<TokenInfo> {
        let mut tx = self.write().await?;
        let token = users::revoke_token(&mut tx, id, at, B::DIALECT.lock_rows).await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn authenticate(&self, token_hash: &str) -> Result<Option<Authenticated>> {
        users::authenticate(&self.reader, token_hash).await
    }

    async fn declare(&self, declaration: Declaration) -> Result<Incident> {
        self.submit(Write::Declare, Box::new(declaration)).await
    }

    async fn incident(&self, number: IncidentNumber) -> Result<Incident> {
        incidents::incident(&self.reader, number).await
    }

    async fn incidents_by_number(&self, numbers: &[IncidentNumber]) -> Result<Vec<Incident>> {
        incidents::incidents_by_number(&self.reader, numbers).await
    }

    async fn timeline(&self, number: IncidentNumber) -> Result<Vec<TimelineEvent>> {
        incidents::timeline(&self.reader, number).await
    }

    async fn timeline_page(
        &self,
        number: IncidentNumber,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>> {
        incidents::timeline_page(&self.reader, number, before, limit).await
    }

    async fn timeline_after(
        &self,
        number: IncidentNumber,
        after: i64,
    ) -> Result<Vec<TimelineEvent>> {
        incidents::timeline_after(&self.reader, number, after).await
    }

    async fn timeline_events(
        &self,
        wanted: &[(IncidentNumber, i64)],
    ) -> Result<Vec<(IncidentNumber, TimelineEvent)>> {
        incidents::timeline_events(&self.reader, wanted).await
    }

    async fn commit(&self, changes: &[Change]) -> Result<()> {
        self.submit(Write::Commit, changes.to_vec()).await
    }

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>> {
        incidents::incidents(&self.reader, filter).await
    }

    async fn incident_facts(&self, filter: &FactsFilter) -> Result<Vec<IncidentFacts>> {
        self.backend.incident_facts(&self.reader, filter).await
    }

    async fn incident_counts(&self) -> Result<Vec<(Status, Severity, i64)>> {
        incidents::incident_counts(&self.reader).await
    }

    async fn hold_singleton(&self, name: &str) -> Result<bool> {
        self.backend.hold_singleton(&self.writer, name).await
    }
}
