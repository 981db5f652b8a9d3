//! The shapes of the paging routes' requests and answers, shared by server and client.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Target;
use crate::Handle;

/// Who is on call on a schedule at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OnCall {
    pub schedule: String,
    #[schema(value_type = Option<String>)]
    pub user: Option<Handle>,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// Who a service's first escalation step pages now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceOnCall {
    pub service: String,
    pub escalation_policy: Option<String>,
    /// The people step 1 would page now, schedules resolved.
    pub on_call: Vec<String>,
}

/// A direct page: to a person, or to whoever is on call on a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPage {
    pub target: Target,
    pub message: String,
}

/// Who was paged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Paged {
    pub user: String,
    /// Deliveries queued: one per contact method the user's high-urgency rules name.
    pub deliveries: usize,
}

/// A person told about the incidents the severity policy tells a team about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// A team the policy's `notify` lists name, e.g. `engineering`.
    pub team: String,
    pub user: Handle,
}

impl Subscription {
    pub fn validated(mut self) -> Result<Self, crate::DomainError> {
        self.team = self.team.trim().to_owned();
        let ok = !self.team.is_empty()
            && self.team.len() <= 64
            && self
                .team
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(crate::DomainError::invalid(
                "team",
                format!(
                    "'{}' is not a team name; use 1 to 64 lower-case letters, digits, '-' or '_'",
                    self.team
                ),
            ));
        }
        Ok(self)
    }
}

/// A code sent to a phone number to verify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CodeSent {
    pub contact_method: crate::ContactMethodId,
    /// The number the code went to, by SMS or by a call that reads it.
    pub address: String,
    /// When the code stops working.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// When another code may be sent.
    #[schema(value_type = String, format = DateTime)]
    pub resend_at: Timestamp,
}

/// The code a person received, given back to verify their number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyCode {
    /// The six digits sent to the number.
    pub code: String,
}
