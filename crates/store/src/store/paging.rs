//! [`PagingStore`] for [`SqlStore`]: the queries of `sql/people.rs`,
//! `sql/schedules.rs`, `sql/jobs.rs` and `sql/links.rs`.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use klaxon_domain::paging::verify::SentCode;
use klaxon_domain::paging::{
    ContactKind, ContactMethod, EscalationPolicy, NewContactMethod, NewEscalationPolicy,
    NewNotificationRule, NotificationRule, PlannedJob,
};
use klaxon_domain::schedule::Schedule;
use klaxon_domain::{ContactMethodId, Handle, IncidentNumber, NotificationRuleId};

use crate::backend::{Backend, SqlStore};
use crate::group::{NewLink, Write};
use crate::paging::{ActionLink, Job, JobBacklog, JobDone, PagingStore, Room};
use crate::sql::{jobs, links, people, schedules};
use crate::Result;

#[async_trait]
impl<B: Backend> PagingStore for SqlStore<B> {
    async fn add_contact_method(
        &self,
        user: &Handle,
        method: &NewContactMethod,
        at: Timestamp,
    ) -> Result<ContactMethod> {
        let mut tx = self.write().await?;
        let id = people::add_contact_method(&mut tx, user, method, at).await?;
        tx.commit().await?;
        self.contact_method(id).await
    }

    async fn contact_methods(&self, user: &Handle) -> Result<Vec<ContactMethod>> {
        people::contact_methods(&self.reader, user).await
    }

    async fn contact_method(&self, id: ContactMethodId) -> Result<ContactMethod> {
        people::contact_method(&self.reader, id).await
    }

    async fn contact_method_by_address(
        &self,
        kind: ContactKind,
        address: &str,
    ) -> Result<Option<ContactMethod>> {
        people::contact_method_by_address(&self.reader, kind, address).await
    }

