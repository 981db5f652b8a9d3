//! What people ask of a review, checked against it and turned into its new state, the
//! lines of its history, the reminders to plan and the events for the incident's
//! timeline. Nothing is changed here: the caller stores the [`ReviewChange`] whole.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::actions::{default_due, ActionItem, ActionItemPatch, Answers, NewActionItem};
use super::reminders::{action_reminders, review_reminders};
use super::sections::{required, text, Impact, Lessons, Meeting, RootCauseInput, Summary};
use super::sections::{TimelineNote, MAX_SECTION, MAX_SHORT};
use super::whys::{check_whys, WhyNode, WhyNodeInput};
use super::{Review, ReviewRecord, ReviewStatus};
use crate::incident::{Context, EventKind, Incident, Source, Status, TimelineEvent};
use crate::paging::{JobKind, JobPlan};
use crate::policy::Policy;
use crate::{DomainError, Handle};

/// How far in the past a deadline typed "now" may lie, to forgive clock skew.
const SKEW: SignedDuration = SignedDuration::from_secs(60);
/// How long after resolution a review is due when the severity's policy says nothing.
const DEFAULT_DUE: SignedDuration = SignedDuration::from_hours(48);
/// The most action items one review may hold.
pub const MAX_ITEMS: usize = 200;

/// Opening a review by hand: its owner and deadline, if not the defaults (the
/// commander; the policy's time after resolution).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenReview {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Handle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
}

/// A change asked of a review.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewCommand {
    SetOwner(Handle),
    SetDue(Timestamp),
    Summary(Summary),
    Impact(Impact),
    RootCause(RootCauseInput),
    Lessons(Lessons),
    Meeting(Meeting),
    /// Star (or unstar) timeline event `seq`, with context; the event is not changed.
    Note {
        seq: i64,
        starred: bool,
        context: String,
    },
    /// Replace the 5-whys whole.
    SetWhys(Vec<WhyNode>),
    AddWhy(WhyNodeInput),
    AddAction(NewActionItem),
    UpdateAction {
        number: u32,
        patch: ActionItemPatch,
    },
    SetStatus(ReviewStatus),
}

/// One line of a review's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// From 1 within the review; the review's version is its last entry's.
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub actor: String,
    pub source: Source,
    /// What changed, in words.
    pub what: String,
}

/// A decided change to a review, written whole by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewChange {
    /// The review and its items after the change.
    pub record: ReviewRecord,
    /// The version the review must still be at; 0 for a review being opened.
    pub expected_version: i64,
    /// The items added or changed, as they are now.
    pub items: Vec<ActionItem>,
    pub history: Vec<HistoryEntry>,
    /// Reminders to plan (and kinds of the incident's pending jobs to cancel).
    pub jobs: JobPlan,
    /// What the incident's timeline records of the change.
    pub timeline: Vec<EventKind>,
}

