//! The request bodies and queries of the review routes, shared by the server and the
//! typed client:
//!
//! | method and path | body | answer | scope |
//! |---|---|---|---|
//! | `GET /incidents/{n}/review` | | [`super::ReviewView`] | viewer |
//! | `POST /incidents/{n}/review` | [`super::OpenReview`] | 201 `ReviewView` | responder |
//! | `PATCH /incidents/{n}/review` | [`ReviewSettings`] | `ReviewView` | responder |
//! | `PUT /incidents/{n}/review/{section}` | the section | `ReviewView` | responder |
//! | `PUT /incidents/{n}/review/whys` | [`WhysInput`] | `ReviewView` | responder |
//! | `POST /incidents/{n}/review/whys/nodes` | [`super::WhyNodeInput`] | `ReviewView` | responder |
//! | `PUT /incidents/{n}/review/timeline/{seq}` | [`NoteInput`] | `ReviewView` | responder |
//! | `POST /incidents/{n}/review/status` | [`StatusRequest`] | `ReviewView` | responder |
//! | `POST /incidents/{n}/review/actions` | [`super::NewActionItem`] | 201 `ListedAction` | responder |
//! | `GET /incidents/{n}/review/export` with [`ExportQuery`] | | Markdown, HTML or JSON | viewer |
//! | `GET /actions` with [`ActionQuery`] | | `[ListedAction]` | viewer |
//! | `GET /actions/{ref}` | | `ListedAction` | viewer |
//! | `PATCH /actions/{ref}` | [`super::ActionItemPatch`] | `ListedAction` | responder |

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{ReviewStatus, WhyNode};
use crate::{DomainError, Handle, IncidentNumber};

/// The owner and deadline of a review; each field given is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Handle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
}

/// The 5-whys, whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhysInput {
    pub nodes: Vec<WhyNode>,
}

/// A star and context on a timeline event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    #[serde(default)]
    pub starred: bool,
    #[serde(default)]
    pub context: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub status: ReviewStatus,
}

/// How to export a review: `markdown` (the default), `html` (printable) or `json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// The formats a review exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Html,
    Json,
}

impl ExportFormat {
    pub fn parse(text: Option<&str>) -> Result<Self, DomainError> {
        match text.map(str::trim) {
            None | Some("markdown" | "md") => Ok(Self::Markdown),
            Some("html") => Ok(Self::Html),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(DomainError::invalid(
                "format",
                format!("'{other}' is not an export format; use markdown, html or json"),
            )),
        }
    }
}

/// Filters for `GET /actions`, by deadline. All optional; `limit` defaults to 100 (at
/// most 500).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActionQuery {
    /// Only the caller's items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mine: Option<bool>,
    /// Only this person's items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<String>)]
    pub owner: Option<Handle>,
    /// Only items still owed and past their deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
    /// Only items still owed (open or in progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<bool>,
    /// Only this incident's items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<i64>)]
    pub incident: Option<IncidentNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl ActionQuery {
    pub const MAX_LIMIT: u32 = 500;

    pub fn limit(&self) -> Result<u32, DomainError> {
        match self.limit {
            None => Ok(100),
            Some(n) if (1..=Self::MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(DomainError::invalid(
                "limit",
                format!("{n} is out of range; use 1 to {}", Self::MAX_LIMIT),
            )),
        }
    }
}
