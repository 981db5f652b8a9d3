//! What the reports read: the facts of the incidents declared in a window, in two
//! reads (the projections, then the few kinds of events the metrics need: updates,
//! alerts, missed targets and role assignments, with the one field each needs taken
//! out of the JSON by the database).

use std::collections::HashMap;

use jiff::Timestamp;
use klaxon_domain::incident::{Role, Status, UpdateAudience};
use klaxon_domain::metrics::IncidentFacts;
use klaxon_domain::{IncidentNumber, Severity};
use serde::Deserialize;
use sqlx::{AnyPool, Row};

use super::{corrupt, instant, ms, Sql, Target};
use crate::{FactsFilter, Result};

/// The fields of a stored projection the metrics read.
#[derive(Deserialize)]
struct Projection {
    number: IncidentNumber,
    title: String,
    severity: Severity,
    status: Status,
    service: Option<String>,
    declared_at: Timestamp,
    acknowledged_at: Option<Timestamp>,
    mitigated_at: Option<Timestamp>,
    resolved_at: Option<Timestamp>,
    customer_facing: bool,
    drill: bool,
}

/// The facts of the incidents `filter` selects, by number.
pub async fn incident_facts(pool: &AnyPool, filter: &FactsFilter) -> Result<Vec<IncidentFacts>> {
    let mut q = Sql::new("SELECT data FROM incidents WHERE declared_at >= ");
    q.bind(ms(filter.since))
        .push(" AND declared_at < ")
        .bind(ms(filter.until));
    if let Some(severity) = filter.severity {
        q.push(" AND severity = ").bind(i64::from(severity.level()));
    }
    if let Some(service) = &filter.service {
        q.push(" AND service = ").bind(service.as_str());
    }
    if let Some(viewer) = &filter.viewer {
        q.push(" AND (restricted = ")
            .bind(false)
            .push(
                " OR number IN (SELECT incident_number FROM incident_participants WHERE handle = ",
            )
            .bind(viewer.as_str())
            .push("))");
    }
    q.push(" ORDER BY number");
    let rows: Vec<String> = q.fetch_scalars(pool).await?;
    let mut facts = Vec::with_capacity(rows.len());
    for data in &rows {
        let p: Projection = serde_json::from_str(data).map_err(|e| corrupt("incident", e))?;
        facts.push(IncidentFacts {
            number: p.number,
            title: p.title,
            severity: p.severity,
            service: p.service,
            declared_at: p.declared_at,
            acknowledged_at: p.acknowledged_at,
            mitigated_at: p.mitigated_at,
            resolved_at: p.resolved_at,
            customer_facing: p.customer_facing,
            drill: p.drill,
            ended_without_resolution: matches!(p.status, Status::Declined | Status::Merged),
            response_missed: false,
            updates: Vec::new(),
            dedup_keys: Vec::new(),
            roles: Vec::new(),
        });
    }
    let (Some(first), Some(last)) = (facts.first(), facts.last()) else {
        return Ok(facts);
    };
    let (low, high) = (first.number.0, last.number.0);
    let at: HashMap<i64, usize> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| (f.number.0, i))
        .collect();
    let field = |path: &str| {
        if pool.is_sqlite() {
            format!("json_extract(data, '$.{path}')")
        } else {
            format!("(data::json)->>'{path}'")
        }
    };
    let mut q = Sql::new(format!(
        "SELECT incident_number, type, recorded_at, CASE type WHEN 'status_updated' THEN {} \
         WHEN 'alert_attached' THEN {} WHEN 'role_assigned' THEN {} ELSE NULL END \
         FROM incident_events WHERE type IN ('status_updated', 'alert_attached', \
         'response_target_missed', 'role_assigned') AND incident_number >= ",
        field("audience"),
        field("dedup_key"),
        field("role")
    ));
    q.bind(low)
        .push(" AND incident_number <= ")
        .bind(high)
        .push(" ORDER BY incident_number, seq");
    for row in q.fetch_all(pool).await? {
        let number: i64 = row.try_get(0)?;
        let Some(&i) = at.get(&number) else { continue };
        let kind: String = row.try_get(1)?;
        let value: Option<String> = row.try_get(3)?;
        let f = &mut facts[i];
        match kind.as_str() {
            "status_updated" => {
                let audience = match value.as_deref() {
                    Some("customer") => UpdateAudience::Customer,
                    _ => UpdateAudience::Internal,
                };
                f.updates.push((instant(row.try_get(2)?), audience));
            }
            "alert_attached" => f.dedup_keys.extend(value),
            "role_assigned" => {
                let role = value.as_deref().unwrap_or_default();
                let role = Role::parse(role).map_err(|e| corrupt("role", e))?;
                f.roles.push((instant(row.try_get(2)?), role));
            }
            _ => f.response_missed = true,
        }
    }
    Ok(facts)
}
