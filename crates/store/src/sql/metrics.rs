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

use super::{corrupt, instant, ms};
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

/// A value the facts query binds.
pub(crate) enum Param<'f> {
    Int(i64),
    Text(&'f str),
    Bool(bool),
}

/// The query that reads the facts `filter` selects: its text, with `$1`, `$2`, …
/// placeholders in order (which both databases, and SQLite through rusqlite, take),
/// and their values.
pub(crate) fn facts_query(filter: &FactsFilter) -> (String, Vec<Param<'_>>) {
    let mut sql = String::from(
        "SELECT facts, fact_events FROM incidents WHERE declared_at >= $1 AND declared_at < $2",
    );
    let mut params = vec![Param::Int(ms(filter.since)), Param::Int(ms(filter.until))];
    let mut next = |sql: &mut String, text: &str, param| {
        params.push(param);
        sql.push_str(&format!("{text}${}", params.len()));
    };
    if let Some(severity) = filter.severity {
        next(
            &mut sql,
            " AND severity = ",
            Param::Int(i64::from(severity.level())),
        );
    }
    if let Some(service) = &filter.service {
        next(&mut sql, " AND service = ", Param::Text(service.as_str()));
    }
    if let Some(viewer) = &filter.viewer {
        next(&mut sql, " AND (restricted = ", Param::Bool(false));
        next(
            &mut sql,
            " OR number IN (SELECT incident_number FROM incident_participants WHERE handle = ",
            Param::Text(viewer.as_str()),
        );
        sql.push_str("))");
    }
    // Sorted by the caller, not by the database: on SQLite an ORDER BY the window's
    // index does not give copies every row into a temporary B-tree, on PostgreSQL into
    // a sort that spills to disk; both cost more than the whole read.
    (sql, params)
}

/// The facts of the incidents `filter` selects, by number.
pub async fn incident_facts(pool: &AnyPool, filter: &FactsFilter) -> Result<Vec<IncidentFacts>> {
    use futures_util::TryStreamExt;
    let (sql, params) = facts_query(filter);
    let mut q = sqlx::query(&sql);
    for param in params {
        q = match param {
            Param::Int(v) => q.bind(v),
            Param::Text(v) => q.bind(v),
            Param::Bool(v) => q.bind(v),
        };
    }
    let mut facts = Vec::new();
    let mut rows = q.fetch(pool);
    while let Some(row) = rows.try_next().await? {
        facts.push(facts_of(row.try_get(0)?, row.try_get(1)?)?);
    }
    facts.sort_unstable_by_key(|f| f.number);
    Ok(facts)
}

/// One incident's facts from its `facts` and `fact_events` columns.
pub(crate) fn facts_of(head: &str, events: &str) -> Result<IncidentFacts> {
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
    Ok(f)
}
