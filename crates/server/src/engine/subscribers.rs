//! The `subscriber-delivery` jobs: one mail (a confirmation link, or a notice) or one
//! signed webhook POST to one status-page subscriber. A failure that can pass is
//! retried with the engine's backoff; one that cannot, or the eighth, leaves the job
//! dead in the queue. A subscriber gone meanwhile (unsubscribed, removed), or an
//! address not confirmed, gets nothing.
//!
//! Every mail carries the subscriber's own unsubscribe link in its text and in the
//! `List-Unsubscribe` and `List-Unsubscribe-Post` headers (RFC 8058). Webhook bodies are
//! Statuspage's subscriber shape; the headers are Klaxon's webhook's (`X-Klaxon-Event`,
//! `X-Klaxon-Delivery`, `X-Klaxon-Timestamp`, `X-Klaxon-Signature`).

use klaxon_domain::status::notices::{mail_text, webhook_body};
use klaxon_domain::status::{
    Notice, Subscriber, SubscriberDelivery, SubscriberKind, SubscriberMessage,
};
use klaxon_notify::email::{message_id, Email};
use klaxon_notify::webhook::WebhookDelivery;
use klaxon_notify::DeliveryError;
use klaxon_store::{Job, StoreError};

use crate::app::subscribers::{link, page_secret, status_base, LinkPurpose};
use crate::engine::job::{after_failure, Ran};
use crate::infra::state::AppState;

pub(crate) async fn deliver(
    state: &AppState,
    job: &Job,
    delivery: &SubscriberDelivery,
) -> Result<Ran, StoreError> {
    let subscriber = match state.store.subscriber(delivery.subscriber).await {
        Ok(s) => s,
        Err(StoreError::NotFound(_)) => return Ok(Ran::done()),
        Err(e) => return Err(e),
    };
    let secret = page_secret(state).await?;
    let sent = match (&delivery.message, subscriber.kind) {
        (SubscriberMessage::Confirm, SubscriberKind::Email) if !subscriber.confirmed() => {
            send_confirmation(state, job, &subscriber, &secret).await
        }
        (SubscriberMessage::Notice(notice), kind) if subscriber.confirmed() => match kind {
            SubscriberKind::Email if notice.kind.mailed() => {
                send_mail(state, job, &subscriber, notice, &secret).await
            }
            SubscriberKind::Webhook => {
                send_webhook(state, job, &subscriber, notice, &secret).await?
            }
            SubscriberKind::Email => Ok(()),
        },
        // Confirmed meanwhile, or not (yet) confirmed: nothing to send.
        _ => Ok(()),
    };
    let mut ran = Ran::done();
    if let Err(e) = sent {
        let error = format!("subscriber {}: {}", subscriber.id, e.message());
        tracing::warn!(
            subscriber = %subscriber.id,
            kind = subscriber.kind.as_str(),
            attempt = job.attempts,
            error,
            "status-page delivery failed"
        );
        ran.outcome = after_failure(state, job, &e, error);
    }
    state.metrics.count_outlet("subscribers", &ran.outcome);
    Ok(ran)
}

fn no_mail() -> DeliveryError {
    DeliveryError::permanent("e-mail is not configured on this server (--smtp-host)")
}

async fn send_confirmation(
    state: &AppState,
    job: &Job,
    subscriber: &Subscriber,
    secret: &str,
) -> Result<(), DeliveryError> {
    let client = state
        .channels
        .subscriber_mail
        .as_ref()
        .ok_or_else(no_mail)?;
    let name = &state.status_config.name;
    let confirm = link(state, secret, LinkPurpose::Confirm, subscriber.id);
    let unsubscribe = link(state, secret, LinkPurpose::Unsubscribe, subscriber.id);
    let what = match &subscriber.components {
        None => "all updates of the page".to_owned(),
        Some(ids) => format!("updates about {} of its components", ids.len()),
    };
    let text = format!(
        "Someone, probably you, asked to receive {name} Status updates at this address \
         ({what}).\n\nTo confirm, open this link:\n{confirm}\n\nIf it was not you, ignore \
         this mail: nothing will be sent to you unless the link is opened.\n-- \n\
         Unsubscribe: {unsubscribe}\n"
    );
    let email = Email {
        to: subscriber.address.clone(),
        subject: format!("Confirm your subscription to {name} Status"),
        text,
        html: None,
        message_id: message_id(&job.dedup_key, client.from().email.domain()),
        in_reply_to: None,
        list_unsubscribe: Some(unsubscribe),
    };
    client.send(&email).await
}

async fn send_mail(
    state: &AppState,
    job: &Job,
    subscriber: &Subscriber,
    notice: &Notice,
    secret: &str,
) -> Result<(), DeliveryError> {
    let client = state
        .channels
        .subscriber_mail
        .as_ref()
        .ok_or_else(no_mail)?;
    let unsubscribe = link(state, secret, LinkPurpose::Unsubscribe, subscriber.id);
    let domain = client.from().email.domain().to_owned();
    let email = Email {
        to: subscriber.address.clone(),
        subject: notice.subject.clone(),
        text: mail_text(notice, &state.status_config.name, &unsubscribe),
        html: None,
        message_id: message_id(&job.dedup_key, &domain),
        in_reply_to: None,
        list_unsubscribe: Some(unsubscribe),
    };
    client.send(&email).await
}

/// Posts the notice; an `Err` of the outer result is a fault of Klaxon's own (no secret
/// stored), the inner one the receiver's answer.
async fn send_webhook(
    state: &AppState,
    job: &Job,
    subscriber: &Subscriber,
    notice: &Notice,
    secret: &str,
) -> Result<Result<(), DeliveryError>, StoreError> {
    let Some(signing) = state.store.subscriber_secret(subscriber.id).await? else {
        return Err(StoreError::Other(format!(
            "webhook subscriber {} has no signing secret",
            subscriber.id
        )));
    };
    let unsubscribe = link(state, secret, LinkPurpose::Unsubscribe, subscriber.id);
    let documentation = format!("{}/status", status_base(state));
    let body = webhook_body(notice, &unsubscribe, &documentation).to_string();
    Ok(state
        .channels
        .subscriber_webhooks
        .send(&WebhookDelivery {
            url: &subscriber.address,
            secret: &signing,
            event: notice.kind.event(),
            delivery_id: &job.dedup_key,
            timestamp: state.clock.now().as_second(),
            body: body.as_bytes(),
        })
        .await)
}
