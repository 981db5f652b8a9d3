//! Status-page subscribers: anyone may subscribe an e-mail address on the public page
//! (double opt-in: a mail with a signed link to confirm), admins list, add and remove
//! subscribers and add webhooks; and [`enqueue_notice`], the one way to tell
//! subscribers something.
//!
//! Links in mails (confirm, unsubscribe) carry the subscriber's id and an HMAC-SHA256 of
//! it, keyed with the status page's secret (kept in the database, the same on every
//! replica), so a link cannot be made up or pointed at another subscriber, and the
//! address itself never appears in a URL.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::PlannedJob;
use klaxon_domain::status::subscribers::{email_address, scope};
use klaxon_domain::status::{
    NewSubscriber, Notice, NoticePage, NoticeSource, Subscriber, SubscriberDelivery,
    SubscriberFields, SubscriberKind, SubscriberMessage,
};
use klaxon_domain::{ComponentId, Secret, SubscriberId};
use klaxon_store::{NewSubscriberRow, StoreError};
use serde::Deserialize;
use sha2::Sha256;

use crate::app::auth::{random_hex, Caller};
use crate::app::error::{AppError, ErrorKind};
use crate::infra::state::AppState;

/// What a signed link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Confirm,
    Unsubscribe,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Unsubscribe => "unsubscribe",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Confirm => "/status/subscribers/confirm",
            Self::Unsubscribe => "/status/subscribers/unsubscribe",
        }
    }
}

fn mac(secret: &str, purpose: LinkPurpose, id: SubscriberId) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(b"klaxon-subscriber\0");
    mac.update(purpose.as_str().as_bytes());
    mac.update(b"\0");
    mac.update(id.0.to_string().as_bytes());
    mac
}

/// The token of a link for `purpose` on subscriber `id`: hex HMAC-SHA256.
pub fn sign(secret: &str, purpose: LinkPurpose, id: SubscriberId) -> String {
    hex::encode(mac(secret, purpose, id).finalize().into_bytes())
}

/// Whether `token` is the one [`sign`] makes (compared in constant time).
pub fn token_ok(secret: &str, purpose: LinkPurpose, id: SubscriberId, token: &str) -> bool {
    match hex::decode(token.trim()) {
        Ok(bytes) if bytes.len() == 32 => mac(secret, purpose, id).verify_slice(&bytes).is_ok(),
        _ => false,
    }
}

/// The URL the status page's links are made under (its own host name, the public URL,
/// or, with neither set, `http://localhost:8080`): mails need absolute links.
pub fn status_base(state: &AppState) -> String {
    let base = state.status_config.base_url(state.public_url.as_deref());
    if base.is_empty() {
        crate::app::links::public_base(state)
    } else {
        base
    }
}

/// A signed link for `purpose` on subscriber `id`.
pub fn link(state: &AppState, secret: &str, purpose: LinkPurpose, id: SubscriberId) -> String {
    format!(
        "{}{}?s={}&t={}",
        status_base(state),
        purpose.path(),
        id.0,
        sign(secret, purpose, id)
    )
}

/// The page's secret, which signs the links.
pub async fn page_secret(state: &AppState) -> Result<String, StoreError> {
    Ok(state.store.status_page().await?.0)
}

/// Tells subscribers of `notice`: writes one `status-notice` job (once per notice key),
/// which the engine turns into one delivery job per subscriber the notice reaches, each
/// retried until it is delivered. The page's banner is filled in if the notice has
/// none. Only the engine's tests call it today; scheduled maintenance writes its
/// reminder with [`notice_job`].
#[allow(dead_code)]
pub async fn enqueue_notice(state: &AppState, notice: Notice) -> Result<(), AppError> {
    let job = notice_job(state, notice);
    state
        .store
        .add_jobs(None, &[job], state.clock.now())
        .await?;
    state.engine_wake.notify_one();
    Ok(())
}

