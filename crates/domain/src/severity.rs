//! Severity levels SEV1 (most severe) to SEV4.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// An incident severity, 1 (critical) to 4 (low). Serialised as the bare integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Severity(u8);

impl Severity {
    pub const ALL: [Severity; 4] = [Severity(1), Severity(2), Severity(3), Severity(4)];

    pub fn new(level: i64) -> Result<Self, DomainError> {
        match level {
            1..=4 => Ok(Self(level as u8)),
            _ => Err(DomainError::invalid(
                "severity",
                format!("{level} is not a severity; use 1 (critical) to 4 (low)"),
            )),
        }
    }

    /// Parses `2`, `sev2` or `SEV2`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim();
        let digits = t
            .strip_prefix("SEV")
            .or_else(|| t.strip_prefix("sev"))
            .or_else(|| t.strip_prefix("Sev"))
            .unwrap_or(t);
        match digits.parse::<i64>() {
            Ok(n) => Self::new(n),
            Err(_) => Err(DomainError::invalid(
                "severity",
                format!("'{text}' is not a severity; use 1 to 4 or SEV1 to SEV4"),
            )),
        }
    }

    pub fn level(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let level = i64::deserialize(deserializer)?;
        Severity::new(level).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEV{}", self.0)
    }
}

impl utoipa::PartialSchema for Severity {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .maximum(Some(4))
            .description(Some("Severity: 1 (critical) to 4 (low)"))
            .into()
    }
}
impl utoipa::ToSchema for Severity {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels_and_names() {
        assert_eq!(Severity::parse("SEV2").unwrap().level(), 2);
        assert_eq!(Severity::parse("3").unwrap().level(), 3);
        assert!(Severity::parse("5").is_err());
        assert!(Severity::parse("high").is_err());
        assert!(serde_json::from_str::<Severity>("0").is_err());
    }
}
