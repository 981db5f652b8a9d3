//! The request and response bodies of the REST API, shared by the server and the typed
//! client so the two cannot drift. Routes (all under `/api/v1`, all needing a bearer token):
//!
//! | method and path | body | answer | scope |
//! |---|---|---|---|
//! | `GET /policy` | | [`crate::policy::Policy`] | viewer |
//! | `GET /incidents` with [`IncidentQuery`] | | [`IncidentPage`] | viewer |
//! | `POST /incidents` | [`crate::incident::DeclareInput`] | 201 `IncidentView` | responder |
//! | `GET /incidents/{n}` | | `IncidentView` with `timeline` | viewer |
//! | `POST /incidents/{n}/ack` | [`AckRequest`] (may be empty) | `IncidentView` | responder |
//! | `POST /incidents/{n}/assign` | [`RoleRequest`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/relieve` | [`RoleRequest`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/severity` | [`SeverityRequest`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/updates` | [`crate::incident::StatusUpdateInput`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/mitigate` | [`MitigateRequest`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/resolve` | [`ResolveRequest`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/close` | (empty) | `IncidentView` | responder |
//! | `POST /incidents/{n}/reopen` | [`ReasonRequest`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/decline` | [`ReasonRequest`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/merge` | [`MergeRequest`] | `IncidentView` of the target | responder |
//! | `POST /incidents/{n}/notes` | [`NoteRequest`] | `IncidentView` | responder |
//! | `POST /incidents/{n}/evidence` | [`crate::incident::Evidence`] | `IncidentView` | responder |
//! | `GET /users` | | `[User]` | viewer |
//! | `POST /users` | [`NewUser`] | 201 `User` | admin |
//! | `PATCH /users/{handle}` | [`UserUpdate`] | `User` | admin |
//! | `GET /tokens` | | `[TokenInfo]` | admin |
//! | `POST /tokens` | [`NewToken`] | 201 [`CreatedToken`] | admin |
//! | `POST /tokens/{id}/revoke` | (empty) | `TokenInfo` | admin |
//! | `GET /me` | | [`Me`] | viewer |
//!
//! Errors are `application/problem+json` bodies: [`Problem`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::auth::{Scope, TokenInfo, User};
use crate::incident::{IncidentView, MitigationStrategy, Role};
use crate::{DomainError, Handle, IncidentNumber, Severity};

/// The header a client sets to say where a change comes from (`cli`, `web`, `chat`).
pub const SOURCE_HEADER: &str = "x-klaxon-source";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    /// When it was acknowledged, if not now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: Role,
    pub user: Handle,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityRequest {
    pub severity: Severity,
    /// Why the severity changed; required.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MitigateRequest {
    pub strategy: MitigationStrategy,
    /// What was done, e.g. "rolled back to v2.1.2".
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The incident that absorbs this one.
    pub into: IncidentNumber,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

/// One page of incidents, newest first. Pass `next_before` as `before` for the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentPage {
    pub incidents: Vec<IncidentView>,
    pub next_before: Option<IncidentNumber>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub handle: Handle,
    pub name: String,
    pub email: String,
    /// What the user may do: admin, responder or viewer; responder if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Scope>,
}

impl NewUser {
    /// A new user's role when none is given.
    pub const DEFAULT_ROLE: Scope = Scope::Responder;

    /// The role the user gets.
    pub fn role(&self) -> Scope {
        self.role.unwrap_or(Self::DEFAULT_ROLE)
    }

    /// The user with name and e-mail trimmed, or the field that is wrong.
    pub fn validated(self) -> Result<NewUser, DomainError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(DomainError::invalid(
                "name",
                "give a name of 1 to 200 characters",
            ));
        }
        let email = self.email.trim();
        let plausible = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
        if !plausible || email.len() > 254 || email.contains(char::is_whitespace) {
            return Err(DomainError::invalid(
                "email",
                format!("'{email}' is not an e-mail address"),
            ));
        }
        Ok(NewUser {
            handle: self.handle,
            name: name.to_owned(),
            email: email.to_owned(),
            role: self.role,
        })
    }
}

/// A new password for the web UI: 10 to 256 characters. `Debug` never shows it.
#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub password: String,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword { password: [redacted] }")
    }
}

/// A change to a user (admin): today, their role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// The new role. Lowering it lowers every token of the user at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Scope>,
}

impl UserUpdate {
    /// The role asked for, or why the update changes nothing.
    pub fn role(&self) -> Result<Scope, DomainError> {
        self.role.ok_or_else(|| {
            DomainError::invalid("role", "give the new role: admin, responder or viewer")
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "ci" or "alice-laptop".
    pub name: String,
    pub scope: Scope,
    /// The user the token acts as; the caller if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Handle>,
}

impl NewToken {
    /// The token's name, trimmed, or why it cannot be one.
    pub fn validated_name(&self) -> Result<String, DomainError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(DomainError::invalid(
                "name",
                "give a name of 1 to 100 characters",
            ));
        }
        Ok(name.to_owned())
    }
}

/// A new token. `token` is shown only this once; Klaxon keeps only its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// Who the caller is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub user: User,
    pub token: TokenInfo,
    /// What this request may do: the lower of the token's scope and the user's role.
    pub scope: Scope,
}

