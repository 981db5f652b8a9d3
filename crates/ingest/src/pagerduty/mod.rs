//! PagerDuty's three inbound APIs, exactly as PagerDuty accepts them, so that any
//! PagerDuty client works against Klaxon with only its base URL changed:
//!
//! - [`parse_event`]: Events API v2, `POST /v2/enqueue`;
//! - [`parse_change`]: change events, `POST /v2/change/enqueue`;
//! - [`parse_v1`]: Events API v1, `POST /generic/2010-04-15/create_event.json` (what
//!   Alertmanager sends when its config uses `service_key`).
//!
//! These carry the integration key in the body, so the result names it
//! (`Parsed::Alerts { key: Some(..) }`). Every rule of PagerDuty's table is enforced and
//! each broken rule is one message naming its field, for PagerDuty's 400 answer
//! `{"status":"invalid event","message":"Event object is invalid","errors":[…]}`.
//! Over-long fields are refused, not cut, as PagerDuty does. Timestamps accept `Z`,
//! `+00:00` and `+0000` offsets. An acknowledge or resolve carries severity `error`,
//! which means nothing for those actions. Content-Type is not checked.

mod change;
mod events;
mod v1;

pub use change::parse_change;
pub use events::parse_event;
pub use v1::parse_v1;

use klaxon_domain::alert::AlertAction;
use serde_json::{Map, Value};

use crate::json::Check;
use crate::text::{quoted, timestamp};

/// `trigger`, `acknowledge` or `resolve` from the required field `name`.
fn action(check: &mut Check, obj: &Map<String, Value>, name: &str) -> Option<AlertAction> {
    match check.required(obj, name, name, "")?.as_str() {
        "trigger" => Some(AlertAction::Trigger),
        "acknowledge" => Some(AlertAction::Acknowledge),
        "resolve" => Some(AlertAction::Resolve),
        other => {
            check.errors.push(format!(
                "{name} must be trigger, acknowledge or resolve, not {}",
                quoted(other)
            ));
            None
        }
    }
}

/// The optional ISO 8601 time at `obj[key]`.
fn time(
    check: &mut Check,
    obj: &Map<String, Value>,
    key: &str,
    name: &str,
) -> Option<jiff::Timestamp> {
    let text = check.string(obj, key, name)?;
    let parsed = timestamp(&text);
    if parsed.is_none() {
        check
            .errors
            .push(format!("{name} is not an ISO 8601 time: {}", quoted(&text)));
    }
    parsed
}