/// The job [`enqueue_notice`] writes, for a caller that writes it in a transaction of
/// its own with the change the notice tells of.
pub fn notice_job(state: &AppState, mut notice: Notice) -> PlannedJob {
    if notice.page.is_none() {
        notice.page = Some(NoticePage::of(&state.status_page.get().view));
    }
    NoticeSource::Notice(notice).planned(state.clock.now())
}

/// A scheduled maintenance's reminder is due: it starts within the policy's
/// `[status_page] maintenance_reminder` (1 hour unless set). The engine calls this once
/// per maintenance and start time (a rescheduled maintenance is reminded again for its
/// new start), just before it records the reminder on the maintenance (`reminded_for`);
/// if recording fails the job runs again and calls this again, so what is done here
/// must be idempotent per maintenance and `scheduled_for`: the notice's key names both,
/// and a notice is delivered once per key and subscriber.
///
/// Subscribers to its components (or to the whole page) are sent the reminder.
pub async fn maintenance_reminder(
    state: &AppState,
    maintenance: &klaxon_domain::status::ScheduledMaintenance,
) -> Result<(), klaxon_store::StoreError> {
    crate::app::status_page::refresh(state).await;
    let (secret, _) = state.store.status_page().await?;
    let id = crate::app::status_page::public_id(
        &secret,
        klaxon_domain::status::Public::Maintenance(maintenance.id),
    );
    let view = state.status_page.get();
    let Some(notice) = klaxon_domain::status::notices::maintenance_reminder(&view.view, &id) else {
        return Ok(());
    };
    let job = notice_job(state, notice);
    state
        .store
        .add_jobs(None, &[job], state.clock.now())
        .await?;
    state.engine_wake.notify_one();
    Ok(())
}

/// `POST /status/subscribe` and `POST /api/v2/subscribers.json`: an e-mail address and,
/// optionally, the public ids of the components and groups to follow.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicSubscription {
    pub email: String,
    #[serde(default)]
    pub components: Option<Vec<String>>,
}

/// The longest answer a public subscription may hold, in bytes.
pub const PUBLIC_BODY_LIMIT: usize = 8 * 1024;