/// Opens the review of `incident` (whose timeline is `events`).
pub fn open(
    incident: &Incident,
    events: &[TimelineEvent],
    input: &OpenReview,
    ctx: &Context,
) -> Result<ReviewChange, DomainError> {
    let n = incident.number;
    if matches!(incident.status, Status::Declined | Status::Merged) {
        return Err(DomainError::conflict(format!(
            "incident {n} is {}; it gets no review",
            incident.status
        )));
    }
    let rules = &ctx.policy.severity(incident.severity).review;
    let due_at = match input.due_at {
        Some(at) => future("due_at", at, ctx.now)?,
        None => {
            let base = incident.resolved_at.unwrap_or(ctx.now);
            let after = rules.due.map_or(DEFAULT_DUE, |c| c.0);
            let due = if rules.business_hours {
                ctx.policy.add_business_time(base, after)
            } else {
                base.checked_add(after).unwrap_or(base)
            };
            crate::time::to_millis_precision(due)
        }
    };
    let owner = input
        .owner
        .clone()
        .or_else(|| default_owner(incident, events));
    let review = Review {
        incident: n,
        status: ReviewStatus::Draft,
        owner: owner.clone(),
        required: rules.required,
        opened_at: ctx.now,
        opened_by: ctx.actor.to_string(),
        due_at,
        published_at: None,
        summary: Summary {
            what_happened: incident
                .summary
                .clone()
                .or_else(|| incident.assessment.what_is_broken.clone())
                .unwrap_or_default(),
            who_affected: incident
                .assessment
                .affected_estimate
                .clone()
                .unwrap_or_default(),
            detection: detection(events),
        },
        impact: Impact::default(),
        root_cause: super::RootCause {
            technical_cause: incident
                .resolution
                .as_ref()
                .and_then(|r| r.root_cause.clone())
                .unwrap_or_default(),
            ..Default::default()
        },
        whys: vec![],
        lessons: Lessons::default(),
        meeting: Meeting::default(),
        notes: vec![],
        version: 0,
        updated_at: ctx.now,
    };
    let owner_text = owner.map_or_else(|| "nobody yet".to_owned(), |o| format!("@{o}"));
    let mut change = ReviewChange {
        record: ReviewRecord {
            review,
            items: vec![],
        },
        expected_version: 0,
        items: vec![],
        history: vec![],
        jobs: JobPlan::default(),
        timeline: vec![EventKind::ReviewOpened {
            owner: input
                .owner
                .clone()
                .or_else(|| default_owner(incident, events)),
            due_at,
        }],
    };
    change.log(
        ctx,
        format!(
            "review opened, due {}, owned by {owner_text}",
            crate::time::to_millis_precision(due_at)
        ),
    );
    change.jobs.add = review_reminders(&change.record.review, &ctx.policy.reviews, ctx.now);
    Ok(change)
}

/// The commander; else whoever resolved the incident or declared it, if a person.
fn default_owner(incident: &Incident, events: &[TimelineEvent]) -> Option<Handle> {
    let person = |actor: &str| Handle::parse(actor).ok().filter(|h| h.as_str() != "klaxon");
    incident.roles.commander.clone().or_else(|| {
        events
            .iter()
            .rev()
            .find(|e| matches!(e.kind, EventKind::Resolved { .. }))
            .and_then(|e| person(&e.actor))
            .or_else(|| person(&incident.declared_by))
    })
}

/// How the incident was detected: its first alert, or its declaration.
fn detection(events: &[TimelineEvent]) -> String {
    let alert = events.iter().find_map(|e| match &e.kind {
        EventKind::AlertAttached {
            summary, dedup_key, ..
        } => Some(format!(
            "Alert at {}: {summary} (dedup key {dedup_key})",
            e.effective_at()
        )),
        _ => None,
    });
    alert.unwrap_or_else(|| match events.first() {
        Some(e) => format!(
            "Declared by @{} at {} (from the {})",
            e.actor,
            e.effective_at(),
            e.source.as_str()
        ),
        None => String::new(),
    })
}

