//! Commands: what people ask of an incident, validated against the incident's state and
//! turned into timeline events. [`decide`] never changes anything; the caller stores the
//! events and the projection they produce together.

use jiff::{SignedDuration, Timestamp};

use super::event::{EventKind, TimelineEvent, TriageAnswer};
use super::input::{Assessment, DeclareInput, Evidence, MitigationStrategy, StatusUpdateInput};
use super::{Incident, Role, Source, Status};
use crate::policy::Policy;
use crate::{DomainError, Handle, IncidentNumber, Severity};

/// The most a free-text field may hold, in characters.
pub const MAX_TEXT: usize = 10_000;
/// The most a title may hold, in characters.
pub const MAX_TITLE: usize = 200;
/// The most an attached piece of evidence may hold, in bytes.
pub const MAX_EVIDENCE_BYTES: usize = 64 * 1024;
/// How far in the future a stated time may lie, to forgive clock skew.
const SKEW: SignedDuration = SignedDuration::from_secs(60);

/// What someone asks of an existing incident. `at` is the time a person states the
/// thing happened, if not now.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Acknowledge {
        at: Option<Timestamp>,
    },
    Assign {
        role: Role,
        user: Handle,
    },
    Relieve {
        role: Role,
        user: Handle,
    },
    ChangeSeverity {
        severity: Severity,
        reason: String,
    },
    PostUpdate(StatusUpdateInput),
    Mitigate {
        strategy: MitigationStrategy,
        action: String,
        at: Option<Timestamp>,
    },
    Resolve {
        root_cause: Option<String>,
        fix: Option<String>,
        at: Option<Timestamp>,
    },
    Close,
    Reopen {
        reason: Option<String>,
    },
    Decline {
        reason: Option<String>,
    },
    Note {
        text: String,
        at: Option<Timestamp>,
    },
    AttachEvidence(Evidence),
    /// Names the status-page components the incident affects and their statuses,
    /// replacing those named before. The server resolves the components (they exist,
    /// are not groups) and fills in the policy's suggested status where none was given.
    SetComponents {
        components: Vec<crate::status::AffectedComponent>,
    },
    /// An alert joins the incident (sent by the server, source `alert`).
    AttachAlert {
        dedup_key: String,
        summary: String,
        severity: crate::alert::AlertSeverity,
    },
}

/// Who is acting, from where, and when.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub actor: Handle,
    pub source: Source,
    pub now: Timestamp,
    pub policy: &'a Policy,
    /// A link to the incident for messages, if the server knows its public URL.
    pub link_base: Option<String>,
}

/// Validates a declaration and returns its first events (the declaration, and the
/// commander's assignment if one was named), numbered from 1.
pub fn declare(input: &DeclareInput, ctx: &Context) -> Result<Vec<TimelineEvent>, DomainError> {
    let title = required_text("title", &input.title, MAX_TITLE)?;
    let (severity, triage) = match (&input.severity, &input.triage) {
        (Some(s), None) => (*s, Vec::new()),
        (None, Some(answers)) => {
            let severity = ctx.policy.triage(answers)?;
            let asked = ctx.policy.triage.questions.iter().zip(answers);
            let record = asked
                .map(|(q, a)| TriageAnswer {
                    question: q.ask.clone(),
                    answer: *a,
                })
                .take_while_inclusive(|a| !a.answer);
            (severity, record)
        }
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                "severity",
                "give a severity or triage answers, not both",
            ))
        }
        (None, None) => {
            return Err(DomainError::invalid(
                "severity",
                "a severity (1-4) is required, or triage answers to the decision tree",
            ))
        }
    };
    let a = &input.assessment;
    let assessment = Assessment {
        what_is_broken: optional_text("assessment.what_is_broken", &a.what_is_broken, MAX_TEXT)?,
        affected: a.affected,
        affected_estimate: optional_text(
            "assessment.affected_estimate",
            &a.affected_estimate,
            MAX_TEXT,
        )?,
        recurrence: a.recurrence,
        started_at: a.started_at,
        recent_changes: optional_text("assessment.recent_changes", &a.recent_changes, MAX_TEXT)?,
    };
    if let Some(started) = assessment.started_at {
        not_in_future("assessment.started_at", started, ctx.now)?;
    }
    if let Some(at) = input.at {
        not_in_future("at", at, ctx.now)?;
    }
    let mut kinds = vec![EventKind::Declared {
        title,
        severity,
        service: optional_text("service", &input.service, MAX_TITLE)?,
        summary: optional_text("summary", &input.summary, MAX_TEXT)?,
        assessment,
        customer_facing: input.customer_facing,
        drill: input.drill,
        restricted: input.restricted,
        triage,
    }];
    if let Some(commander) = &input.commander {
        kinds.push(EventKind::RoleAssigned {
            role: Role::Commander,
            user: commander.clone(),
        });
    }
    Ok(stamp(0, kinds, input.at, ctx))
}

