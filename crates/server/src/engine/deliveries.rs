//! The delivery jobs: a page (or a test message) to one contact method. Success and each
//! failure are on the incident's timeline; a failure that can pass is retried with
//! backoff, one that cannot (or the eighth) is given up and said so.

use jiff::SignedDuration;
use klaxon_domain::incident::{EventKind, Status};
use klaxon_domain::paging::{self, ContactMethod};
use klaxon_notify::{Link, Message};
use klaxon_store::{Job, JobOutcome, StoreError};

use crate::app::links;
use crate::app::lookups::Lookups;
use crate::engine::job::{backoff, Ran, MAX_ATTEMPTS};
use crate::infra::state::AppState;

/// Delivers a page (`incident` set) or a test message (no incident).
pub(crate) async fn deliver(
    state: &AppState,
    job: &Job,
    to: &paging::Delivery,
    lookups: &Lookups,
) -> Result<Ran, StoreError> {
    let method = match state.store.contact_method(to.contact_method).await {
        Ok(m) => m,
        // Removed since the page was planned: nothing to deliver.
        Err(StoreError::NotFound(_)) => return Ok(Ran::done()),
        Err(e) => return Err(e),
    };
    let message = match job.incident {
        Some(n) => {
            let incident = lookups.incident(n).await?;
            if !incident.status.is_open() || incident.status == Status::Mitigated {
                return Ok(Ran::done());
            }
            page_message(state, &incident, &method, job).await?
        }
        None => match &to.message {
            Some(text) => direct_message(text, to.from.as_deref(), job),
            None => test_message(&method, job),
        },
    };
    let sent = match state.channels.route(&method) {
        Ok((channel, to)) => channel.deliver(&to, &message).await,
        Err(e) => Err(e),
    };
    let now = state.clock.now();
    let mut ran = Ran::done();
    let user = method.user.to_string();
    match sent {
        Ok(_) => {
            tracing::info!(user, method = method.kind.as_str(), "delivered");
            if job.incident.is_some() {
                ran.events.push(EventKind::Notified {
                    user,
                    method: method.kind,
                    attempt: job.attempts,
                });
            } else if !method.kind.verified_by_code() {
                // A delivered test message verifies an address; a phone number
                // needs its code entered back (`phones.rs`).
                state.store.mark_contact_verified(method.id, now).await?;
            }
        }
        Err(e) => {
            let retry_at = (e.is_transient() && job.attempts < MAX_ATTEMPTS).then(|| {
                let wait = backoff(job.attempts);
                let asked = e
                    .retry_after()
                    .and_then(|d| SignedDuration::try_from(d).ok())
                    .unwrap_or(wait);
                now + wait.max(asked)
            });
            let error = e.message().to_owned();
            tracing::warn!(
                user,
                method = method.kind.as_str(),
                attempt = job.attempts,
                error,
                "delivery failed"
            );
            ran.outcome = match retry_at {
                Some(at) => JobOutcome::Retry {
                    at,
                    error: error.clone(),
                },
                None => JobOutcome::Dead {
                    at: now,
                    error: error.clone(),
                },
            };
            ran.events.push(EventKind::NotificationFailed {
                user,
                method: method.kind,
                attempt: job.attempts,
                error,
                retry_at,
            });
        }
    }
    Ok(ran)
}

/// The page for `incident`, with fresh acknowledge and resolve links for the owner of
/// `method`, which they are sent to.
async fn page_message(
    state: &AppState,
    incident: &klaxon_domain::incident::Incident,
    method: &ContactMethod,
    job: &Job,
) -> Result<Message, StoreError> {
    let text = paging::page_text(incident, &state.policy);
    let base = links::public_base(state);
    let mut links = vec![];
    let mut voice_ack_url = None;
    for (action, label) in [("acknowledge", "Acknowledge"), ("resolve", "Resolve")] {
        let token = links::create_link(state, incident.number, action, method).await?;
        links.push(Link::new(label, format!("{base}/l/{token}")));
        if action == "acknowledge" {
            voice_ack_url = Some(format!("{base}/twilio/voice/{token}"));
        }
    }
    links.push(Link::new(
        format!("Incident {}", incident.number),
        format!("{base}/api/v1/incidents/{}", incident.number.0),
    ));
    Ok(Message {
        subject: text.subject,
        text: text.text,
        markdown: None,
        links,
        idempotency_key: format!("job-{}", job.id),
        thread: Some(format!("incident-{}", incident.number.0)),
        event: "incident.page".into(),
        payload: None,
        voice_ack_url,
    })
}

fn direct_message(text: &str, from: Option<&str>, job: &Job) -> Message {
    let from = from.unwrap_or("someone");
    Message {
        subject: format!(
            "Page from {from}: {}",
            text.chars().take(80).collect::<String>()
        ),
        text: text.to_owned(),
        markdown: None,
        links: vec![],
        idempotency_key: format!("job-{}", job.id),
        thread: None,
        event: "page.direct".into(),
        payload: None,
        voice_ack_url: None,
    }
}

fn test_message(method: &ContactMethod, job: &Job) -> Message {
    Message {
        subject: "Klaxon test message".into(),
        text: format!(
            "This is a test of your {} contact method {}. If you read this, Klaxon can reach you here.",
            method.kind.as_str(),
            method.address
        ),
        markdown: None,
        links: vec![],
        idempotency_key: format!("job-{}", job.id),
        thread: None,
        event: "contact.test".into(),
        payload: None,
        voice_ack_url: None,
    }
}
