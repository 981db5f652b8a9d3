//! Inbound alert formats: one pure parser per format, from the raw body and headers to
//! normalised [`klaxon_domain::alert::AlertEvent`]s, plus the signature checks of the
//! formats that sign. No database, no I/O, no clock: the server decides what to store,
//! what to answer and when something happened if the sender did not say.
//!
//! Every parser has the shape `parse(body: &[u8], headers: &HeaderMap, …) ->
//! Result<Parsed, IngestError>` and never panics, whatever the bytes (property tests
//! and the cargo-fuzz targets in `fuzz/` hold it to that). Every event a parser returns
//! keeps the invariants documented on [`AlertEvent`]: a trigger has a summary of at most
//! [`MAX_SUMMARY`] characters, an acknowledge or resolve has a dedup key, and no dedup
//! key is longer than [`MAX_DEDUP_KEY`] characters.
//!
//! [`AlertEvent`]: klaxon_domain::alert::AlertEvent
//! [`MAX_SUMMARY`]: klaxon_domain::alert::MAX_SUMMARY
//! [`MAX_DEDUP_KEY`]: klaxon_domain::alert::MAX_DEDUP_KEY
#![forbid(unsafe_code)]

pub mod alertmanager;
pub mod cloudwatch;
pub mod datadog;
pub mod generic;
pub mod grafana;
pub mod pagerduty;
pub mod sentry;

mod error;
mod json;
mod severity;
mod signature;
mod text;

pub use error::IngestError;
pub use signature::SignatureError;

pub use http::HeaderMap;

use klaxon_domain::alert::{AlertEvent, ChangeEvent};

/// What one request to an ingest endpoint asks of Klaxon.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Alert events, in the order the sender listed them (possibly none, e.g. an
    /// Alertmanager group with no alerts). `key` is the integration key the body names
    /// (PagerDuty's `routing_key` / `service_key`); `None` for the formats whose key is
    /// in the URL.
    Alerts {
        key: Option<String>,
        events: Vec<AlertEvent>,
    },
    /// A change event (PagerDuty `/v2/change/enqueue`); `key` as for `Alerts`.
    Change {
        key: Option<String>,
        event: ChangeEvent,
    },
    /// An SNS subscription to confirm: the server GETs `subscribe_url`. The parser has
    /// already checked that its host is exactly `sns.<region>.amazonaws.com` over
    /// https, so it is safe to fetch.
    SnsSubscription { subscribe_url: String },
    /// A well-formed request that asks nothing of Klaxon (an SNS unsubscribe
    /// confirmation, a Sentry installation hook, …): answer success and store nothing.
    Ignored { reason: String },
}
