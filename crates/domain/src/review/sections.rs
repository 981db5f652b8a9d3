//! The report's sections, as the runbook's template has them. Free text is Markdown,
//! kept as written; it is escaped wherever it is shown as HTML.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The most a free-text field of a review may hold, in characters.
pub const MAX_SECTION: usize = 20_000;
/// The most a short field (a name, a unit, a source) may hold, in characters.
pub const MAX_SHORT: usize = 200;
/// The most entries a list of a section may hold (figures, factors, attendees, agenda).
pub const MAX_ENTRIES: usize = 50;

/// What happened, when, who was affected and how it was detected. When it happened is
/// the incident's own times; the detection is filled from the first alert or the
/// declaration when the review opens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    #[serde(default)]
    pub what_happened: String,
    #[serde(default)]
    pub who_affected: String,
    #[serde(default)]
    pub detection: String,
}

/// One measured effect: a number with its unit and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactFigure {
    /// What was measured: "Users affected", "Revenue impact", "API requests failed".
    pub name: String,
    pub value: f64,
    /// "users", "USD", "requests".
    pub unit: String,
    /// Where the number came from: a dashboard, a query, an estimate.
    pub source: String,
}

/// The impact assessment; its duration is computed from the incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Impact {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub figures: Vec<ImpactFigure>,
}

/// A contributing factor; action items may answer it by its `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Factor {
    pub id: u32,
    pub text: String,
}

/// The root cause analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RootCause {
    pub technical_cause: String,
    pub factors: Vec<Factor>,
    pub why_not_caught: String,
}

/// A contributing factor as given: with the `id` of one it keeps, or none for a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactorInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    pub text: String,
}

/// The root cause analysis as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RootCauseInput {
    #[serde(default)]
    pub technical_cause: String,
    #[serde(default)]
    pub factors: Vec<FactorInput>,
    #[serde(default)]
    pub why_not_caught: String,
}

/// What went well and what could improve.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lessons {
    #[serde(default)]
    pub went_well: String,
    #[serde(default)]
    pub could_improve: String,
}

/// One point of the meeting's agenda, with its time box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    pub topic: String,
    pub minutes: u32,
    #[serde(default)]
    pub notes: String,
}

/// The blameless post-mortem meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    #[serde(default)]
    pub attendees: Vec<String>,
    #[serde(default)]
    pub agenda: Vec<AgendaItem>,
}

impl Default for Meeting {
    /// The runbook's agenda, with its time boxes.
    fn default() -> Self {
        let item = |topic: &str, minutes| AgendaItem {
            topic: topic.to_owned(),
            minutes,
            notes: String::new(),
        };
        Meeting {
            at: None,
            attendees: vec![],
            agenda: vec![
                item("Review incident timeline", 10),
                item("Discuss what went well", 10),
                item("Discuss what could improve", 20),
                item("Review action items", 10),
                item("Assign owners and deadlines", 10),
            ],
        }
    }
}

/// A star or context the team put on timeline event `seq`; the event itself is kept
/// as it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineNote {
    pub seq: i64,
    pub starred: bool,
    pub context: String,
}

