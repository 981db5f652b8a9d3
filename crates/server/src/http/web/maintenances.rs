//! `/maintenances`: scheduled maintenance on the public status page, latest window
//! first, and (admins) the form that schedules one; `/maintenances/{id}`: one
//! maintenance with its updates, the form that changes it (name, components, window,
//! automatic steps) and the one that posts an update (start, verify, complete, cancel,
//! or words alone). Every form calls `app::maintenance`; a refusal shows the page again
//! with the reason next to the field.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use klaxon_domain::status::{
    page_order, Component, MaintenanceChange, MaintenancePost, MaintenanceStatus,
    NewScheduledMaintenance, ScheduledMaintenance,
};
use klaxon_domain::{ComponentId, ScheduledMaintenanceId};

use crate::app::error::AppError;
use crate::app::sessions::WebSession;
use crate::app::{components, maintenance};
use crate::http::web::form::Fields;
use crate::http::web::page::{error_page, optional, render, Layout};
use crate::http::web::refusal::{Forms, Outcome, Refused};
use crate::http::web::session::{Posted, Web};
use crate::infra::state::AppState;

/// A maintenance's fields as a form holds them (and shows them again if refused).
#[derive(Debug, Default, Clone)]
pub struct MaintenanceForm {
    pub name: String,
    /// Component ids, as text.
    pub components: Vec<String>,
    /// `YYYY-MM-DDTHH:MM`, UTC.
    pub scheduled_for: String,
    pub scheduled_until: String,
    pub body: String,
    pub auto_start: bool,
    pub auto_complete: bool,
    pub mute_services: bool,
}

/// A time as a `datetime-local` field shows it, in UTC.
fn local(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M").to_string()
}

/// A time from a form: `YYYY-MM-DDTHH:MM` (a `datetime-local` field, read as UTC) or
/// RFC 3339.
fn time(field: &str, text: &str) -> Result<Timestamp, AppError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(AppError::invalid(field, "give a date and time (UTC)"));
    }
    t.parse::<Timestamp>()
        .or_else(|_| {
            t.parse::<jiff::civil::DateTime>()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
                .map(|z| z.timestamp())
        })
        .map_err(|_| {
            AppError::invalid(
                field,
                format!("'{t}' is not a date and time; write it as 2026-11-28T02:00 (UTC)"),
            )
        })
}

impl MaintenanceForm {
    fn blank() -> MaintenanceForm {
        MaintenanceForm {
            auto_start: true,
            auto_complete: true,
            ..MaintenanceForm::default()
        }
    }

    fn of(m: &ScheduledMaintenance) -> MaintenanceForm {
        MaintenanceForm {
            name: m.name.clone(),
            components: m.components.iter().map(ToString::to_string).collect(),
            scheduled_for: local(m.scheduled_for),
            scheduled_until: local(m.scheduled_until),
            body: String::new(),
            auto_start: m.auto_start,
            auto_complete: m.auto_complete,
            mute_services: m.mute_services,
        }
    }

    fn posted(f: &Fields) -> MaintenanceForm {
        MaintenanceForm {
            name: f.get("name").to_owned(),
            components: f.all("components").map(str::to_owned).collect(),
            scheduled_for: f.get("scheduled_for").to_owned(),
            scheduled_until: f.get("scheduled_until").to_owned(),
            body: f.get("body").to_owned(),
            auto_start: f.has("auto_start"),
            auto_complete: f.has("auto_complete"),
            mute_services: f.has("mute_services"),
        }
    }

    fn component_ids(&self) -> Result<Vec<ComponentId>, AppError> {
        self.components
            .iter()
            .map(|c| {
                c.parse()
                    .map(ComponentId)
                    .map_err(|_| AppError::invalid("components", "choose components from the list"))
            })
            .collect()
    }

    fn new_maintenance(&self) -> Result<NewScheduledMaintenance, AppError> {
        Ok(NewScheduledMaintenance {
            name: self.name.clone(),
            components: self.component_ids()?,
            scheduled_for: time("scheduled_for", &self.scheduled_for)?,
            scheduled_until: time("scheduled_until", &self.scheduled_until)?,
            body: optional(&self.body),
            auto_start: Some(self.auto_start),
            auto_complete: Some(self.auto_complete),
            mute_services: self.mute_services,
        })
    }

