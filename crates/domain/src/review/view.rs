//! A review as readers see it: its sections, with what is computed from the incident
//! (the times, the duration, the timeline from the event log with the team's stars and
//! context) and from its action items (the runbook's lists).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::actions::{ActionItem, ActionLists};
use super::command::HistoryEntry;
use super::whys::WhyNode;
use super::{Review, ReviewRecord};
use crate::incident::{
    describe, Durations, EventKind, Incident, IncidentView, Status, TimelineEvent,
};
use crate::metrics::{drill_score, DrillScore, IncidentFacts};
use crate::policy::Policy;
use crate::{IncidentNumber, Severity};

/// The incident a review is about, as far as the report needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentBrief {
    pub number: IncidentNumber,
    pub slug: String,
    pub title: String,
    pub severity: Severity,
    /// The severity's name in the policy ("High").
    pub severity_name: String,
    pub status: Status,
    pub service: Option<String>,
    pub restricted: bool,
    pub drill: bool,
    pub customer_facing: bool,
    pub commander: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub impact_started_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub mitigated_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    pub durations: Durations,
    /// Whether the acknowledgement came after the severity's response target.
    pub response_target_missed: bool,
}

/// One event of the incident's timeline in the review: the event in words as it was
/// recorded, and the team's star and context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub actor: String,
    /// The event's type (`acknowledged`).
    pub kind: String,
    /// The event in words (its first line).
    pub text: String,
    /// A milestone of the life cycle (declared, acknowledged, mitigated, resolved…).
    pub milestone: bool,
    pub starred: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub context: String,
}

/// A review with what is computed for its readers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub review: Review,
    pub incident: IncidentBrief,
    /// Past due and not published.
    pub overdue: bool,
    /// Sections still empty that publishing needs.
    pub missing_sections: Vec<String>,
    /// The incident's timeline (paging deliveries and reminders left out).
    pub timeline: Vec<TimelineEntry>,
    pub action_items: Vec<ActionItem>,
    /// Completed, in progress, planned (and dropped), from the items' statuses.
    pub lists: ActionLists,
    pub history: Vec<HistoryEntry>,
    /// A drill's score against its severity's targets; only drills have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill_score: Option<DrillScore>,
}

impl ReviewView {
    pub fn new(
        record: ReviewRecord,
        incident: &Incident,
        events: &[TimelineEvent],
        history: Vec<HistoryEntry>,
        policy: &Policy,
        now: Timestamp,
    ) -> ReviewView {
        let review = record.review;
        let view = IncidentView::new(incident.clone(), policy, now);
        let brief = IncidentBrief {
            number: incident.number,
            slug: incident.slug.clone(),
            title: incident.title.clone(),
            severity: incident.severity,
            severity_name: policy.severity(incident.severity).name.clone(),
            status: incident.status,
            service: incident.service.clone(),
            restricted: incident.restricted,
            drill: incident.drill,
            customer_facing: incident.customer_facing,
            commander: incident.roles.commander.as_ref().map(|h| h.to_string()),
            impact_started_at: incident.impact_started_at(),
            declared_at: incident.declared_at,
            acknowledged_at: incident.acknowledged_at,
            mitigated_at: incident.mitigated_at,
            resolved_at: incident.resolved_at,
            durations: view.durations,
            response_target_missed: view.response.breached,
        };
        let timeline = events
            .iter()
            .filter(|e| shown(&e.kind))
            .map(|e| {
                let note = review.notes.iter().find(|n| n.seq == e.seq);
                let text = describe(&e.kind, |t| t.to_owned());
                TimelineEntry {
                    seq: e.seq,
                    at: e.effective_at(),
                    actor: e.actor.clone(),
                    kind: e.kind.name().to_owned(),
                    text: text.lines().next().unwrap_or_default().to_owned(),
                    milestone: milestone(&e.kind),
                    starred: note.is_some_and(|n| n.starred),
                    context: note.map(|n| n.context.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let drill_score = incident
            .drill
            .then(|| drill_score(&IncidentFacts::of(incident, events), policy, now));
        let mut items = record.items;
        items.sort_by_key(|i| i.number);
        ReviewView {
            overdue: review.is_overdue(now),
            missing_sections: review
                .missing_sections()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            lists: ActionLists::of(&items),
            action_items: items,
            incident: brief,
            timeline,
            history,
            drill_score,
            review,
        }
    }
}

/// Whether an event belongs in the review's timeline: not the engine's deliveries or
/// the review's own reminders.
fn shown(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Notified { .. }
            | EventKind::NotificationFailed { .. }
            | EventKind::ReviewReminded { .. }
            | EventKind::ActionItemReminded { .. }
    )
}

/// The life cycle's milestones, which the report's timeline always shows.
pub fn milestone(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Declared { .. }
            | EventKind::Acknowledged
            | EventKind::Mitigated { .. }
            | EventKind::Resolved { .. }
            | EventKind::Closed
            | EventKind::Reopened { .. }
            | EventKind::SeverityChanged { .. }
            | EventKind::ResponseTargetMissed { .. }
    )
}

/// The 5-whys as chains to read: each node that follows none starts one, and the nodes
/// that follow it come after it, each with its depth (0 for the start). Nodes are
/// visited once, so a set that was never checked still ends.
pub fn chains(nodes: &[WhyNode]) -> Vec<Vec<(usize, &WhyNode)>> {
    let mut out = vec![];
    let mut seen = std::collections::HashSet::new();
    for root in nodes.iter().filter(|n| n.follows.is_none()) {
        let mut chain = vec![];
        let mut stack = vec![(0, root)];
        while let Some((depth, node)) = stack.pop() {
            if !seen.insert(node.id) {
                continue;
            }
            chain.push((depth, node));
            let mut next: Vec<_> = nodes
                .iter()
                .filter(|n| n.follows == Some(node.id))
                .collect();
            next.sort_by_key(|n| std::cmp::Reverse(n.id));
            stack.extend(next.into_iter().map(|n| (depth + 1, n)));
        }
        out.push(chain);
    }
    out
}
