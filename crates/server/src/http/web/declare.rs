//! `/incidents/new`: declaring an incident. The triage decision tree as a wizard, one
//! question per step (the answers so far ride in the URL, so it works without
//! JavaScript), until an answer picks the severity; then its definition and response
//! target are shown above the runbook's initial assessment, which declares it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use klaxon_domain::incident::{Affected, Assessment, DeclareInput, Recurrence};
use klaxon_domain::{Handle, Severity};
use serde::Deserialize;

use crate::app::error::AppError;
use crate::app::incidents;
use crate::app::sessions::WebSession;
use crate::http::error::status_of;
use crate::http::web::page::{optional, render, Layout};
use crate::http::web::session::{Posted, Web};
use crate::infra::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct WizardQuery {
    /// The answers so far, one `y` or `n` per question.
    #[serde(default)]
    answers: String,
    /// A severity chosen directly, skipping the questions.
    #[serde(default)]
    severity: String,
}

/// The severity picked, as the page shows it.
struct Picked {
    level: u8,
    name: String,
    definition: String,
    response_target: String,
}

#[derive(Template)]
#[template(path = "declare.html")]
struct DeclarePage {
    layout: Layout,
    /// The question to answer next, with its number, while no severity is picked.
    question: Option<(usize, String)>,
    answers: String,
    /// What was answered so far: each question with yes or no.
    answered: Vec<(String, &'static str)>,
    picked: Option<Picked>,
    severities: Vec<(u8, String)>,
    form: DeclareForm,
    /// Why the declaration was refused: the field (if one) and the message.
    error: Option<(String, String)>,
}

impl DeclarePage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn parse_answers(text: &str) -> Vec<bool> {
    text.chars()
        .filter_map(|c| match c {
            'y' => Some(true),
            'n' => Some(false),
            _ => None,
        })
        .collect()
}

fn picked(state: &AppState, severity: Severity) -> Picked {
    let p = state.policy.severity(severity);
    Picked {
        level: severity.level(),
        name: format!("{} {}", p.level, p.name),
        definition: p.definition.clone(),
        response_target: p.response_target.to_string(),
    }
}

fn page(
    state: &AppState,
    session: &WebSession,
    answers: &str,
    direct: Option<Severity>,
    form: DeclareForm,
    error: Option<(String, String)>,
) -> DeclarePage {
    let given = parse_answers(answers);
    let questions = &state.policy.triage.questions;
    let answered = questions
        .iter()
        .zip(&given)
        .map(|(q, a)| (q.ask.clone(), if *a { "yes" } else { "no" }))
        .collect();
    let severity = direct.or_else(|| state.policy.triage(&given).ok());
    let question = match severity {
        Some(_) => None,
        None => questions
            .get(given.len())
            .map(|q| (given.len() + 1, q.ask.clone())),
    };
    DeclarePage {
        layout: Layout::new(Some(session), "Declare an incident", "declare"),
        question,
        answers: given.iter().map(|a| if *a { 'y' } else { 'n' }).collect(),
        answered,
        picked: severity.map(|s| picked(state, s)),
        severities: state
            .policy
            .severities
            .iter()
            .map(|s| (s.level.level(), format!("{} {}", s.level, s.name)))
            .collect(),
        form,
        error,
    }
}

/// `GET /incidents/new`.
pub async fn form(
    State(state): State<AppState>,
    Web(session): Web,
    Query(q): Query<WizardQuery>,
) -> Response {
    let direct = Severity::parse(&q.severity).ok();
    render(
        StatusCode::OK,
        &page(
            &state,
            &session,
            &q.answers,
            direct,
            DeclareForm::default(),
            None,
        ),
    )
}

/// The declaration form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct DeclareForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub answers: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub what_is_broken: String,
    #[serde(default)]
    pub affected: String,
    #[serde(default)]
    pub affected_estimate: String,
    #[serde(default)]
    pub recurrence: String,
    #[serde(default)]
    pub recent_changes: String,
    #[serde(default)]
    pub commander: String,
    #[serde(default)]
    pub customer_facing: Option<String>,
    #[serde(default)]
    pub drill: Option<String>,
    #[serde(default)]
    pub restricted: Option<String>,
}

impl DeclareForm {
    /// The declaration the form stands for: the severity chosen, or the triage answers.
    fn input(&self) -> Result<DeclareInput, AppError> {
        let (severity, triage) = match optional(&self.severity) {
            Some(s) => (
                Some(
                    Severity::parse(&s)
                        .map_err(|e| AppError::invalid("severity", e.to_string()))?,
                ),
                None,
            ),
            None => (None, Some(parse_answers(&self.answers))),
        };
        let affected = match self.affected.as_str() {
            "" => None,
            "all" => Some(Affected::All),
            "some" => Some(Affected::Some),
            "segment" => Some(Affected::Segment),
            _ => {
                return Err(AppError::invalid(
                    "affected",
                    "choose all, some or a segment",
                ))
            }
        };
        let recurrence = match self.recurrence.as_str() {
            "" => None,
            "new" => Some(Recurrence::New),
            "recurring" => Some(Recurrence::Recurring),
            _ => return Err(AppError::invalid("recurrence", "choose new or recurring")),
        };
        let commander = match optional(&self.commander) {
            Some(c) => {
                Some(Handle::parse(&c).map_err(|e| AppError::invalid("commander", e.to_string()))?)
            }
            None => None,
        };
        Ok(DeclareInput {
            title: self.title.clone(),
            severity,
            triage,
            service: optional(&self.service),
            summary: optional(&self.summary),
            assessment: Assessment {
                what_is_broken: optional(&self.what_is_broken),
                affected,
                affected_estimate: optional(&self.affected_estimate),
                recurrence,
                started_at: None,
                recent_changes: optional(&self.recent_changes),
            },
            customer_facing: self.customer_facing.is_some(),
            drill: self.drill.is_some(),
            restricted: self.restricted.is_some(),
            commander,
            ..Default::default()
        })
    }
}

/// `POST /incidents`: declares and goes to the new incident, or shows the form again
/// with the reason next to the field.
pub async fn declare(
    State(state): State<AppState>,
    Posted(session, form): Posted<DeclareForm>,
) -> Response {
    let result = match form.input() {
        Ok(input) => incidents::declare(&state, &session.caller, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(view) => Redirect::to(&format!("/incidents/{}", view.incident.number.0)).into_response(),
        Err(e) => {
            let status = status_of(e.kind);
            let error = Some(match e.errors.first() {
                Some(f) => (f.field.clone(), f.message.clone()),
                None => (String::new(), e.detail.clone()),
            });
            let direct = Severity::parse(&form.severity).ok();
            let answers = form.answers.clone();
            render(
                status,
                &page(&state, &session, &answers, direct, form, error),
            )
        }
    }
}
