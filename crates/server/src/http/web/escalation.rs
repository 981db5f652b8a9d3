//! `/escalation-policies`: every policy; a policy's steps with whom each pages now and
//! which services use it; the form that creates or edits one, step by step. Admins
//! change policies, as in the API; everyone signed in reads them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::{EscalationPolicy, EscalationStep, NewEscalationPolicy, Target};
use klaxon_domain::Handle;

use crate::app::error::{AppError, ErrorKind};
use crate::app::escalation;
use crate::app::sessions::WebSession;
use crate::http::error::status_of;
use crate::http::web::form::{Fields, Placed};
use crate::http::web::page::{error_page, render, Layout};
use crate::http::web::session::{NoFields, Posted, Web};
use crate::infra::state::AppState;

/// The most steps one form carries (the domain allows 20).
const MAX_STEPS: usize = 30;

fn path_of(name: &str) -> String {
    format!("/escalation-policies/{name}")
}

struct PolicyRow {
    name: String,
    description: String,
    steps: usize,
    services: String,
}

#[derive(Template)]
#[template(path = "escalation_policies.html")]
struct ListPage {
    layout: Layout,
    policies: Vec<PolicyRow>,
    admin: bool,
}

/// `GET /escalation-policies`.
pub async fn list(State(state): State<AppState>, Web(session): Web) -> Response {
    let rows = async {
        let mut rows = Vec::new();
        for p in state.store.policies().await? {
            rows.push(PolicyRow {
                services: escalation::used_by(&state, &p.name).await?.join(", "),
                name: p.name,
                description: p.description,
                steps: p.steps.len(),
            });
        }
        Ok::<_, AppError>(rows)
    };
    match rows.await {
        Ok(policies) => render(
            StatusCode::OK,
            &ListPage {
                layout: Layout::new(Some(&session), "Escalation policies", "escalation"),
                policies,
                admin: session.caller.is_admin(),
            },
        ),
        Err(e) => error_page(Some(&session), &e),
    }
}

/// One target of a step, and whom it reaches now.
struct TargetRow {
    text: String,
    link: Option<String>,
    /// For a schedule: who is on call on it now.
    now: Option<String>,
}

struct StepRow {
    targets: Vec<TargetRow>,
    delay: u32,
}

#[derive(Template)]
#[template(path = "escalation_policy.html")]
struct PolicyPage {
    layout: Layout,
    policy: EscalationPolicy,
    path: String,
    steps: Vec<StepRow>,
    services: Vec<String>,
    admin: bool,
}

/// `GET /escalation-policies/{name}`.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Path(name): Path<String>,
) -> Response {
    match policy_page(&state, &session, &name).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(Some(&session), &e),
    }
}

async fn policy_page(
    state: &AppState,
    session: &WebSession,
    name: &str,
) -> Result<PolicyPage, AppError> {
    let policy = state.store.policy(name).await?;
    let schedules = state.store.schedules().await?;
    let now = state.clock.now();
    let steps = policy
        .steps
        .iter()
        .map(|s| StepRow {
            delay: s.delay_minutes,
            targets: s
                .targets
                .iter()
                .map(|t| match t {
                    Target::User(h) => TargetRow {
                        text: h.to_string(),
                        link: Some(format!("/people/{h}")),
                        now: None,
                    },
                    Target::Schedule(n) => TargetRow {
                        text: format!("schedule {n}"),
                        link: Some(super::schedules::path_of(n)),
                        now: Some(
                            schedules
                                .iter()
                                .find(|s| s.name() == n)
                                .and_then(|s| s.on_call_at(now))
                                .map_or_else(|| "nobody".into(), |h| h.to_string()),
                        ),
                    },
                })
                .collect(),
        })
        .collect();
    Ok(PolicyPage {
        layout: Layout::new(Some(session), policy.name.clone(), "escalation"),
        path: path_of(&policy.name),
        services: escalation::used_by(state, name).await?,
        steps,
        policy,
        admin: session.caller.is_admin(),
    })
}

/// `POST /escalation-policies/{name}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    match escalation::delete(&state, &session.caller, &name).await {
        Ok(()) => Redirect::to("/escalation-policies").into_response(),
        Err(e) => error_page(Some(&session), &e),
    }
}

/// One step of the policy form, as typed.
#[derive(Debug, Default, Clone)]
struct StepForm {
    people: String,
    schedules: Vec<String>,
    delay: String,
}

/// The policy form, as typed.
#[derive(Debug, Default)]
struct PolicyForm {
    name: String,
    description: String,
    repeat: String,
    ack_timeout: String,
    steps: Vec<StepForm>,
}