/// Decides what `command` does to the review of `incident`.
pub fn decide(
    record: &ReviewRecord,
    incident: &Incident,
    command: &ReviewCommand,
    ctx: &Context,
) -> Result<ReviewChange, DomainError> {
    let mut change = ReviewChange {
        record: record.clone(),
        expected_version: record.review.version,
        items: vec![],
        history: vec![],
        jobs: JobPlan::default(),
        timeline: vec![],
    };
    let rules = &ctx.policy.reviews;
    let n = incident.number;
    let editable = || {
        if record.review.status == ReviewStatus::Published {
            Err(DomainError::conflict(format!(
                "the review of incident {n} is published; reopen it (status draft) to change it"
            )))
        } else {
            Ok(())
        }
    };
    let review = &mut change.record.review;
    let what = match command {
        ReviewCommand::SetOwner(owner) => {
            if review.owner.as_ref() == Some(owner) {
                return Err(DomainError::conflict(format!(
                    "@{owner} owns the review of incident {n} already"
                )));
            }
            review.owner = Some(owner.clone());
            format!("owner set to @{owner}")
        }
        ReviewCommand::SetDue(at) => {
            editable()?;
            let at = future("due_at", *at, ctx.now)?;
            review.due_at = at;
            change.jobs.cancel.push(JobKind::ReviewRemind);
            change.jobs.add = review_reminders(review, rules, ctx.now);
            format!("due date set to {at}")
        }
        ReviewCommand::Summary(s) => {
            editable()?;
            review.summary = s.checked()?;
            "summary updated".to_owned()
        }
        ReviewCommand::Impact(i) => {
            editable()?;
            review.impact = i.checked()?;
            "impact updated".to_owned()
        }
        ReviewCommand::RootCause(input) => {
            editable()?;
            let root = input.checked(&review.root_cause)?;
            for item in &record.items {
                if let Some(Answers::Factor(f)) = item.answers {
                    if !root.factors.iter().any(|x| x.id == f) {
                        return Err(DomainError::invalid(
                            "root_cause.factors",
                            format!(
                                "action item {} answers contributing factor {f}, which would no longer exist; link it elsewhere first",
                                item.reference()
                            ),
                        ));
                    }
                }
            }
            review.root_cause = root;
            "root cause analysis updated".to_owned()
        }
        ReviewCommand::Lessons(l) => {
            editable()?;
            review.lessons = l.checked()?;
            "what went well and what could improve updated".to_owned()
        }
        ReviewCommand::Meeting(m) => {
            editable()?;
            review.meeting = m.checked()?;
            "meeting updated".to_owned()
        }
        ReviewCommand::Note {
            seq,
            starred,
            context,
        } => {
            editable()?;
            if *seq < 1 || *seq > incident.version {
                return Err(DomainError::invalid(
                    "seq",
                    format!(
                        "incident {n}'s timeline has events 1 to {}; there is no event {seq}",
                        incident.version
                    ),
                ));
            }
            let context = text("context", context, MAX_SECTION)?;
            review.notes.retain(|note| note.seq != *seq);
            if *starred || !context.is_empty() {
                review.notes.push(TimelineNote {
                    seq: *seq,
                    starred: *starred,
                    context,
                });
                review.notes.sort_by_key(|note| note.seq);
            }
            let star = if *starred { "starred" } else { "unstarred" };
            format!("timeline event {seq} {star}")
        }
        ReviewCommand::SetWhys(nodes) => {
            editable()?;
            review.whys = check_whys(nodes, &record.items)?;
            format!("5-whys replaced ({} nodes)", review.whys.len())
        }
        ReviewCommand::AddWhy(input) => {
            editable()?;
            let id = review.whys.iter().map(|w| w.id).max().unwrap_or(0) + 1;
            let mut nodes = review.whys.clone();
            nodes.push(WhyNode {
                id,
                follows: input.follows,
                why: input.why.clone(),
                because: input.because.clone(),
            });
            review.whys = check_whys(&nodes, &record.items).map_err(|e| match e {
                DomainError::Invalid { field, message } => DomainError::Invalid {
                    field,
                    message: message
                        .strip_prefix(&format!("whys[{}]: ", nodes.len() - 1))
                        .unwrap_or(&message)
                        .to_owned(),
                },
                other => other,
            })?;
            match input.follows {
                Some(f) => format!("5-whys node {id} added after node {f}"),
                None => format!("5-whys chain started with node {id}"),
            }
        }
        ReviewCommand::AddAction(new) => {
            if record.items.len() >= MAX_ITEMS {
                return Err(DomainError::invalid(
                    "title",
                    format!("a review holds at most {MAX_ITEMS} action items"),
                ));
            }
            let number = record.items.iter().map(|i| i.number).max().unwrap_or(0) + 1;
            let status = new.status.unwrap_or(super::ActionStatus::Open);
            let due_at = match new.due_at {
                Some(at) => future("due_at", at, ctx.now)?,
                None => default_due(new.category, incident, rules, ctx.now),
            };
            let item = ActionItem {
                incident: n,
                number,
                title: required("title", &new.title, MAX_SHORT)?,
                owner: new.owner.clone(),
                category: new.category,
                status,
                due_at: crate::time::to_millis_precision(due_at),
                answers: checked_answers(review, new.answers)?,
                ticket: ticket(new.ticket.as_deref())?,
                created_at: ctx.now,
                updated_at: ctx.now,
                closed_at: (!status.is_pending()).then_some(ctx.now),
            };
            change.jobs.add = action_reminders(&item, rules, ctx.now);
            let what = format!(
                "action item {} added: {} (@{}, {}, due {})",
                item.reference(),
                item.title,
                item.owner,
                item.category.as_str(),
                item.due_at
            );
            change.record.items.push(item.clone());
            change.items.push(item);
            what
        }
        ReviewCommand::UpdateAction { number, patch } => {
            let before = record
                .items
                .iter()
                .find(|i| i.number == *number)
                .ok_or_else(|| {
                    DomainError::invalid(
                        "item",
                        format!("incident {n}'s review has no action item {}-{number}", n.0),
                    )
                })?;
            let item = update_item(before, review, patch, ctx)?;
            let changes = item_changes(before, &item);
            if changes.is_empty() {
                return Err(DomainError::conflict(format!(
                    "action item {} is like that already",
                    before.reference()
                )));
            }
            if item.due_at != before.due_at || item.status != before.status {
                change.jobs.add = action_reminders(&item, rules, ctx.now);
            }
            let what = format!("action item {}: {}", item.reference(), changes.join("; "));
            if let Some(slot) = change.record.items.iter_mut().find(|i| i.number == *number) {
                *slot = item.clone();
            }
            change.items.push(item);
            what
        }
        ReviewCommand::SetStatus(to) => {
            let from = review.status;
            match (from, *to) {
                (a, b) if a == b => {
                    return Err(DomainError::conflict(format!(
                        "the review of incident {n} is {a} already"
                    )))
                }
                (ReviewStatus::Draft, ReviewStatus::Published) => {
                    return Err(DomainError::conflict(format!(
                        "the review of incident {n} is a draft; submit it for review (status in_review) before publishing"
                    )))
                }
                (_, ReviewStatus::Published) => {
                    let missing = review.missing_sections();
                    if !missing.is_empty() {
                        return Err(DomainError::invalid(
                            "sections",
                            format!(
                                "fill these sections before publishing: {}",
                                missing.join(", ")
                            ),
                        ));
                    }
                    review.published_at = Some(ctx.now);
                    change.jobs.cancel.push(JobKind::ReviewRemind);
                    change.timeline.push(EventKind::ReviewPublished);
                }
                (ReviewStatus::Published, _) => {
                    review.published_at = None;
                    change.jobs.add = review_reminders(
                        &Review {
                            status: *to,
                            ..review.clone()
                        },
                        rules,
                        ctx.now,
                    );
                }
                _ => {}
            }
            review.status = *to;
            format!("status {from} → {to}")
        }
    };
    change.record.review.updated_at = ctx.now;
    change.log(ctx, what);
    Ok(change)
}

