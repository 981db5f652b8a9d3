//! Services: the things that can break. A service owns the integration keys its alerts
//! arrive with, and the rules that turn those alerts into incidents.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::alert::AlertSeverity;
use crate::{DomainError, Severity};

/// A service's name: lower-case letters, digits, `-` and `_`, 1 to 64 characters, so it
/// reads well in URLs and commands (`klaxon service show api`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let name = text.trim();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(DomainError::invalid(
                "name",
                format!("'{text}' is not a service name; use 1 to 64 lower-case letters, digits, '-' or '_'"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ServiceName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ServiceName::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for ServiceName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z0-9_-]{1,64}$"))
            .into()
    }
}
impl utoipa::ToSchema for ServiceName {}

/// How a service's alerts become incidents.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Grouping {
    /// Each new alert opens an incident.
    #[default]
    PerAlert,
    /// Alerts with the same value of `field` (a label) join the open incident that has it.
    ByField { field: String },
    /// Alerts within `minutes` of the service's open incident join it.
    TimeWindow { minutes: u32 },
}

impl Grouping {
    /// Parses the CLI form: `per-alert`, `by-field:LABEL`, `time-window:MINUTES`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                "grouping",
                format!("'{text}' is not a grouping; use per-alert, by-field:LABEL or time-window:MINUTES"),
            )
        };
        match text.split_once(':') {
            None if text == "per-alert" => Ok(Self::PerAlert),
            Some(("by-field", field)) if !field.trim().is_empty() => Ok(Self::ByField {
                field: field.trim().to_owned(),
            }),
            Some(("time-window", minutes)) => match minutes.trim().parse::<u32>() {
                Ok(m) if (1..=24 * 60).contains(&m) => Ok(Self::TimeWindow { minutes: m }),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    fn check(&self) -> Result<(), DomainError> {
        match self {
            Self::ByField { field } if field.trim().is_empty() || field.len() > 128 => {
                Err(DomainError::invalid(
                    "grouping.field",
                    "name the label to group by (1 to 128 characters)",
                ))
            }
            Self::TimeWindow { minutes } if !(1..=24 * 60).contains(minutes) => Err(
                DomainError::invalid("grouping.minutes", "use 1 to 1440 minutes"),
            ),
            _ => Ok(()),
        }
    }
}

/// The CLI form [`Grouping::parse`] reads: `per-alert`, `by-field:LABEL`,
/// `time-window:MINUTES`.
impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PerAlert => f.write_str("per-alert"),
            Self::ByField { field } => write!(f, "by-field:{field}"),
            Self::TimeWindow { minutes } => write!(f, "time-window:{minutes}"),
        }
    }
}

/// Which incident severity an alert severity opens; `None` records the alert without an
/// incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityMap {
    pub critical: Option<Severity>,
    pub error: Option<Severity>,
    pub warning: Option<Severity>,
    pub info: Option<Severity>,
}

impl Default for SeverityMap {
    /// `critical → SEV2`, `error → SEV3`, `warning → SEV4`, `info → alert only`.
    fn default() -> Self {
        let sev = |n| Severity::new(n).ok();
        Self {
            critical: sev(2),
            error: sev(3),
            warning: sev(4),
            info: None,
        }
    }
}

impl SeverityMap {
    pub fn incident_severity(&self, alert: AlertSeverity) -> Option<Severity> {
        match alert {
            AlertSeverity::Critical => self.critical,
            AlertSeverity::Error => self.error,
            AlertSeverity::Warning => self.warning,
            AlertSeverity::Info => self.info,
        }
    }
}

/// The rules a service applies to its alerts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    #[serde(default)]
    pub grouping: Grouping,
    #[serde(default)]
    pub severities: SeverityMap,
    /// Resolve the incident when all of its alerts have resolved.
    #[serde(default)]
    pub auto_resolve: bool,
    /// What one Klaxon alert stands for in Alertmanager (and Grafana) notifications.
    #[serde(default)]
    pub alertmanager_dedup: AlertmanagerDedup,
    /// Who is paged when an incident of this service triggers: an escalation policy's
    /// name. Without one, nobody is paged and the timeline says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_policy: Option<String>,
}

