//! Post-incident reviews in the background: the review a resolution calls for is
//! opened (if the severity's policy requires one), and reviews and action items still
//! owed are reminded: the owner before the deadline and when it passes, then the
//! severity's stakeholder teams too. Each reminder goes on the incident's timeline; one
//! whose deadline moved, or whose review or item is done, does nothing.

use jiff::Timestamp;
use klaxon_domain::incident::{EventKind, Incident, Status};
use klaxon_domain::paging::{self, PlannedJob};
use klaxon_domain::review::{self, ActionReminder, ReminderStage, ReviewReminder, ReviewStatus};
use klaxon_domain::Handle;
use klaxon_store::{Job, StoreError};

use crate::app::lookups::Lookups;
use crate::app::paging::pages_for;
use crate::engine::job::{engine_context, Ran};
use crate::infra::state::AppState;

/// Opens the review of the job's incident if it is still resolved (or closed), its
/// policy requires one and it has none.
pub(crate) async fn open_review(state: &AppState, job: &Job) -> Result<Ran, StoreError> {
    let Some(n) = job.incident else {
        return Ok(Ran::done());
    };
    let _held = state.incident_locks.lock(&[n.0]).await;
    for _ in 0..5 {
        let incident = state.store.incident(n).await?;
        let required = state.policy.severity(incident.severity).review.required;
        let settled = matches!(incident.status, Status::Resolved | Status::Closed);
        if !required || !settled || state.store.review(n).await?.is_some() {
            return Ok(Ran::done());
        }
        let events = state.store.timeline(n).await?;
        let ctx = engine_context(state);
        let change = review::open(&incident, &events, &Default::default(), &ctx)
            .map_err(crate::engine::job::domain)?;
        match crate::app::reviews::write(state, &incident, change, &ctx).await {
            Ok(_) => {
                tracing::info!(incident = n.0, "post-incident review opened");
                return Ok(Ran::done());
            }
            Err(StoreError::Stale(_)) => continue,
            Err(StoreError::Duplicate { .. }) => return Ok(Ran::done()),
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Stale(format!(
        "incident {n} kept changing while its review opened"
    )))
}

/// Reminds of a review's deadline.
pub(crate) async fn remind_review(
    state: &AppState,
    job: &Job,
    reminder: &ReviewReminder,
    lookups: &Lookups,
) -> Result<Ran, StoreError> {
    let Some(n) = job.incident else {
        return Ok(Ran::done());
    };
    let Some(record) = state.store.review(n).await? else {
        return Ok(Ran::done());
    };
    let r = &record.review;
    if r.status == ReviewStatus::Published || r.due_at != reminder.due_at {
        return Ok(Ran::done());
    }
    let incident = lookups.incident(n).await?;
    let mut people: Vec<Handle> = r.owner.iter().cloned().collect();
    if reminder.stage == ReminderStage::Escalate {
        add_all(&mut people, stakeholders(state, &incident, lookups).await?);
    }
    let when = match reminder.stage {
        ReminderStage::Before => "is due",
        _ => "was due",
    };
    let text = format!(
        "The post-incident review of {} ({}) {when} {}. Write it at {}",
        incident.number,
        incident.title,
        at(r.due_at),
        review_link(state, &incident)
    );
    let key = format!(
        "review-{}-{}",
        reminder.due_at.as_millisecond(),
        reminder.stage.as_str()
    );
    let mut ran = Ran::seen(incident);
    ran.jobs = messages(state, lookups, &people, &text, &key).await?;
    ran.events.push(EventKind::ReviewReminded {
        due_at: reminder.due_at,
        stage: reminder.stage,
        reminded: people.iter().map(Handle::to_string).collect(),
    });
    Ok(ran)
}

/// Reminds of an action item's deadline.
pub(crate) async fn remind_action(
    state: &AppState,
    job: &Job,
    reminder: &ActionReminder,
    lookups: &Lookups,
) -> Result<Ran, StoreError> {
    let Some(n) = job.incident else {
        return Ok(Ran::done());
    };
    let Some(record) = state.store.review(n).await? else {
        return Ok(Ran::done());
    };
    let Some(item) = record.items.iter().find(|i| i.number == reminder.item) else {
        return Ok(Ran::done());
    };
    if !item.status.is_pending() || item.due_at != reminder.due_at {
        return Ok(Ran::done());
    }
    let incident = lookups.incident(n).await?;
    let mut people = vec![item.owner.clone()];
    if reminder.stage == ReminderStage::Escalate {
        add_all(&mut people, record.review.owner.iter().cloned().collect());
        add_all(&mut people, stakeholders(state, &incident, lookups).await?);
    }
    let when = match reminder.stage {
        ReminderStage::Before => "is due",
        _ => "was due",
    };
    let text = format!(
        "Action item {} of {} ({}): \"{}\" {when} {}. See {}",
        item.reference(),
        incident.number,
        incident.title,
        item.title,
        at(item.due_at),
        review_link(state, &incident)
    );
    let key = format!(
        "action-{}-{}-{}",
        item.number,
        reminder.due_at.as_millisecond(),
        reminder.stage.as_str()
    );
    let mut ran = Ran::seen(incident);
    ran.jobs = messages(state, lookups, &people, &text, &key).await?;
    ran.events.push(EventKind::ActionItemReminded {
        item: item.reference().to_string(),
        title: item.title.clone(),
        due_at: reminder.due_at,
        stage: reminder.stage,
        reminded: people.iter().map(Handle::to_string).collect(),
    });
    Ok(ran)
}

fn add_all(people: &mut Vec<Handle>, more: Vec<Handle>) {
    for p in more {
        if !people.contains(&p) {
            people.push(p);
        }
    }
}

/// The people subscribed to the teams the severity's policy tells; nobody for a
/// restricted incident (nothing of it goes beyond its participants) or a drill.
async fn stakeholders(
    state: &AppState,
    incident: &Incident,
    lookups: &Lookups,
) -> Result<Vec<Handle>, StoreError> {
    if incident.restricted || incident.drill {
        return Ok(vec![]);
    }
    let teams = state
        .policy
        .severity(incident.severity)
        .stakeholder_teams(incident.customer_facing);
    let mut people = vec![];
    for (team, user) in lookups.subscriptions().await?.iter() {
        if teams.contains(&team.as_str()) && !people.contains(user) {
            people.push(user.clone());
        }
    }
    Ok(people)
}

/// A low-urgency message to each person, by their notification rules.
async fn messages(
    state: &AppState,
    lookups: &Lookups,
    people: &[Handle],
    text: &str,
    key: &str,
) -> Result<Vec<PlannedJob>, StoreError> {
    let now = state.clock.now();
    let mut jobs = vec![];
    for person in people {
        let generation = paging::EscalateJob {
            generation: key.to_owned(),
            round: 0,
            step: 0,
        };
        jobs.extend(
            pages_for(
                lookups,
                person,
                paging::Urgency::Low,
                &generation,
                Some((text, "klaxon")),
                now,
            )
            .await?,
        );
    }
    Ok(jobs)
}

fn review_link(state: &AppState, incident: &Incident) -> String {
    let base = state
        .public_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/');
    format!("{base}/incidents/{}/review", incident.number.0)
}

fn at(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}
