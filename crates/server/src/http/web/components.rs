//! `/components`: the public status page's components in page order with their status
//! now, and (admins) the form that creates a component or group; `/components/{id}`:
//! one component, its settings, its status by hand and its deletion; and what the
//! incident page's form offers (its answer is `incident_components`). Every form calls
//! `app::components`; a refusal shows the page again with the reason next to the field.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{
    page_order, Component, ComponentStatus, ComponentUpdate, NewComponent,
};
use klaxon_domain::ComponentId;

use crate::app::components;
use crate::app::error::AppError;
use crate::app::sessions::WebSession;
use crate::http::web::form::Fields;
use crate::http::web::page::{error_page, optional, render, Layout};
use crate::http::web::refusal::{Forms, Outcome, Refused};
use crate::http::web::session::{NoFields, Posted, Web};
use crate::infra::state::AppState;

/// A component's fields as a form holds them (and shows them again if refused).
#[derive(Debug, Default, Clone)]
pub struct ComponentForm {
    pub name: String,
    pub description: String,
    pub is_group: bool,
    /// The group's id, or "" for none.
    pub group: String,
    pub position: String,
    pub services: Vec<String>,
    pub only_show_if_degraded: bool,
    pub showcase: bool,
    pub start_date: String,
}

impl ComponentForm {
    fn blank() -> ComponentForm {
        ComponentForm {
            showcase: true,
            ..ComponentForm::default()
        }
    }

    fn of(c: &Component) -> ComponentForm {
        ComponentForm {
            name: c.name.clone(),
            description: c.description.clone().unwrap_or_default(),
            is_group: c.group,
            group: c.group_id.map(|g| g.to_string()).unwrap_or_default(),
            position: c.position.to_string(),
            services: c.services.iter().map(ToString::to_string).collect(),
            only_show_if_degraded: c.only_show_if_degraded,
            showcase: c.showcase,
            start_date: c.start_date.map(|d| d.to_string()).unwrap_or_default(),
        }
    }

    fn posted(f: &Fields) -> ComponentForm {
        ComponentForm {
            name: f.get("name").to_owned(),
            description: f.get("description").to_owned(),
            is_group: f.has("is_group"),
            group: f.get("group").to_owned(),
            position: f.get("position").to_owned(),
            services: f.all("services").map(str::to_owned).collect(),
            only_show_if_degraded: f.has("only_show_if_degraded"),
            showcase: f.has("showcase"),
            start_date: f.get("start_date").to_owned(),
        }
    }

    fn group_id(&self) -> Result<Option<ComponentId>, AppError> {
        match optional(&self.group) {
            None => Ok(None),
            Some(g) => g
                .parse()
                .map(|id| Some(ComponentId(id)))
                .map_err(|_| AppError::invalid("group_id", "choose a group from the list")),
        }
    }

    fn position(&self) -> Result<Option<i64>, AppError> {
        match optional(&self.position) {
            None => Ok(None),
            Some(p) => p
                .parse()
                .map(Some)
                .map_err(|_| AppError::invalid("position", format!("'{p}' is not a whole number"))),
        }
    }

    fn start_date(&self) -> Result<Option<jiff::civil::Date>, AppError> {
        match optional(&self.start_date) {
            None => Ok(None),
            Some(d) => d.parse().map(Some).map_err(|_| {
                AppError::invalid("start_date", format!("'{d}' is not a date (YYYY-MM-DD)"))
            }),
        }
    }

    fn services(&self) -> Result<Vec<ServiceName>, AppError> {
        self.services
            .iter()
            .map(|s| {
                ServiceName::parse(s).map_err(|e| AppError::invalid("services", e.to_string()))
            })
            .collect()
    }

    fn new_component(&self) -> Result<NewComponent, AppError> {
        Ok(NewComponent {
            name: self.name.clone(),
            description: optional(&self.description),
            group: self.is_group,
            group_id: self.group_id()?,
            position: self.position()?,
            services: self.services()?,
            only_show_if_degraded: self.only_show_if_degraded,
            showcase: Some(self.showcase),
            start_date: self.start_date()?,
        })
    }

    fn update(&self) -> Result<ComponentUpdate, AppError> {
        Ok(ComponentUpdate {
            name: Some(self.name.clone()),
            description: Some(optional(&self.description)),
            group_id: Some(self.group_id()?),
            position: self.position()?,
            services: (!self.is_group).then(|| self.services()).transpose()?,
            only_show_if_degraded: Some(self.only_show_if_degraded),
            showcase: Some(self.showcase),
            start_date: Some(self.start_date()?),
            status: None,
        })
    }
}

/// A component as the list shows it.
pub struct Row {
    id: i64,
    name: String,
    in_group: bool,
    group: bool,
    status: &'static str,
    label: &'static str,
    services: String,
}