/// Subscribes an e-mail address from the public page: it gets a mail with a link to
/// confirm, and nothing else until it does. An address already subscribed gets nothing
/// new, and the answer is the same, so nobody learns who is subscribed.
#[tracing::instrument(skip_all)]
pub async fn subscribe(
    state: &AppState,
    request: &PublicSubscription,
    from: IpAddr,
) -> Result<(), AppError> {
    if state.channels.subscriber_mail.is_none() {
        return Err(AppError::conflict(
            "this status page does not send e-mail, so it takes no e-mail subscriptions",
        ));
    }
    let address = email_address(&request.email)?;
    let components = public_components(state, request.components.as_deref())?;
    let fields = SubscriberFields {
        kind: SubscriberKind::Email,
        address,
        components: scope(components)?,
    };
    state
        .subscribe_limits
        .check(&fields.address_key(), from)
        .map_err(|m| AppError::new(ErrorKind::TooMany, m))?;
    let now = state.clock.now();
    match state
        .store
        .subscriber_by_address(SubscriberKind::Email, &fields.address_key())
        .await?
    {
        Some(s) if s.confirmed() => {}
        Some(pending) => {
            // Another link, for an address that lost the first mail.
            let again = confirm_job(pending.id, &format!("confirm/{}", random_hex(8)), now);
            state.store.add_jobs(None, &[again], now).await?;
        }
        None => {
            let row = NewSubscriberRow {
                fields: &fields,
                secret: None,
                confirmed: false,
            };
            let plan = |id| vec![confirm_job(id, "confirm", now)];
            match state.store.create_subscriber(row, &plan, now).await {
                Ok(s) => {
                    tracing::info!(subscriber = %s.id, "e-mail subscription waits for its confirmation")
                }
                // The same address, at the same moment: one of them got in.
                Err(StoreError::Duplicate { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    state.engine_wake.notify_one();
    Ok(())
}

fn confirm_job(id: SubscriberId, key: &str, now: jiff::Timestamp) -> PlannedJob {
    SubscriberDelivery {
        subscriber: id,
        message: SubscriberMessage::Confirm,
    }
    .planned(key, now)
}

/// The components named by their public ids, as the page shows them now.
fn public_components(
    state: &AppState,
    ids: Option<&[String]>,
) -> Result<Option<Vec<ComponentId>>, AppError> {
    let Some(ids) = ids else {
        return Ok(None);
    };
    if ids.len() > klaxon_domain::status::subscribers::MAX_SCOPE {
        return Err(AppError::new(
            ErrorKind::TooLarge,
            "components: too many components named",
        ));
    }
    let snapshot = state.status_page.get();
    ids.iter()
        .map(|id| {
            snapshot
                .view
                .component(id.trim())
                .map(|c| c.component.id)
                .ok_or_else(|| {
                    let shown: String = id.chars().take(20).collect();
                    AppError::invalid(
                        "components",
                        format!("there is no component '{shown}' on this page"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// What a signed link found.
#[derive(Debug)]
pub enum LinkOutcome {
    /// It did what it says (confirmed, or unsubscribed) just now.
    Done(Subscriber),
    /// It had been done before; nothing changed.
    AlreadyDone,
    /// A valid link for an unsubscribe page, not yet acted on.
    Ask(Subscriber),
}

/// Why a link does nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// The signature does not match: made up or altered.
    Tampered,
    /// The subscription it confirms is gone (unsubscribed, removed).
    Gone,
}

fn read_link(
    secret: &str,
    purpose: LinkPurpose,
    id: &str,
    token: &str,
) -> Result<SubscriberId, LinkRefusal> {
    let id = SubscriberId(id.trim().parse().map_err(|_| LinkRefusal::Tampered)?);
    if token_ok(secret, purpose, id, token) {
        Ok(id)
    } else {
        Err(LinkRefusal::Tampered)
    }
}

/// Confirms the subscription a confirm link names.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    state: &AppState,
    id: &str,
    token: &str,
) -> Result<Result<LinkOutcome, LinkRefusal>, AppError> {
    let secret = page_secret(state).await?;
    let id = match read_link(&secret, LinkPurpose::Confirm, id, token) {
        Ok(id) => id,
        Err(refused) => return Ok(Err(refused)),
    };
    match state.store.confirm_subscriber(id, state.clock.now()).await {
        Ok(true) => {
            tracing::info!(subscriber = %id, "e-mail subscription confirmed");
            Ok(Ok(LinkOutcome::Done(state.store.subscriber(id).await?)))
        }
        Ok(false) => Ok(Ok(LinkOutcome::AlreadyDone)),
        Err(StoreError::NotFound(_)) => Ok(Err(LinkRefusal::Gone)),
        Err(e) => Err(e.into()),
    }
}

/// Reads an unsubscribe link and, with `act`, unsubscribes (deletes the subscriber).
/// Without `act` it only says whom the link is for, so that a mail scanner following
/// links unsubscribes nobody: the page asks for a press of a button (a POST).
#[tracing::instrument(skip_all)]
pub async fn unsubscribe(
    state: &AppState,
    id: &str,
    token: &str,
    act: bool,
) -> Result<Result<LinkOutcome, LinkRefusal>, AppError> {
    let secret = page_secret(state).await?;
    let id = match read_link(&secret, LinkPurpose::Unsubscribe, id, token) {
        Ok(id) => id,
        Err(refused) => return Ok(Err(refused)),
    };
    let subscriber = match state.store.subscriber(id).await {
        Ok(s) => s,
        Err(StoreError::NotFound(_)) => return Ok(Ok(LinkOutcome::AlreadyDone)),
        Err(e) => return Err(e.into()),
    };
    if !act {
        return Ok(Ok(LinkOutcome::Ask(subscriber)));
    }
    match state.store.delete_subscriber(id).await {
        Ok(()) => {
            tracing::info!(subscriber = %id, "unsubscribed by link");
            Ok(Ok(LinkOutcome::Done(subscriber)))
        }
        Err(StoreError::NotFound(_)) => Ok(Ok(LinkOutcome::AlreadyDone)),
        Err(e) => Err(e.into()),
    }
}

/// Every subscriber, for admins.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Subscriber>, AppError> {
    caller.require(Scope::Admin)?;
    Ok(state.store.subscribers().await?)
}

/// A new subscriber, and a webhook's signing secret (shown this once).
#[derive(Debug)]
pub struct Added {
    pub subscriber: Subscriber,
    pub secret: Option<Secret>,
}

/// Adds a subscriber (admins): a webhook, confirmed at once and given a signing secret;
/// or an e-mail address, mailed a link to confirm unless `confirmed` says the address
/// asked already.
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle))]
pub async fn add(state: &AppState, caller: &Caller, new: NewSubscriber) -> Result<Added, AppError> {
    caller.require(Scope::Admin)?;
    let fields = new.validated()?;
    if let Some(ids) = &fields.components {
        let known = state.store.components().await?;
        if let Some(unknown) = ids.iter().find(|id| !known.iter().any(|c| c.id == **id)) {
            return Err(AppError::invalid(
                "components",
                format!("there is no component {unknown}; see `klaxon component list`"),
            ));
        }
    }
    let secret = match fields.kind {
        SubscriberKind::Webhook => {
            state
                .channels
                .outbound
                .check_url(&fields.address)
                .await
                .map_err(|m| AppError::invalid("webhook", m))?;
            Some(Secret::from(random_hex(32)))
        }
        SubscriberKind::Email => {
            if state.channels.subscriber_mail.is_none() {
                return Err(AppError::conflict(
                    "e-mail subscribers need SMTP; start the server with --smtp-host",
                ));
            }
            None
        }
    };
    let confirmed = fields.kind == SubscriberKind::Webhook || new.confirmed;
    let row = NewSubscriberRow {
        fields: &fields,
        secret: secret.as_ref(),
        confirmed,
    };
    let now = state.clock.now();
    let plan = |id| {
        if confirmed {
            vec![]
        } else {
            vec![confirm_job(id, "confirm", now)]
        }
    };
    let subscriber = state.store.create_subscriber(row, &plan, now).await?;
    tracing::info!(subscriber = %subscriber.id, kind = subscriber.kind.as_str(), "subscriber added");
    state.engine_wake.notify_one();
    Ok(Added { subscriber, secret })
}

/// Removes a subscriber (admins).
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, subscriber = %id))]
pub async fn remove(state: &AppState, caller: &Caller, id: SubscriberId) -> Result<(), AppError> {
    caller.require(Scope::Admin)?;
    state.store.delete_subscriber(id).await?;
    tracing::info!("subscriber removed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_name_their_purpose_and_subscriber() {
        let t = sign("s3cret", LinkPurpose::Confirm, SubscriberId(4));
        assert_eq!(t.len(), 64);
        assert!(token_ok(
            "s3cret",
            LinkPurpose::Confirm,
            SubscriberId(4),
            &t
        ));
        assert!(!token_ok(
            "s3cret",
            LinkPurpose::Unsubscribe,
            SubscriberId(4),
            &t
        ));
        assert!(!token_ok(
            "s3cret",
            LinkPurpose::Confirm,
            SubscriberId(5),
            &t
        ));
        assert!(!token_ok(
            "other",
            LinkPurpose::Confirm,
            SubscriberId(4),
            &t
        ));
        assert!(!token_ok(
            "s3cret",
            LinkPurpose::Confirm,
            SubscriberId(4),
            "zz"
        ));
        assert!(!token_ok(
            "s3cret",
            LinkPurpose::Confirm,
            SubscriberId(4),
            &t[..62]
        ));
    }
}