impl PolicyForm {
    fn blank() -> PolicyForm {
        PolicyForm {
            repeat: "0".into(),
            steps: vec![StepForm {
                delay: "15".into(),
                ..StepForm::default()
            }],
            ..PolicyForm::default()
        }
    }

    fn of(p: &EscalationPolicy) -> PolicyForm {
        PolicyForm {
            name: p.name.clone(),
            description: p.description.clone(),
            repeat: p.repeat.to_string(),
            ack_timeout: p
                .ack_timeout_minutes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            steps: p
                .steps
                .iter()
                .map(|s| StepForm {
                    people: s
                        .targets
                        .iter()
                        .filter_map(|t| match t {
                            Target::User(h) => Some(h.as_str()),
                            Target::Schedule(_) => None,
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    schedules: s
                        .targets
                        .iter()
                        .filter_map(|t| match t {
                            Target::Schedule(n) => Some(n.clone()),
                            Target::User(_) => None,
                        })
                        .collect(),
                    delay: s.delay_minutes.to_string(),
                })
                .collect(),
        }
    }

    /// The form as posted: steps marked for removal left out, one more blank step if
    /// asked for.
    fn posted(f: &Fields) -> PolicyForm {
        let mut steps: Vec<StepForm> = (0..f.groups("steps", MAX_STEPS))
            .filter(|&i| f.of("steps", i, "remove").is_empty())
            .map(|i| StepForm {
                people: f.of("steps", i, "people").to_owned(),
                schedules: f
                    .all(&format!("steps-{i}-schedule"))
                    .map(str::to_owned)
                    .collect(),
                delay: f.of("steps", i, "delay").to_owned(),
            })
            .collect();
        if f.has("add_step") && steps.len() < MAX_STEPS {
            steps.push(StepForm {
                delay: "15".into(),
                ..StepForm::default()
            });
        }
        PolicyForm {
            name: f.get("name").to_owned(),
            description: f.get("description").to_owned(),
            repeat: f.get("repeat").to_owned(),
            ack_timeout: f.get("ack_timeout_minutes").to_owned(),
            steps,
        }
    }

    /// What the form asks for, or the first field that cannot be read, named as the
    /// domain names it.
    fn input(&self) -> Result<NewEscalationPolicy, AppError> {
        let number = |field: &str, text: &str, what: &str| {
            let text = text.trim();
            text.parse::<u32>().map_err(|_| {
                AppError::invalid(field, format!("'{text}' is not a whole number of {what}"))
            })
        };
        let steps = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut targets = s
                    .people
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        Handle::parse(p).map(Target::User).map_err(|e| {
                            AppError::invalid("steps.targets", format!("steps[{i}]: {e}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                targets.extend(s.schedules.iter().cloned().map(Target::Schedule));
                let delay = s.delay.trim();
                let delay_minutes = delay.parse().map_err(|_| {
                    AppError::invalid(
                        "steps.delay_minutes",
                        format!("steps[{i}]: '{delay}' is not a whole number of minutes"),
                    )
                })?;
                Ok(EscalationStep {
                    targets,
                    delay_minutes,
                })
            })
            .collect::<Result<_, AppError>>()?;
        let repeat = if self.repeat.trim().is_empty() {
            0
        } else {
            number("repeat", &self.repeat, "times")?
        };
        let ack_timeout_minutes = match self.ack_timeout.trim() {
            "" => None,
            t => Some(number("ack_timeout_minutes", t, "minutes")?),
        };
        Ok(NewEscalationPolicy {
            name: self.name.clone(),
            description: self.description.trim().to_owned(),
            steps,
            repeat,
            ack_timeout_minutes,
        })
    }
}

#[derive(Template)]
#[template(path = "escalation_form.html")]
struct FormPage {
    layout: Layout,
    action: String,
    editing: Option<String>,
    form: PolicyForm,
    /// Every schedule's name, to tick.
    schedules: Vec<String>,
    error: Placed,
}

fn placed(e: &AppError) -> Placed {
    Placed::new(
        e,
        "steps",
        &[
            "name",
            "description",
            "repeat",
            "ack_timeout_minutes",
            "steps",
        ],
    )
}

async fn form_page(
    state: &AppState,
    status: StatusCode,
    session: &WebSession,
    editing: Option<&str>,
    form: PolicyForm,
    error: Placed,
) -> Response {
    let schedules = match state.store.schedules().await {
        Ok(all) => all.iter().map(|s| s.name().to_owned()).collect(),
        Err(e) => return error_page(Some(session), &e.into()),
    };
    let title = match editing {
        Some(name) => format!("Edit {name}"),
        None => "New escalation policy".into(),
    };
    let page = FormPage {
        layout: Layout::new(Some(session), title, "escalation"),
        action: editing.map_or_else(|| "/escalation-policies".into(), path_of),
        editing: editing.map(str::to_owned),
        form,
        schedules,
        error,
    };
    render(status, &page)
}

/// `GET /escalation-policies/new` (admins).
pub async fn new_form(State(state): State<AppState>, Web(session): Web) -> Response {
    if let Err(e) = session.caller.require(Scope::Admin) {
        return error_page(Some(&session), &e);
    }
    let form = PolicyForm::blank();
    form_page(
        &state,
        StatusCode::OK,
        &session,
        None,
        form,
        Placed::default(),
    )
    .await
}

/// `GET /escalation-policies/{name}/edit` (admins).
pub async fn edit_form(
    State(state): State<AppState>,
    Web(session): Web,
    Path(name): Path<String>,
) -> Response {
    if let Err(e) = session.caller.require(Scope::Admin) {
        return error_page(Some(&session), &e);
    }
    match state.store.policy(&name).await {
        Ok(p) => {
            let form = PolicyForm::of(&p);
            form_page(
                &state,
                StatusCode::OK,
                &session,
                Some(&name),
                form,
                Placed::default(),
            )
            .await
        }
        Err(e) => error_page(Some(&session), &e.into()),
    }
}

/// `POST /escalation-policies`: creates a policy, or draws the form again with one more
/// step.
pub async fn create(
    State(state): State<AppState>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    save(&state, session, None, Fields(fields)).await
}

/// `POST /escalation-policies/{name}`: saves the policy, or draws the form again with
/// one more step.
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    save(&state, session, Some(name), Fields(fields)).await
}

async fn save(
    state: &AppState,
    session: WebSession,
    editing: Option<String>,
    fields: Fields,
) -> Response {
    if let Err(e) = session.caller.require(Scope::Admin) {
        return error_page(Some(&session), &e);
    }
    let form = PolicyForm::posted(&fields);
    if fields.has("add_step") {
        let editing = editing.as_deref();
        return form_page(
            state,
            StatusCode::OK,
            &session,
            editing,
            form,
            Placed::default(),
        )
        .await;
    }
    let saved = match form.input() {
        Ok(new) => match &editing {
            Some(name) => escalation::replace(state, &session.caller, name, new).await,
            None => escalation::create(state, &session.caller, new).await,
        },
        Err(e) => Err(e),
    };
    match saved {
        Ok(p) => Redirect::to(&path_of(&p.name)).into_response(),
        Err(e) if e.errors.is_empty() && e.kind == ErrorKind::NotFound => {
            error_page(Some(&session), &e)
        }
        Err(e) => {
            let status = status_of(e.kind);
            form_page(
                state,
                status,
                &session,
                editing.as_deref(),
                form,
                placed(&e),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_that_cannot_be_read_names_its_field_and_place() {
        let form = PolicyForm {
            name: "api".into(),
            steps: vec![
                StepForm {
                    people: "alice".into(),
                    delay: "15".into(),
                    ..StepForm::default()
                },
                StepForm {
                    people: "bob".into(),
                    delay: "soon".into(),
                    ..StepForm::default()
                },
            ],
            ..PolicyForm::default()
        };
        let p = placed(&form.input().unwrap_err());
        assert_eq!(
            p.in_group(&1, "delay_minutes"),
            Some("steps[1]: 'soon' is not a whole number of minutes")
        );
    }

    #[test]
    fn people_and_schedules_are_one_steps_targets() {
        let f = Fields(vec![
            ("name".into(), "api".into()),
            ("steps-0-people".into(), "alice, bob".into()),
            ("steps-0-schedule".into(), "primary".into()),
            ("steps-0-delay".into(), "10".into()),
            ("steps-1-people".into(), "carol".into()),
            ("steps-1-delay".into(), "10".into()),
            ("steps-1-remove".into(), "1".into()),
        ]);
        let new = PolicyForm::posted(&f).input().unwrap();
        assert_eq!(new.steps.len(), 1);
        assert_eq!(new.steps[0].targets.len(), 3);
        assert_eq!(new.steps[0].targets[2], Target::Schedule("primary".into()));
        assert_eq!(new.repeat, 0);
        assert_eq!(new.ack_timeout_minutes, None);
    }
}