fn rows(all: &[Component]) -> Vec<Row> {
    all.iter()
        .map(|c| Row {
            id: c.id.0,
            name: c.name.clone(),
            in_group: c.group_id.is_some(),
            group: c.group,
            status: c.status.as_str(),
            label: c.status.label(),
            services: c
                .services
                .iter()
                .map(ServiceName::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

/// What the forms choose from: the groups and the services.
struct Choices {
    groups: Vec<(String, String)>,
    services: Vec<String>,
}

async fn choices(
    state: &AppState,
    all: &[Component],
    except: Option<ComponentId>,
) -> Result<Choices, AppError> {
    Ok(Choices {
        groups: all
            .iter()
            .filter(|c| c.group && Some(c.id) != except)
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect(),
        services: state
            .store
            .services()
            .await?
            .into_iter()
            .map(|s| s.name.to_string())
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "components.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    admin: bool,
    form: ComponentForm,
    choices: Choices,
    refused: Option<Refused>,
}

impl Forms for ListPage {
    fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }
}

/// `GET /components`.
pub async fn list(State(state): State<AppState>, Web(session): Web) -> Response {
    list_page(&state, &session, ComponentForm::blank(), None).await
}

async fn list_page(
    state: &AppState,
    session: &WebSession,
    form: ComponentForm,
    refused: Option<Refused>,
) -> Response {
    let built = async {
        let all = components::list(state, &session.caller).await?;
        let choices = choices(state, &all, None).await?;
        Ok::<_, AppError>((rows(&all), choices))
    };
    match built.await {
        Ok((rows, choices)) => {
            let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
            let page = ListPage {
                layout: Layout::new(Some(session), "Components", "components"),
                rows,
                admin: session.caller.is_admin(),
                form,
                choices,
                refused,
            };
            render(status, &page)
        }
        Err(e) => error_page(Some(session), &e),
    }
}

/// `POST /components`: creates a component or group.
pub async fn create(
    State(state): State<AppState>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    let form = ComponentForm::posted(&Fields(fields));
    let done = match form.new_component() {
        Ok(new) => components::create(&state, &session.caller, new).await,
        Err(e) => Err(e),
    };
    let to = match &done {
        Ok(c) => format!("/components/{}", c.id),
        Err(_) => String::new(),
    };
    Outcome::of(&session, "create", to, done)
        .answer(|r| list_page(&state, &session, form, Some(r)))
        .await
}

#[derive(Template)]
#[template(path = "component.html")]
struct ComponentPage {
    layout: Layout,
    c: Component,
    group_name: Option<String>,
    children: Vec<Row>,
    admin: bool,
    form: ComponentForm,
    choices: Choices,
    statuses: Vec<(&'static str, &'static str)>,
    refused: Option<Refused>,
}

impl Forms for ComponentPage {
    fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }
}

fn id_of(text: &str) -> Result<ComponentId, AppError> {
    text.parse()
        .map(ComponentId)
        .map_err(|_| AppError::not_found(format!("there is no component '{text}'")))
}

/// `GET /components/{id}`.
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
    id: ComponentId,
    form: Option<ComponentForm>,
    refused: Option<Refused>,
) -> Response {
    let built = async {
        let all = components::list(state, &session.caller).await?;
        let c = all
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .ok_or_else(|| AppError::not_found(format!("there is no component {id}")))?;
        let children: Vec<Component> = all
            .iter()
            .filter(|k| k.group_id == Some(id))
            .cloned()
            .collect();
        let choices = choices(state, &all, Some(id)).await?;
        let group_name = c
            .group_id
            .and_then(|g| all.iter().find(|k| k.id == g))
            .map(|g| g.name.clone());
        Ok::<_, AppError>((c, group_name, rows(&children), choices))
    };
    match built.await {
        Ok((c, group_name, children, choices)) => {
            let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
            let page = ComponentPage {
                layout: Layout::new(Some(session), c.name.clone(), "components"),
                form: form.unwrap_or_else(|| ComponentForm::of(&c)),
                group_name,
                children,
                admin: session.caller.is_admin(),
                choices,
                statuses: ComponentStatus::ALL
                    .iter()
                    .map(|s| (s.as_str(), s.label()))
                    .collect(),
                refused,
                c,
            };
            render(status, &page)
        }
        Err(e) => error_page(Some(session), &e),
    }
}

/// `POST /components/{id}`: saves the settings.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    let id = match id_of(&id) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&session), &e),
    };
    let form = ComponentForm::posted(&Fields(fields));
    let done = match form.update() {
        Ok(update) => components::update(&state, &session.caller, id, update).await,
        Err(e) => Err(e),
    };
    Outcome::of(&session, "settings", format!("/components/{id}"), done)
        .answer(|r| page(&state, &session, id, Some(form), Some(r)))
        .await
}

/// `POST /components/{id}/status`: sets the status by hand.
pub async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    let id = match id_of(&id) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&session), &e),
    };
    let fields = Fields(fields);
    let done = match ComponentStatus::parse(fields.get("status")) {
        Ok(status) => {
            let update = ComponentUpdate {
                status: Some(status),
                ..ComponentUpdate::default()
            };
            components::update(&state, &session.caller, id, update).await
        }
        Err(e) => Err(e.into()),
    };
    Outcome::of(&session, "status", format!("/components/{id}"), done)
        .answer(|r| page(&state, &session, id, None, Some(r)))
        .await
}

/// `POST /components/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let id = match id_of(&id) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&session), &e),
    };
    let done = components::delete(&state, &session.caller, id).await;
    Outcome::of(&session, "delete", "/components", done)
        .answer(|r| page(&state, &session, id, None, Some(r)))
        .await
}

/// A component as the incident page's form offers it: its name (with its group's) and
/// the status the incident gives it now (`""`: not affected).
pub struct Offered {
    pub id: i64,
    pub name: String,
    pub selected: &'static str,
}

/// The components an incident's form offers, in page order, with what `named` gives
/// them.
pub fn offered(
    all: &[Component],
    named: &[klaxon_domain::status::AffectedComponent],
) -> Vec<Offered> {
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
                id: c.id.0,
                name: format!("{group}{}", c.name),
                selected: named
                    .iter()
                    .find(|n| n.component == c.id)
                    .map_or("", |n| n.status.as_str()),
            }
        })
        .collect()
}