impl ReviewChange {
    /// This change followed by `next` (decided from this one's record), as one write.
    pub fn then(mut self, next: ReviewChange) -> ReviewChange {
        self.record = next.record;
        for item in next.items {
            self.items.retain(|i| i.number != item.number);
            self.items.push(item);
        }
        self.history.extend(next.history);
        self.jobs.cancel.extend(next.jobs.cancel);
        // The store cancels before it adds: reminders a later step cancels go too.
        let cancelled = self.jobs.cancel.clone();
        self.jobs.add.retain(|j| !cancelled.contains(&j.kind));
        self.jobs.add.extend(next.jobs.add);
        self.timeline.extend(next.timeline);
        self
    }

    /// Adds a line to the history and moves the review's version on.
    fn log(&mut self, ctx: &Context, what: String) {
        let review = &mut self.record.review;
        review.version += 1;
        self.history.push(HistoryEntry {
            seq: review.version,
            at: ctx.now,
            actor: ctx.actor.to_string(),
            source: ctx.source,
            what,
        });
    }
}

fn update_item(
    before: &ActionItem,
    review: &Review,
    patch: &ActionItemPatch,
    ctx: &Context,
) -> Result<ActionItem, DomainError> {
    let mut item = before.clone();
    if let Some(title) = &patch.title {
        item.title = required("title", title, MAX_SHORT)?;
    }
    if let Some(owner) = &patch.owner {
        item.owner = owner.clone();
    }
    if let Some(category) = patch.category {
        item.category = category;
    }
    if let Some(at) = patch.due_at {
        if at != before.due_at {
            item.due_at = future("due_at", at, ctx.now)?;
        }
    }
    if let Some(answers) = patch.answers {
        item.answers = checked_answers(review, answers)?;
    }
    if let Some(t) = &patch.ticket {
        item.ticket = ticket(Some(t))?;
    }
    if let Some(status) = patch.status {
        item.status = status;
        item.closed_at = match (before.status.is_pending(), status.is_pending()) {
            (true, false) => Some(ctx.now),
            (_, true) => None,
            (false, false) => before.closed_at,
        };
    }
    item.updated_at = ctx.now;
    Ok(item)
}