/// How Alertmanager notifications deduplicate: one Klaxon alert per Prometheus alert
/// (its fingerprint; the default), or one per notification group (its `groupKey`),
/// which resolves only when the whole group has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AlertmanagerDedup {
    #[default]
    PerAlert,
    PerGroup,
}

impl AlertmanagerDedup {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerAlert => "per-alert",
            Self::PerGroup => "per-group",
        }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "per-alert" => Ok(Self::PerAlert),
            "per-group" => Ok(Self::PerGroup),
            other => Err(DomainError::invalid(
                "alertmanager_dedup",
                format!("'{other}' is not a dedup mode; use per-alert or per-group"),
            )),
        }
    }
}

/// An integration key: 32 lower-case hexadecimal characters, like PagerDuty's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntegrationKey {
    pub id: crate::KeyId,
    pub key: String,
    /// The secret that signs webhooks from tools that sign (Sentry, Grafana).
    // In JSON as it is, for admins (who alone see keys); `Debug` prints `[redacted]`.
    #[serde(with = "crate::secret::exposed")]
    #[schema(value_type = String)]
    pub signing_secret: crate::Secret,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

/// The length of an integration key.
pub const INTEGRATION_KEY_LEN: usize = 32;

/// Whether `text` has the shape of an integration key, checked before any lookup.
pub fn looks_like_integration_key(text: &str) -> bool {
    text.len() == INTEGRATION_KEY_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A service as the API shows it. `integration_keys` is filled only for admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Service {
    pub id: crate::ServiceId,
    pub name: ServiceName,
    pub description: String,
    pub owner_team: Option<String>,
    pub runbook_links: Vec<String>,
    pub rules: AlertRules,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_keys: Option<Vec<IntegrationKey>>,
    /// The newest live key, for admins: what `klaxon service create api --json` hands a
    /// monitoring tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_key: Option<String>,
}

/// A request to create a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    pub name: ServiceName,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner_team: Option<String>,
    #[serde(default)]
    pub runbook_links: Vec<String>,
    #[serde(default)]
    pub rules: AlertRules,
}

/// A change to a service: fields left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_links: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<AlertRules>,
}

/// The fields of a service that people edit, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFields {
    pub description: String,
    pub owner_team: Option<String>,
    pub runbook_links: Vec<String>,
    pub rules: AlertRules,
}

impl NewService {
    pub fn validated(self) -> Result<(ServiceName, ServiceFields), DomainError> {
        let fields = ServiceFields {
            description: self.description,
            owner_team: self.owner_team,
            runbook_links: self.runbook_links,
            rules: self.rules,
        };
        Ok((self.name, fields.validated()?))
    }
}

impl ServiceUpdate {
    /// `current` with this update applied, validated.
    pub fn apply_to(self, current: &Service) -> Result<ServiceFields, DomainError> {
        ServiceFields {
            description: self
                .description
                .unwrap_or_else(|| current.description.clone()),
            owner_team: self.owner_team.or_else(|| current.owner_team.clone()),
            runbook_links: self
                .runbook_links
                .unwrap_or_else(|| current.runbook_links.clone()),
            rules: self.rules.unwrap_or_else(|| current.rules.clone()),
        }
        .validated()
    }
}

impl ServiceFields {
    fn validated(self) -> Result<ServiceFields, DomainError> {
        let description = self.description.trim().to_owned();
        if description.chars().count() > 2_000 {
            return Err(DomainError::invalid(
                "description",
                "is longer than 2000 characters",
            ));
        }
        let owner_team = self
            .owner_team
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if owner_team.as_ref().is_some_and(|t| t.chars().count() > 100) {
            return Err(DomainError::invalid(
                "owner_team",
                "is longer than 100 characters",
            ));
        }
        if self.runbook_links.len() > 20 {
            return Err(DomainError::invalid("runbook_links", "at most 20 links"));
        }
        for link in &self.runbook_links {
            let ok = (link.starts_with("https://") || link.starts_with("http://"))
                && link.len() <= 2_000;
            if !ok {
                return Err(DomainError::invalid(
                    "runbook_links",
                    format!("'{link}' is not an http(s) URL"),
                ));
            }
        }
        self.rules.grouping.check()?;
        Ok(ServiceFields {
            description,
            owner_team,
            runbook_links: self.runbook_links,
            rules: self.rules,
        })
    }
}