/// An RFC 9457 problem: what went wrong, for a person to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// A problem with one field of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Filters for `GET /incidents`. All optional; `limit` defaults to 50 (at most 200).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// Only incidents with this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<String>)]
    pub status: Option<crate::incident::Status>,
    /// Only incidents of this severity (1-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<u8>)]
    pub severity: Option<Severity>,
    /// Only incidents of this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `true`: only open incidents (triggered, acknowledged, mitigated); `false`: only the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// Only incidents declared at or after this instant (RFC 3339) or this long ago (`24h`, `7 days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only incidents numbered below this: the cursor from the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<i64>)]
    pub before: Option<IncidentNumber>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_asked_for_have_a_default_and_a_range() {
        let show = |log| {
            AlertShowQuery {
                log,
                log_before: None,
            }
            .log()
        };
        assert_eq!(show(None), Ok(100));
        assert_eq!(show(Some(1)), Ok(1));
        assert_eq!(show(Some(10_000)), Ok(10_000));
        assert_eq!(
            show(Some(0)),
            Err(DomainError::invalid(
                "log",
                "0 is out of range; use 1 to 10000"
            ))
        );
        assert!(show(Some(10_001)).is_err());
        let alerts = |limit| {
            AlertQuery {
                limit,
                ..Default::default()
            }
            .limit()
        };
        assert_eq!(alerts(None), Ok(50));
        assert_eq!(
            alerts(Some(201)),
            Err(DomainError::invalid(
                "limit",
                "201 is out of range; use 1 to 200"
            ))
        );
        let incidents = |limit| {
            IncidentQuery {
                limit,
                ..Default::default()
            }
            .limit()
        };
        assert_eq!(incidents(None), Ok(50));
        assert_eq!(incidents(Some(200)), Ok(200));
        assert!(incidents(Some(0)).is_err());
    }

    fn user(name: &str, email: &str) -> NewUser {
        NewUser {
            handle: Handle::parse("alice").unwrap(),
            name: name.into(),
            email: email.into(),
            role: None,
        }
    }

    #[test]
    fn new_users_are_trimmed_and_checked() {
        let ok = user(" Alice ", " alice@example.com ").validated().unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.email.as_str()),
            ("Alice", "alice@example.com")
        );
        let field = |u: NewUser| match u.validated() {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(user(" ", "a@b")), "name");
        assert_eq!(field(user("A", "not-an-email")), "email");
        assert_eq!(field(user("A", "@example.com")), "email");
        assert_eq!(field(user("A", "a b@example.com")), "email");
    }

    #[test]
    fn new_users_are_responders_unless_told() {
        assert_eq!(user("A", "a@b").role(), Scope::Responder);
        let viewer = NewUser {
            role: Some(Scope::Viewer),
            ..user("A", "a@b")
        };
        assert_eq!(viewer.validated().unwrap().role(), Scope::Viewer);
        assert!(UserUpdate::default().role().is_err());
    }

    #[test]
    fn token_names_are_trimmed_and_bounded() {
        let token = |name: &str| NewToken {
            name: name.into(),
            scope: Scope::Viewer,
            user: None,
        };
        assert_eq!(token(" ci ").validated_name().unwrap(), "ci");
        assert!(token("").validated_name().is_err());
        assert!(token(&"x".repeat(101)).validated_name().is_err());
    }
}

/// Filters for `GET /alerts`, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only alerts of this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Only alerts with this status: triggered, acknowledged or resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<String>)]
    pub status: Option<crate::alert::AlertStatus>,
    /// Only the alerts of this incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<i64>)]
    pub incident: Option<IncidentNumber>,
    /// At most this many (default 50, at most 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only alerts with an id below this: the cursor from the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<i64>)]
    pub before: Option<crate::AlertId>,
}

/// One page of alerts, newest first. Pass `next_before` as `before` for the next page;
/// it is absent on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertPage {
    pub alerts: Vec<crate::alert::Alert>,
    pub next_before: Option<crate::AlertId>,
}

/// One alert with every event that arrived for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: crate::alert::Alert,
    /// The newest entries of the alert's log (as many as asked for), oldest first.
    pub log: Vec<AlertLogEntry>,
    /// Whether the log holds older entries than those in `log`.
    #[serde(default)]
    pub log_truncated: bool,
    /// When older entries are left out: pass this as `log_before` for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_log_before: Option<i64>,
}

/// How much of an alert's log `GET /alerts/{id}` returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertShowQuery {
    /// The newest this many log entries (default 100, at most 10,000). A storm leaves
    /// hundreds of thousands of events on one alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<u32>,
    /// Only log entries older than this one (an entry's `id`): the cursor from the
    /// previous page, `next_log_before`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_before: Option<i64>,
}

impl AlertShowQuery {
    pub const DEFAULT_LOG: u32 = 100;
    pub const MAX_LOG: u32 = 10_000;

    /// How many log entries to return.
    pub fn log(&self) -> Result<u32, DomainError> {
        count_in_range("log", self.log, Self::DEFAULT_LOG, Self::MAX_LOG)
    }
}

impl AlertQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    /// How many alerts to return.
    pub fn limit(&self) -> Result<u32, DomainError> {
        count_in_range("limit", self.limit, Self::DEFAULT_LIMIT, Self::MAX_LIMIT)
    }
}

impl IncidentQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    /// How many incidents a page holds.
    pub fn limit(&self) -> Result<u32, DomainError> {
        count_in_range("limit", self.limit, Self::DEFAULT_LIMIT, Self::MAX_LIMIT)
    }
}

/// A count asked for in a query: `default` when not given; outside 1 to `max`, refused
/// naming `field` and the range.
fn count_in_range(
    field: &'static str,
    asked: Option<u32>,
    default: u32,
    max: u32,
) -> Result<u32, DomainError> {
    match asked.unwrap_or(default) {
        n @ 1.. if n <= max => Ok(n),
        n => Err(DomainError::invalid(
            field,
            format!("{n} is out of range; use 1 to {max}"),
        )),
    }
}

/// An event as it arrived for an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertLogEntry {
    /// The entry's place on the alert's log: `log_before` for older entries.
    pub id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    pub action: crate::alert::AlertAction,
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}
