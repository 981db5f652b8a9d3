//! Shared incident rooms fed by incoming webhooks (`klaxon serve --teams-webhook URL`,
//! `--mattermost-webhook URL`): the same announcements Slack gets — the runbook's
//! "INCIDENT DETECTED" message when an incident opens, every internal status update,
//! severity changes, the mitigation and the resolution — each as a new post, since an
//! incoming webhook cannot edit what it posted (no headline kept up to date). One job
//! per room and event, so a room that fails never makes another post twice; posts to
//! one room go out in seq order. Restricted incidents and drills are never posted:
//! these rooms are shared.

use klaxon_domain::incident::{EventKind, Incident};
use klaxon_domain::paging::{self, ChatRoom, JobPayload, RoomPost};
use klaxon_notify::{Destination, Message};
use klaxon_store::{Job, StoreError};

use crate::engine::announcements;
use crate::engine::job::Ran;
use crate::engine::job::{after_failure, wait_for_earlier};
use crate::infra::state::AppState;

/// Posts the event the job names in the job's room.
pub(crate) async fn post_in_room(
    state: &AppState,
    job: &Job,
    post: &RoomPost,
) -> Result<Ran, StoreError> {
    let room = ChatRoom::parse(&post.room);
    let (Some(n), Some(shared)) = (job.incident, room.and_then(|r| state.channels.room(r))) else {
        // The room was configured when the job was written, not any more.
        return Ok(Ran::done());
    };
    if let Some(wait) =
        wait_for_earlier(state, job, |j| {
            matches!(JobPayload::read(j.kind, &j.payload), Ok(JobPayload::RoomPost(p)) if p.room == post.room)
        })
        .await?
    {
        return Ok(wait);
    }
    let incident = state.store.incident(n).await?;
    // Checked again here: an incident restricted since its events were written
    // must not reach a shared room either.
    if incident.restricted || incident.drill {
        return Ok(Ran::done());
    }
    let seq = post.seq;
    let timeline = state.store.timeline(n).await?;
    let Some(at) = timeline.iter().position(|e| e.seq == seq) else {
        return Ok(Ran::done());
    };
    // A post cannot be edited later: it says what the incident was at this event
    // (the opening says "triggered" even when it goes out after the acknowledgement).
    let Some(then) = Incident::replay(n, &incident.slug, &timeline[..=at]) else {
        return Err(StoreError::Other(format!(
            "incident {n} has no declaration"
        )));
    };
    let Some(message) = room_message(state, &then, &timeline[at].kind, job) else {
        return Ok(Ran::done());
    };
    let to = Destination::Webhook {
        url: shared.url.clone(),
        signing_secret: None,
    };
    let mut ran = Ran::done();
    if let Err(e) = shared.channel.deliver(&to, &message).await {
        let error = format!("{}: {}", shared.room.as_str(), e.message());
        tracing::warn!(
            incident = n.0,
            seq,
            attempt = job.attempts,
            error,
            "posting in the shared room failed"
        );
        ran.outcome = after_failure(state, job, &e, error);
    }
    state
        .metrics
        .count_outlet(shared.room.as_str(), &ran.outcome);
    Ok(ran)
}

/// The post for an event: the incident's one-line subject over the same text the
/// Slack room gets. Slack's messages carry no buttons (acknowledge and resolve
/// links are single-use and personal, sent with pages), so neither do these.
fn room_message(
    state: &AppState,
    incident: &Incident,
    kind: &EventKind,
    job: &Job,
) -> Option<Message> {
    if !paging::posted_in_rooms(kind) {
        return None;
    }
    let text = match kind {
        EventKind::Declared { .. } => announcements::headline(state, incident),
        other => announcements::event_text(state, incident, other)?,
    };
    Some(Message {
        subject: paging::page_text(incident, &state.policy).subject,
        text,
        idempotency_key: format!("job-{}", job.id),
        thread: Some(format!("incident-{}", incident.number.0)),
        event: paging::event_name(kind),
        ..Message::default()
    })
}
