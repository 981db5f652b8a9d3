//! Newtypes for identifiers, validated once at the edge.
//!
//! The row ids that cross layers (domain, store, application, HTTP and CLI) each have a
//! type of their own, so that a token id cannot be passed where an alert id is meant.
//! On the wire they stay plain integers (`#[serde(transparent)]`, an integer in the
//! OpenAPI document); the store binds and reads the `i64` inside.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The human number of an incident (`#42`), unique in one Klaxon installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentNumber(pub i64);

impl IncidentNumber {
    /// Parses `42` or `#42`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let digits = text.trim().trim_start_matches('#');
        match digits.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Self(n)),
            _ => Err(DomainError::invalid(
                "number",
                format!("'{text}' is not an incident number; use a positive integer such as 42"),
            )),
        }
    }
}

impl fmt::Display for IncidentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A person's short name (`alice`), used for mentions and role assignment.
/// Lower-case letters, digits, `.`, `-` and `_`, 1 to 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Handle(String);

impl Handle {
    pub const MAX_LEN: usize = 32;

    /// Parses `alice` or `@alice`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let name = text.trim().trim_start_matches('@');
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
        if name.is_empty() || name.len() > Self::MAX_LEN || !valid_chars {
            return Err(DomainError::invalid(
                "handle",
                format!(
                    "'{text}' is not a valid handle; use 1 to {} lower-case letters, digits, '.', '-' or '_'",
                    Self::MAX_LEN
                ),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Handle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Handle::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for Handle {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z0-9._-]{1,32}$"))
            .description(Some("A person's handle, e.g. `alice`"))
            .into()
    }
}
impl utoipa::ToSchema for Handle {}

impl utoipa::PartialSchema for IncidentNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .description(Some("The incident's number, e.g. 42 for #42"))
            .into()
    }
}
impl utoipa::ToSchema for IncidentNumber {}

/// Declares a row id newtype: `pub struct $name(pub i64)`, transparent in JSON, shown as
/// its number, parsed from a path segment or an argument by `parse` (and `FromStr`),
/// and an integer in the OpenAPI document. A refusal says "'x' is not `$what``$hint`":
/// "'x' is not an alert id; see `klaxon alert list`".
macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $hint:literal, $schema:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            #[doc = concat!("Parses ", $what, " given as text (a path segment, an argument): an integer.")]
            pub fn parse(text: &str) -> Result<Self, DomainError> {
                text.trim().parse::<i64>().map(Self).map_err(|_| {
                    DomainError::invalid(
                        "id",
                        format!(concat!("'{}' is not ", $what, $hint), text),
                    )
                })
            }
        }

        impl FromStr for $name {
            type Err = DomainError;

            fn from_str(text: &str) -> Result<Self, DomainError> {
                Self::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int64,
                    )))
                    .description(Some($schema))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

row_id!(
    /// An alert's id.
    AlertId,
    "an alert id",
    "; see `klaxon alert list`",
    "An alert's id"
);
row_id!(
    /// A service's id; people and the API name services by name, the store by this.
    ServiceId,
    "a service id",
    "; see `klaxon service list`",
    "A service's id"
);
row_id!(
    /// An API token's id: what lists show and revoking takes, never the secret.
    TokenId,
    "a token id",
    "; see `klaxon token list`",
    "An API token's id"
);
row_id!(
    /// A contact method's id.
    ContactMethodId,
    "a contact method id",
    "; see `klaxon user contact list <user>`",
    "A contact method's id"
);
row_id!(
    /// An integration key's id (not the key itself).
    KeyId,
    "an integration key id",
    "; see `klaxon service show <service>`",
    "An integration key's id (not the key)"
);
row_id!(
    /// A job's id in the paging engine's durable queue.
    JobId,
    "a job id",
    "",
    "A job's id"
);
row_id!(
    /// A notification rule's id.
    NotificationRuleId,
    "a notification rule id",
    "; see `klaxon user rule list <user>`",
    "A notification rule's id"
);
row_id!(
    /// A maintenance window's id.
    MaintenanceId,
    "a maintenance window id",
    "; see `klaxon service maintenance list <service>`",
    "A maintenance window's id"
);
row_id!(
    /// A scheduled maintenance's id (on the status page; not a service's window).
    ScheduledMaintenanceId,
    "a scheduled maintenance id",
    "; see `klaxon maintenance list`",
    "A scheduled maintenance's id"
);
row_id!(
    /// A heartbeat monitor's id.
    HeartbeatId,
    "a heartbeat id",
    "; see `klaxon heartbeat list`",
    "A heartbeat monitor's id"
);
row_id!(
    /// A status-page subscriber's id (an e-mail address or a webhook).
    SubscriberId,
    "a subscriber id",
    "; see `klaxon subscriber list`",
    "A status-page subscriber's id"
);
row_id!(
    /// A status-page component's (or component group's) id.
    ComponentId,
    "a component id",
    "; see `klaxon component list`",
    "A status-page component's id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_accept_at_prefix_and_reject_bad_characters() {
        assert_eq!(Handle::parse("@alice").unwrap().as_str(), "alice");
        assert!(Handle::parse("Alice").is_err());
        assert!(Handle::parse("").is_err());
        assert!(Handle::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn row_ids_parse_integers_and_name_themselves_when_refused() {
        assert_eq!(AlertId::parse("42").unwrap(), AlertId(42));
        assert_eq!(" 7 ".parse::<TokenId>().unwrap(), TokenId(7));
        let refused = AlertId::parse("x").unwrap_err();
        assert_eq!(
            refused,
            DomainError::invalid("id", "'x' is not an alert id; see `klaxon alert list`")
        );
        assert!(KeyId::parse("1.5").is_err());
        assert_eq!(ContactMethodId(3).to_string(), "3");
    }

    #[test]
    fn row_ids_are_plain_integers_on_the_wire() {
        assert_eq!(serde_json::to_string(&JobId(12)).unwrap(), "12");
        assert_eq!(
            serde_json::from_str::<ServiceId>("5").unwrap(),
            ServiceId(5)
        );
        let schema = serde_json::to_value(<AlertId as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "integer");
        assert_eq!(schema["format"], "int64");
    }

    #[test]
    fn incident_numbers_accept_hash_prefix() {
        assert_eq!(IncidentNumber::parse("#42").unwrap(), IncidentNumber(42));
        assert!(IncidentNumber::parse("0").is_err());
        assert!(IncidentNumber::parse("abc").is_err());
    }
}
