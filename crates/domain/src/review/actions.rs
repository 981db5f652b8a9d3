//! Action items: what the team will do about it, each with an owner and a deadline.
//! The category defaults the deadline from the policy; the review's "completed / in
//! progress / planned" lists are computed from their statuses.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::incident::Incident;
use crate::policy::ReviewRules;
use crate::{DomainError, Handle, IncidentNumber};

/// When an action item is meant to be done, as the runbook sorts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Fixes made during the incident: due when it resolved.
    Immediate,
    /// Improvements within a week (the policy's `short_term`).
    ShortTerm,
    /// Improvements within a month (the policy's `long_term`).
    LongTerm,
}

impl Category {
    pub const ALL: [Category; 3] = [Self::Immediate, Self::ShortTerm, Self::LongTerm];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::ShortTerm => "short_term",
            Self::LongTerm => "long_term",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Immediate => "Immediate (during the incident)",
            Self::ShortTerm => "Short term (within a week)",
            Self::LongTerm => "Long term (within a month)",
        }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == t)
            .ok_or_else(|| {
                DomainError::invalid(
                    "category",
                    format!("'{text}' is not a category; use immediate, short_term or long_term"),
                )
            })
    }
}

/// Where an action item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    WontDo,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 4] = [Self::Open, Self::InProgress, Self::Done, Self::WontDo];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::WontDo => "wont_do",
        }
    }

    /// Open or in progress: still owed, so reminded and counted when overdue.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Open | Self::InProgress)
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim().replace('-', "_");
        Self::ALL.into_iter().find(|s| s.as_str() == t).ok_or_else(|| {
            DomainError::invalid(
                "status",
                format!("'{text}' is not an action item status; use open, in_progress, done or wont_do"),
            )
        })
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an action item answers: a node of the 5-whys or a contributing factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answers {
    /// `{"why": 3}`: node 3 of the 5-whys.
    Why(u32),
    /// `{"factor": 2}`: contributing factor 2.
    Factor(u32),
}

impl fmt::Display for Answers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Why(n) => write!(f, "why {n}"),
            Self::Factor(n) => write!(f, "factor {n}"),
        }
    }
}

impl FromStr for Answers {
    type Err = DomainError;

    /// `why:3`, `why 3`, `factor:2`.
    fn from_str(text: &str) -> Result<Self, DomainError> {
        let t = text.trim();
        let (kind, n) = t
            .split_once([':', ' '])
            .map(|(k, n)| (k.trim(), n.trim().parse::<u32>().ok()))
            .unwrap_or((t, None));
        match (kind, n) {
            ("why", Some(n)) => Ok(Self::Why(n)),
            ("factor", Some(n)) => Ok(Self::Factor(n)),
            _ => Err(DomainError::invalid(
                "answers",
                format!("'{text}' names no why-node or factor; write why:3 or factor:2"),
            )),
        }
    }
}

/// An action item's name across incidents: `42-3`, the third item of incident 42's
/// review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionItemRef {
    pub incident: IncidentNumber,
    pub number: u32,
}

impl fmt::Display for ActionItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.incident.0, self.number)
    }
}

impl FromStr for ActionItemRef {
    type Err = DomainError;

    fn from_str(text: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                "item",
                format!("'{text}' is not an action item; name it INCIDENT-N, e.g. 42-3"),
            )
        };
        let (n, item) = text
            .trim()
            .trim_start_matches('#')
            .split_once('-')
            .ok_or_else(bad)?;
        let incident = IncidentNumber::parse(n).map_err(|_| bad())?;
        match item.parse::<u32>() {
            Ok(number) if number > 0 => Ok(Self { incident, number }),
            _ => Err(bad()),
        }
    }
}

/// One action item of a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionItem {
    pub incident: IncidentNumber,
    /// From 1 within the review; with the incident, its name (`42-3`).
    pub number: u32,
    pub title: String,
    pub owner: Handle,
    pub category: Category,
    pub status: ActionStatus,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Answers>,
    /// A link to the ticket in the team's tracker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// When it was done (or given up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
}

impl ActionItem {
    pub fn reference(&self) -> ActionItemRef {
        ActionItemRef {
            incident: self.incident,
            number: self.number,
        }
    }

    /// Still owed and past its deadline.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status.is_pending() && now > self.due_at
    }
}

/// A new action item. Without `due_at`, its category's deadline; without `status`,
/// open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActionItem {
    pub title: String,
    pub owner: Handle,
    pub category: Category,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ActionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Answers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// A change to an action item: each field given is set. `answers: null` unlinks it;
/// an empty `ticket` removes the link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionItemPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Handle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ActionStatus>,
    #[serde(
        default,
        deserialize_with = "given",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Answers>)]
    pub answers: Option<Option<Answers>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// A field that is present, even as `null`: `Some(None)`.
fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The deadline an item of `category` gets when none is given: when the incident
/// resolved (or now, while it is open) for an immediate fix; the policy's short or long
/// term after `now` for the others.
pub fn default_due(
    category: Category,
    incident: &Incident,
    rules: &ReviewRules,
    now: Timestamp,
) -> Timestamp {
    let after = |c: crate::policy::Cadence| now.checked_add(c.0).unwrap_or(now);
    match category {
        Category::Immediate => incident.resolved_at.unwrap_or(now),
        Category::ShortTerm => after(rules.short_term),
        Category::LongTerm => after(rules.long_term),
    }
}

/// The runbook's lists, computed from the items' statuses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionLists {
    pub completed: Vec<ActionItem>,
    pub in_progress: Vec<ActionItem>,
    pub planned: Vec<ActionItem>,
    /// Decided against (`wont_do`).
    pub dropped: Vec<ActionItem>,
}

impl ActionLists {
    pub fn of(items: &[ActionItem]) -> ActionLists {
        let mut lists = ActionLists::default();
        for item in items {
            let list = match item.status {
                ActionStatus::Done => &mut lists.completed,
                ActionStatus::InProgress => &mut lists.in_progress,
                ActionStatus::Open => &mut lists.planned,
                ActionStatus::WontDo => &mut lists.dropped,
            };
            list.push(item.clone());
        }
        for list in [
            &mut lists.completed,
            &mut lists.in_progress,
            &mut lists.planned,
            &mut lists.dropped,
        ] {
            list.sort_by_key(|i| (i.due_at, i.number));
        }
        lists
    }
}

/// An action item in a list across incidents, with what the list shows of its
/// incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListedAction {
    #[serde(flatten)]
    pub item: ActionItem,
    /// `42-3`.
    pub reference: String,
    pub incident_title: String,
    /// Still owed and past its deadline.
    pub overdue: bool,
}

impl ListedAction {
    pub fn new(item: ActionItem, incident_title: String, now: Timestamp) -> ListedAction {
        ListedAction {
            reference: item.reference().to_string(),
            overdue: item.is_overdue(now),
            item,
            incident_title,
        }
    }
}