    async fn remove_contact_method(&self, user: &Handle, id: ContactMethodId) -> Result<()> {
        let mut tx = self.write().await?;
        people::remove_contact_method(&mut tx, user, id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_contact_verified(&self, id: ContactMethodId, at: Timestamp) -> Result<()> {
        let mut tx = self.write().await?;
        people::mark_contact_verified(&mut tx, id, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn number_verified_by(&self, number: &str) -> Result<Option<Handle>> {
        people::number_verified_by(&self.reader, number).await
    }

    async fn save_contact_code(
        &self,
        id: ContactMethodId,
        code: &SentCode,
        replaces_up_to: Timestamp,
    ) -> Result<Option<SentCode>> {
        let mut tx = self.write().await?;
        let later = people::save_contact_code(&mut tx, id, code, replaces_up_to).await?;
        if later.is_none() {
            tx.commit().await?;
        }
        Ok(later)
    }

    async fn drop_contact_code(&self, id: ContactMethodId) -> Result<()> {
        let mut tx = self.write().await?;
        people::drop_contact_code(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn try_contact_code(&self, id: ContactMethodId) -> Result<Option<SentCode>> {
        let mut tx = self.write().await?;
        let code = people::try_contact_code(&mut tx, id).await?;
        tx.commit().await?;
        Ok(code)
    }

    async fn verify_number(&self, id: ContactMethodId, at: Timestamp) -> Result<ContactMethod> {
        let mut tx = self.write().await?;
        people::verify_number(&mut tx, id, at).await?;
        tx.commit().await?;
        self.contact_method(id).await
    }

    async fn add_notification_rule(
        &self,
        user: &Handle,
        rule: &NewNotificationRule,
    ) -> Result<NotificationRule> {
        let mut tx = self.write().await?;
        let added = people::add_notification_rule(&mut tx, user, rule).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn notification_rules(&self, user: &Handle) -> Result<Vec<NotificationRule>> {
        people::notification_rules(&self.reader, user).await
    }

    async fn remove_notification_rule(&self, user: &Handle, id: NotificationRuleId) -> Result<()> {
        let mut tx = self.write().await?;
        people::remove_notification_rule(&mut tx, user, id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_schedule(&self, schedule: &Schedule, at: Timestamp) -> Result<()> {
        let mut tx = self.write().await?;
        schedules::create_schedule(&mut tx, schedule, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_schedule(&self, name: &str, schedule: &Schedule) -> Result<()> {
        let mut tx = self.write().await?;
        schedules::update_schedule(&mut tx, name, schedule).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn schedules(&self) -> Result<Vec<Schedule>> {
        schedules::schedules(&self.reader).await
    }

    async fn schedule(&self, name: &str) -> Result<Schedule> {
        schedules::schedule(&self.reader, name).await
    }

    async fn delete_schedule(&self, name: &str) -> Result<()> {
        let mut tx = self.write().await?;
        schedules::delete_schedule(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_policy(
        &self,
        policy: &NewEscalationPolicy,
        at: Timestamp,
    ) -> Result<EscalationPolicy> {
        let mut tx = self.write().await?;
        schedules::create_policy(&mut tx, policy, at).await?;
        tx.commit().await?;
        self.policy(&policy.name).await
    }

    async fn update_policy(
        &self,
        name: &str,
        policy: &NewEscalationPolicy,
    ) -> Result<EscalationPolicy> {
        let mut tx = self.write().await?;
        schedules::update_policy(&mut tx, name, policy).await?;
        tx.commit().await?;
        self.policy(&policy.name).await
    }

    async fn policies(&self) -> Result<Vec<EscalationPolicy>> {
        schedules::policies(&self.reader).await
    }

    async fn policy(&self, name: &str) -> Result<EscalationPolicy> {
        schedules::policy(&self.reader, name).await
    }

    async fn delete_policy(&self, name: &str) -> Result<()> {
        let mut tx = self.write().await?;
        schedules::delete_policy(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_jobs(
        &self,
        incident: Option<IncidentNumber>,
        planned: &[PlannedJob],
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let rows: Vec<_> = planned.iter().map(|job| (incident, job, at)).collect();
        jobs::insert_jobs(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Job>> {
        let mut tx = self.write().await?;
        let claimed = jobs::claim_jobs(&mut tx, &B::DIALECT, now, lease, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn finish_job(&self, done: JobDone) -> Result<()> {
        self.submit(Write::FinishJob, done).await
    }

    async fn jobs(&self, incident: Option<IncidentNumber>) -> Result<Vec<Job>> {
        jobs::jobs(&self.reader, incident).await
    }

    async fn next_job_at(&self) -> Result<Option<Timestamp>> {
        jobs::next_job_at(&self.reader).await
    }

    async fn job_backlog(&self, now: Timestamp) -> Result<Vec<JobBacklog>> {
        jobs::job_backlog(&self.reader, now).await
    }

    async fn subscribe(&self, team: &str, user: &Handle) -> Result<()> {
        let mut tx = self.write().await?;
        people::subscribe(&mut tx, team, user).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unsubscribe(&self, team: &str, user: &Handle) -> Result<()> {
        let mut tx = self.write().await?;
        people::unsubscribe(&mut tx, team, user).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn subscriptions(&self) -> Result<Vec<(String, Handle)>> {
        people::subscriptions(&self.reader).await
    }

    async fn room(&self, incident: IncidentNumber) -> Result<Option<Room>> {
        links::room(&self.reader, incident).await
    }

    async fn save_room(&self, incident: IncidentNumber, room: &Room) -> Result<()> {
        let mut tx = self.write().await?;
        links::save_room(&mut tx, incident, room).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_link(&self, token_hash: &str, link: &ActionLink) -> Result<()> {
        // Through the group commit: a burst of pages creates links by the thousand, and
        // a transaction of its own each would queue them.
        let link = NewLink {
            token_hash: token_hash.to_owned(),
            link: link.clone(),
        };
        self.submit(Write::CreateLink, link).await
    }

    async fn peek_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<ActionLink>> {
        links::peek_link(&self.reader, token_hash, now).await
    }

    async fn use_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<ActionLink>> {
        let mut tx = self.write().await?;
        let link = links::use_link(&mut tx, token_hash, now).await?;
        tx.commit().await?;
        Ok(link)
    }
}