/// [`declare`], with the status-page components the incident affects named right after
/// the declaration (the server resolves them, see [`Command::SetComponents`]); none when
/// `components` is empty.
pub fn declare_with_components(
    input: &DeclareInput,
    components: Vec<crate::status::AffectedComponent>,
    ctx: &Context,
) -> Result<Vec<TimelineEvent>, DomainError> {
    let mut events = declare(input, ctx)?;
    if components.is_empty() {
        return Ok(events);
    }
    let components = check_components(input.restricted, &components)?;
    let named = EventKind::ComponentsChanged { components };
    events.extend(stamp(events.len() as i64, vec![named], input.at, ctx));
    Ok(events)
}

/// The components an incident may name: not on a restricted incident, each once, at
/// most [`crate::status::MAX_AFFECTED`].
fn check_components(
    restricted: bool,
    components: &[crate::status::AffectedComponent],
) -> Result<Vec<crate::status::AffectedComponent>, DomainError> {
    if restricted && !components.is_empty() {
        return Err(DomainError::conflict(
            "this incident is restricted, and restricted incidents never reach the status page; name no components",
        ));
    }
    if components.len() > crate::status::MAX_AFFECTED {
        return Err(DomainError::invalid(
            "components",
            format!(
                "an incident names at most {} components",
                crate::status::MAX_AFFECTED
            ),
        ));
    }
    for (i, c) in components.iter().enumerate() {
        if components[..i].iter().any(|d| d.component == c.component) {
            return Err(DomainError::invalid(
                "components",
                format!("'{}' is named twice", c.name),
            ));
        }
    }
    Ok(components.to_vec())
}

/// The first events of an incident opened by an alert: its declaration (titled by the
/// alert's summary, for `service`) and the alert's attachment.
pub fn declare_from_alert(
    service: &str,
    alert: &crate::alert::AlertEvent,
    dedup_key: &str,
    severity: Severity,
    ctx: &Context,
) -> Result<Vec<TimelineEvent>, DomainError> {
    let summary = alert
        .summary
        .clone()
        .unwrap_or_else(|| dedup_key.to_owned());
    let title = match summary.char_indices().nth(MAX_TITLE - 1) {
        Some((cut, _)) => format!("{}…", &summary[..cut]),
        None => summary.clone(),
    };
    let input = DeclareInput {
        title,
        severity: Some(severity),
        service: Some(service.to_owned()),
        summary: Some(summary.clone()),
        ..Default::default()
    };
    let mut events = declare(&input, ctx)?;
    let attached = EventKind::AlertAttached {
        dedup_key: dedup_key.to_owned(),
        summary,
        severity: alert.severity,
    };
    events.extend(stamp(events.len() as i64, vec![attached], None, ctx));
    Ok(events)
}

