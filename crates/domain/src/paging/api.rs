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
