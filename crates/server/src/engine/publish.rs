//! The server-wide event webhook (`klaxon serve --events-webhook URL`): every timeline
//! event of every incident, drills included (restricted incidents only where the
//! policy's `[restricted] publish_events` allows it), POSTed as one
//! signed JSON document, in seq order per incident, at least once. Receivers
//! de-duplicate by the delivery id (`incident-<number>-<seq>`). A failure is logged and
//! counted, never written on the timeline: that event would itself be published, and
//! a receiver that is down would fill every timeline.

use klaxon_domain::incident::Incident;
use klaxon_domain::paging;
use klaxon_notify::webhook::WebhookDelivery;
use klaxon_store::{Job, StoreError};

use crate::engine::job::Ran;
use crate::engine::job::{after_failure, wait_for_earlier};
use crate::infra::state::AppState;

/// Publishes the event the job names, once the incident's earlier events are out.
pub(crate) async fn publish(state: &AppState, job: &Job, seq: i64) -> Result<Ran, StoreError> {
    let (Some(n), Some(events)) = (job.incident, state.channels.events.as_ref()) else {
        // Configured when the job was written, not any more: nobody to tell.
        return Ok(Ran::done());
    };
    if let Some(wait) = wait_for_earlier(state, job, |_| true).await? {
        return Ok(wait);
    }
    let timeline = state.store.timeline(n).await?;
    let Some(at) = timeline.iter().position(|e| e.seq == seq) else {
        return Ok(Ran::done());
    };
    let slug = state.store.incident(n).await?.slug;
    let Some(incident) = Incident::replay(n, &slug, &timeline[..=at]) else {
        return Err(StoreError::Other(format!(
            "incident {n} has no declaration"
        )));
    };
    // Checked again here: the policy may have changed since the job was written.
    if incident.restricted && !state.policy.restricted.publish_events {
        return Ok(Ran::done());
    }
    let event = &timeline[at];
    let body = paging::event_document(&incident, event).to_string();
    let delivery_id = paging::delivery_id(&incident, seq);
    let sent = events
        .client
        .send(&WebhookDelivery {
            url: events.url.expose(),
            secret: &events.secret,
            event: &paging::event_name(&event.kind),
            delivery_id: &delivery_id,
            timestamp: state.clock.now().as_second(),
            body: body.as_bytes(),
        })
        .await;
    let mut ran = Ran::done();
    if let Err(e) = sent {
        let error = format!("event webhook: {}", e.message());
        tracing::warn!(
            incident = n.0,
            seq,
            attempt = job.attempts,
            error,
            "publishing an event failed"
        );
        ran.outcome = after_failure(state, job, &e, error);
    }
    state.metrics.count_outlet("events", &ran.outcome);
    Ok(ran)
}
