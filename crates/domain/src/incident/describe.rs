//! Timeline events in words, for people: the CLI's timeline and the web UI's.

use super::{EventKind, Evidence, UpdateAudience};

/// One event in words: a first line, then any text it carries (a status update's
/// message, evidence), each long text passed through `excerpt`.
pub fn describe(kind: &EventKind, excerpt: impl Fn(&str) -> String) -> String {
    let reason = |r: &Option<String>| r.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
    match kind {
        EventKind::Declared {
            title,
            severity,
            triage,
            ..
        } => {
            let mut s = format!("declared {severity}: {title}");
            for a in triage {
                let yes_no = if a.answer { "yes" } else { "no" };
                s.push_str(&format!("\n  triage: {} {yes_no}", a.question));
            }
            s
        }
        EventKind::Acknowledged => "acknowledged".to_owned(),
        EventKind::AlertAttached {
            dedup_key,
            summary,
            severity,
        } => {
            format!("alert ({severity}): {summary}\n  dedup key: {dedup_key}")
        }
        EventKind::RoleAssigned { role, user } => format!("@{user} is now {role}"),
        EventKind::RoleRelieved { role, user } => format!("@{user} relieved as {role}"),
        EventKind::SeverityChanged { from, to, reason } => {
            format!("severity {from} → {to}: {reason}")
        }
        EventKind::StatusUpdated {
            kind,
            audience,
            message,
        } => {
            let kind = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let audience = serde_json::to_value(audience)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{audience} status update ({kind}):\n{}", message.text)
        }
        EventKind::Mitigated {
            strategy: s,
            action,
        } => {
            format!("mitigated ({}): {action}", s.as_str())
        }
        EventKind::Resolved { root_cause, fix } => {
            let mut s = "resolved".to_owned();
            if let Some(rc) = root_cause {
                s.push_str(&format!("\nroot cause: {rc}"));
            }
            if let Some(fix) = fix {
                s.push_str(&format!("\nfix: {fix}"));
            }
            s
        }
        EventKind::Closed => "closed".to_owned(),
        EventKind::Reopened { reason: r } => format!("reopened{}", reason(r)),
        EventKind::Declined { reason: r } => format!("declined{}", reason(r)),
        EventKind::MergedInto { into } => format!("merged into {into}"),
        EventKind::MergedFrom { from, title } => format!("{from} merged in: {title}"),
        EventKind::Noted { text } => format!("note: {text}"),
        EventKind::EvidenceAttached { evidence } => describe_evidence(evidence, excerpt),
        EventKind::ComponentsChanged { components } if components.is_empty() => {
            "status page: affects no components".to_owned()
        }
        EventKind::ComponentsChanged { components } => {
            let named: Vec<String> = components
                .iter()
                .map(|c| format!("{} {}", c.name, c.status.label().to_lowercase()))
                .collect();
            format!("status page: {}", named.join(", "))
        }
        EventKind::ResponseTargetMissed {
            due_at,
            late_by_seconds,
        } => format!(
            "response target missed: acknowledged {} after it was due ({due_at})",
            crate::time::human_duration(*late_by_seconds)
        ),
        EventKind::UpdateMissed {
            due_at,
            reminded,
            audience,
        } => {
            let who = reminded
                .iter()
                .map(|h| format!("@{h}"))
                .collect::<Vec<_>>()
                .join(", ");
            let which = match audience {
                UpdateAudience::Internal => "internal",
                UpdateAudience::Customer => "customer",
            };
            format!("{which} update missed (due {due_at}); reminded {who}")
        }
        EventKind::Paged {
            round,
            step,
            users,
            urgency,
        } => {
            let again = if *round > 0 {
                format!(", repeat {round}")
            } else {
                String::new()
            };
            if users.is_empty() {
                format!("escalation step {}{again}: nobody to page", step + 1)
            } else {
                format!(
                    "paged ({urgency} urgency, step {}{again}): {}",
                    step + 1,
                    users.join(", ")
                )
            }
        }
        EventKind::Notified {
            user,
            method,
            attempt,
        } => {
            let tries = if *attempt > 1 {
                format!(" (attempt {attempt})")
            } else {
                String::new()
            };
            format!("notified {user} by {}{tries}", method.as_str())
        }
        EventKind::NotificationFailed {
            user,
            method,
            attempt,
            error,
            retry_at,
        } => match retry_at {
            Some(at) => format!(
                "{} to {user} failed (attempt {attempt}): {error}; retrying at {at}",
                method.as_str()
            ),
            None => format!(
                "{} to {user} failed (attempt {attempt}): {error}; gave up",
                method.as_str()
            ),
        },
        EventKind::ReviewOpened { owner, due_at } => match owner {
            Some(o) => format!("post-incident review opened, due {due_at}, owned by @{o}"),
            None => format!("post-incident review opened, due {due_at}"),
        },
        EventKind::ReviewPublished => "post-incident review published".to_owned(),
        EventKind::ReviewReminded {
            due_at,
            stage,
            reminded,
        } => {
            let what = match stage {
                crate::review::ReminderStage::Before => "post-incident review due soon",
                crate::review::ReminderStage::Due => "post-incident review overdue",
                crate::review::ReminderStage::Escalate => "post-incident review overdue, escalated",
            };
            format!("{what} (due {due_at}); reminded {}", people(reminded))
        }
        EventKind::ActionItemReminded {
            item,
            title,
            due_at,
            stage,
            reminded,
        } => {
            let what = match stage {
                crate::review::ReminderStage::Before => "due soon",
                crate::review::ReminderStage::Due => "overdue",
                crate::review::ReminderStage::Escalate => "overdue, escalated",
            };
            format!(
                "action item {item} {what} (due {due_at}): {title}; reminded {}",
                people(reminded)
            )
        }
    }
}

/// `@a, @b`, or `nobody`.
fn people(handles: &[String]) -> String {
    if handles.is_empty() {
        return "nobody".to_owned();
    }
    handles
        .iter()
        .map(|h| format!("@{h}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_evidence(evidence: &Evidence, excerpt: impl Fn(&str) -> String) -> String {
    match evidence {
        Evidence::Text { text } => format!("evidence:\n{}", excerpt(text)),
        Evidence::File { name, content } => {
            format!(
                "evidence: file {name} ({} bytes)\n{}",
                content.len(),
                excerpt(content)
            )
        }
        Evidence::Command {
            command,
            output,
            exit_code,
            truncated,
        } => {
            let outcome = command_outcome(*exit_code, *truncated);
            format!("evidence: $ {command} ({outcome})\n{}", excerpt(output))
        }
    }
}

/// How a command attached as evidence ended: `exit 0`, `exit 3, output cut to fit`.
pub fn command_outcome(exit_code: Option<i32>, truncated: bool) -> String {
    let code = exit_code.map_or("killed by a signal".to_owned(), |c| format!("exit {c}"));
    let cut = if truncated { ", output cut to fit" } else { "" };
    format!("{code}{cut}")
}