/// Decides what `command` does to `incident`: the events to append, or the rule it
/// breaks.
pub fn decide(
    incident: &Incident,
    command: &Command,
    ctx: &Context,
) -> Result<Vec<TimelineEvent>, DomainError> {
    let n = incident.number;
    not_merged_away(incident)?;
    let (kinds, at) = match command {
        Command::Acknowledge { at } => {
            match incident.status {
                Status::Triggered => {}
                Status::Acknowledged => return Err(conflict_already(n, "acknowledged")),
                _ => return Err(not_now(incident, "acknowledging", "reopen it first")),
            }
            milestone_time(incident, *at, ctx.now)?;
            let acked = at.unwrap_or(ctx.now);
            let due_at = ctx
                .policy
                .response_deadline(incident.severity, incident.declared_at);
            let mut kinds = vec![EventKind::Acknowledged];
            // A late acknowledgement is a fact of the incident, kept for the review.
            if acked > due_at {
                kinds.push(EventKind::ResponseTargetMissed {
                    due_at,
                    late_by_seconds: acked.duration_since(due_at).as_secs(),
                });
            }
            (kinds, *at)
        }
        Command::Assign { role, user } => {
            workable(incident, "assigning roles")?;
            (assign(incident, *role, user)?, None)
        }
        Command::Relieve { role, user } => {
            workable(incident, "relieving roles")?;
            if !incident.roles.holds(*role, user) {
                return Err(DomainError::conflict(format!(
                    "{user} is not the {role} of {n}"
                )));
            }
            (
                vec![EventKind::RoleRelieved {
                    role: *role,
                    user: user.clone(),
                }],
                None,
            )
        }
        Command::ChangeSeverity { severity, reason } => {
            if !incident.status.is_open() {
                return Err(not_now(incident, "changing severity", "reopen it first"));
            }
            let reason = required_text("reason", reason, MAX_TEXT)?;
            if *severity == incident.severity {
                return Err(DomainError::conflict(format!(
                    "incident {n} is already {severity}"
                )));
            }
            (
                vec![EventKind::SeverityChanged {
                    from: incident.severity,
                    to: *severity,
                    reason,
                }],
                None,
            )
        }
        Command::PostUpdate(input) => (
            vec![super::update::post_update(incident, input, ctx)?],
            None,
        ),
        Command::Mitigate {
            strategy,
            action,
            at,
        } => {
            let action = required_text("action", action, MAX_TEXT)?;
            let mut kinds = Vec::new();
            match incident.status {
                Status::Triggered => kinds.push(EventKind::Acknowledged),
                Status::Acknowledged => {}
                Status::Mitigated => return Err(conflict_already(n, "mitigated")),
                _ => return Err(not_now(incident, "mitigating", "reopen it first")),
            }
            milestone_time(incident, *at, ctx.now)?;
            kinds.push(EventKind::Mitigated {
                strategy: *strategy,
                action,
            });
            (kinds, *at)
        }
        Command::Resolve {
            root_cause,
            fix,
            at,
        } => {
            if !incident.status.is_open() {
                return Err(match incident.status {
                    Status::Resolved | Status::Closed => {
                        conflict_already(n, incident.status.as_str())
                    }
                    _ => not_now(incident, "resolving", "it is final"),
                });
            }
            milestone_time(incident, *at, ctx.now)?;
            let root_cause = optional_text("root_cause", root_cause, MAX_TEXT)?;
            let fix = optional_text("fix", fix, MAX_TEXT)?;
            (vec![EventKind::Resolved { root_cause, fix }], *at)
        }
        Command::Close => match incident.status {
            Status::Resolved => (vec![EventKind::Closed], None),
            Status::Closed => return Err(conflict_already(n, "closed")),
            _ => return Err(not_now(incident, "closing", "resolve it first")),
        },
        Command::Reopen { reason } => match incident.status {
            Status::Resolved | Status::Closed => {
                let reason = optional_text("reason", reason, MAX_TEXT)?;
                (vec![EventKind::Reopened { reason }], None)
            }
            _ => {
                return Err(not_now(
                    incident,
                    "reopening",
                    "only resolved or closed incidents reopen",
                ))
            }
        },
        Command::Decline { reason } => {
            if !incident.status.is_open() {
                return Err(not_now(
                    incident,
                    "declining",
                    "only open incidents can be declined",
                ));
            }
            let reason = optional_text("reason", reason, MAX_TEXT)?;
            (vec![EventKind::Declined { reason }], None)
        }
        Command::Note { text, at } => {
            let text = required_text("text", text, MAX_TEXT)?;
            if let Some(at) = at {
                not_in_future("at", *at, ctx.now)?;
            }
            (vec![EventKind::Noted { text }], *at)
        }
        Command::AttachAlert {
            dedup_key,
            summary,
            severity,
        } => {
            if !incident.status.is_open() {
                return Err(not_now(
                    incident,
                    "attaching alerts",
                    "a new incident is needed",
                ));
            }
            let kind = EventKind::AlertAttached {
                dedup_key: dedup_key.clone(),
                summary: summary.clone(),
                severity: *severity,
            };
            (vec![kind], None)
        }
        Command::AttachEvidence(evidence) => (
            vec![EventKind::EvidenceAttached {
                evidence: check_evidence(evidence)?,
            }],
            None,
        ),
        Command::SetComponents { components } => {
            if !incident.status.is_open() {
                return Err(not_now(
                    incident,
                    "naming affected components",
                    "reopen it first",
                ));
            }
            let components = check_components(incident.restricted, components)?;
            if components == incident.components {
                return Err(DomainError::conflict(format!(
                    "incident {n} already names these components with these statuses"
                )));
            }
            (vec![EventKind::ComponentsChanged { components }], None)
        }
    };
    Ok(stamp(incident.version, kinds, at, ctx))
}