/// A time when a service's alerts are recorded but open no incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MaintenanceWindow {
    pub id: crate::MaintenanceId,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub reason: String,
    pub created_by: String,
}

impl MaintenanceWindow {
    pub fn covers(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// A request for a maintenance window. Times are RFC 3339 or, for `starts`, "now".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMaintenance {
    /// When it starts; now if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub reason: String,
}

impl NewMaintenance {
    /// The window's start and end, checked: it ends after it starts and after now, and
    /// lasts at most 7 days.
    pub fn validated(&self, now: Timestamp) -> Result<(Timestamp, Timestamp, String), DomainError> {
        let starts = self.starts_at.unwrap_or(now);
        if self.ends_at <= starts {
            return Err(DomainError::invalid(
                "ends_at",
                "a maintenance window must end after it starts",
            ));
        }
        if self.ends_at <= now {
            return Err(DomainError::invalid(
                "ends_at",
                "this window is already over",
            ));
        }
        if self.ends_at.duration_since(starts) > jiff::SignedDuration::from_hours(24 * 7) {
            return Err(DomainError::invalid(
                "ends_at",
                "a maintenance window lasts at most 7 days",
            ));
        }
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(DomainError::invalid(
                "reason",
                "say why, in 1 to 500 characters",
            ));
        }
        Ok((starts, self.ends_at, reason.to_owned()))
    }
}

/// A heartbeat monitor: something (a cron job, a backup) that must ping
/// `/heartbeat/{key}` every `interval_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Heartbeat {
    pub id: crate::HeartbeatId,
    pub service: ServiceName,
    pub name: String,
    /// The key in the ping URL; shown to admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub interval_seconds: i64,
    #[schema(value_type = String, format = DateTime)]
    pub last_ping_at: Timestamp,
    /// A ping is overdue and its alert is open.
    pub down: bool,
}

impl Heartbeat {
    /// When the next ping is due.
    pub fn due_at(&self) -> Timestamp {
        self.last_ping_at
            .checked_add(jiff::SignedDuration::from_secs(self.interval_seconds))
            .unwrap_or(self.last_ping_at)
    }

    /// The dedup key of the alert a missed ping raises.
    pub fn alert_key(&self) -> String {
        format!("heartbeat/{}/{}", self.service, self.name)
    }
}

/// A request for a heartbeat monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHeartbeat {
    pub service: ServiceName,
    /// Names the monitor within its service, e.g. "nightly-backup".
    pub name: String,
    /// How often a ping must arrive: `5m`, `1h`, `1 day`.
    pub interval: String,
}