/// What differs between two versions of an item, in words.
fn item_changes(a: &ActionItem, b: &ActionItem) -> Vec<String> {
    let mut out = vec![];
    if a.title != b.title {
        out.push(format!("title '{}' → '{}'", a.title, b.title));
    }
    if a.owner != b.owner {
        out.push(format!("owner @{} → @{}", a.owner, b.owner));
    }
    if a.category != b.category {
        out.push(format!(
            "category {} → {}",
            a.category.as_str(),
            b.category.as_str()
        ));
    }
    if a.due_at != b.due_at {
        out.push(format!("due {} → {}", a.due_at, b.due_at));
    }
    if a.status != b.status {
        out.push(format!("status {} → {}", a.status, b.status));
    }
    if a.answers != b.answers {
        let show = |x: &Option<Answers>| x.map_or_else(|| "nothing".to_owned(), |x| x.to_string());
        out.push(format!(
            "answers {} → {}",
            show(&a.answers),
            show(&b.answers)
        ));
    }
    if a.ticket != b.ticket {
        out.push(format!(
            "ticket {}",
            b.ticket.as_deref().unwrap_or("removed")
        ));
    }
    out
}

/// An item's link, checked against the review: the node or factor must exist.
fn checked_answers(
    review: &Review,
    answers: Option<Answers>,
) -> Result<Option<Answers>, DomainError> {
    match answers {
        Some(Answers::Why(node)) if !review.whys.iter().any(|w| w.id == node) => Err(
            DomainError::invalid("answers", format!("the 5-whys have no node {node}")),
        ),
        Some(Answers::Factor(f)) if !review.root_cause.factors.iter().any(|x| x.id == f) => Err(
            DomainError::invalid("answers", format!("there is no contributing factor {f}")),
        ),
        other => Ok(other),
    }
}

/// A ticket link: an http(s) URL, or none when empty.
fn ticket(link: Option<&str>) -> Result<Option<String>, DomainError> {
    match link.map(str::trim) {
        None | Some("") => Ok(None),
        Some(l) if (l.starts_with("https://") || l.starts_with("http://")) && l.len() <= 2000 => {
            Ok(Some(l.to_owned()))
        }
        Some(l) => Err(DomainError::invalid(
            "ticket",
            format!("'{l}' is not a link; give the ticket's https:// address"),
        )),
    }
}

/// A deadline given by a person: not in the past.
fn future(field: &'static str, at: Timestamp, now: Timestamp) -> Result<Timestamp, DomainError> {
    if at < now.checked_sub(SKEW).unwrap_or(now) {
        return Err(DomainError::invalid(
            field,
            format!("{at} is in the past (it is now {now}); give a later deadline"),
        ));
    }
    Ok(crate::time::to_millis_precision(at))
}

/// Whether `incident` may close: a severity whose policy requires a review holds it
/// open until its review is published.
pub fn may_close(
    incident: &Incident,
    policy: &Policy,
    review: Option<&Review>,
) -> Result<(), DomainError> {
    let n = incident.number;
    if !policy.severity(incident.severity).review.required {
        return Ok(());
    }
    match review {
        Some(r) if r.status == ReviewStatus::Published => Ok(()),
        Some(r) => Err(DomainError::conflict(format!(
            "incident {n} cannot close before its post-incident review is published: the review of incident {n} (/incidents/{}/review) is {}, due {}",
            n.0, r.status, r.due_at
        ))),
        None => Err(DomainError::conflict(format!(
            "incident {n} cannot close before its post-incident review is published: {} requires one and it has none yet; open it with `klaxon review open {}`",
            incident.severity, n.0
        ))),
    }
}
