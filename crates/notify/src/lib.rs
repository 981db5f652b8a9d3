//! Klaxon's outbound channels: one module per service Klaxon delivers to (Slack, Twilio
//! SMS and voice, SMTP e-mail, our signed generic webhook, Microsoft Teams, Mattermost),
//! and the one request Klaxon makes to a source: confirming an Amazon SNS subscription.
//!
//! Each module is a thin typed client over the service's wire format with a configurable
//! base URL and request timeout, plus the small presentation helpers that channel needs
//! (Slack mrkdwn links and blocks, an Adaptive Card, TwiML, an e-mail footer). Every
//! failure is a [`DeliveryError`] that says whether retrying can help.
//!
//! This crate must not decide who to page, when, or what an incident message says: it
//! takes already-rendered text and a [`Destination`] chosen by the engine, and reports
//! what happened. It does no retries of its own beyond Slack's channel-name suffixing;
//! the engine owns backoff and dead-lettering.
//!
//! See `README.md` for the channel list, error classification, and how receivers verify
//! the signed webhook.
#![forbid(unsafe_code)]

// Compile the README's Rust examples as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod channel;
pub mod email;
mod error;
mod http;
pub mod mattermost;
pub mod outbound;
pub mod slack;
pub mod sns;
pub mod teams;
pub mod twilio;
pub mod webhook;

pub use channel::{Channel, Delivered, Destination, Link, Message};
pub use error::DeliveryError;
pub use klaxon_domain::Secret;

/// The request timeout every HTTP and SMTP client uses unless told otherwise.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
