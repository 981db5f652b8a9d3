//! Storage of the status page's subscribers: e-mail addresses and webhooks, and the
//! components each follows.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::paging::PlannedJob;
use klaxon_domain::status::{Subscriber, SubscriberFields, SubscriberKind};
use klaxon_domain::{Secret, SubscriberId};

use crate::Result;

/// A new subscriber as it is written.
#[derive(Debug, Clone)]
pub struct NewSubscriberRow<'a> {
    pub fields: &'a SubscriberFields,
    /// Signs a webhook's deliveries.
    pub secret: Option<&'a Secret>,
    /// Confirmed when written (webhooks, and addresses an admin vouches for).
    pub confirmed: bool,
}

/// The jobs a new subscriber starts (its confirmation mail), made once its id is known.
pub type SubscriberJobs<'a> = &'a (dyn Fn(SubscriberId) -> Vec<PlannedJob> + Send + Sync);

/// Subscribers. Every method is atomic.
#[async_trait]
pub trait SubscriberStore: Send + Sync + 'static {
    /// Adds a subscriber and the jobs `jobs` makes for it, in one transaction.
    /// `Duplicate` of `address` if one of its kind has the address (letter case aside
    /// for e-mail).
    async fn create_subscriber(
        &self,
        new: NewSubscriberRow<'_>,
        jobs: SubscriberJobs<'_>,
        at: Timestamp,
    ) -> Result<Subscriber>;
    /// Every subscriber, by id.
    async fn subscribers(&self) -> Result<Vec<Subscriber>>;
    /// `NotFound` if there is none (it unsubscribed, or was removed).
    async fn subscriber(&self, id: SubscriberId) -> Result<Subscriber>;
    /// The subscriber of this kind with this address (compared as
    /// [`SubscriberFields::address_key`] does), if any.
    async fn subscriber_by_address(
        &self,
        kind: SubscriberKind,
        address_key: &str,
    ) -> Result<Option<Subscriber>>;
    /// The secret that signs a webhook subscriber's deliveries.
    async fn subscriber_secret(&self, id: SubscriberId) -> Result<Option<Secret>>;
    /// Marks a subscriber confirmed at `at`: `true` if it was not yet, `false` if it
    /// was already (and nothing changes). `NotFound` if there is none.
    async fn confirm_subscriber(&self, id: SubscriberId, at: Timestamp) -> Result<bool>;
    /// Deletes a subscriber and what it follows. `NotFound` if there is none.
    async fn delete_subscriber(&self, id: SubscriberId) -> Result<()>;
}