/// `value` trimmed, at most `max` characters.
pub(super) fn text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// `value` trimmed, not empty, at most `max` characters.
pub(super) fn required(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, DomainError> {
    let v = text(field, value, max)?;
    if v.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    Ok(v)
}

fn at_most<T>(field: &'static str, list: &[T]) -> Result<(), DomainError> {
    if list.len() > MAX_ENTRIES {
        return Err(DomainError::invalid(
            field,
            format!("holds at most {MAX_ENTRIES} entries"),
        ));
    }
    Ok(())
}

impl Summary {
    pub(super) fn checked(&self) -> Result<Summary, DomainError> {
        Ok(Summary {
            what_happened: text("summary.what_happened", &self.what_happened, MAX_SECTION)?,
            who_affected: text("summary.who_affected", &self.who_affected, MAX_SECTION)?,
            detection: text("summary.detection", &self.detection, MAX_SECTION)?,
        })
    }
}

impl Impact {
    pub(super) fn checked(&self) -> Result<Impact, DomainError> {
        at_most("impact.figures", &self.figures)?;
        let figures = self
            .figures
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let name = required("impact.figures.name", &f.name, MAX_SHORT)
                    .map_err(|e| in_entry(e, "figures", i))?;
                if !f.value.is_finite() {
                    return Err(DomainError::invalid(
                        "impact.figures.value",
                        format!("figures[{i}]: the value must be a number"),
                    ));
                }
                Ok(ImpactFigure {
                    name,
                    value: f.value,
                    unit: required("impact.figures.unit", &f.unit, MAX_SHORT)
                        .map_err(|e| in_entry(e, "figures", i))?,
                    source: required("impact.figures.source", &f.source, MAX_SHORT)
                        .map_err(|e| in_entry(e, "figures", i))?,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Impact {
            description: text("impact.description", &self.description, MAX_SECTION)?,
            figures,
        })
    }
}

impl Lessons {
    pub(super) fn checked(&self) -> Result<Lessons, DomainError> {
        Ok(Lessons {
            went_well: text("lessons.went_well", &self.went_well, MAX_SECTION)?,
            could_improve: text("lessons.could_improve", &self.could_improve, MAX_SECTION)?,
        })
    }
}

impl Meeting {
    pub(super) fn checked(&self) -> Result<Meeting, DomainError> {
        at_most("meeting.attendees", &self.attendees)?;
        at_most("meeting.agenda", &self.agenda)?;
        let attendees = self
            .attendees
            .iter()
            .map(|a| text("meeting.attendees", a, MAX_SHORT))
            .filter(|a| !matches!(a, Ok(a) if a.is_empty()))
            .collect::<Result<_, _>>()?;
        let agenda = self
            .agenda
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if a.minutes == 0 || a.minutes > 240 {
                    return Err(DomainError::invalid(
                        "meeting.agenda.minutes",
                        format!("agenda[{i}]: a time box is 1 to 240 minutes"),
                    ));
                }
                Ok(AgendaItem {
                    topic: required("meeting.agenda.topic", &a.topic, MAX_SHORT)
                        .map_err(|e| in_entry(e, "agenda", i))?,
                    minutes: a.minutes,
                    notes: text("meeting.agenda.notes", &a.notes, MAX_SECTION)?,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Meeting {
            at: self.at.map(crate::time::to_millis_precision),
            attendees,
            agenda,
        })
    }
}

impl RootCauseInput {
    /// The analysis with ids for new factors (after the highest in `before`); a factor
    /// given an id it does not have is refused.
    pub(super) fn checked(&self, before: &RootCause) -> Result<RootCause, DomainError> {
        at_most("root_cause.factors", &self.factors)?;
        let mut next = before.factors.iter().map(|f| f.id).max().unwrap_or(0) + 1;
        let mut factors: Vec<Factor> = vec![];
        for (i, f) in self.factors.iter().enumerate() {
            let text = required("root_cause.factors", &f.text, MAX_SECTION)
                .map_err(|e| in_entry(e, "factors", i))?;
            let id = match f.id {
                Some(id) if before.factors.iter().any(|b| b.id == id) => id,
                Some(id) => {
                    return Err(DomainError::invalid(
                        "root_cause.factors",
                        format!("factors[{i}]: there is no contributing factor {id}"),
                    ))
                }
                None => {
                    next += 1;
                    next - 1
                }
            };
            if factors.iter().any(|f| f.id == id) {
                return Err(DomainError::invalid(
                    "root_cause.factors",
                    format!("factors[{i}]: factor {id} is given twice"),
                ));
            }
            factors.push(Factor { id, text });
        }
        Ok(RootCause {
            technical_cause: text(
                "root_cause.technical_cause",
                &self.technical_cause,
                MAX_SECTION,
            )?,
            factors,
            why_not_caught: text(
                "root_cause.why_not_caught",
                &self.why_not_caught,
                MAX_SECTION,
            )?,
        })
    }
}

/// `e` with the entry it is about in front of its message: `figures[1]: …`.
fn in_entry(e: DomainError, list: &str, i: usize) -> DomainError {
    match e {
        DomainError::Invalid { field, message } => DomainError::Invalid {
            field,
            message: format!("{list}[{i}]: {message}"),
        },
        other => other,
    }
}
