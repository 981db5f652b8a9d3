//! Post-incident reviews (`reviews`, `review_history`, `action_items`). A review and
//! each item are stored whole as the JSON the domain checked, with copies of the
//! columns lists filter on.

use klaxon_domain::incident::Source;
use klaxon_domain::review::{ActionItem, HistoryEntry, Review, ReviewRecord};
use klaxon_domain::IncidentNumber;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{corrupt, incidents, instant, jobs, json, ms, Sql};
use crate::reviews::{ActionFilter, ReviewWrite};
use crate::{Result, StoreError};

/// The review of incident `number` with its items, if any.
pub async fn review(pool: &AnyPool, number: IncidentNumber) -> Result<Option<ReviewRecord>> {
    let data: Option<String> =
        sqlx::query_scalar("SELECT data FROM reviews WHERE incident_number = $1")
            .bind(number.0)
            .fetch_optional(pool)
            .await?;
    let Some(data) = data else {
        return Ok(None);
    };
    let review: Review = serde_json::from_str(&data).map_err(|e| corrupt("review", e))?;
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM action_items WHERE incident_number = $1 ORDER BY number",
    )
    .bind(number.0)
    .fetch_all(pool)
    .await?;
    let items = rows
        .iter()
        .map(|d| serde_json::from_str(d).map_err(|e| corrupt("action item", e)))
        .collect::<Result<_>>()?;
    Ok(Some(ReviewRecord { review, items }))
}

/// A review's history, oldest first.
pub async fn history(pool: &AnyPool, number: IncidentNumber) -> Result<Vec<HistoryEntry>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, source, what FROM review_history \
         WHERE incident_number = $1 ORDER BY seq",
    )
    .bind(number.0)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let source: String = row.try_get(3)?;
            Ok(HistoryEntry {
                seq: row.try_get(0)?,
                at: instant(row.try_get(1)?),
                actor: row.try_get(2)?,
                source: Source::parse(&source).ok_or_else(|| corrupt("source", &source))?,
                what: row.try_get(4)?,
            })
        })
        .collect()
}

/// Writes a review change (see [`crate::ReviewStore::write_review`]) in the caller's
/// transaction.
pub async fn write(conn: &mut AnyConnection, write: &ReviewWrite) -> Result<()> {
    let change = &write.change;
    let r = &change.record.review;
    let n = r.incident;
    if change.expected_version == 0 {
        sqlx::query(
            "INSERT INTO reviews (incident_number, status, owner, due_at, version, updated_at, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(n.0)
        .bind(r.status.as_str())
        .bind(r.owner.as_ref().map(|o| o.as_str()))
        .bind(ms(r.due_at))
        .bind(r.version)
        .bind(ms(r.updated_at))
        .bind(json(r))
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            super::unique_violation(e, "incident", || {
                format!("incident {n} has a review already")
            })
        })?;
    } else {
        let updated = sqlx::query(
            "UPDATE reviews SET status = $1, owner = $2, due_at = $3, version = $4, \
             updated_at = $5, data = $6 WHERE incident_number = $7 AND version = $8",
        )
        .bind(r.status.as_str())
        .bind(r.owner.as_ref().map(|o| o.as_str()))
        .bind(ms(r.due_at))
        .bind(r.version)
        .bind(ms(r.updated_at))
        .bind(json(r))
        .bind(n.0)
        .bind(change.expected_version)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if updated != 1 {
            return Err(StoreError::Stale(format!(
                "the review of incident {n} changed while this request was handled; try again"
            )));
        }
    }
    if !change.history.is_empty() {
        let mut q =
            Sql::new("INSERT INTO review_history (incident_number, seq, at, actor, source, what) ");
        q.values(&change.history, |row, h| {
            row.bind(n.0)
                .bind(h.seq)
                .bind(ms(h.at))
                .bind(h.actor.as_str())
                .bind(h.source.as_str())
                .bind(h.what.as_str());
        });
        q.execute(&mut *conn).await?;
    }
    if !change.items.is_empty() {
        let mut q = Sql::new(
            "INSERT INTO action_items (incident_number, number, owner, status, category, due_at, updated_at, data) ",
        );
        q.values(&change.items, |row, item| {
            row.bind(n.0)
                .bind(i64::from(item.number))
                .bind(item.owner.as_str())
                .bind(item.status.as_str())
                .bind(item.category.as_str())
                .bind(ms(item.due_at))
                .bind(ms(item.updated_at))
                .bind(json(item));
        });
        q.push(
            " ON CONFLICT (incident_number, number) DO UPDATE SET owner = excluded.owner, \
             status = excluded.status, category = excluded.category, due_at = excluded.due_at, \
             updated_at = excluded.updated_at, data = excluded.data",
        );
        q.execute(&mut *conn).await?;
    }
    if let Some(incident) = &write.incident {
        incidents::apply_changes(&mut *conn, &[incident]).await?;
    }
    jobs::cancel_jobs(&mut *conn, n, &change.jobs.cancel).await?;
    let planned: Vec<_> = change
        .jobs
        .add
        .iter()
        .map(|j| (Some(n), j, r.updated_at))
        .collect();
    jobs::insert_jobs(conn, &planned).await
}

/// Action items by deadline with their incidents' titles (see [`ActionFilter`]).
pub async fn action_items(
    pool: &AnyPool,
    filter: &ActionFilter,
) -> Result<Vec<(ActionItem, String)>> {
    let mut q = Sql::new(
        "SELECT a.data, i.data FROM action_items a JOIN incidents i ON i.number = a.incident_number WHERE 1 = 1",
    );
    if let Some(owner) = &filter.owner {
        q.push(" AND a.owner = ").bind(owner.as_str().to_owned());
    }
    if let Some(n) = filter.incident {
        q.push(" AND a.incident_number = ").bind(n.0);
    }
    if filter.pending {
        q.push(" AND a.status IN ('open', 'in_progress')");
    }
    if let Some(before) = filter.due_before {
        q.push(" AND a.due_at < ").bind(ms(before));
    }
    if let Some(viewer) = &filter.viewer {
        q.push(" AND (i.restricted = ")
            .bind(false)
            .push(
                " OR i.number IN (SELECT incident_number FROM incident_participants WHERE handle = ",
            )
            .bind(viewer.as_str().to_owned())
            .push("))");
    }
    q.push(" ORDER BY a.due_at, a.incident_number, a.number LIMIT ")
        .bind(i64::from(filter.limit));
    let rows = q.fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            let data: String = row.try_get(0)?;
            let item = serde_json::from_str(&data).map_err(|e| corrupt("action item", e))?;
            // The title is inside the incident's projection; only it is read.
            #[derive(serde::Deserialize)]
            struct Titled {
                title: String,
            }
            let incident: String = row.try_get(1)?;
            let titled: Titled =
                serde_json::from_str(&incident).map_err(|e| corrupt("incident", e))?;
            Ok((item, titled.title))
        })
        .collect()
}
