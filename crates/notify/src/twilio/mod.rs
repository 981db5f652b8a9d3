//! Twilio SMS and voice: a REST client (form bodies, HTTP Basic auth), a TwiML builder for
//! "read this, press 1 to acknowledge", SMS trimming to one GSM segment, and the
//! `X-Twilio-Signature` check for Twilio's webhooks back to us.
mod client;
mod signature;
mod sms;
mod twiml;

pub use client::{SmsChannel, TwilioClient, VoiceChannel};
pub use signature::{signature, verify_signature};
pub use sms::{sms_text, SMS_SEGMENT};
pub use twiml::{ack_prompt, say_only, xml_escape};
