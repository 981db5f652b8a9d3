//! The SQL both backends share, written once. SQLite and PostgreSQL agree on everything
//! here (`$N` parameters, `RETURNING`, `ON CONFLICT`), so one macro expands the same
//! code against each backend's concrete types; the backend modules supply only
//! connecting, migrating and how a write transaction begins.

/// Implements [`crate::Store`] for `$store`, whose database is `$db`. `$store` must have
/// `fn reader(&self) -> &sqlx::Pool<$db>`, `async fn write(&self) -> Result<Tx>`,
/// `async fn begin_write(pool: &sqlx::Pool<$db>) -> Result<Tx>` and a field
/// `jobs: tokio::sync::mpsc::Sender<WriteJob>` feeding `run_writer` (`sql_writer.rs`), which its `open`
/// spawns, and `fn accepted(&self) -> &Sender<WriteJob>`, the writer the next accepted
/// alert events go to (`jobs` again, or writers of their own where the backend writes
/// concurrently).
macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        use async_trait::async_trait;
        use jiff::Timestamp;
        use klaxon_domain::api::NewUser;
        use klaxon_domain::auth::{Scope, TokenInfo, User};
        use klaxon_domain::incident::{EventKind, Incident, Source, Status, TimelineEvent};
        use klaxon_domain::{Handle, IncidentNumber, Severity};
        use sqlx::{QueryBuilder, Row};

        use crate::group::{WriteJob, WriteOp, Written};
        use klaxon_domain::paging::Outlets;
        use crate::{corrupt, instant, ms, Authenticated, Change, IncidentFilter, Result, StoreError};

        type DbRow = <$db as sqlx::Database>::Row;
        type Tx<'c> = sqlx::Transaction<'c, $db>;

        const TOKEN_COLUMNS: &str = "t.id, t.name, t.scope, u.handle, t.created_at, t.revoked_at";
        const USER_COLUMNS: &str = "u.id, u.handle, u.name, u.email, u.created_at, u.role";

        #[async_trait]
        impl crate::Store for $store {
            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(self.reader()).await?;
                Ok(())
            }

            async fn create_user(&self, user: &NewUser, at: Timestamp) -> Result<User> {
                let mut tx = self.write().await?;
                let created = insert_user(&mut tx, user, at).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn users(&self) -> Result<Vec<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.handle");
                let rows = sqlx::query(&sql).fetch_all(self.reader()).await?;
                rows.iter().map(user_from_row).collect()
            }

            async fn user(&self, handle: &Handle) -> Result<User> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.handle = $1");
                let row = sqlx::query(&sql).bind(handle.as_str()).fetch_optional(self.reader()).await?;
                match row {
                    Some(row) => user_from_row(&row),
                    None => Err(StoreError::NotFound(format!("there is no user '{handle}'; see `klaxon user list`"))),
                }
            }

            async fn bootstrap(
                &self,
                admin: &NewUser,
                token_name: &str,
                token_hash: &str,
                at: Timestamp,
            ) -> Result<Option<User>> {
                let mut tx = self.write().await?;
                let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
                if users > 0 {
                    return Ok(None);
                }
                let admin = NewUser { role: Some(Scope::Admin), ..admin.clone() };
                let user = insert_user(&mut tx, &admin, at).await?;
                insert_token(&mut tx, token_name, Scope::Admin, user.id, token_hash, at).await?;
                tx.commit().await?;
                Ok(Some(user))
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
                let user_id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE handle = $1")
                    .bind(user.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let user_id = user_id
                    .ok_or_else(|| StoreError::NotFound(format!("there is no user '{user}'; create it with `klaxon user create`")))?;
                let id = insert_token(&mut tx, name, scope, user_id, token_hash, at).await?;
                tx.commit().await?;
                Ok(TokenInfo { id, name: name.to_owned(), scope, user: user.clone(), created_at: at, revoked_at: None })
            }

            async fn tokens(&self) -> Result<Vec<TokenInfo>> {
                let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id");
                let rows = sqlx::query(&sql).fetch_all(self.reader()).await?;
                rows.iter().map(token_from_row).collect()
            }

            async fn revoke_token(&self, id: i64, at: Timestamp) -> Result<TokenInfo> {
                let mut tx = self.write().await?;
                let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await?;
                let mut token = match row {
                    Some(row) => token_from_row(&row)?,
                    None => return Err(StoreError::NotFound(format!("there is no token {id}; see `klaxon token list`"))),
                };
                if let Some(revoked) = token.revoked_at {
                    return Err(StoreError::Conflict(format!("token {id} ('{}') was already revoked at {revoked}", token.name)));
                }
                // The live tokens that act as admin (an admin scope of an admin user),
                // locked (PostgreSQL; SQLite's write transaction is exclusive already),
                // so two revocations cannot each leave the other.
                let admins: Vec<i64> = sqlx::query_scalar(&format!(
                    "SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.scope = $1 AND u.role = $1 AND t.revoked_at IS NULL ORDER BY t.id{}",
                    <$store>::LOCK_ROWS
                ))
                .bind(Scope::Admin.as_str())
                .fetch_all(&mut *tx)
                .await?;
                if admins.contains(&id) {
                    let others = admins.iter().filter(|other| **other != id).count();
                    klaxon_domain::auth::check_revocable(&token, others).map_err(|e| StoreError::Conflict(e.to_string()))?;
                }
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
                    .bind(ms(at))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                token.revoked_at = Some(at);
                Ok(token)
            }

            async fn authenticate(&self, token_hash: &str) -> Result<Option<Authenticated>> {
                let sql = format!(
                    "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
                );
                let row = sqlx::query(&sql).bind(token_hash).fetch_optional(self.reader()).await?;
                let Some(row) = row else { return Ok(None) };
                let token = token_from_row(&row)?;
                // The user's columns follow the token's six.
                let role: String = row.try_get(11)?;
                let user = User {
                    id: row.try_get(6)?,
                    handle: token.user.clone(),
                    name: row.try_get(8)?,
                    email: row.try_get(9)?,
                    role: Scope::parse(&role).map_err(|e| corrupt("user role", e))?,
                    created_at: instant(row.try_get(10)?),
                };
                Ok(Some(Authenticated { user, token }))
            }

            async fn set_role(&self, handle: &Handle, role: Scope) -> Result<User> {
                let mut tx = self.write().await?;
                let changed = sqlx::query("UPDATE users SET role = $1 WHERE handle = $2")
                    .bind(role.as_str())
                    .bind(handle.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed == 0 {
                    return Err(StoreError::NotFound(format!("there is no user '{handle}'; see `klaxon user list`")));
                }
                tx.commit().await?;
                self.user(handle).await
            }

            async fn declare(&self, slug_base: &str, events: &[TimelineEvent]) -> Result<Incident> {
                let op = WriteOp::Declare { slug_base: slug_base.to_owned(), events: events.to_vec() };
                match self.submit(op).await? {
                    Written::Incident(incident) => Ok(incident),
                    _ => Err(StoreError::Other("the writer answered a declaration without an incident".into())),
                }
            }

            async fn incident(&self, number: IncidentNumber) -> Result<Incident> {
                let data: Option<String> = sqlx::query_scalar("SELECT data FROM incidents WHERE number = $1")
                    .bind(number.0)
                    .fetch_optional(self.reader())
                    .await?;
                match data {
                    Some(data) => incident_from_json(&data),
                    None => Err(StoreError::NotFound(format!("there is no incident {number}"))),
                }
            }

            async fn incidents_by_number(&self, numbers: &[IncidentNumber]) -> Result<Vec<Incident>> {
                let mut found = Vec::with_capacity(numbers.len());
                for chunk in numbers.chunks(500) {
                    let mut q = QueryBuilder::<$db>::new("SELECT data FROM incidents WHERE number IN (");
                    let mut list = q.separated(", ");
                    for n in chunk {
                        list.push_bind(n.0);
                    }
                    q.push(")");
                    let rows: Vec<String> = q.build_query_scalar().fetch_all(self.reader()).await?;
                    for data in rows {
                        found.push(incident_from_json(&data)?);
                    }
                }
                Ok(found)
            }

            async fn timeline(&self, number: IncidentNumber) -> Result<Vec<TimelineEvent>> {
                let rows = sqlx::query(
                    "SELECT seq, actor, source, recorded_at, occurred_at, data FROM incident_events \
                     WHERE incident_number = $1 ORDER BY seq",
                )
                .bind(number.0)
                .fetch_all(self.reader())
                .await?;
                rows.iter().map(event_from_row).collect()
            }

            async fn timeline_events(&self, wanted: &[(IncidentNumber, i64)]) -> Result<Vec<(IncidentNumber, TimelineEvent)>> {
                let mut found = Vec::with_capacity(wanted.len());
                for chunk in wanted.chunks(400) {
                    let mut q = QueryBuilder::<$db>::new(
                        "SELECT seq, actor, source, recorded_at, occurred_at, data, incident_number FROM incident_events \
                         WHERE (incident_number, seq) IN (",
                    );
                    q.push_values(chunk, |mut row, (n, seq)| {
                        row.push_bind(n.0).push_bind(*seq);
                    });
                    q.push(")");
                    for row in q.build().fetch_all(self.reader()).await? {
                        found.push((IncidentNumber(row.try_get(6)?), event_from_row(&row)?));
                    }
                }
                Ok(found)
            }

            async fn commit(&self, changes: &[Change]) -> Result<()> {
                self.submit(WriteOp::Commit(changes.to_vec())).await.map(|_| ())
            }

            async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>> {
                let mut q = QueryBuilder::<$db>::new("SELECT data FROM incidents WHERE 1 = 1");
                if let Some(status) = filter.status {
                    q.push(" AND status = ").push_bind(status.as_str());
                }
                if let Some(severity) = filter.severity {
                    q.push(" AND severity = ").push_bind(i64::from(severity.level()));
                }
                if let Some(service) = &filter.service {
                    q.push(" AND service = ").push_bind(service.clone());
                }
                if let Some(open) = filter.open {
                    q.push(if open { " AND status IN (" } else { " AND status NOT IN (" });
                    let mut list = q.separated(", ");
                    for status in Status::ALL.into_iter().filter(|s| s.is_open()) {
                        list.push_bind(status.as_str());
                    }
                    q.push(")");
                }
                if let Some(since) = filter.since {
                    q.push(" AND declared_at >= ").push_bind(ms(since));
                }
                if let Some(before) = filter.before {
                    q.push(" AND number < ").push_bind(before.0);
                }
                if let Some(viewer) = &filter.viewer {
                    q.push(" AND (restricted = ")
                        .push_bind(false)
                        .push(" OR number IN (SELECT incident_number FROM incident_participants WHERE handle = ")
                        .push_bind(viewer.as_str().to_owned())
                        .push("))");
                }
                q.push(" ORDER BY number DESC LIMIT ").push_bind(i64::from(filter.limit));
                let rows: Vec<String> = q.build_query_scalar().fetch_all(self.reader()).await?;
                rows.iter().map(|data| incident_from_json(data)).collect()
            }

            async fn incident_counts(&self) -> Result<Vec<(Status, Severity, i64)>> {
                let rows = sqlx::query(
                    "SELECT status, severity, COUNT(*) FROM incidents WHERE drill = $1 GROUP BY status, severity",
                )
                .bind(false)
                .fetch_all(self.reader())
                .await?;
                rows.iter()
                    .map(|row| {
                        let status: String = row.try_get(0)?;
                        let severity: i64 = row.try_get(1)?;
                        let status = Status::parse(&status).map_err(|e| corrupt("incident status", e))?;
                        let severity = Severity::new(severity).map_err(|e| corrupt("incident severity", e))?;
                        Ok((status, severity, row.try_get(2)?))
                    })
                    .collect()
            }

            async fn hold_singleton(&self, name: &str) -> Result<bool> {
                <$store>::hold_singleton(self, name).await
            }
        }

        impl $store {
            /// Hands a write to the group-commit writer and waits until it is committed.
            async fn submit(&self, op: WriteOp) -> Result<Written> {
                let writer = match op {
                    WriteOp::Enqueue(_) => self.accepted(),
                    _ => &self.jobs,
                };
                let (reply, answer) = tokio::sync::oneshot::channel();
                let stopped = || StoreError::Other("the database writer has stopped".into());
                writer.send(WriteJob { op, reply }).await.map_err(|_| stopped())?;
                answer.await.map_err(|_| stopped())?
            }
        }

    async fn apply_declare(tx: &mut Tx<'_>, slug_base: &str, events: &[TimelineEvent], outlets: &Outlets) -> Result<Incident> {
            let mut declared = apply_declares(tx, &[(slug_base, events)], outlets).await?;
            Ok(declared.remove(0))
        }

    /// Declares incidents, each from its slug base and first events, a statement per
    /// kind of row for all of them: an alert storm under per-alert grouping opens
    /// thousands of incidents at once. Numbers are given out in order; a slug already
    /// taken, or taken earlier in the same call, gets the incident's number appended.
    async fn apply_declares(
        tx: &mut Tx<'_>,
        declarations: &[(&str, &[TimelineEvent])],
        outlets: &Outlets,
    ) -> Result<Vec<Incident>> {
            if declarations.is_empty() {
                return Ok(Vec::new());
            }
            // The counter row also serialises concurrent declarations on PostgreSQL,
            // which keeps the slug check below free of races.
            let last: i64 = sqlx::query_scalar(
                "UPDATE counters SET value = value + $1 WHERE name = 'incident_number' RETURNING value",
            )
            .bind(declarations.len() as i64)
            .fetch_one(&mut **tx)
            .await?;
            let first = last - declarations.len() as i64 + 1;
            let mut taken = std::collections::HashSet::new();
            for chunk in declarations.chunks(CHANGE_ROWS) {
                let mut q = QueryBuilder::<$db>::new("SELECT slug FROM incidents WHERE slug IN (");
                let mut list = q.separated(", ");
                for (base, _) in chunk {
                    list.push_bind(base.to_string());
                }
                q.push(")");
                for row in q.build().fetch_all(&mut **tx).await? {
                    taken.insert(row.try_get::<String, _>(0)?);
                }
            }
            let mut incidents = Vec::with_capacity(declarations.len());
            for (number, (base, events)) in (first..).zip(declarations) {
                let slug = match taken.insert(base.to_string()) {
                    true => base.to_string(),
                    false => format!("{base}-{number}"),
                };
                incidents.push(Incident::replay(IncidentNumber(number), &slug, events).ok_or_else(|| {
                    StoreError::Other("an incident's timeline must start with its declaration".into())
                })?);
            }
            for chunk in incidents.chunks(CHANGE_ROWS) {
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO incidents (number, slug, status, severity, service, restricted, drill, declared_at, version, updated_at, data) ",
                );
                q.push_values(chunk, |mut row, incident| {
                    row.push_bind(incident.number.0)
                        .push_bind(incident.slug.clone())
                        .push_bind(incident.status.as_str())
                        .push_bind(i64::from(incident.severity.level()))
                        .push_bind(incident.service.clone())
                        .push_bind(incident.restricted)
                        .push_bind(incident.drill)
                        .push_bind(ms(incident.declared_at))
                        .push_bind(incident.version)
                        .push_bind(ms(incident.updated_at))
                        .push_bind(projection_json(incident));
                });
                q.build().execute(&mut **tx).await?;
            }
            let events: Vec<_> = incidents
                .iter()
                .zip(declarations)
                .flat_map(|(incident, (_, events))| events.iter().map(|e| (incident.number, e)))
                .collect();
            for chunk in events.chunks(CHANGE_ROWS) {
                insert_event_rows(tx, chunk).await?;
            }
            let participants: Vec<_> = incidents
                .iter()
                .flat_map(|i| i.participants.iter().map(|h| (i.number, h.as_str())))
                .collect();
            write_participants(tx, &participants).await?;
            let mut jobs = Vec::new();
            for (incident, (_, events)) in incidents.iter().zip(declarations) {
                let mut plan = klaxon_domain::paging::plan_jobs(events, incident);
                plan.add.extend(outlets.jobs(events, incident));
                paging_queries::cancel_jobs(tx, incident.number, &plan.cancel).await?;
                jobs.push((incident.number, incident.updated_at, plan.add));
            }
            let jobs: Vec<_> = jobs
                .iter()
                .flat_map(|(number, at, add)| add.iter().map(|job| (Some(*number), job, *at)))
                .collect();
            paging_queries::insert_jobs(tx, &jobs).await?;
            Ok(incidents)
        }

    async fn apply_commit(tx: &mut Tx<'_>, changes: &[Change], outlets: &Outlets) -> Result<()> {
            apply_changes(tx, &changes.iter().collect::<Vec<_>>(), outlets).await
        }

    /// Writes incident changes. Changes to distinct incidents go in together, a
    /// statement per kind of row for all of them: the engine finishes thousands of
    /// escalation steps at once, and a statement per change per row would cost a
    /// round trip each. Two changes to one incident go one after the other.
    async fn apply_changes(tx: &mut Tx<'_>, changes: &[&Change], outlets: &Outlets) -> Result<()> {
            let mut numbers = std::collections::HashSet::new();
            if changes.iter().all(|c| numbers.insert(c.incident.number)) {
                return apply_distinct_changes(tx, changes, outlets).await;
            }
            for change in changes {
                apply_distinct_changes(tx, &[change], outlets).await?;
            }
            Ok(())
        }

    /// Writes changes to distinct incidents, a statement per kind of row.
    async fn apply_distinct_changes(tx: &mut Tx<'_>, changes: &[&Change], outlets: &Outlets) -> Result<()> {
            for chunk in changes.chunks(CHANGE_ROWS) {
                update_incidents(tx, chunk).await?;
            }
            let events: Vec<_> = changes
                .iter()
                .flat_map(|c| c.events.iter().map(|e| (c.incident.number, e)))
                .collect();
            for chunk in events.chunks(CHANGE_ROWS) {
                insert_event_rows(tx, chunk).await?;
            }
            let participants: Vec<_> = changes
                .iter()
                .flat_map(|c| c.new_participants.iter().map(|h| (c.incident.number, h.as_str())))
                .collect();
            write_participants(tx, &participants).await?;
            // Only servers with an event webhook or shared rooms write outlet jobs.
            let outlet_jobs: Vec<Vec<_>> = changes
                .iter()
                .map(|c| outlets.jobs(&c.events, &c.incident))
                .collect();
            let mut jobs = vec![];
            for (change, outlet_jobs) in changes.iter().zip(&outlet_jobs) {
                let (number, at) = (change.incident.number, change.incident.updated_at);
                paging_queries::cancel_jobs(tx, number, &change.jobs.cancel).await?;
                jobs.extend(change.jobs.add.iter().chain(outlet_jobs).map(|j| (Some(number), j, at)));
                move_alerts(tx, change).await?;
            }
            paging_queries::insert_jobs(tx, &jobs).await
        }

    /// Rows per statement when changes are written together: well under both
    /// databases' limits on bound parameters.
    const CHANGE_ROWS: usize = 500;

    /// The projections of changed incidents, each only if it is still at the version
    /// its change was made from.
    async fn update_incidents(tx: &mut Tx<'_>, changes: &[&Change]) -> Result<()> {
            let mut q = QueryBuilder::<$db>::new(
                "UPDATE incidents SET status = v.status, severity = v.severity, service = v.service, \
                 restricted = v.restricted, drill = v.drill, version = v.version, updated_at = v.updated_at, data = v.data \
                 FROM (SELECT column1 AS number, column2 AS expected, column3 AS status, column4 AS severity, \
                 column5 AS service, column6 AS restricted, column7 AS drill, column8 AS version, \
                 column9 AS updated_at, column10 AS data FROM (",
            );
            q.push_values(changes, |mut row, change| {
                let i = &change.incident;
                row.push_bind(i.number.0)
                    .push_bind(change.expected_version)
                    .push_bind(i.status.as_str())
                    .push_bind(i64::from(i.severity.level()))
                    .push_bind(i.service.clone())
                    .push_bind(i.restricted)
                    .push_bind(i.drill)
                    .push_bind(i.version)
                    .push_bind(ms(i.updated_at))
                    .push_bind(projection_json(i));
            });
            q.push(") AS x) AS v WHERE incidents.number = v.number AND incidents.version = v.expected");
            let updated = q.build().execute(&mut **tx).await?.rows_affected();
            if updated != changes.len() as u64 {
                return Err(StoreError::Conflict(match changes {
                    [one] => format!("incident {} changed while this request was handled; try again", one.incident.number),
                    _ => "an incident changed while this request was handled; try again".to_owned(),
                }));
            }
            Ok(())
        }

    /// Moves an incident's open alerts along with it (acknowledged, resolved).
    async fn move_alerts(tx: &mut Tx<'_>, change: &Change) -> Result<()> {
            let i = &change.incident;
            let at = ms(i.updated_at);
            match change.alerts {
                Some(klaxon_domain::alert::AlertStatus::Acknowledged) => {
                    sqlx::query(
                        "UPDATE alerts SET status = 'acknowledged', acknowledged_at = $1 \
                         WHERE incident_number = $2 AND status = 'triggered'",
                    )
                    .bind(at)
                    .bind(i.number.0)
                    .execute(&mut **tx)
                    .await?;
                }
                Some(klaxon_domain::alert::AlertStatus::Resolved) => {
                    sqlx::query(
                        "UPDATE alerts SET status = 'resolved', resolved_at = $1 \
                         WHERE incident_number = $2 AND status <> 'resolved'",
                    )
                    .bind(at)
                    .bind(i.number.0)
                    .execute(&mut **tx)
                    .await?;
                }
                Some(klaxon_domain::alert::AlertStatus::Triggered) | None => {}
            }
            Ok(())
        }

        async fn insert_user(tx: &mut Tx<'_>, user: &NewUser, at: Timestamp) -> Result<User> {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (handle, name, email, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(user.handle.as_str())
            .bind(&user.name)
            .bind(&user.email)
            .bind(user.role().as_str())
            .bind(ms(at))
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| unique_violation(e, || format!("a user with handle '{}' already exists", user.handle)))?;
            Ok(User {
                id,
                handle: user.handle.clone(),
                name: user.name.clone(),
                email: user.email.clone(),
                role: user.role(),
                created_at: at,
            })
        }

        async fn insert_token(
            tx: &mut Tx<'_>,
            name: &str,
            scope: Scope,
            user_id: i64,
            token_hash: &str,
            at: Timestamp,
        ) -> Result<i64> {
            let id = sqlx::query_scalar(
                "INSERT INTO api_tokens (name, scope, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(name)
            .bind(scope.as_str())
            .bind(user_id)
            .bind(token_hash)
            .bind(ms(at))
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| unique_violation(e, || "that token already exists; choose another".to_owned()))?;
            Ok(id)
        }

        /// Timeline events of one or more incidents, with one statement.
        async fn insert_event_rows(tx: &mut Tx<'_>, rows: &[(IncidentNumber, &TimelineEvent)]) -> Result<()> {
            if rows.is_empty() {
                return Ok(());
            }
            let mut data = Vec::with_capacity(rows.len());
            for (_, e) in rows {
                data.push(serde_json::to_string(&e.kind).map_err(|e| StoreError::Other(e.to_string()))?);
            }
            let mut q = QueryBuilder::<$db>::new(
                "INSERT INTO incident_events (incident_number, seq, type, actor, source, recorded_at, occurred_at, data) ",
            );
            q.push_values(rows.iter().zip(data), |mut row, ((number, e), data)| {
                row.push_bind(number.0)
                    .push_bind(e.seq)
                    .push_bind(e.kind.name())
                    .push_bind(e.actor.clone())
                    .push_bind(e.source.as_str())
                    .push_bind(ms(e.recorded_at))
                    .push_bind(e.occurred_at.map(ms))
                    .push_bind(data);
            });
            let first = rows[0].0;
            let one = rows.iter().all(|(n, _)| *n == first);
            q.build().execute(&mut **tx).await.map_err(|err| {
                unique_violation(err, || match one {
                    true => format!("incident {first} changed while this request was handled; try again"),
                    false => "an incident changed while this request was handled; try again".to_owned(),
                })
            })?;
            Ok(())
        }

        /// People taking part in incidents, by incident and handle, a statement per
        /// [`CHANGE_ROWS`]; those already in are left as they are.
        async fn write_participants(tx: &mut Tx<'_>, rows: &[(IncidentNumber, &str)]) -> Result<()> {
            for chunk in rows.chunks(CHANGE_ROWS) {
                let mut q = QueryBuilder::<$db>::new("INSERT INTO incident_participants (incident_number, handle) ");
                q.push_values(chunk, |mut row, (number, handle)| {
                    row.push_bind(number.0).push_bind(handle.to_string());
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut **tx).await?;
            }
            Ok(())
        }

        fn user_from_row(row: &DbRow) -> Result<User> {
            let handle: String = row.try_get(1)?;
            let role: String = row.try_get(5)?;
            Ok(User {
                id: row.try_get(0)?,
                handle: Handle::parse(&handle).map_err(|e| corrupt("user handle", e))?,
                name: row.try_get(2)?,
                email: row.try_get(3)?,
                role: Scope::parse(&role).map_err(|e| corrupt("user role", e))?,
                created_at: instant(row.try_get(4)?),
            })
        }

        fn token_from_row(row: &DbRow) -> Result<TokenInfo> {
            let scope: String = row.try_get(2)?;
            let user: String = row.try_get(3)?;
            let revoked: Option<i64> = row.try_get(5)?;
            Ok(TokenInfo {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                scope: Scope::parse(&scope).map_err(|e| corrupt("token scope", e))?,
                user: Handle::parse(&user).map_err(|e| corrupt("user handle", e))?,
                created_at: instant(row.try_get(4)?),
                revoked_at: revoked.map(instant),
            })
        }

        fn event_from_row(row: &DbRow) -> Result<TimelineEvent> {
            let source: String = row.try_get(2)?;
            let occurred: Option<i64> = row.try_get(4)?;
            let data: String = row.try_get(5)?;
            Ok(TimelineEvent {
                seq: row.try_get(0)?,
                kind: serde_json::from_str::<EventKind>(&data).map_err(|e| corrupt("event", e))?,
                actor: row.try_get(1)?,
                source: Source::parse(&source).ok_or_else(|| corrupt("event source", &source))?,
                recorded_at: instant(row.try_get(3)?),
                occurred_at: occurred.map(instant),
            })
        }

        fn projection_json(incident: &Incident) -> String {
            serde_json::to_string(incident).expect("an incident always serialises")
        }

        fn incident_from_json(data: &str) -> Result<Incident> {
            serde_json::from_str(data).map_err(|e| corrupt("incident", e))
        }

        fn unique_violation(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
            match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message()),
                _ => StoreError::from(e),
            }
        }
    };
}

pub(crate) use impl_store;
