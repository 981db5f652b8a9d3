//! What the reports read: the facts of the incidents declared in a window, in one read
//! with a row per incident of two columns kept beside its projection for the purpose:
//! `facts`, the projection's fields the metrics use (a small JSON object, rewritten with
//! the projection), and `fact_events`, the few events they use (`[type, recorded_at,
//! value]` JSON arrays separated by spaces, appended with the events: an update's
//! audience, an alert's dedup key, an assigned role). Neither the projections nor the
//! events are parsed: gathering the events per incident at read time took seconds for a
//! year of incidents (docs/benchmarks.md, "Reports").

use std::borrow::Cow;

use jiff::Timestamp;
use klaxon_domain::incident::{EventKind, Incident, Role, Status, TimelineEvent, UpdateAudience};
use klaxon_domain::metrics::IncidentFacts;
use klaxon_domain::{IncidentNumber, Severity};
use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use super::{corrupt, instant, ms, Sql};
use crate::{FactsFilter, Result};

/// The fields of a projection the metrics read: the `facts` column.
#[derive(Serialize, Deserialize)]
struct Head<'a> {
    number: IncidentNumber,
    #[serde(borrow)]
    title: Cow<'a, str>,
    severity: Severity,
    status: Status,
    #[serde(borrow)]
    service: Option<Cow<'a, str>>,
    declared_at: Timestamp,
    acknowledged_at: Option<Timestamp>,
    mitigated_at: Option<Timestamp>,
    resolved_at: Option<Timestamp>,
    customer_facing: bool,
    drill: bool,
}

/// The `facts` column of `incident`'s row.
pub(super) fn facts_json(incident: &Incident) -> String {
    let head = Head {
        number: incident.number,
        title: Cow::Borrowed(&incident.title),
        severity: incident.severity,
        status: incident.status,
        service: incident.service.as_deref().map(Cow::Borrowed),
        declared_at: incident.declared_at,
        acknowledged_at: incident.acknowledged_at,
        mitigated_at: incident.mitigated_at,
        resolved_at: incident.resolved_at,
        customer_facing: incident.customer_facing,
        drill: incident.drill,
    };
    serde_json::to_string(&head).expect("plain data always serialises")
}

/// What `events` add to their incident's `fact_events` column: one
/// `[type, recorded_at, value]` array and a space per event the metrics read.
pub(super) fn fact_events<'e>(events: impl IntoIterator<Item = &'e TimelineEvent>) -> String {
    let mut out = String::new();
    for e in events {
        let value = match &e.kind {
            EventKind::StatusUpdated { audience, .. } => Some(serde_json::to_value(audience)),
            EventKind::AlertAttached { dedup_key, .. } => Some(Ok(dedup_key.as_str().into())),
            EventKind::RoleAssigned { role, .. } => Some(serde_json::to_value(role)),
            EventKind::ResponseTargetMissed { .. } => Some(Ok(serde_json::Value::Null)),
            _ => None,
        };
        if let Some(value) = value {
            let value = value.expect("plain data always serialises");
            let item = serde_json::json!([e.kind.name(), ms(e.recorded_at), value]);
            out.push_str(&item.to_string());
            out.push(' ');
        }
    }
    out
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
    let mut q = Sql::new("SELECT facts, fact_events FROM incidents WHERE declared_at >= ");
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
    // Sorted here, not by the database: on SQLite an ORDER BY the window's index does
    // not give copies every row into a temporary B-tree, on PostgreSQL into a sort
    // that spills to disk; both cost more than the whole read (docs/benchmarks.md).
    let mut facts = Vec::new();
    q.for_each_row(pool, |row| {
        let head: &str = row.try_get(0)?;
        let p: Head = serde_json::from_str(head).map_err(|e| corrupt("incident facts", e))?;
        let mut f = IncidentFacts {
            number: p.number,
            title: p.title.into_owned(),
            severity: p.severity,
            service: p.service.map(Cow::into_owned),
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
        let events: &str = row.try_get(1)?;
        for event in serde_json::Deserializer::from_str(events).into_iter::<Event>() {
            let Event(kind, at, value) = event.map_err(|e| corrupt("incident event facts", e))?;
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
        Ok(())
    })
    .await?;
    facts.sort_unstable_by_key(|f| f.number);
    Ok(facts)
}
