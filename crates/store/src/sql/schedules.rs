//! On-call schedules and escalation policies (`schedules`, `escalation_policies`), each
//! stored whole as the JSON the domain validated.

use jiff::Timestamp;
use klaxon_domain::paging::{EscalationPolicy, NewEscalationPolicy};
use klaxon_domain::schedule::{NewSchedule, Schedule};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::{corrupt, json, ms, unique_violation};
use crate::{Result, StoreError};

/// Stores a new schedule; `Duplicate` if the name is taken.
pub async fn create_schedule(
    conn: &mut AnyConnection,
    schedule: &Schedule,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("INSERT INTO schedules (name, data, created_at) VALUES ($1, $2, $3)")
        .bind(schedule.name())
        .bind(schedule_json(schedule))
        .bind(ms(at))
        .execute(conn)
        .await
        .map_err(|e| {
            unique_violation(e, "name", || {
                format!("a schedule named '{}' already exists", schedule.name())
            })
        })?;
    Ok(())
}

/// Replaces the schedule called `name`.
pub async fn update_schedule(
    conn: &mut AnyConnection,
    name: &str,
    schedule: &Schedule,
) -> Result<()> {
    let updated = sqlx::query("UPDATE schedules SET name = $1, data = $2 WHERE name = $3")
        .bind(schedule.name())
        .bind(schedule_json(schedule))
        .bind(name)
        .execute(conn)
        .await
        .map_err(|e| {
            unique_violation(e, "name", || {
                format!("a schedule named '{}' already exists", schedule.name())
            })
        })?
        .rows_affected();
    if updated == 0 {
        return Err(no_schedule(name));
    }
    Ok(())
}

/// Every schedule, by name.
pub async fn schedules(pool: &AnyPool) -> Result<Vec<Schedule>> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM schedules ORDER BY name")
        .fetch_all(pool)
        .await?;
    rows.iter().map(|d| schedule_from_json(d)).collect()
}

/// The schedule called `name`.
pub async fn schedule(pool: &AnyPool, name: &str) -> Result<Schedule> {
    let data: Option<String> = sqlx::query_scalar("SELECT data FROM schedules WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    data.map_or_else(|| Err(no_schedule(name)), |d| schedule_from_json(&d))
}

/// Deletes the schedule called `name`.
pub async fn delete_schedule(conn: &mut AnyConnection, name: &str) -> Result<()> {
    let gone = sqlx::query("DELETE FROM schedules WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(no_schedule(name));
    }
    Ok(())
}

/// Stores a new escalation policy; `Duplicate` if the name is taken.
pub async fn create_policy(
    conn: &mut AnyConnection,
    policy: &NewEscalationPolicy,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("INSERT INTO escalation_policies (name, data, created_at) VALUES ($1, $2, $3)")
        .bind(&policy.name)
        .bind(json(policy))
        .bind(ms(at))
        .execute(conn)
        .await
        .map_err(|e| {
            unique_violation(e, "name", || {
                format!(
                    "an escalation policy named '{}' already exists",
                    policy.name
                )
            })
        })?;
    Ok(())
}

/// Replaces the escalation policy called `name`.
pub async fn update_policy(
    conn: &mut AnyConnection,
    name: &str,
    policy: &NewEscalationPolicy,
) -> Result<()> {
    let updated =
        sqlx::query("UPDATE escalation_policies SET name = $1, data = $2 WHERE name = $3")
            .bind(&policy.name)
            .bind(json(policy))
            .bind(name)
            .execute(conn)
            .await
            .map_err(|e| {
                unique_violation(e, "name", || {
                    format!(
                        "an escalation policy named '{}' already exists",
                        policy.name
                    )
                })
            })?
            .rows_affected();
    if updated == 0 {
        return Err(no_policy(name));
    }
    Ok(())
}

/// Every escalation policy, by name.
pub async fn policies(pool: &AnyPool) -> Result<Vec<EscalationPolicy>> {
    let rows = sqlx::query("SELECT id, data FROM escalation_policies ORDER BY name")
        .fetch_all(pool)
        .await?;
    rows.iter().map(policy_from_row).collect()
}

/// The escalation policy called `name`.
pub async fn policy(pool: &AnyPool, name: &str) -> Result<EscalationPolicy> {
    let row = sqlx::query("SELECT id, data FROM escalation_policies WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    row.map_or_else(|| Err(no_policy(name)), |r| policy_from_row(&r))
}

/// Deletes the escalation policy called `name`.
pub async fn delete_policy(conn: &mut AnyConnection, name: &str) -> Result<()> {
    let gone = sqlx::query("DELETE FROM escalation_policies WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(no_policy(name));
    }
    Ok(())
}

fn policy_from_row(row: &AnyRow) -> Result<EscalationPolicy> {
    let data: String = row.try_get(1)?;
    let p: NewEscalationPolicy =
        serde_json::from_str(&data).map_err(|e| corrupt("escalation policy", e))?;
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
    StoreError::NotFound(format!(
        "there is no schedule '{name}'; see `klaxon schedule list`"
    ))
}

fn no_policy(name: &str) -> StoreError {
    StoreError::NotFound(format!(
        "there is no escalation policy '{name}'; see `klaxon escalation list`"
    ))
}
