//! The SQL of [`crate::AlertStore`], shared by both backends like `sql.rs`.

/// Implements [`crate::AlertStore`] for `$store` on `$db`. Expands inside the backend
/// module, next to `impl_store!`, whose incident writes it reuses; the backend supplies
/// `INBOX_ORDER`, the terms its inbox read adds to use its index.
macro_rules! impl_alert_store {
    ($store:ty, $db:ty) => {
        mod alert_queries {
            use super::*;

            use async_trait::async_trait;
            use jiff::Timestamp;
            use klaxon_domain::alert::{Alert, AlertEvent, AlertSeverity, AlertStatus};
            use klaxon_domain::incident::{Incident, Status};
            use klaxon_domain::service::{Grouping, Service};
            use klaxon_domain::IncidentNumber;
            use sqlx::{QueryBuilder, Row};

            use crate::alerts::{AlertFilter, AlertLogEntry, AlertStore, AlertUpdate, InboxEntry, InboxItem, IncidentWrite, NewAlert, Repeat};
            use crate::group::{WriteOp, Written};
            use crate::{corrupt, instant, ms, Result, StoreError};

            type DbRow = <$db as sqlx::Database>::Row;

            const ALERT_COLUMNS: &str = "id, service_id, dedup_key, status, summary, severity, source, labels, details, \
                 links, incident_number, first_seen_at, last_seen_at, repeat_count, acknowledged_at, resolved_at";

            #[async_trait]
            impl AlertStore for $store {
                async fn open_alert(&self, service_id: i64, dedup_key: &str) -> Result<Option<Alert>> {
                    let sql = format!(
                        "SELECT {ALERT_COLUMNS} FROM alerts WHERE service_id = $1 AND dedup_key = $2 AND status <> 'resolved'"
                    );
                    let row = sqlx::query(&sql).bind(service_id).bind(dedup_key).fetch_optional(self.reader()).await?;
                    row.as_ref().map(alert_from_row).transpose()
                }

                async fn grouping_candidate(
                    &self,
                    service: &Service,
                    group_key: Option<&str>,
                    since: Option<Timestamp>,
                ) -> Result<Option<IncidentNumber>> {
                    let mut q = match (&service.rules.grouping, group_key, since) {
                        (Grouping::ByField { .. }, Some(key), _) => {
                            let mut q = QueryBuilder::<$db>::new(
                                "SELECT i.number FROM alerts a JOIN incidents i ON i.number = a.incident_number WHERE a.service_id = ",
                            );
                            q.push_bind(service.id).push(" AND a.group_key = ").push_bind(key.to_owned());
                            q
                        }
                        (Grouping::TimeWindow { .. }, _, Some(since)) => {
                            let mut q = QueryBuilder::<$db>::new("SELECT i.number FROM incidents i WHERE i.service = ");
                            q.push_bind(service.name.as_str().to_owned()).push(" AND i.declared_at >= ").push_bind(ms(since));
                            q
                        }
                        _ => return Ok(None),
                    };
                    q.push(" AND i.status IN (");
                    let mut open = q.separated(", ");
                    for status in Status::ALL.into_iter().filter(|s| s.is_open()) {
                        open.push_bind(status.as_str());
                    }
                    q.push(") ORDER BY i.number DESC LIMIT 1");
                    let number: Option<i64> = q.build_query_scalar().fetch_optional(self.reader()).await?;
                    Ok(number.map(IncidentNumber))
                }

                async fn open_alert_with(
                    &self,
                    alert: &NewAlert,
                    incident: &IncidentWrite,
                    inbox: Option<i64>,
                ) -> Result<(i64, Option<Incident>)> {
                    let op = WriteOp::OpenAlert { alert: Box::new(alert.clone()), incident: Box::new(incident.clone()), inbox };
                    match self.submit(op).await? {
                        Written::Alert { id, incident } => Ok((id, incident)),
                        _ => Err(StoreError::Other("the writer answered a new alert without its id".into())),
                    }
                }

                async fn update_alert(
                    &self,
                    id: i64,
                    update: AlertUpdate,
                    event: &AlertEvent,
                    at: Timestamp,
                    incident: Option<&crate::Change>,
                    inbox: Option<i64>,
                ) -> Result<()> {
                    let op = WriteOp::UpdateAlert {
                        id,
                        update,
                        event: Box::new(event.clone()),
                        at,
                        incident: incident.map(|c| Box::new(c.clone())),
                        inbox,
                    };
                    self.submit(op).await.map(|_| ())
                }

                async fn enqueue_alerts(&self, entries: Vec<InboxEntry>) -> Result<usize> {
                    match self.submit(WriteOp::Enqueue(entries)).await? {
                        Written::Accepted { counted } => Ok(counted),
                        _ => Ok(0),
                    }
                }

                async fn inbox(&self, limit: u32) -> Result<Vec<InboxItem>> {
                    let sql = format!(
                        "SELECT id, service_id, dedup_key, received_at, event, attempts FROM alert_events \
                         WHERE alert_id IS NULL AND failed_at IS NULL{} ORDER BY id LIMIT $1",
                        <$store>::INBOX_ORDER,
                    );
                    let rows = sqlx::query(&sql)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?;
                    rows.iter()
                        .map(|row| {
                            let event: String = row.try_get(4)?;
                            Ok(InboxItem {
                                id: row.try_get(0)?,
                                entry: InboxEntry {
                                    service_id: row.try_get(1)?,
                                    dedup_key: row.try_get(2)?,
                                    received_at: instant(row.try_get(3)?),
                                    event: serde_json::from_str(&event).map_err(|e| corrupt("inbox event", e))?,
                                },
                                attempts: row.try_get(5)?,
                            })
                        })
                        .collect()
                }

                async fn inbox_depth(&self) -> Result<i64> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_events WHERE alert_id IS NULL").fetch_one(self.reader()).await?;
                    Ok(n)
                }

                async fn discard_inbox(&self, ids: &[i64]) -> Result<()> {
                    self.submit(WriteOp::Discard(ids.to_vec())).await.map(|_| ())
                }

                async fn inbox_failed(&self, id: i64, error: &str, give_up: bool) -> Result<()> {
                    let mut tx = self.write().await?;
                    let failed_at = give_up.then(|| ms(Timestamp::now()));
                    sqlx::query(
                        "UPDATE alert_events SET attempts = attempts + 1, last_error = $1, failed_at = $2 \
                         WHERE id = $3 AND alert_id IS NULL",
                    )
                    .bind(error)
                    .bind(failed_at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn open_alert_ids(&self, service_id: i64, dedup_keys: &[String]) -> Result<Vec<(String, i64)>> {
                    let mut found = Vec::with_capacity(dedup_keys.len());
                    for chunk in dedup_keys.chunks(500) {
                        let mut q = QueryBuilder::<$db>::new(
                            "SELECT dedup_key, id FROM alerts WHERE status <> 'resolved' AND service_id = "
                        );
                        q.push_bind(service_id).push(" AND dedup_key IN (");
                        let mut list = q.separated(", ");
                        for key in chunk {
                            list.push_bind(key.clone());
                        }
                        q.push(")");
                        for row in q.build().fetch_all(self.reader()).await? {
                            found.push((row.try_get(0)?, row.try_get(1)?));
                        }
                    }
                    Ok(found)
                }

                async fn repeat_alerts(&self, repeats: Vec<Repeat>) -> Result<()> {
                    self.submit(WriteOp::Repeats(repeats)).await.map(|_| ())
                }

                async fn open_alert_count(&self, incident: IncidentNumber) -> Result<i64> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM alerts WHERE incident_number = $1 AND status <> 'resolved'",
                    )
                    .bind(incident.0)
                    .fetch_one(self.reader())
                    .await?;
                    Ok(n)
                }

                async fn alert(&self, id: i64) -> Result<Alert> {
                    let mut conn = self.reader().acquire().await?;
                    load_alert(&mut conn, id).await
                }

                async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
                    let mut q = QueryBuilder::<$db>::new(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE 1 = 1"));
                    if let Some(service) = filter.service_id {
                        q.push(" AND service_id = ").push_bind(service);
                    }
                    if let Some(status) = filter.status {
                        q.push(" AND status = ").push_bind(status.as_str());
                    }
                    if let Some(n) = filter.incident {
                        q.push(" AND incident_number = ").push_bind(n.0);
                    }
                    if let Some(before) = filter.before {
                        q.push(" AND id < ").push_bind(before);
                    }
                    if let Some(viewer) = &filter.viewer {
                        q.push(" AND (incident_number IS NULL OR incident_number IN (SELECT number FROM incidents WHERE restricted = ")
                            .push_bind(false)
                            .push(") OR incident_number IN (SELECT incident_number FROM incident_participants WHERE handle = ")
                            .push_bind(viewer.as_str().to_owned())
                            .push("))");
                    }
                    q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(filter.limit));
                    let rows = q.build().fetch_all(self.reader()).await?;
                    rows.iter().map(alert_from_row).collect()
                }

                async fn alert_log(&self, id: i64, before: Option<i64>, limit: u32) -> Result<Vec<AlertLogEntry>> {
                    // The log is a chain from the alert's newest event back (migration 0014
                    // on SQLite, 0015 on PostgreSQL), walked `limit` steps at most; from
                    // the entry before `before` when given.
                    let rows = sqlx::query(
                        "WITH RECURSIVE log (id, prev, received_at, event, depth) AS ( \
                         SELECT e.id, e.prev_event_id, e.received_at, e.event, 1 FROM alerts a \
                         JOIN alert_events e ON e.id = CASE WHEN CAST($3 AS BIGINT) IS NULL THEN a.last_event_id \
                         ELSE (SELECT p.prev_event_id FROM alert_events p WHERE p.id = $3 AND p.alert_id = $1) END \
                         WHERE a.id = $1 AND $2 > 0 \
                         UNION ALL SELECT e.id, e.prev_event_id, e.received_at, e.event, log.depth + 1 FROM log \
                         JOIN alert_events e ON e.id = log.prev AND e.alert_id = $1 WHERE log.depth < $2) \
                         SELECT id, received_at, event FROM log ORDER BY id",
                    )
                    .bind(id)
                    .bind(i64::from(limit))
                    .bind(before)
                    .fetch_all(self.reader())
                    .await?;
                    rows.iter()
                        .map(|row| {
                            let data: String = row.try_get(2)?;
                            Ok(AlertLogEntry {
                                id: row.try_get(0)?,
                                received_at: instant(row.try_get(1)?),
                                event: serde_json::from_str(&data).map_err(|e| corrupt("alert event", e))?,
                            })
                        })
                        .collect()
                }
            }

            /// The most accepted events one statement inserts: well inside both
            /// backends' limits on parameters.
            pub(super) const INBOX_ROWS: usize = 1000;

            /// Accepted events into the inbox, [`INBOX_ROWS`] per statement.
            pub(super) async fn insert_inbox(tx: &mut Tx<'_>, entries: &[&InboxEntry]) -> Result<()> {
                for chunk in entries.chunks(INBOX_ROWS) {
                    inbox_insert(chunk).build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Accepted events into the inbox with a single statement outside any
            /// transaction: on its own, a statement is atomic and durable, and saves
            /// the round trips of `BEGIN` and `COMMIT`. At most [`INBOX_ROWS`] entries.
            pub(super) async fn insert_inbox_alone(conn: &mut <$db as sqlx::Database>::Connection, entries: &[&InboxEntry]) -> Result<()> {
                debug_assert!(entries.len() <= INBOX_ROWS);
                inbox_insert(entries).build().execute(&mut *conn).await?;
                Ok(())
            }

            fn inbox_insert<'a>(entries: &[&'a InboxEntry]) -> QueryBuilder<'a, $db> {
                let mut q = QueryBuilder::<$db>::new("INSERT INTO alert_events (service_id, dedup_key, received_at, event, action) ");
                q.push_values(entries, |mut row, e| {
                    row.push_bind(e.service_id)
                        .push_bind(e.dedup_key.clone())
                        .push_bind(ms(e.received_at))
                        .push_bind(json(&e.event))
                        .push_bind(e.event.action.as_str());
                });
                q
            }

            /// Many repeats in a handful of statements: one `UPDATE … FROM (VALUES …)`
            /// that makes their inbox entries log entries, chained on each alert's log in
            /// order, and one more for the alerts.
            pub(super) async fn apply_repeats(tx: &mut Tx<'_>, repeats: &[Repeat]) -> Result<()> {
                // Per alert, in order: how many, the last time, the last summary given,
                // the newest entry.
                let mut per_alert: Vec<(i64, i64, Timestamp, Option<String>, i64)> = Vec::new();
                let mut index = std::collections::HashMap::new();
                // Per repeat, the entry before it on its alert's log: the alert's newest
                // before these (NULL here, looked up by the statement) or the repeat before.
                let mut prev = Vec::with_capacity(repeats.len());
                for r in repeats {
                    let i = *index.entry(r.alert_id).or_insert_with(|| {
                        per_alert.push((r.alert_id, 0, r.at, None, r.inbox_id));
                        per_alert.len() - 1
                    });
                    let entry = &mut per_alert[i];
                    prev.push((entry.1 > 0).then_some(entry.4));
                    entry.1 += 1;
                    entry.2 = entry.2.max(r.at);
                    entry.4 = r.inbox_id;
                    if r.event.summary.is_some() {
                        entry.3 = r.event.summary.clone();
                    }
                }
                // The entries first: the first of each alert's is chained after the
                // alert's newest entry, which the alerts' update then moves on.
                for chunk in repeats.iter().zip(prev).collect::<Vec<_>>().chunks(1000) {
                    let mut q = QueryBuilder::<$db>::new(
                        "UPDATE alert_events SET alert_id = v.alert_id, prev_event_id = COALESCE(v.prev, \
                         (SELECT a.last_event_id FROM alerts a WHERE a.id = v.alert_id)) \
                         FROM (SELECT column1 AS id, column2 AS alert_id, column3 AS prev FROM (",
                    );
                    q.push_values(chunk, |mut row, (r, prev)| {
                        row.push_bind(r.inbox_id).push_bind(r.alert_id).push_bind(*prev);
                    });
                    q.push(") AS x) AS v WHERE alert_events.id = v.id AND alert_events.alert_id IS NULL");
                    let marked = q.build().execute(&mut **tx).await?.rows_affected();
                    if marked != chunk.len() as u64 {
                        return Err(StoreError::Conflict("an inbox entry was applied already".into()));
                    }
                }
                for chunk in per_alert.chunks(500) {
                    let mut q = QueryBuilder::<$db>::new(format!(
                        "UPDATE alerts SET {}, last_event_id = v.newest FROM (SELECT column1 AS id, column2 AS n, \
                         column3 AS at, column4 AS summary, column5 AS newest FROM (",
                        crate::alerts::count_repeats("alerts", "v.n", "v.at", "v.summary"),
                    ));
                    q.push_values(chunk, |mut row, (id, n, at, summary, newest)| {
                        row.push_bind(*id).push_bind(*n).push_bind(ms(*at)).push_bind(summary.clone()).push_bind(*newest);
                    });
                    q.push(") AS x) AS v WHERE alerts.id = v.id AND alerts.status <> 'resolved'");
                    let updated = q.build().execute(&mut **tx).await?.rows_affected();
                    if updated != chunk.len() as u64 {
                        return Err(StoreError::Conflict("an alert closed while its repeats were counted".into()));
                    }
                }
                Ok(())
            }

            /// Locks the alerts a write is about to update, in id order (PostgreSQL; a
            /// no-op on SQLite, which has one writer): alerts `ids`, and the open alerts
            /// of `incidents`. The group-commit writer's batches and accepted events
            /// then take their locks in one order and never deadlock.
            pub(super) async fn lock_alerts(tx: &mut Tx<'_>, mut ids: Vec<i64>, mut incidents: Vec<i64>) -> Result<()> {
                if <$store>::LOCK_ROWS.is_empty() || (ids.is_empty() && incidents.is_empty()) {
                    return Ok(());
                }
                ids.sort_unstable();
                ids.dedup();
                incidents.sort_unstable();
                incidents.dedup();
                let mut q = QueryBuilder::<$db>::new("SELECT id FROM alerts WHERE ");
                let mut by = q.separated(" OR ");
                if !ids.is_empty() {
                    by.push("id IN (");
                    for (i, id) in ids.iter().enumerate() {
                        by.push_unseparated(if i == 0 { "" } else { ", " }).push_bind_unseparated(*id);
                    }
                    by.push_unseparated(")");
                }
                if !incidents.is_empty() {
                    by.push("(status <> 'resolved' AND incident_number IN (");
                    for (i, n) in incidents.iter().enumerate() {
                        by.push_unseparated(if i == 0 { "" } else { ", " }).push_bind_unseparated(*n);
                    }
                    by.push_unseparated("))");
                }
                q.push(" ORDER BY id").push(<$store>::LOCK_ROWS);
                q.build().fetch_all(&mut **tx).await?;
                Ok(())
            }

            /// Removes inbox entries that change no alert.
            pub(super) async fn delete_inbox(tx: &mut Tx<'_>, ids: &[i64]) -> Result<()> {
                for chunk in ids.chunks(1000) {
                    let mut q = QueryBuilder::<$db>::new("DELETE FROM alert_events WHERE alert_id IS NULL AND id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    q.push(")");
                    q.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Puts `event` on alert `id`'s log: the inbox entry it came in as becomes
            /// the log entry; gone or applied means another worker applied it already,
            /// so the write must not happen twice. An event without an entry (a person's
            /// acknowledgement) is logged as it is. Either way it is chained after the
            /// alert's newest entry (none for a new alert's `first`), and its id is
            /// returned for the caller to make the newest in its own write of the
            /// alert's row, which on PostgreSQL is locked already.
            async fn log_event(
                tx: &mut Tx<'_>,
                id: i64,
                event: &AlertEvent,
                at: Timestamp,
                inbox: Option<i64>,
                first: bool,
            ) -> Result<i64> {
                let prev = if first { "NULL" } else { "(SELECT last_event_id FROM alerts WHERE id = $1)" };
                let Some(entry) = inbox else {
                    let sql = format!(
                        "INSERT INTO alert_events (service_id, dedup_key, received_at, event, alert_id, prev_event_id) \
                         SELECT service_id, dedup_key, $2, $3, id, {prev} FROM alerts WHERE id = $1 RETURNING id"
                    );
                    let logged = sqlx::query_scalar(&sql).bind(id).bind(ms(at)).bind(json(event)).fetch_one(&mut **tx).await?;
                    return Ok(logged);
                };
                let sql = format!("UPDATE alert_events SET alert_id = $1, prev_event_id = {prev} WHERE id = $2 AND alert_id IS NULL");
                let taken = sqlx::query(&sql).bind(id).bind(entry).execute(&mut **tx).await?.rows_affected();
                if taken == 0 {
                    return Err(StoreError::Conflict(format!("inbox entry {entry} was applied already")));
                }
                Ok(entry)
            }

            pub(super) async fn insert_alert(
                tx: &mut Tx<'_>,
                alert: &NewAlert,
                incident: &IncidentWrite,
                inbox: Option<i64>,
                outlets: &klaxon_domain::paging::Outlets,
            ) -> Result<(i64, Option<Incident>)> {
                let mut opened = insert_alerts(tx, &[(alert, incident, inbox)], outlets).await?;
                Ok(opened.remove(0))
            }

            /// New alerts, each with the incident it declares, joins or none and the inbox
            /// entry it comes from (if any), a statement per kind of row for all of them:
            /// a storm of new alerts under per-alert grouping opens thousands at once.
            /// Returns each alert's id and incident, in order.
            pub(super) async fn insert_alerts(
                tx: &mut Tx<'_>,
                openings: &[(&NewAlert, &IncidentWrite, Option<i64>)],
                outlets: &klaxon_domain::paging::Outlets,
            ) -> Result<Vec<(i64, Option<Incident>)>> {
                if openings.is_empty() {
                    return Ok(Vec::new());
                }
                let declarations: Vec<(&str, &[klaxon_domain::incident::TimelineEvent])> = openings
                    .iter()
                    .filter_map(|(_, incident, _)| match incident {
                        IncidentWrite::Declare { slug_base, events } => Some((slug_base.as_str(), events.as_slice())),
                        _ => None,
                    })
                    .collect();
                let mut declared = apply_declares(tx, &declarations, outlets).await?.into_iter();
                let mut incidents = Vec::with_capacity(openings.len());
                for (_, incident, _) in openings {
                    incidents.push(match incident {
                        IncidentWrite::None => None,
                        IncidentWrite::Declare { .. } => declared.next(),
                        IncidentWrite::Join(change) => {
                            apply_commit(tx, std::slice::from_ref(change), outlets).await?;
                            Some(change.incident.clone())
                        }
                    });
                }
                let mut ids = std::collections::HashMap::new();
                for chunk in openings.iter().zip(&incidents).collect::<Vec<_>>().chunks(ALERT_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO alerts (service_id, dedup_key, status, summary, severity, source, labels, details, links, \
                         group_key, incident_number, first_seen_at, last_seen_at, repeat_count, last_event_id) ",
                    );
                    q.push_values(chunk, |mut row, ((alert, _, inbox), incident)| {
                        let e = &alert.event;
                        row.push_bind(alert.service_id)
                            .push_bind(alert.dedup_key.clone())
                            .push("'triggered'")
                            .push_bind(e.summary.clone().unwrap_or_else(|| alert.dedup_key.clone()))
                            .push_bind(e.severity.as_str())
                            .push_bind(e.source.clone())
                            .push_bind(json(&e.labels))
                            .push_bind(json(&e.details))
                            .push_bind(json(&e.links))
                            .push_bind(alert.group_key.clone())
                            .push_bind(incident.as_ref().map(|i| i.number.0))
                            .push_bind(ms(alert.received_at))
                            .push_bind(ms(alert.received_at))
                            .push("1")
                            // The inbox entry becomes the alert's first log entry (below);
                            // an event without one is the newest once logged.
                            .push_bind(*inbox);
                    });
                    q.push(" RETURNING id, service_id, dedup_key");
                    let rows = q.build().fetch_all(&mut **tx).await.map_err(|err| match &err {
                        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(match openings {
                            [(alert, ..)] => format!("an open alert with dedup key '{}' appeared meanwhile", alert.dedup_key),
                            _ => "an open alert with one of these dedup keys appeared meanwhile".to_owned(),
                        }),
                        _ => StoreError::from(err),
                    })?;
                    for row in rows {
                        ids.insert((row.try_get::<i64, _>(1)?, row.try_get::<String, _>(2)?), row.try_get::<i64, _>(0)?);
                    }
                }
                let ids = openings
                    .iter()
                    .map(|(alert, ..)| {
                        ids.get(&(alert.service_id, alert.dedup_key.clone())).copied().ok_or_else(|| {
                            StoreError::Other(format!("the new alert '{}' was not written", alert.dedup_key))
                        })
                    })
                    .collect::<Result<Vec<i64>>>()?;
                let mut entries = Vec::new();
                for ((alert, _, inbox), &id) in openings.iter().zip(&ids) {
                    match inbox {
                        Some(entry) => entries.push((*entry, id)),
                        None => {
                            let first = log_event(tx, id, &alert.event, alert.received_at, None, true).await?;
                            sqlx::query("UPDATE alerts SET last_event_id = $1 WHERE id = $2").bind(first).bind(id).execute(&mut **tx).await?;
                        }
                    }
                }
                for chunk in entries.chunks(ALERT_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "UPDATE alert_events SET alert_id = v.alert_id, prev_event_id = NULL \
                         FROM (SELECT column1 AS entry, column2 AS alert_id FROM (",
                    );
                    q.push_values(chunk, |mut row, (entry, id)| {
                        row.push_bind(*entry).push_bind(*id);
                    });
                    q.push(") AS x) AS v WHERE alert_events.id = v.entry AND alert_events.alert_id IS NULL");
                    let taken = q.build().execute(&mut **tx).await?.rows_affected();
                    if taken != chunk.len() as u64 {
                        return Err(StoreError::Conflict(match chunk {
                            [(entry, _)] => format!("inbox entry {entry} was applied already"),
                            _ => "one of these inbox entries was applied already".to_owned(),
                        }));
                    }
                }
                Ok(ids.into_iter().zip(incidents).collect())
            }

            /// Rows per statement when alerts are opened together (15 values each).
            const ALERT_ROWS: usize = 500;

            pub(super) async fn change_alert(
                tx: &mut Tx<'_>,
                id: i64,
                update: AlertUpdate,
                event: &AlertEvent,
                at: Timestamp,
                inbox: Option<i64>,
            ) -> Result<()> {
                // Logged first, chained after the alert's newest entry, then made the
                // newest by the alert's update; a refused update rolls both back.
                let entry = log_event(tx, id, event, at, inbox, false).await?;
                let repeat = format!(
                    "UPDATE alerts SET {}, last_event_id = $4 WHERE id = $3 AND status <> 'resolved'",
                    crate::alerts::count_repeats("alerts", "1", "$1", "$2"),
                );
                let query = match update {
                    AlertUpdate::Repeat => sqlx::query(&repeat)
                    .bind(ms(at))
                    .bind(event.summary.clone()),
                    AlertUpdate::Acknowledge => sqlx::query(
                        "UPDATE alerts SET status = 'acknowledged', acknowledged_at = $1, last_event_id = $3 \
                         WHERE id = $2 AND status = 'triggered'",
                    )
                    .bind(ms(at)),
                    AlertUpdate::Resolve => sqlx::query(
                        "UPDATE alerts SET status = 'resolved', resolved_at = $1, last_event_id = $3 \
                         WHERE id = $2 AND status <> 'resolved'",
                    )
                    .bind(ms(at)),
                };
                let updated = query.bind(id).bind(entry).execute(&mut **tx).await?.rows_affected();
                if updated == 0 {
                    return Err(StoreError::Conflict(format!("alert {id} changed meanwhile; try again")));
                }
                Ok(())
            }

            async fn load_alert(conn: &mut <$db as sqlx::Database>::Connection, id: i64) -> Result<Alert> {
                let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
                let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *conn).await?;
                match row {
                    Some(row) => alert_from_row(&row),
                    None => Err(StoreError::NotFound(format!("there is no alert {id}; see `klaxon alert list`"))),
                }
            }

            fn alert_from_row(row: &DbRow) -> Result<Alert> {
                let status: String = row.try_get(3)?;
                let severity: String = row.try_get(5)?;
                let labels: String = row.try_get(7)?;
                let details: String = row.try_get(8)?;
                let links: String = row.try_get(9)?;
                let incident: Option<i64> = row.try_get(10)?;
                let acknowledged: Option<i64> = row.try_get(14)?;
                let resolved: Option<i64> = row.try_get(15)?;
                Ok(Alert {
                    id: row.try_get(0)?,
                    service_id: row.try_get(1)?,
                    dedup_key: row.try_get(2)?,
                    status: AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?,
                    summary: row.try_get(4)?,
                    severity: AlertSeverity::parse(&severity).ok_or_else(|| corrupt("alert severity", &severity))?,
                    source: row.try_get(6)?,
                    labels: serde_json::from_str(&labels).map_err(|e| corrupt("alert labels", e))?,
                    details: serde_json::from_str(&details).map_err(|e| corrupt("alert details", e))?,
                    links: serde_json::from_str(&links).map_err(|e| corrupt("alert links", e))?,
                    incident: incident.map(IncidentNumber),
                    first_seen_at: instant(row.try_get(11)?),
                    last_seen_at: instant(row.try_get(12)?),
                    repeat_count: row.try_get(13)?,
                    acknowledged_at: acknowledged.map(instant),
                    resolved_at: resolved.map(instant),
                })
            }

            fn json<T: serde::Serialize>(value: &T) -> String {
                serde_json::to_string(value).expect("plain data always serialises")
            }
        }
    };
}

pub(crate) use impl_alert_store;