    /// The change the form asks for: the window only if it was edited (a maintenance
    /// that has started keeps its start).
    fn change(&self, current: &ScheduledMaintenance) -> Result<MaintenanceChange, AppError> {
        let from = time("scheduled_for", &self.scheduled_for)?;
        let until = time("scheduled_until", &self.scheduled_until)?;
        let same = |a: Timestamp, b: Timestamp| local(a) == local(b);
        Ok(MaintenanceChange {
            name: Some(self.name.clone()),
            components: Some(self.component_ids()?),
            scheduled_for: (!same(from, current.scheduled_for)).then_some(from),
            scheduled_until: (!same(until, current.scheduled_until)).then_some(until),
            auto_start: Some(self.auto_start),
            auto_complete: Some(self.auto_complete),
            mute_services: Some(self.mute_services),
        })
    }
}

/// A component a form offers: its id and name (with its group's).
pub struct Offered {
    id: String,
    name: String,
}

fn offered(all: &[Component]) -> Vec<Offered> {
    page_order(all)
        .into_iter()
        .filter(|c| !c.group)
        .map(|c| {
            let group = c
                .group_id
                .and_then(|g| all.iter().find(|k| k.id == g))
                .map(|g| format!("{} · ", g.name))
                .unwrap_or_default();
            Offered {
                id: c.id.to_string(),
                name: format!("{group}{}", c.name),
            }
        })
        .collect()
}

fn component_names(m: &ScheduledMaintenance, all: &[Component]) -> String {
    m.components
        .iter()
        .map(|id| {
            all.iter()
                .find(|c| c.id == *id)
                .map_or_else(|| id.to_string(), |c| c.name.clone())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A maintenance as the list shows it.
pub struct Row {
    id: i64,
    name: String,
    status: &'static str,
    window: String,
    components: String,
}

fn window(m: &ScheduledMaintenance) -> String {
    format!(
        "{} – {} UTC",
        m.scheduled_for.strftime("%Y-%m-%d %H:%M"),
        m.scheduled_until.strftime("%Y-%m-%d %H:%M")
    )
}

#[derive(Template)]
#[template(path = "maintenances.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    admin: bool,
    form: MaintenanceForm,
    offered: Vec<Offered>,
    refused: Option<Refused>,
}

impl Forms for ListPage {
    fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }
}

/// `GET /maintenances`.
pub async fn list(State(state): State<AppState>, Web(session): Web) -> Response {
    list_page(&state, &session, MaintenanceForm::blank(), None).await
}

async fn list_page(
    state: &AppState,
    session: &WebSession,
    form: MaintenanceForm,
    refused: Option<Refused>,
) -> Response {
    let built = async {
        let all = maintenance::list(state, &session.caller).await?;
        let components = components::list(state, &session.caller).await?;
        Ok::<_, AppError>((all, components))
    };
    match built.await {
        Ok((all, components)) => {
            let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
            let page = ListPage {
                layout: Layout::new(Some(session), "Maintenance", "maintenances"),
                rows: all
                    .iter()
                    .map(|m| Row {
                        id: m.id.0,
                        name: m.name.clone(),
                        status: m.status.label(),
                        window: window(m),
                        components: component_names(m, &components),
                    })
                    .collect(),
                admin: session.caller.is_admin(),
                form,
                offered: offered(&components),
                refused,
            };
            render(status, &page)
        }
        Err(e) => error_page(Some(session), &e),
    }
}

/// `POST /maintenances`: schedules a maintenance.
pub async fn schedule(
    State(state): State<AppState>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    let form = MaintenanceForm::posted(&Fields(fields));
    let done = match form.new_maintenance() {
        Ok(new) => maintenance::schedule(&state, &session.caller, new).await,
        Err(e) => Err(e),
    };
    let to = match &done {
        Ok(m) => format!("/maintenances/{}", m.id),
        Err(_) => String::new(),
    };
    Outcome::of(&session, "schedule", to, done)
        .answer(|r| list_page(&state, &session, form, Some(r)))
        .await
}

/// An update as the page shows it.
pub struct UpdateLine {
    status: &'static str,
    body: String,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "maintenance.html")]
