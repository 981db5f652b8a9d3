//! Slack Web API with a bot token: post and edit messages, create incident channels,
//! invite, set topics, open DMs. Every method checks Slack's `ok` field, not the HTTP
//! status; `ok: false` becomes a [`DeliveryError`] naming Slack's error string.
mod client;
mod format;

pub use client::{ChannelRef, MessageRef, SlackClient};
pub use format::{escape, link, link_buttons, message_blocks, normalize_channel_name};