impl NewHeartbeat {
    /// The name and the interval in seconds (1 minute to 31 days), checked.
    pub fn validated(&self) -> Result<(String, i64), DomainError> {
        let name = self.name.trim();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !valid {
            return Err(DomainError::invalid(
                "name",
                "use 1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
        let seconds = crate::time::parse_duration("interval", &self.interval)?.as_secs();
        if !(60..=31 * 24 * 3600).contains(&seconds) {
            return Err(DomainError::invalid("interval", "use 1 minute to 31 days"));
        }
        Ok((name.to_owned(), seconds))
    }
}

/// Labels as a sorted map, for the rules that group by one.
pub type Labels = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> IntegrationKey {
        IntegrationKey {
            id: crate::KeyId(3),
            key: "0123456789abcdef0123456789abcdef".into(),
            signing_secret: crate::Secret::new("whsec-do-not-print"),
            created_at: "2026-11-26T10:00:00Z".parse().unwrap(),
            revoked_at: None,
        }
    }

    #[test]
    fn an_integration_keys_debug_hides_its_signing_secret() {
        let printed = format!("{:?}", key());
        assert!(!printed.contains("whsec-do-not-print"), "{printed}");
        assert!(printed.contains("[redacted]"), "{printed}");
    }

    #[test]
    fn an_integration_key_keeps_its_json_shape() {
        let json = serde_json::to_value(key()).unwrap();
        assert_eq!(json["id"], 3);
        assert_eq!(json["signing_secret"], "whsec-do-not-print");
        let back: IntegrationKey = serde_json::from_value(json).unwrap();
        assert_eq!(back, key());
    }

    #[test]
    fn maintenance_windows_are_checked() {
        let now: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        let hours = |h: i64| now + jiff::SignedDuration::from_hours(h);
        let new = |starts: Option<Timestamp>, ends: Timestamp| NewMaintenance {
            starts_at: starts,
            ends_at: ends,
            reason: "db upgrade".into(),
        };
        assert_eq!(new(None, hours(2)).validated(now).unwrap().0, now);
        assert!(new(Some(hours(3)), hours(2)).validated(now).is_err());
        assert!(new(Some(hours(-3)), hours(-1)).validated(now).is_err());
        assert!(new(None, hours(24 * 8)).validated(now).is_err());
        let w = MaintenanceWindow {
            id: crate::MaintenanceId(1),
            starts_at: now,
            ends_at: hours(1),
            reason: "x".into(),
            created_by: "a".into(),
        };
        assert!(w.covers(now) && !w.covers(hours(1)));
    }

    #[test]
    fn names_and_groupings_parse_or_say_why_not() {
        assert!(ServiceName::parse("api").is_ok());
        assert!(ServiceName::parse("API").is_err());
        assert!(ServiceName::parse("").is_err());
        assert_eq!(Grouping::parse("per-alert").unwrap(), Grouping::PerAlert);
        assert_eq!(
            Grouping::parse("by-field:cluster").unwrap(),
            Grouping::ByField {
                field: "cluster".into()
            }
        );
        assert_eq!(
            Grouping::parse("time-window:15").unwrap(),
            Grouping::TimeWindow { minutes: 15 }
        );
        assert!(Grouping::parse("time-window:0").is_err());
        for text in ["per-alert", "by-field:cluster", "time-window:15"] {
            assert_eq!(Grouping::parse(text).unwrap().to_string(), text);
        }
        assert!(Grouping::parse("by-field:").is_err());
        assert!(Grouping::parse("sometimes").is_err());
    }

    #[test]
    fn the_default_severity_map_follows_the_issue() {
        let m = SeverityMap::default();
        assert_eq!(
            m.incident_severity(AlertSeverity::Critical)
                .map(|s| s.level()),
            Some(2)
        );
        assert_eq!(
            m.incident_severity(AlertSeverity::Error).map(|s| s.level()),
            Some(3)
        );
        assert_eq!(
            m.incident_severity(AlertSeverity::Warning)
                .map(|s| s.level()),
            Some(4)
        );
        assert_eq!(m.incident_severity(AlertSeverity::Info), None);
    }

    #[test]
    fn fields_are_checked() {
        let new = |links: Vec<&str>| NewService {
            name: ServiceName::parse("api").unwrap(),
            description: " d ".into(),
            owner_team: Some("  ".into()),
            runbook_links: links.into_iter().map(String::from).collect(),
            rules: AlertRules::default(),
        };
        let (_, fields) = new(vec!["https://runbooks.example/api"])
            .validated()
            .unwrap();
        assert_eq!(
            (fields.description.as_str(), fields.owner_team),
            ("d", None)
        );
        assert!(matches!(
            new(vec!["ftp://x"]).validated(),
            Err(DomainError::Invalid {
                field: "runbook_links",
                ..
            })
        ));
        assert!(looks_like_integration_key(
            "0123456789abcdef0123456789abcdef"
        ));
        assert!(!looks_like_integration_key(
            "0123456789ABCDEF0123456789abcdef"
        ));
    }
}
