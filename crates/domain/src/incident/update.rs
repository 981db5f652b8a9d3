//! Status updates: checked against the life cycle, then filled into the policy's template
//! for their kind and audience from the update's fields and the incident's.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::command::{not_now, optional_text, Context};
use super::event::EventKind;
use super::input::{StatusUpdateInput, UpdateAudience, UpdateKind};
use super::{Incident, Status};
use crate::template::{self, Rendered};
use crate::time::human_duration;
use crate::DomainError;

/// The `status_updated` event for `input`, or the rule it breaks.
pub(super) fn post_update(
    incident: &Incident,
    input: &StatusUpdateInput,
    ctx: &Context,
) -> Result<EventKind, DomainError> {
    let n = incident.number;
    if !(incident.status.is_open() || incident.status == Status::Resolved) {
        return Err(not_now(incident, "posting updates", "reopen it first"));
    }
    match (input.kind, incident.status) {
        (UpdateKind::Resolved, s) if s != Status::Resolved => {
            return Err(DomainError::conflict(format!(
                "incident {n} is {s}; resolve it before posting the resolved update"
            )))
        }
        (UpdateKind::Mitigated, Status::Triggered | Status::Acknowledged) => {
            return Err(DomainError::conflict(format!(
                "incident {n} is {}; mitigate it before posting the mitigated update",
                incident.status
            )))
        }
        (UpdateKind::Update, _) if input.status.as_deref().is_none_or(|s| s.trim().is_empty()) => {
            return Err(DomainError::invalid(
                "status",
                "a status update needs the current status",
            ))
        }
        _ => {}
    }
    let fields = update_fields(incident, input, ctx)?;
    let set = match input.audience {
        UpdateAudience::Internal => &ctx.policy.templates.internal,
        UpdateAudience::Customer => &ctx.policy.templates.customer,
    };
    let template = match input.kind {
        UpdateKind::Detected => &set.detected,
        UpdateKind::Update => &set.update,
        UpdateKind::Mitigated => &set.mitigated,
        UpdateKind::Resolved => &set.resolved,
    };
    let message: Rendered = template::render(template, &fields);
    Ok(EventKind::StatusUpdated {
        kind: input.kind,
        audience: input.audience,
        message,
    })
}

/// The internal message of `kind` for `incident` as it stands, with no person's input:
/// what Klaxon posts by itself (the detected message when an incident opens, kept up to
/// date as its headline; the mitigated and resolved messages). `status` replaces the
/// template's default status line.
pub fn automatic_message(
    incident: &Incident,
    kind: UpdateKind,
    status: Option<String>,
    ctx: &Context,
) -> Rendered {
    let mut input = StatusUpdateInput::new(kind);
    input.status = status;
    // Without a person's input every field comes from the incident and is valid.
    let fields = update_fields(incident, &input, ctx).unwrap_or_default();
    let set = &ctx.policy.templates.internal;
    let template = match kind {
        UpdateKind::Detected => &set.detected,
        UpdateKind::Update => &set.update,
        UpdateKind::Mitigated => &set.mitigated,
        UpdateKind::Resolved => &set.resolved,
    };
    template::render(template, &fields)
}

/// The values a template can use, from the update first and the incident second.
fn update_fields<'a>(
    incident: &Incident,
    input: &StatusUpdateInput,
    ctx: &Context,
) -> Result<BTreeMap<&'a str, String>, DomainError> {
    let tz = ctx.policy.time_zone.zone();
    let clock = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%H:%M %Z").to_string();
    let given = |field: &'static str, v: &Option<String>| optional_text(field, v, 2_000);
    let default_status = match input.kind {
        UpdateKind::Detected => "Investigating",
        UpdateKind::Update => "",
        UpdateKind::Mitigated => "Service restored",
        UpdateKind::Resolved => "Fully resolved",
    };
    let a = &incident.assessment;
    let start = incident.impact_started_at();
    let end = incident.resolved_at.unwrap_or(ctx.now);
    let mut f = BTreeMap::new();
    f.insert("number", incident.number.to_string());
    f.insert("title", incident.title.clone());
    f.insert("issue", incident.title.clone());
    f.insert("slug", incident.slug.clone());
    f.insert("severity", incident.severity.level().to_string());
    f.insert("started", clock(start));
    f.insert("time", clock(ctx.now));
    f.insert(
        "status",
        given("status", &input.status)?.unwrap_or_else(|| default_status.to_owned()),
    );
    let impact = given("impact", &input.impact)?.or_else(|| a.affected_estimate.clone());
    f.insert("impact", impact.clone().unwrap_or_default());
    let commander = incident.roles.commander.as_ref().map(|c| format!("@{c}"));
    f.insert("commander", commander.unwrap_or_default());
    let link = ctx.link_base.as_ref().map(|base| {
        format!(
            "{}/incidents/{}",
            base.trim_end_matches('/'),
            incident.number.0
        )
    });
    f.insert("link", link.unwrap_or_default());
    f.insert(
        "progress",
        given("progress", &input.progress)?.unwrap_or_default(),
    );
    f.insert(
        "next_steps",
        given("next_steps", &input.next_steps)?.unwrap_or_default(),
    );
    f.insert("eta", given("eta", &input.eta)?.unwrap_or_default());
    let action = given("action", &input.action)?
        .or_else(|| incident.mitigation.as_ref().map(|m| m.action.clone()));
    f.insert("action", action.unwrap_or_default());
    let ttm = incident
        .mitigated_at
        .map(|m| human_duration(m.duration_since(incident.declared_at).as_secs()));
    f.insert("time_to_mitigate", ttm.unwrap_or_default());
    let resolution = incident.resolution.as_ref();
    let root_cause = given("root_cause", &input.root_cause)?
        .or_else(|| resolution.and_then(|r| r.root_cause.clone()));
    f.insert("root_cause", root_cause.unwrap_or_default());
    let fix = given("fix", &input.fix)?.or_else(|| resolution.and_then(|r| r.fix.clone()));
    f.insert("fix", fix.unwrap_or_default());
    f.insert(
        "duration",
        human_duration(end.duration_since(start).as_secs()),
    );
    let customer_impact = given("customer_impact", &input.customer_impact)?.or(impact);
    f.insert("customer_impact", customer_impact.unwrap_or_default());
    f.insert(
        "follow_up",
        given("follow_up", &input.follow_up)?.unwrap_or_default(),
    );
    Ok(f)
}