/// What the engine did for an incident (paged, notified, failed to notify), as timeline
/// events. Refused for anything but those kinds, and for incidents merged away.
pub fn record(
    incident: &Incident,
    kinds: Vec<EventKind>,
    ctx: &Context,
) -> Result<Vec<TimelineEvent>, DomainError> {
    not_merged_away(incident)?;
    let engine_only = kinds.iter().all(|k| {
        matches!(
            k,
            EventKind::Paged { .. }
                | EventKind::Notified { .. }
                | EventKind::NotificationFailed { .. }
                | EventKind::UpdateMissed { .. }
                | EventKind::ReviewOpened { .. }
                | EventKind::ReviewPublished
                | EventKind::ReviewReminded { .. }
                | EventKind::ActionItemReminded { .. }
        )
    });
    if !engine_only {
        return Err(DomainError::invalid(
            "kind",
            "only paging, notification and review events are recorded this way",
        ));
    }
    Ok(stamp(incident.version, kinds, None, ctx))
}

/// Merges `source` into `target`: the events for each, in that order. Both must be
/// open; a restricted incident may only join another restricted one.
pub fn merge(
    source: &Incident,
    target: &Incident,
    ctx: &Context,
) -> Result<(Vec<TimelineEvent>, Vec<TimelineEvent>), DomainError> {
    if source.number == target.number {
        return Err(DomainError::invalid(
            "into",
            "an incident cannot be merged into itself",
        ));
    }
    not_merged_away(source)?;
    if !source.status.is_open() {
        return Err(not_now(
            source,
            "merging",
            "only open incidents can be merged",
        ));
    }
    if !target.status.is_open() {
        return Err(DomainError::conflict(format!(
            "incident {} is {}; merge into an open incident",
            target.number, target.status
        )));
    }
    if source.restricted && !target.restricted {
        return Err(DomainError::conflict(format!(
            "incident {} is restricted and {} is not; merging would expose it",
            source.number, target.number
        )));
    }
    let out = stamp(
        source.version,
        vec![EventKind::MergedInto {
            into: target.number,
        }],
        None,
        ctx,
    );
    let into = stamp(
        target.version,
        vec![EventKind::MergedFrom {
            from: source.number,
            title: source.title.clone(),
        }],
        None,
        ctx,
    );
    Ok((out, into))
}

fn assign(incident: &Incident, role: Role, user: &Handle) -> Result<Vec<EventKind>, DomainError> {
    let n = incident.number;
    if incident.roles.holds(role, user) {
        return Err(DomainError::conflict(format!(
            "{user} is already the {role} of {n}"
        )));
    }
    let mut kinds = Vec::new();
    if !role.is_shared() {
        if let Some(previous) = incident.roles.holder(role) {
            kinds.push(EventKind::RoleRelieved {
                role,
                user: previous.clone(),
            });
        }
    }
    kinds.push(EventKind::RoleAssigned {
        role,
        user: user.clone(),
    });
    Ok(kinds)
}

