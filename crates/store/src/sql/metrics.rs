//! What the reports read: the facts of the incidents declared in a window, in one read
//! with a row per incident: its projection, and the few events the metrics need, each
//! with the one field it needs taken out of the JSON (an update's audience, an alert's
//! dedup key, an assigned role), gathered into a JSON array by the
//! database. A row per event instead cost more than the events themselves: a year of
//! incidents has half a million of them (docs/benchmarks.md, "Reports").

use std::borrow::Cow;

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

/// One event the metrics read: its type, when it was recorded (ms), and the audience
/// of a status update, the dedup key of an attached alert or the role assigned.
#[derive(Deserialize)]
struct Event<'a>(
    #[serde(borrow)] Cow<'a, str>,
    i64,
    #[serde(borrow)] Option<Cow<'a, str>>,
);

/// The facts of the incidents `filter` selects, by number.
pub async fn incident_facts(pool: &AnyPool, filter: &FactsFilter) -> Result<Vec<IncidentFacts>> {
    let field = |path: &str| {
        if pool.is_sqlite() {
            format!("json_extract(e.data, '$.{path}')")
        } else {
            format!("(e.data::json)->>'{path}'")
        }
    };
    let item = format!(
        "e.type, e.recorded_at, CASE e.type WHEN 'status_updated' THEN {} \
         WHEN 'alert_attached' THEN {} WHEN 'role_assigned' THEN {} ELSE NULL END",
        field("audience"),
        field("dedup_key"),
        field("role")
    );
    let gathered = if pool.is_sqlite() {
        format!("json_group_array(json_array({item}) ORDER BY e.seq)")
    } else {
        format!("json_agg(json_build_array({item}) ORDER BY e.seq)::text")
    };
    let mut q = Sql::new(format!(
        "SELECT data, (SELECT {gathered} FROM incident_events e \
         WHERE e.incident_number = incidents.number \
         AND e.type IN ('status_updated', 'alert_attached', 'response_target_missed', \
         'role_assigned')) \
         FROM incidents WHERE declared_at >= "
    ));
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
    let rows = q.fetch_all(pool).await?;
    let mut facts = Vec::with_capacity(rows.len());
    for row in &rows {
        let data: &str = row.try_get(0)?;
        let p: Projection = serde_json::from_str(data).map_err(|e| corrupt("incident", e))?;
        let mut f = IncidentFacts {
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
        };
        let events: Option<&str> = row.try_get(1)?;
        let events: Vec<Event> = match events {
            Some(json) => serde_json::from_str(json).map_err(|e| corrupt("incident event", e))?,
            None => Vec::new(),
        };
        for Event(kind, at, value) in events {
            match kind.as_ref() {
                "status_updated" => {
                    let audience = match value.as_deref() {
                        Some("customer") => UpdateAudience::Customer,
                        _ => UpdateAudience::Internal,
                    };
                    f.updates.push((instant(at), audience));
                }
                "alert_attached" => f.dedup_keys.extend(value.map(Cow::into_owned)),
                "role_assigned" => {
                    let role = value.as_deref().unwrap_or_default();
                    let role = Role::parse(role).map_err(|e| corrupt("role", e))?;
                    f.roles.push((instant(at), role));
                }
                _ => f.response_missed = true,
            }
        }
        facts.push(f);
    }
    Ok(facts)
}
