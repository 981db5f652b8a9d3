//! Newtypes for identifiers, validated once at the edge.

use std::fmt;

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
    fn incident_numbers_accept_hash_prefix() {
        assert_eq!(IncidentNumber::parse("#42").unwrap(), IncidentNumber(42));
        assert!(IncidentNumber::parse("0").is_err());
        assert!(IncidentNumber::parse("abc").is_err());
    }
}