fn check_evidence(evidence: &Evidence) -> Result<Evidence, DomainError> {
    let size = match evidence {
        Evidence::Text { text } => {
            required_text("text", text, usize::MAX)?;
            text.len()
        }
        Evidence::File { name, content } => {
            required_text("name", name, 255)?;
            content.len()
        }
        Evidence::Command {
            command, output, ..
        } => {
            required_text("command", command, MAX_TEXT)?;
            output.len()
        }
    };
    if size > MAX_EVIDENCE_BYTES {
        return Err(DomainError::TooLarge(format!(
            "evidence is {size} bytes; the limit is {MAX_EVIDENCE_BYTES} bytes (cut it, or attach the part that matters)"
        )));
    }
    Ok(evidence.clone())
}

/// Numbers events after `version` and stamps them with the context.
fn stamp(
    version: i64,
    kinds: Vec<EventKind>,
    at: Option<Timestamp>,
    ctx: &Context,
) -> Vec<TimelineEvent> {
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| TimelineEvent {
            seq: version + 1 + i as i64,
            kind,
            actor: ctx.actor.to_string(),
            source: ctx.source,
            recorded_at: ctx.now,
            // A stated time within the clock-skew allowance is taken as now.
            occurred_at: at.map(|t| crate::time::to_millis_precision(t.min(ctx.now))),
        })
        .collect()
}

/// Incidents take role changes and updates while open or resolved, not once closed.
fn workable(incident: &Incident, doing: &str) -> Result<(), DomainError> {
    if incident.status.is_open() || incident.status == Status::Resolved {
        Ok(())
    } else {
        Err(not_now(incident, doing, "reopen it first"))
    }
}

/// A stated time for a milestone must be in the past and after the milestones before it,
/// so that durations are never negative.
fn milestone_time(
    incident: &Incident,
    at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), DomainError> {
    let Some(at) = at else { return Ok(()) };
    not_in_future("at", at, now)?;
    let latest = [
        Some(("declared", incident.declared_at)),
        incident.acknowledged_at.map(|t| ("acknowledged", t)),
        incident.mitigated_at.map(|t| ("mitigated", t)),
    ]
    .into_iter()
    .flatten()
    .max_by_key(|(_, t)| *t);
    if let Some((what, t)) = latest {
        if at < t {
            return Err(DomainError::invalid(
                "at",
                format!("{at} is before the incident was {what} at {t}"),
            ));
        }
    }
    Ok(())
}

fn not_in_future(field: &'static str, at: Timestamp, now: Timestamp) -> Result<(), DomainError> {
    if at > now.saturating_add(SKEW).unwrap_or(now) {
        return Err(DomainError::invalid(
            field,
            format!("{at} is in the future (it is now {now})"),
        ));
    }
    Ok(())
}

/// A merged incident takes no more commands: the work goes on in the one it joined.
fn not_merged_away(incident: &Incident) -> Result<(), DomainError> {
    match incident.merged_into {
        Some(into) => Err(DomainError::conflict(format!(
            "incident {} was merged into {into}; work on {into} instead",
            incident.number
        ))),
        None => Ok(()),
    }
}

fn conflict_already(n: IncidentNumber, what: &str) -> DomainError {
    DomainError::conflict(format!("incident {n} is already {what}"))
}

pub(super) fn not_now(incident: &Incident, doing: &str, fix: &str) -> DomainError {
    let n = incident.number;
    let status = incident.status;
    DomainError::conflict(format!(
        "incident {n} is {status}; {doing} is not possible: {fix}"
    ))
}

fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

pub(super) fn optional_text(
    field: &'static str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required_text(field, v, max).map(Some),
    }
}

/// `take_while`, keeping the first item that fails the test: the answers up to and
/// including the first "yes".
trait TakeWhileInclusive: Iterator + Sized {
    fn take_while_inclusive(self, keep_going: impl Fn(&Self::Item) -> bool) -> Vec<Self::Item> {
        let mut out = Vec::new();
        for item in self {
            let go_on = keep_going(&item);
            out.push(item);
            if !go_on {
                break;
            }
        }
        out
    }
}

impl<I: Iterator> TakeWhileInclusive for I {}
