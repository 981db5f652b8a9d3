//! The SQL of [`crate::PagingStore`], shared by both backends like `sql.rs`.

/// Implements [`crate::PagingStore`] for `$store` on `$db`. Expands inside the backend
/// module, next to `impl_store!`, whose incident writes it reuses; `$store` provides
/// `SKIP_LOCKED`, the clause that keeps replicas from waiting on each other's claims.
macro_rules! impl_paging_store {
    ($store:ty, $db:ty) => {
        mod paging_queries {
            use super::*;

            use async_trait::async_trait;
            use jiff::{SignedDuration, Timestamp};
            use klaxon_domain::paging::verify::SentCode;
            use klaxon_domain::paging::{
                ContactKind, ContactMethod, EscalationPolicy, JobKind, NewContactMethod, NewEscalationPolicy,
                NewNotificationRule, NotificationRule, PlannedJob, Urgency,
            };
            use klaxon_domain::schedule::{NewSchedule, Schedule};
            use klaxon_domain::{Handle, IncidentNumber};
            use sqlx::{QueryBuilder, Row};

            use crate::group::{WriteOp, Written};
            use crate::paging::{ActionLink, Job, JobBacklog, JobDone, JobOutcome, PagingStore, Room};
            use crate::{corrupt, instant, ms, Result, StoreError};

            type DbRow = <$db as sqlx::Database>::Row;

            const METHOD_COLUMNS: &str = "c.id, u.handle, c.kind, c.address, c.label, c.verified_at, c.created_at";
            const JOB_COLUMNS: &str = "id, kind, incident_number, dedup_key, run_at, payload, attempts, last_error, dead_at";

            #[async_trait]
            impl PagingStore for $store {
                async fn add_contact_method(&self, user: &Handle, method: &NewContactMethod, at: Timestamp) -> Result<ContactMethod> {
                    let mut tx = self.write().await?;
                    let user_id = user_id(&mut tx, user).await?;
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO contact_methods (user_id, kind, address, label, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(user_id)
                    .bind(method.kind.as_str())
                    .bind(&method.address)
                    .bind(method.label.as_deref())
                    .bind(ms(at))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| unique_violation(e, || format!("{user} already has {} {}", method.kind.as_str(), method.address)))?;
                    tx.commit().await?;
                    self.contact_method(id).await
                }

                async fn contact_methods(&self, user: &Handle) -> Result<Vec<ContactMethod>> {
                    let sql = format!("SELECT {METHOD_COLUMNS} FROM contact_methods c JOIN users u ON u.id = c.user_id WHERE u.handle = $1 ORDER BY c.id");
                    let rows = sqlx::query(&sql).bind(user.as_str()).fetch_all(self.reader()).await?;
                    rows.iter().map(method_from_row).collect()
                }

                async fn contact_method(&self, id: i64) -> Result<ContactMethod> {
                    let sql = format!("SELECT {METHOD_COLUMNS} FROM contact_methods c JOIN users u ON u.id = c.user_id WHERE c.id = $1");
                    match sqlx::query(&sql).bind(id).fetch_optional(self.reader()).await? {
                        Some(row) => method_from_row(&row),
                        None => Err(StoreError::NotFound(format!("there is no contact method {id}; see `klaxon user contact list`"))),
                    }
                }

                async fn contact_method_by_address(&self, kind: ContactKind, address: &str) -> Result<Option<ContactMethod>> {
                    let sql = format!(
                        "SELECT {METHOD_COLUMNS} FROM contact_methods c JOIN users u ON u.id = c.user_id \
                         WHERE c.kind = $1 AND c.address = $2 \
                         ORDER BY CASE WHEN c.verified_at IS NULL THEN 1 ELSE 0 END, c.id LIMIT 1"
                    );
                    let row = sqlx::query(&sql).bind(kind.as_str()).bind(address).fetch_optional(self.reader()).await?;
                    row.as_ref().map(method_from_row).transpose()
                }

                async fn remove_contact_method(&self, user: &Handle, id: i64) -> Result<()> {
                    let mut tx = self.write().await?;
                    let user_id = user_id(&mut tx, user).await?;
                    let gone: Option<String> = sqlx::query_scalar("DELETE FROM contact_methods WHERE id = $1 AND user_id = $2 RETURNING address")
                        .bind(id)
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(address) = gone else {
                        return Err(StoreError::NotFound(format!("{user} has no contact method {id}")));
                    };
                    sqlx::query(
                        "DELETE FROM verified_numbers WHERE number = $1 AND user_id = $2 AND NOT EXISTS \
                         (SELECT 1 FROM contact_methods WHERE user_id = $2 AND address = $1 \
                          AND kind IN ('sms', 'voice') AND verified_at IS NOT NULL)",
                    )
                    .bind(&address)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn mark_contact_verified(&self, id: i64, at: Timestamp) -> Result<()> {
                    let mut tx = self.write().await?;
                    sqlx::query("UPDATE contact_methods SET verified_at = $1 WHERE id = $2 AND kind NOT IN ('sms', 'voice')")
                        .bind(ms(at))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn number_verified_by(&self, number: &str) -> Result<Option<Handle>> {
                    let handle: Option<String> = sqlx::query_scalar(
                        "SELECT u.handle FROM verified_numbers v JOIN users u ON u.id = v.user_id WHERE v.number = $1",
                    )
                    .bind(number)
                    .fetch_optional(self.reader())
                    .await?;
                    handle.map(|h| Handle::parse(&h).map_err(|e| corrupt("user handle", e))).transpose()
                }

                async fn save_contact_code(&self, id: i64, code: &SentCode, replaces_up_to: Timestamp) -> Result<Option<SentCode>> {
                    let mut tx = self.write().await?;
                    let saved = sqlx::query(
                        "INSERT INTO contact_codes (contact_method_id, code_hash, sent_at, tries) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (contact_method_id) DO UPDATE SET code_hash = excluded.code_hash, \
                         sent_at = excluded.sent_at, tries = excluded.tries WHERE contact_codes.sent_at <= $5",
                    )
                    .bind(id)
                    .bind(&code.hash)
                    .bind(ms(code.sent_at))
                    .bind(i64::from(code.tries))
                    .bind(ms(replaces_up_to))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                            StoreError::NotFound(format!("there is no contact method {id}; see `klaxon user contact list`"))
                        }
                        _ => StoreError::from(e),
                    })?
                    .rows_affected();
                    if saved == 1 {
                        tx.commit().await?;
                        return Ok(None);
                    }
                    let row = sqlx::query("SELECT code_hash, sent_at, tries FROM contact_codes WHERE contact_method_id = $1")
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                    code_from_row(&row).map(Some)
                }

                async fn drop_contact_code(&self, id: i64) -> Result<()> {
                    let mut tx = self.write().await?;
                    sqlx::query("DELETE FROM contact_codes WHERE contact_method_id = $1").bind(id).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn try_contact_code(&self, id: i64) -> Result<Option<SentCode>> {
                    let mut tx = self.write().await?;
                    let row = sqlx::query(
                        "UPDATE contact_codes SET tries = tries + 1 WHERE contact_method_id = $1 RETURNING code_hash, sent_at, tries",
                    )
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    row.as_ref().map(code_from_row).transpose()
                }

                async fn verify_number(&self, id: i64, at: Timestamp) -> Result<ContactMethod> {
                    let mut tx = self.write().await?;
                    let row = sqlx::query("SELECT user_id, address FROM contact_methods WHERE id = $1 AND kind IN ('sms', 'voice')")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(row) = row else {
                        return Err(StoreError::NotFound(format!("there is no phone contact method {id}; see `klaxon user contact list`")));
                    };
                    let (user_id, number): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
                    // A concurrent claim of the same number waits here for the other
                    // transaction, then finds its row.
                    sqlx::query("INSERT INTO verified_numbers (number, user_id, verified_at) VALUES ($1, $2, $3) ON CONFLICT (number) DO NOTHING")
                        .bind(&number)
                        .bind(user_id)
                        .bind(ms(at))
                        .execute(&mut *tx)
                        .await?;
                    let holder: i64 = sqlx::query_scalar("SELECT user_id FROM verified_numbers WHERE number = $1")
                        .bind(&number)
                        .fetch_one(&mut *tx)
                        .await?;
                    if holder != user_id {
                        return Err(StoreError::Conflict(format!("{number} is verified by another user")));
                    }
                    sqlx::query("UPDATE contact_methods SET verified_at = $1 WHERE id = $2")
                        .bind(ms(at))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM contact_codes WHERE contact_method_id = $1").bind(id).execute(&mut *tx).await?;
                    tx.commit().await?;
                    self.contact_method(id).await
                }

                async fn add_notification_rule(&self, user: &Handle, rule: &NewNotificationRule) -> Result<NotificationRule> {
                    let mut tx = self.write().await?;
                    let user_id = user_id(&mut tx, user).await?;
                    let owner: Option<i64> = sqlx::query_scalar("SELECT user_id FROM contact_methods WHERE id = $1")
                        .bind(rule.contact_method)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if owner != Some(user_id) {
                        return Err(StoreError::NotFound(format!(
                            "{user} has no contact method {}; see `klaxon user contact list {user}`",
                            rule.contact_method
                        )));
                    }
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO notification_rules (user_id, contact_method_id, urgency, delay_minutes) VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .bind(user_id)
                    .bind(rule.contact_method)
                    .bind(rule.urgency.as_str())
                    .bind(i64::from(rule.delay_minutes))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| unique_violation(e, || "that rule exists already".to_owned()))?;
                    tx.commit().await?;
                    Ok(NotificationRule {
                        id,
                        user: user.clone(),
                        urgency: rule.urgency,
                        contact_method: rule.contact_method,
                        delay_minutes: rule.delay_minutes,
                    })
                }

                async fn notification_rules(&self, user: &Handle) -> Result<Vec<NotificationRule>> {
                    let rows = sqlx::query(
                        "SELECT r.id, r.urgency, r.contact_method_id, r.delay_minutes FROM notification_rules r \
                         JOIN users u ON u.id = r.user_id WHERE u.handle = $1 ORDER BY r.urgency, r.delay_minutes, r.id",
                    )
                    .bind(user.as_str())
                    .fetch_all(self.reader())
                    .await?;
                    rows.iter()
                        .map(|row| {
                            let urgency: String = row.try_get(1)?;
                            let delay: i64 = row.try_get(3)?;
                            Ok(NotificationRule {
                                id: row.try_get(0)?,
                                user: user.clone(),
                                urgency: Urgency::parse(&urgency).ok_or_else(|| corrupt("urgency", &urgency))?,
                                contact_method: row.try_get(2)?,
                                delay_minutes: u32::try_from(delay).map_err(|e| corrupt("rule delay", e))?,
                            })
                        })
                        .collect()
                }

                async fn remove_notification_rule(&self, user: &Handle, id: i64) -> Result<()> {
                    let mut tx = self.write().await?;
                    let user_id = user_id(&mut tx, user).await?;
                    let gone = sqlx::query("DELETE FROM notification_rules WHERE id = $1 AND user_id = $2")
                        .bind(id)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if gone == 0 {
                        return Err(StoreError::NotFound(format!("{user} has no notification rule {id}")));
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn create_schedule(&self, schedule: &Schedule, at: Timestamp) -> Result<()> {
                    let mut tx = self.write().await?;
                    sqlx::query("INSERT INTO schedules (name, data, created_at) VALUES ($1, $2, $3)")
                        .bind(schedule.name())
                        .bind(schedule_json(schedule))
                        .bind(ms(at))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| unique_violation(e, || format!("a schedule named '{}' already exists", schedule.name())))?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn update_schedule(&self, name: &str, schedule: &Schedule) -> Result<()> {
                    let mut tx = self.write().await?;
                    let updated = sqlx::query("UPDATE schedules SET name = $1, data = $2 WHERE name = $3")
                        .bind(schedule.name())
                        .bind(schedule_json(schedule))
                        .bind(name)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| unique_violation(e, || format!("a schedule named '{}' already exists", schedule.name())))?
                        .rows_affected();
                    if updated == 0 {
                        return Err(no_schedule(name));
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn schedules(&self) -> Result<Vec<Schedule>> {
                    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM schedules ORDER BY name").fetch_all(self.reader()).await?;
                    rows.iter().map(|d| schedule_from_json(d)).collect()
                }

                async fn schedule(&self, name: &str) -> Result<Schedule> {
                    let data: Option<String> = sqlx::query_scalar("SELECT data FROM schedules WHERE name = $1")
                        .bind(name)
                        .fetch_optional(self.reader())
                        .await?;
                    data.map_or_else(|| Err(no_schedule(name)), |d| schedule_from_json(&d))
                }

                async fn delete_schedule(&self, name: &str) -> Result<()> {
                    let mut tx = self.write().await?;
                    let gone = sqlx::query("DELETE FROM schedules WHERE name = $1").bind(name).execute(&mut *tx).await?.rows_affected();
                    if gone == 0 {
                        return Err(no_schedule(name));
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn create_policy(&self, policy: &NewEscalationPolicy, at: Timestamp) -> Result<EscalationPolicy> {
                    let mut tx = self.write().await?;
                    sqlx::query("INSERT INTO escalation_policies (name, data, created_at) VALUES ($1, $2, $3)")
                        .bind(&policy.name)
                        .bind(json(policy))
                        .bind(ms(at))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| unique_violation(e, || format!("an escalation policy named '{}' already exists", policy.name)))?;
                    tx.commit().await?;
                    self.policy(&policy.name).await
                }

                async fn update_policy(&self, name: &str, policy: &NewEscalationPolicy) -> Result<EscalationPolicy> {
                    let mut tx = self.write().await?;
                    let updated = sqlx::query("UPDATE escalation_policies SET name = $1, data = $2 WHERE name = $3")
                        .bind(&policy.name)
                        .bind(json(policy))
                        .bind(name)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| unique_violation(e, || format!("an escalation policy named '{}' already exists", policy.name)))?
                        .rows_affected();
                    if updated == 0 {
                        return Err(no_policy(name));
                    }
                    tx.commit().await?;
                    self.policy(&policy.name).await
                }

                async fn policies(&self) -> Result<Vec<EscalationPolicy>> {
                    let rows = sqlx::query("SELECT id, data FROM escalation_policies ORDER BY name").fetch_all(self.reader()).await?;
                    rows.iter().map(policy_from_row).collect()
                }

                async fn policy(&self, name: &str) -> Result<EscalationPolicy> {
                    let row = sqlx::query("SELECT id, data FROM escalation_policies WHERE name = $1")
                        .bind(name)
                        .fetch_optional(self.reader())
                        .await?;
                    row.map_or_else(|| Err(no_policy(name)), |r| policy_from_row(&r))
                }

                async fn delete_policy(&self, name: &str) -> Result<()> {
                    let mut tx = self.write().await?;
                    let gone = sqlx::query("DELETE FROM escalation_policies WHERE name = $1").bind(name).execute(&mut *tx).await?.rows_affected();
                    if gone == 0 {
                        return Err(no_policy(name));
                    }
                    tx.commit().await?;
                    Ok(())
                }

                fn set_outlets(&self, outlets: klaxon_domain::paging::Outlets) {
                    match self.outlets.write() {
                        Ok(mut current) => *current = outlets,
                        Err(poisoned) => *poisoned.into_inner() = outlets,
                    }
                }

                async fn add_jobs(&self, incident: Option<IncidentNumber>, jobs: &[PlannedJob], at: Timestamp) -> Result<()> {
                    let mut tx = self.write().await?;
                    let rows: Vec<_> = jobs.iter().map(|job| (incident, job, at)).collect();
                    insert_jobs(&mut tx, &rows).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn claim_jobs(&self, now: Timestamp, lease: SignedDuration, limit: u32) -> Result<Vec<Job>> {
                    let mut tx = self.write().await?;
                    // A claim need not wait for the disk: one lost in a database crash
                    // leaves its jobs unclaimed, and they are claimed again.
                    if let Some(statement) = <$store>::CLAIM_WITHOUT_FLUSH {
                        sqlx::query(statement).execute(&mut *tx).await?;
                    }
                    // The due jobs are picked (and on PostgreSQL locked, skipping those
                    // another replica is claiming) once, in a materialised CTE. Written as
                    // `WHERE id IN (SELECT … LIMIT … FOR UPDATE SKIP LOCKED)` instead,
                    // PostgreSQL may run the subquery again for rows changed meanwhile,
                    // claiming more than the limit at the cost of a sort each time.
                    let sql = format!(
                        "WITH due AS MATERIALIZED (SELECT id FROM jobs \
                         WHERE dead_at IS NULL AND run_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
                         ORDER BY run_at, id LIMIT $3{}) \
                         UPDATE jobs SET locked_until = $1, attempts = attempts + 1 \
                         WHERE id IN (SELECT id FROM due) \
                         RETURNING {JOB_COLUMNS}",
                        <$store>::SKIP_LOCKED
                    );
                    let rows = sqlx::query(&sql)
                        .bind(ms(now + lease))
                        .bind(ms(now))
                        .bind(i64::from(limit))
                        .fetch_all(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    let mut jobs: Vec<Job> = rows.iter().map(job_from_row).collect::<Result<_>>()?;
                    jobs.sort_by_key(|j| (j.run_at, j.id));
                    Ok(jobs)
                }

                async fn finish_job(&self, done: JobDone) -> Result<()> {
                    self.submit(WriteOp::FinishJob(Box::new(done))).await.map(|_| ())
                }

                async fn jobs(&self, incident: Option<IncidentNumber>) -> Result<Vec<Job>> {
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {JOB_COLUMNS} FROM jobs"));
                    if let Some(n) = incident {
                        q.push(" WHERE incident_number = ").push_bind(n.0);
                    }
                    q.push(" ORDER BY run_at, id");
                    let rows = q.build().fetch_all(self.reader()).await?;
                    rows.iter().map(job_from_row).collect()
                }

                async fn subscribe(&self, team: &str, user: &Handle) -> Result<()> {
                    let mut tx = self.write().await?;
                    let user_id = user_id(&mut tx, user).await?;
                    sqlx::query("INSERT INTO team_subscriptions (team, user_id) VALUES ($1, $2)")
                        .bind(team)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| unique_violation(e, || format!("{user} is subscribed to {team} already")))?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn unsubscribe(&self, team: &str, user: &Handle) -> Result<()> {
                    let mut tx = self.write().await?;
                    let user_id = user_id(&mut tx, user).await?;
                    let gone = sqlx::query("DELETE FROM team_subscriptions WHERE team = $1 AND user_id = $2")
                        .bind(team)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if gone == 0 {
                        return Err(StoreError::NotFound(format!("{user} is not subscribed to {team}")));
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn subscriptions(&self) -> Result<Vec<(String, Handle)>> {
                    let rows = sqlx::query(
                        "SELECT s.team, u.handle FROM team_subscriptions s JOIN users u ON u.id = s.user_id ORDER BY s.team, u.handle",
                    )
                    .fetch_all(self.reader())
                    .await?;
                    rows.iter()
                        .map(|r| {
                            let handle: String = r.try_get(1)?;
                            Ok((r.try_get(0)?, Handle::parse(&handle).map_err(|e| corrupt("user handle", e))?))
                        })
                        .collect()
                }

                async fn room(&self, incident: IncidentNumber) -> Result<Option<Room>> {
                    let row = sqlx::query("SELECT channel, thread_ts, headline_ts FROM incident_rooms WHERE incident_number = $1")
                        .bind(incident.0)
                        .fetch_optional(self.reader())
                        .await?;
                    row.map(|r| Ok(Room { channel: r.try_get(0)?, thread_ts: r.try_get(1)?, headline_ts: r.try_get(2)? }))
                        .transpose()
                }

                async fn save_room(&self, incident: IncidentNumber, room: &Room) -> Result<()> {
                    let mut tx = self.write().await?;
                    sqlx::query("INSERT INTO incident_rooms (incident_number, channel, thread_ts, headline_ts) VALUES ($1, $2, $3, $4)")
                        .bind(incident.0)
                        .bind(&room.channel)
                        .bind(room.thread_ts.as_deref())
                        .bind(&room.headline_ts)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| unique_violation(e, || format!("incident {incident} has a chat room already")))?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn create_link(&self, token_hash: &str, link: &ActionLink) -> Result<()> {
                    // Through the group commit: a burst of pages creates links by the
                    // thousand, and a transaction of its own each would queue them.
                    let op = WriteOp::CreateLink(token_hash.to_owned(), Box::new(link.clone()));
                    self.submit(op).await.map(|_| ())
                }

                async fn peek_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<ActionLink>> {
                    let row = sqlx::query(
                        "SELECT incident_number, action, handle, expires_at, contact_method_id FROM action_links \
                         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
                    )
                    .bind(token_hash)
                    .bind(ms(now))
                    .fetch_optional(self.reader())
                    .await?;
                    row.as_ref().map(link_from_row).transpose()
                }

                async fn use_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<ActionLink>> {
                    let mut tx = self.write().await?;
                    let row = sqlx::query(
                        "UPDATE action_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
                         RETURNING incident_number, action, handle, expires_at, contact_method_id",
                    )
                    .bind(ms(now))
                    .bind(token_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    row.as_ref().map(link_from_row).transpose()
                }

                async fn job_backlog(&self, now: Timestamp) -> Result<Vec<JobBacklog>> {
                    let rows = sqlx::query(
                        "SELECT kind, COUNT(*) FILTER (WHERE dead_at IS NULL AND run_at <= $1), \
                         COUNT(*) FILTER (WHERE dead_at IS NOT NULL) FROM jobs GROUP BY kind ORDER BY kind",
                    )
                    .bind(ms(now))
                    .fetch_all(self.reader())
                    .await?;
                    rows.iter()
                        .map(|row| {
                            let kind: String = row.try_get(0)?;
                            Ok(JobBacklog {
                                kind: JobKind::parse(&kind).ok_or_else(|| corrupt("job kind", kind))?,
                                due: row.try_get(1)?,
                                dead: row.try_get(2)?,
                            })
                        })
                        .collect()
                }

                async fn next_job_at(&self) -> Result<Option<Timestamp>> {
                    let at: Option<i64> = sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE dead_at IS NULL")
                        .fetch_one(self.reader())
                        .await?;
                    Ok(at.map(instant))
                }
            }

            /// Writes a finished job's outcome and effects; inside the group commit.
            pub(super) async fn apply_finish(tx: &mut Tx<'_>, done: &JobDone, outlets: &klaxon_domain::paging::Outlets) -> Result<Written> {
                apply_finishes(tx, &[done], outlets).await.map(|()| Written::Nothing)
            }

            /// Writes the outcomes and effects of finished jobs together: the jobs done
            /// are deleted with one statement, their incident changes and follow-up jobs
            /// written with a statement per kind of row (see `apply_changes`). A job
            /// that is gone (cancelled while it ran) fails the lot, which the group
            /// commit then writes one by one to find it.
            pub(super) async fn apply_finishes(tx: &mut Tx<'_>, dones: &[&JobDone], outlets: &klaxon_domain::paging::Outlets) -> Result<()> {
                let done: Vec<i64> = dones.iter().filter(|d| d.outcome == JobOutcome::Done).map(|d| d.id).collect();
                let mut touched = 0;
                for chunk in done.chunks(1000) {
                    let mut q = QueryBuilder::<$db>::new("DELETE FROM jobs WHERE id IN (");
                    let mut ids = q.separated(", ");
                    for id in chunk {
                        ids.push_bind(*id);
                    }
                    q.push(")");
                    touched += q.build().execute(&mut **tx).await?.rows_affected();
                }
                for d in dones {
                    // A job that waits gives its claim back without spending an attempt.
                    let (set, at, error) = match &d.outcome {
                        JobOutcome::Done => continue,
                        JobOutcome::Retry { at, error } => ("run_at = $1", at, error),
                        JobOutcome::Wait { at, reason } => ("run_at = $1, attempts = attempts - 1", at, reason),
                        JobOutcome::Dead { at, error } => ("dead_at = $1", at, error),
                    };
                    touched += sqlx::query(&format!(
                        "UPDATE jobs SET {set}, last_error = $2, locked_until = NULL WHERE id = $3"
                    ))
                    .bind(ms(*at))
                    .bind(error)
                    .bind(d.id)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                }
                if touched != dones.len() as u64 {
                    return Err(match dones {
                        [one] => StoreError::Conflict(format!("job {} was cancelled while it ran", one.id)),
                        _ => StoreError::Conflict("a job was cancelled while it ran".into()),
                    });
                }
                let changes: Vec<&Change> = dones.iter().flat_map(|d| d.changes.iter()).collect();
                apply_changes(tx, &changes, outlets).await?;
                let mut jobs = vec![];
                for d in dones {
                    let at = d.changes.first().map_or_else(Timestamp::now, |c| c.incident.updated_at);
                    jobs.extend(d.jobs.iter().map(|(incident, job)| (*incident, job, at)));
                }
                insert_jobs(tx, &jobs).await
            }

            pub(super) async fn insert_link(tx: &mut Tx<'_>, token_hash: &str, link: &ActionLink) -> Result<()> {
                sqlx::query(
                    "INSERT INTO action_links (token_hash, incident_number, action, handle, expires_at, contact_method_id) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(token_hash)
                .bind(link.incident.0)
                .bind(&link.action)
                .bind(link.handle.as_str())
                .bind(ms(link.expires_at))
                .bind(link.contact_method)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Applies the job plan of an incident change: cancels first, then adds.
            /// Cancels an incident's live jobs of these kinds.
            pub(super) async fn cancel_jobs(tx: &mut Tx<'_>, number: IncidentNumber, kinds: &[JobKind]) -> Result<()> {
                if kinds.is_empty() {
                    return Ok(());
                }
                let mut q = QueryBuilder::<$db>::new("DELETE FROM jobs WHERE dead_at IS NULL AND incident_number = ");
                q.push_bind(number.0).push(" AND kind IN (");
                let mut list = q.separated(", ");
                for kind in kinds {
                    list.push_bind(kind.as_str());
                }
                q.push(")");
                q.build().execute(&mut **tx).await?;
                Ok(())
            }

            /// Jobs to run, each created `at`, a statement per 500; one whose key is
            /// taken by a live job already is left out (idempotency).
            pub(super) async fn insert_jobs(
                tx: &mut Tx<'_>,
                jobs: &[(Option<IncidentNumber>, &PlannedJob, Timestamp)],
            ) -> Result<()> {
                for chunk in jobs.chunks(500) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO jobs (kind, incident_number, dedup_key, run_at, payload, created_at) ",
                    );
                    q.push_values(chunk, |mut row, (incident, job, at)| {
                        let incident_part = incident.map_or_else(|| "-".to_owned(), |n| n.0.to_string());
                        row.push_bind(job.kind.as_str())
                            .push_bind(incident.map(|n| n.0))
                            .push_bind(format!("{}/{incident_part}/{}", job.kind.as_str(), job.key))
                            .push_bind(ms(job.run_at))
                            .push_bind(job.payload.to_string())
                            .push_bind(ms(*at));
                    });
                    q.push(" ON CONFLICT (dedup_key) DO NOTHING");
                    q.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            async fn user_id(tx: &mut Tx<'_>, user: &Handle) -> Result<i64> {
                let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE handle = $1")
                    .bind(user.as_str())
                    .fetch_optional(&mut **tx)
                    .await?;
                id.ok_or_else(|| StoreError::NotFound(format!("there is no user '{user}'; see `klaxon user list`")))
            }

            fn method_from_row(row: &DbRow) -> Result<ContactMethod> {
                let handle: String = row.try_get(1)?;
                let kind: String = row.try_get(2)?;
                let verified: Option<i64> = row.try_get(5)?;
                Ok(ContactMethod {
                    id: row.try_get(0)?,
                    user: Handle::parse(&handle).map_err(|e| corrupt("user handle", e))?,
                    kind: ContactKind::parse(&kind).map_err(|e| corrupt("contact kind", e))?,
                    address: row.try_get(3)?,
                    label: row.try_get(4)?,
                    verified: verified.is_some(),
                    verified_at: verified.map(instant),
                    created_at: instant(row.try_get(6)?),
                })
            }

            fn job_from_row(row: &DbRow) -> Result<Job> {
                let kind: String = row.try_get(1)?;
                let incident: Option<i64> = row.try_get(2)?;
                let payload: String = row.try_get(5)?;
                let attempts: i64 = row.try_get(6)?;
                let dead: Option<i64> = row.try_get(8)?;
                Ok(Job {
                    id: row.try_get(0)?,
                    kind: JobKind::parse(&kind).ok_or_else(|| corrupt("job kind", &kind))?,
                    incident: incident.map(IncidentNumber),
                    dedup_key: row.try_get(3)?,
                    run_at: instant(row.try_get(4)?),
                    payload: serde_json::from_str(&payload).map_err(|e| corrupt("job payload", e))?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    last_error: row.try_get(7)?,
                    dead_at: dead.map(instant),
                })
            }

            fn link_from_row(row: &DbRow) -> Result<ActionLink> {
                let handle: String = row.try_get(2)?;
                Ok(ActionLink {
                    incident: IncidentNumber(row.try_get(0)?),
                    action: row.try_get(1)?,
                    handle: Handle::parse(&handle).map_err(|e| corrupt("link handle", e))?,
                    contact_method: row.try_get(4)?,
                    expires_at: instant(row.try_get(3)?),
                })
            }

            fn code_from_row(row: &DbRow) -> Result<SentCode> {
                let tries: i64 = row.try_get(2)?;
                Ok(SentCode {
                    hash: row.try_get(0)?,
                    sent_at: instant(row.try_get(1)?),
                    tries: u32::try_from(tries).unwrap_or(u32::MAX),
                })
            }

            fn policy_from_row(row: &DbRow) -> Result<EscalationPolicy> {
                let data: String = row.try_get(1)?;
                let p: NewEscalationPolicy = serde_json::from_str(&data).map_err(|e| corrupt("escalation policy", e))?;
                Ok(EscalationPolicy {
                    id: row.try_get(0)?,
                    name: p.name,
                    description: p.description,
                    steps: p.steps,
                    repeat: p.repeat,
                    ack_timeout_minutes: p.ack_timeout_minutes,
                })
            }

            fn schedule_json(schedule: &Schedule) -> String {
                json(&NewSchedule::from(schedule.clone()))
            }

            fn schedule_from_json(data: &str) -> Result<Schedule> {
                let new: NewSchedule = serde_json::from_str(data).map_err(|e| corrupt("schedule", e))?;
                Schedule::new(new).map_err(|e| corrupt("schedule", e))
            }

            fn no_schedule(name: &str) -> StoreError {
                StoreError::NotFound(format!("there is no schedule '{name}'; see `klaxon schedule list`"))
            }

            fn no_policy(name: &str) -> StoreError {
                StoreError::NotFound(format!("there is no escalation policy '{name}'; see `klaxon escalation list`"))
            }

            fn json<T: serde::Serialize>(value: &T) -> String {
                serde_json::to_string(value).expect("plain data always serialises")
            }
        }
    };
}

pub(crate) use impl_paging_store;
