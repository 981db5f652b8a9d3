//! [`WebStore`] on any backend.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::auth::User;
use klaxon_domain::session::{SESSION_IDLE, SESSION_MAX};
use klaxon_domain::{Handle, Secret};

use crate::backend::{Backend, SqlStore};
use crate::sql::sessions;
use crate::web::{Session, SignIn, WebStore};
use crate::Result;

#[async_trait]
impl<B: Backend> WebStore for SqlStore<B> {
    async fn set_password(&self, user: &Handle, hash: Option<&Secret>) -> Result<()> {
        let mut tx = self.write().await?;
        sessions::set_password(&mut tx, user, hash).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sign_in(&self, user: &Handle) -> Result<SignIn> {
        sessions::sign_in(&self.reader, user).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: &User,
        csrf: &Secret,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sessions::insert_session(&mut tx, token_hash, user.id, csrf, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        sessions::session(&self.reader, token_hash).await
    }

    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<()> {
        let mut tx = self.write().await?;
        sessions::touch_session(&mut tx, token_hash, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn end_session(&self, token_hash: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sessions::end_session(&mut tx, token_hash).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_ended_sessions(&self, now: Timestamp) -> Result<u64> {
        let idle_before = now.saturating_sub(SESSION_IDLE).unwrap_or(Timestamp::MIN);
        let begun_before = now.saturating_sub(SESSION_MAX).unwrap_or(Timestamp::MIN);
        let mut tx = self.write().await?;
        let deleted = sessions::delete_ended_sessions(&mut tx, idle_before, begun_before).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}
