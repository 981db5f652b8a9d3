//! The incident's chat channel (Slack): when an incident opens, a channel of its own for
//! severities whose policy says `dedicated` (private for restricted incidents, which
//! never touch public channels), or a thread in the policy's incident channel; the
//! runbook's "INCIDENT DETECTED" message as its headline, edited in place as the incident
//! changes; then every internal status update, the mitigation and the resolution.

use jiff::SignedDuration;
use klaxon_domain::incident::{self, EventKind, Incident, Source, UpdateKind};
use klaxon_domain::paging::{Announcement, ContactKind};
use klaxon_domain::policy::ChannelMode;
use klaxon_domain::Handle;
use klaxon_notify::slack::{MessageRef, SlackClient};
use klaxon_notify::DeliveryError;
use klaxon_store::{Job, JobOutcome, Room, StoreError};

use crate::app::paging::pages_for;
use crate::engine::job::{backoff, Ran, MAX_ATTEMPTS};
use crate::engine::reminders;
use crate::infra::state::AppState;

/// Announces the timeline event the job names in the incident's chat room.
pub(crate) async fn announce(
    state: &AppState,
    job: &Job,
    announcement: &Announcement,
    lookups: &crate::app::lookups::Lookups,
) -> Result<Ran, StoreError> {
    let Some(n) = job.incident else {
        return Ok(Ran::done());
    };
    let seq = match announcement {
        Announcement::Event { seq } => *seq,
        Announcement::Reminder {
            reminder,
            channel,
            thread_ts,
        } => return post_reminder(state, reminder, channel.as_deref(), thread_ts.as_deref()).await,
    };
    let incident = lookups.incident(n).await?;
    let Some(event) = lookups.timeline_event(n, seq).await? else {
        return Ok(Ran::done());
    };
    // An opening or an internal update starts the wait for the next update.
    let mut ran = Ran::done();
    let starts_cadence = matches!(&event.kind, EventKind::Declared { .. })
        || matches!(&event.kind, EventKind::StatusUpdated { audience, .. } if *audience == klaxon_domain::incident::UpdateAudience::Internal);
    if starts_cadence {
        ran.jobs.extend(reminders::reminder_for(state, &incident));
    }
    ran.jobs
        .extend(tell_stakeholders(state, &incident, &event.kind, seq, lookups).await?);
    let Some(slack) = state.channels.slack_client.as_ref() else {
        return Ok(ran);
    };
    let room = state.store.room(n).await?;
    let sent = match (&event.kind, room) {
        (EventKind::Declared { .. }, None) => open_room(state, slack, &incident).await,
        (EventKind::Declared { .. }, Some(_)) => Ok(()),
        (_, None) => {
            // The opening announcement has not run yet: wait for it, in order.
            let earlier = state.store.jobs(Some(n)).await?.into_iter().any(|j| {
                j.kind == klaxon_domain::paging::JobKind::Announce
                    && j.id < job.id
                    && j.dead_at.is_none()
            });
            if earlier {
                // The reminder is planned again when this runs again.
                let mut wait = Ran::done();
                wait.outcome = JobOutcome::Wait {
                    at: state.clock.now() + SignedDuration::from_secs(2),
                    reason: "waiting for the incident's channel".into(),
                };
                return Ok(wait);
            }
            return Ok(ran);
        }
        (kind, Some(room)) => post_event(state, slack, &incident, kind, &room).await,
    };
    if let Err(e) = sent {
        let error = format!("Slack: {}", e.message());
        tracing::warn!(incident = n.0, error, "announcing failed");
        ran.outcome = if e.is_transient() && job.attempts < MAX_ATTEMPTS {
            let wait = backoff(job.attempts);
            let asked = e
                .retry_after()
                .and_then(|d| SignedDuration::try_from(d).ok())
                .unwrap_or(wait);
            JobOutcome::Retry {
                at: state.clock.now() + wait.max(asked),
                error,
            }
        } else {
            JobOutcome::Dead {
                at: state.clock.now(),
                error,
            }
        };
    }
    Ok(ran)
}

/// Messages to the people subscribed to the teams the severity policy tells about
/// this incident, when it opens and when it resolves, by their low-urgency rules (no
/// SMS or calls). Restricted incidents are told to nobody beyond their participants.
async fn tell_stakeholders(
    state: &AppState,
    incident: &Incident,
    kind: &EventKind,
    seq: i64,
    lookups: &crate::app::lookups::Lookups,
) -> Result<Vec<klaxon_domain::paging::PlannedJob>, StoreError> {
    let update = match kind {
        EventKind::Declared { .. } => UpdateKind::Detected,
        EventKind::Resolved { .. } => UpdateKind::Resolved,
        _ => return Ok(vec![]),
    };
    if incident.restricted {
        return Ok(vec![]);
    }
    let teams = state
        .policy
        .severity(incident.severity)
        .stakeholder_teams(incident.customer_facing);
    let mut people: Vec<Handle> = vec![];
    for (team, user) in lookups.subscriptions().await?.iter() {
        if teams.contains(&team.as_str()) && !people.contains(user) {
            people.push(user.clone());
        }
    }
    let text = incident::automatic_message(incident, update, None, &announce_context(state)).text;
    let now = state.clock.now();
    let mut jobs = vec![];
    for person in &people {
        let key = klaxon_domain::paging::EscalateJob {
            generation: format!("stakeholders-{seq}"),
            round: 0,
            step: 0,
        };
        jobs.extend(
            pages_for(
                lookups,
                person,
                klaxon_domain::paging::Urgency::Low,
                &key,
                Some((&text, "klaxon")),
                now,
            )
            .await?,
        );
    }
    Ok(jobs)
}