struct MaintenancePage {
    layout: Layout,
    m: ScheduledMaintenance,
    window: String,
    components: String,
    updates: Vec<UpdateLine>,
    admin: bool,
    form: MaintenanceForm,
    offered: Vec<Offered>,
    /// The statuses an update may move it to from where it is.
    next: Vec<(&'static str, &'static str)>,
    refused: Option<Refused>,
}

impl Forms for MaintenancePage {
    fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }
}

fn id_of(text: &str) -> Result<ScheduledMaintenanceId, AppError> {
    text.parse()
        .map(ScheduledMaintenanceId)
        .map_err(|_| AppError::not_found(format!("there is no scheduled maintenance '{text}'")))
}

/// The statuses a maintenance may move to from `status`, as (value, label).
fn next(status: MaintenanceStatus) -> Vec<(&'static str, &'static str)> {
    use MaintenanceStatus::*;
    let to: &[MaintenanceStatus] = match status {
        Scheduled => &[InProgress, Cancelled],
        InProgress => &[Verifying, Completed],
        Verifying => &[InProgress, Completed],
        Completed | Cancelled => &[],
    };
    to.iter().map(|s| (s.as_str(), s.label())).collect()
}

/// `GET /maintenances/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Path(id): Path<String>,
) -> Response {
    match id_of(&id) {
        Ok(id) => page(&state, &session, id, None, None).await,
        Err(e) => error_page(Some(&session), &e),
    }
}

async fn page(
    state: &AppState,
    session: &WebSession,
    id: ScheduledMaintenanceId,
    form: Option<MaintenanceForm>,
    refused: Option<Refused>,
) -> Response {
    let built = async {
        let m = maintenance::show(state, &session.caller, id).await?;
        let components = components::list(state, &session.caller).await?;
        Ok::<_, AppError>((m, components))
    };
    match built.await {
        Ok((m, all)) => {
            let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
            let page = MaintenancePage {
                layout: Layout::new(Some(session), m.name.clone(), "maintenances"),
                window: window(&m),
                components: component_names(&m, &all),
                updates: m
                    .updates
                    .iter()
                    .rev()
                    .map(|u| UpdateLine {
                        status: u.status.label(),
                        body: u.body.clone(),
                        by: u.by.clone(),
                        at: u.at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
                    })
                    .collect(),
                admin: session.caller.is_admin(),
                form: form.unwrap_or_else(|| MaintenanceForm::of(&m)),
                offered: offered(&all),
                next: next(m.status),
                refused,
                m,
            };
            render(status, &page)
        }
        Err(e) => error_page(Some(session), &e),
    }
}

/// `POST /maintenances/{id}`: saves the changes.
pub async fn change(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    let id = match id_of(&id) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&session), &e),
    };
    let form = MaintenanceForm::posted(&Fields(fields));
    let done = async {
        let current = maintenance::show(&state, &session.caller, id).await?;
        let change = form.change(&current)?;
        maintenance::change(&state, &session.caller, id, change).await
    }
    .await;
    Outcome::of(&session, "change", format!("/maintenances/{id}"), done)
        .answer(|r| page(&state, &session, id, Some(form), Some(r)))
        .await
}

/// `POST /maintenances/{id}/updates`: posts an update, moving the status if chosen.
pub async fn post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    let id = match id_of(&id) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&session), &e),
    };
    let fields = Fields(fields);
    let done = async {
        let status = match optional(fields.get("status")) {
            None => None,
            Some(s) => Some(MaintenanceStatus::parse(&s)?),
        };
        let post = MaintenancePost {
            status,
            body: optional(fields.get("body")),
        };
        maintenance::post(&state, &session.caller, id, post).await
    }
    .await;
    Outcome::of(&session, "update", format!("/maintenances/{id}"), done)
        .answer(|r| page(&state, &session, id, None, Some(r)))
        .await
}
