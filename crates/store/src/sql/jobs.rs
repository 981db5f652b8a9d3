//! The durable job queue (`jobs`): work that must happen later, written in the same
//! transaction as the change that caused it, claimed with a lease.

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::paging::{JobKind, PlannedJob};
use klaxon_domain::{IncidentNumber, JobId};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::{corrupt, incidents, instant, ms, Sql};
use crate::backend::Dialect;
use crate::paging::{Job, JobBacklog, JobDone, JobOutcome};
use crate::{Change, Result, StoreError};

const JOB_COLUMNS: &str =
    "id, kind, incident_number, dedup_key, run_at, payload, attempts, last_error, dead_at";

/// Jobs to run, each created `at`, a statement per 500; one whose key is taken by a
/// live job already is left out (idempotency). Status-page notices are left out while
/// nobody has confirmed a subscription: a page nobody follows costs no job.
pub async fn insert_jobs(
    conn: &mut AnyConnection,
    jobs: &[(Option<IncidentNumber>, &PlannedJob, Timestamp)],
) -> Result<()> {
    let notices = jobs.iter().any(|(_, j, _)| j.kind == JobKind::StatusNotice);
    let kept: Vec<_>;
    let jobs = if notices && !super::subscribers::anyone_confirmed(&mut *conn).await? {
        kept = jobs
            .iter()
            .filter(|(_, j, _)| j.kind != JobKind::StatusNotice)
            .cloned()
            .collect();
        &kept[..]
    } else {
        jobs
    };
    for chunk in jobs.chunks(500) {
        let mut q = Sql::new(
            "INSERT INTO jobs (kind, incident_number, dedup_key, run_at, payload, created_at) ",
        );
        q.values(chunk, |row, (incident, job, at)| {
            let incident_part = incident.map_or_else(|| "-".to_owned(), |n| n.0.to_string());
            row.bind(job.kind.as_str())
                .bind(incident.map(|n| n.0))
                .bind(format!("{}/{incident_part}/{}", job.kind.as_str(), job.key))
                .bind(ms(job.run_at))
                .bind(job.payload.to_string())
                .bind(ms(*at));
        });
        q.push(" ON CONFLICT (dedup_key) DO NOTHING");
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Cancels an incident's live jobs of these kinds.
pub async fn cancel_jobs(
    conn: &mut AnyConnection,
    number: IncidentNumber,
    kinds: &[JobKind],
) -> Result<()> {
    if kinds.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new("DELETE FROM jobs WHERE dead_at IS NULL AND incident_number = ");
    q.bind(number.0).push(" AND kind IN (");
    q.list(kinds.iter().map(|k| k.as_str())).push(")");
    q.execute(conn).await?;
    Ok(())
}

/// Claims up to `limit` due jobs nobody holds, for `lease` (see
/// [`crate::PagingStore::claim_jobs`]), in a transaction of its own begun by the caller.
pub async fn claim_jobs(
    conn: &mut AnyConnection,
    dialect: &Dialect,
    now: Timestamp,
    lease: SignedDuration,
    limit: u32,
) -> Result<Vec<Job>> {
    // A claim need not wait for the disk: one lost in a database crash leaves its jobs
    // unclaimed, and they are claimed again.
    if let Some(statement) = dialect.claim_without_flush {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    // The due jobs are picked (and on PostgreSQL locked, skipping those another replica
    // is claiming) once, in a materialised CTE. Written as `WHERE id IN (SELECT … LIMIT
    // … FOR UPDATE SKIP LOCKED)` instead, PostgreSQL may run the subquery again for rows
    // changed meanwhile, claiming more than the limit at the cost of a sort each time.
    let sql = format!(
        "WITH due AS MATERIALIZED (SELECT id FROM jobs \
         WHERE dead_at IS NULL AND run_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
         ORDER BY run_at, id LIMIT $3{}) \
         UPDATE jobs SET locked_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM due) \
         RETURNING {JOB_COLUMNS}",
        dialect.skip_locked
    );
    let rows = sqlx::query(&sql)
        .bind(ms(now + lease))
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
    let mut jobs: Vec<Job> = rows.iter().map(job_from_row).collect::<Result<_>>()?;
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

/// Writes the outcomes and effects of finished jobs together: the jobs done are deleted
/// with one statement, their incident changes and follow-up jobs written with a
/// statement per kind of row (see [`incidents::apply_changes`]). A job that is gone
/// (cancelled while it ran) fails the lot, which the group commit then writes one by
/// one to find it.
pub async fn finish_jobs(conn: &mut AnyConnection, dones: &[&JobDone]) -> Result<()> {
    let done: Vec<i64> = dones
        .iter()
        .filter(|d| d.outcome == JobOutcome::Done)
        .map(|d| d.id.0)
        .collect();
    let mut touched = 0;
    for chunk in done.chunks(1000) {
        let mut q = Sql::new("DELETE FROM jobs WHERE id IN (");
        q.list(chunk.iter().copied()).push(")");
        touched += q.execute(&mut *conn).await?;
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
        .bind(d.id.0)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    if touched != dones.len() as u64 {
        return Err(match dones {
            [one] => {
                StoreError::AlreadyApplied(format!("job {} was cancelled while it ran", one.id))
            }
            _ => StoreError::AlreadyApplied("a job was cancelled while it ran".into()),
        });
    }
    let changes: Vec<&Change> = dones.iter().flat_map(|d| d.changes.iter()).collect();
    incidents::apply_changes(&mut *conn, &changes).await?;
    let mut jobs = vec![];
    for d in dones {
        let at = d
            .changes
            .first()
            .map_or_else(Timestamp::now, |c| c.incident.updated_at);
        jobs.extend(d.jobs.iter().map(|(incident, job)| (*incident, job, at)));
    }
    insert_jobs(conn, &jobs).await
}

/// Jobs not yet done (dead ones included), by due time; of one incident if given.
pub async fn jobs(pool: &AnyPool, incident: Option<IncidentNumber>) -> Result<Vec<Job>> {
    let mut q = Sql::new(format!("SELECT {JOB_COLUMNS} FROM jobs"));
    if let Some(n) = incident {
        q.push(" WHERE incident_number = ").bind(n.0);
    }
    q.push(" ORDER BY run_at, id");
    let rows = q.fetch_all(pool).await?;
    rows.iter().map(job_from_row).collect()
}

/// When the next live job is due, if any.
pub async fn next_job_at(pool: &AnyPool) -> Result<Option<Timestamp>> {
    let at: Option<i64> = sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE dead_at IS NULL")
        .fetch_one(pool)
        .await?;
    Ok(at.map(instant))
}

/// Per kind of job, how many live ones are due by `now` and how many are dead.
pub async fn job_backlog(pool: &AnyPool, now: Timestamp) -> Result<Vec<JobBacklog>> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) FILTER (WHERE dead_at IS NULL AND run_at <= $1), \
         COUNT(*) FILTER (WHERE dead_at IS NOT NULL) FROM jobs GROUP BY kind ORDER BY kind",
    )
    .bind(ms(now))
    .fetch_all(pool)
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

fn job_from_row(row: &AnyRow) -> Result<Job> {
    let kind: String = row.try_get(1)?;
    let incident: Option<i64> = row.try_get(2)?;
    let payload: String = row.try_get(5)?;
    let attempts: i64 = row.try_get(6)?;
    let dead: Option<i64> = row.try_get(8)?;
    Ok(Job {
        id: JobId(row.try_get(0)?),
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