/// Posts an update reminder in the incident's room.
async fn post_reminder(
    state: &AppState,
    text: &str,
    channel: Option<&str>,
    thread: Option<&str>,
) -> Result<Ran, StoreError> {
    let (Some(slack), Some(channel)) = (state.channels.slack_client.as_ref(), channel) else {
        return Ok(Ran::done());
    };
    let mut ran = Ran::done();
    if let Err(e) = slack
        .post_message(channel, &format!("⏰ {text}"), None, thread)
        .await
    {
        ran.outcome = JobOutcome::Dead {
            at: state.clock.now(),
            error: format!("Slack: {}", e.message()),
        };
    }
    Ok(ran)
}

/// Creates the incident's room and posts its headline.
async fn open_room(
    state: &AppState,
    slack: &SlackClient,
    incident: &Incident,
) -> Result<(), DeliveryError> {
    let headline = headline(state, incident);
    let severity = state.policy.severity(incident.severity);
    let own_channel = incident.restricted || severity.channel == ChannelMode::Dedicated;
    let room = if own_channel {
        let channel = slack
            .create_channel(&incident.slug, incident.restricted)
            .await?;
        let people = slack_ids(state, &incident.participants).await;
        if !people.is_empty() {
            let ids: Vec<&str> = people.iter().map(String::as_str).collect();
            slack.invite(&channel.id, &ids).await?;
        }
        let posted = slack
            .post_message(&channel.id, &headline, None, None)
            .await?;
        if !incident.restricted {
            let pointer = format!(
                "[SEV{} {}] {} — join <#{}>",
                incident.severity.level(),
                incident.number,
                incident.title,
                channel.id
            );
            slack
                .post_message(&state.policy.incident_channel, &pointer, None, None)
                .await?;
        }
        Room {
            channel: channel.id,
            thread_ts: None,
            headline_ts: posted.ts,
        }
    } else {
        let posted = slack
            .post_message(&state.policy.incident_channel, &headline, None, None)
            .await?;
        Room {
            channel: posted.channel,
            thread_ts: Some(posted.ts.clone()),
            headline_ts: posted.ts,
        }
    };
    state
        .store
        .save_room(incident.number, &room)
        .await
        .map_err(|e| DeliveryError::transient(format!("cannot record the incident's channel: {e}")))
}

/// Posts an event in the room and brings the headline up to date.
async fn post_event(
    state: &AppState,
    slack: &SlackClient,
    incident: &Incident,
    kind: &EventKind,
    room: &Room,
) -> Result<(), DeliveryError> {
    if let Some(text) = event_text(state, incident, kind) {
        slack
            .post_message(&room.channel, &text, None, room.thread_ts.as_deref())
            .await?;
    }
    let posted = MessageRef {
        channel: room.channel.clone(),
        ts: room.headline_ts.clone(),
    };
    slack
        .update_message(&posted, &headline(state, incident), None)
        .await
}

/// The message an announced event (other than the opening) posts in a room: the
/// update as written, or the runbook's mitigated and resolved templates. `None`
/// for events that only change the headline (an acknowledgement).
pub(crate) fn event_text(
    state: &AppState,
    incident: &Incident,
    kind: &EventKind,
) -> Option<String> {
    let ctx = announce_context(state);
    match kind {
        EventKind::StatusUpdated { message, .. } => Some(message.text.clone()),
        EventKind::Mitigated { .. } => {
            Some(incident::automatic_message(incident, UpdateKind::Mitigated, None, &ctx).text)
        }
        EventKind::Resolved { .. } => {
            Some(incident::automatic_message(incident, UpdateKind::Resolved, None, &ctx).text)
        }
        EventKind::SeverityChanged { from, to, reason } => {
            Some(format!("Severity changed from {from} to {to}: {reason}"))
        }
        _ => None,
    }
}

/// The detected message with the incident's current status: the room's headline.
pub(crate) fn headline(state: &AppState, incident: &Incident) -> String {
    let status = Some(format!(
        "{} ({})",
        incident.status,
        state.policy.severity(incident.severity).name
    ));
    incident::automatic_message(
        incident,
        UpdateKind::Detected,
        status,
        &announce_context(state),
    )
    .text
}

fn announce_context(state: &AppState) -> incident::Context<'_> {
    incident::Context {
        actor: Handle::parse("klaxon").expect("a valid handle"),
        source: Source::Engine,
        now: state.clock.now(),
        policy: &state.policy,
        link_base: state.public_url.clone(),
    }
}

/// The Slack member ids of these people, where they have one.
async fn slack_ids(state: &AppState, handles: &[String]) -> Vec<String> {
    let mut ids = vec![];
    for h in handles.iter().filter_map(|h| Handle::parse(h).ok()) {
        if let Ok(methods) = state.store.contact_methods(&h).await {
            ids.extend(
                methods
                    .into_iter()
                    .filter(|m| m.kind == ContactKind::Slack)
                    .map(|m| m.address),
            );
        }
    }
    ids
}
