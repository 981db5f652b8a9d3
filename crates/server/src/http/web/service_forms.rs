//! The forms of the service pages: create a service, change its settings or delete it,
//! add, rotate and revoke integration keys (admins), open and end maintenance windows
//! (responders), add heartbeat monitors (admins). Each reads its fields into the
//! application's types and calls `app::services`; a refusal shows the page again with
//! the reason next to the field, and nothing is changed.

use axum::extract::{Path, State};
use axum::response::Response;
use klaxon_domain::service::{
    AlertRules, AlertmanagerDedup, Grouping, NewHeartbeat, NewMaintenance, NewService, Service,
    ServiceName, ServiceUpdate,
};
use klaxon_domain::time::parse_utc_instant;
use klaxon_domain::{KeyId, MaintenanceId};

use crate::app::error::AppError;
use crate::app::services;
use crate::app::sessions::WebSession;
use crate::http::web::page::{error_page, optional, Layout};
use crate::http::web::refusal::{Outcome, Refused};
use crate::http::web::services::{
    key_items, list_page, name_of, page, secret_once, Entered, HeartbeatForm, NewServiceForm,
    SecretOnce, SettingsForm, WindowForm,
};
use crate::http::web::session::{NoFields, Posted};
use crate::infra::state::AppState;

impl NewServiceForm {
    fn service(&self) -> Result<NewService, AppError> {
        Ok(NewService {
            name: ServiceName::parse(&self.name)?,
            description: self.description.clone(),
            owner_team: optional(&self.owner_team),
            runbook_links: vec![],
            rules: AlertRules {
                escalation_policy: optional(&self.escalation_policy),
                ..AlertRules::default()
            },
        })
    }
}

impl SettingsForm {
    /// The update this form makes to `current`: what it shows, replaced; the rules it
    /// does not show (the severity map), kept.
    fn update(&self, current: &Service) -> Result<ServiceUpdate, AppError> {
        Ok(ServiceUpdate {
            description: Some(self.description.clone()),
            owner_team: Some(self.owner_team.clone()),
            runbook_links: Some(self.runbook_links.lines().filter_map(optional).collect()),
            rules: Some(AlertRules {
                grouping: Grouping::parse(self.grouping.trim())?,
                auto_resolve: !self.auto_resolve.is_empty(),
                alertmanager_dedup: AlertmanagerDedup::parse(&self.alertmanager_dedup)?,
                escalation_policy: optional(&self.escalation_policy),
                severities: current.rules.severities.clone(),
            }),
        })
    }
}

impl WindowForm {
    fn window(&self) -> Result<NewMaintenance, AppError> {
        let starts_at = match optional(&self.starts_at) {
            Some(text) => Some(parse_utc_instant("starts_at", &text)?),
            None => None,
        };
        let Some(ends) = optional(&self.ends_at) else {
            return Err(AppError::invalid("ends_at", "say when the window ends"));
        };
        Ok(NewMaintenance {
            starts_at,
            ends_at: parse_utc_instant("ends_at", &ends)?,
            reason: self.reason.clone(),
        })
    }
}

fn id_of<T>(text: &str, make: fn(i64) -> T, what: &str) -> Result<T, AppError> {
    text.parse()
        .map(make)
        .map_err(|_| AppError::not_found(format!("there is no {what} '{text}'")))
}

/// The service's page again, or on to it: after a form that changes it.
async fn answer(
    state: &AppState,
    session: &WebSession,
    name: &ServiceName,
    outcome: Outcome,
    entered: Entered,
) -> Response {
    outcome
        .answer(|refused: Refused| page(state, session, name, entered, Some(refused)))
        .await
}

/// `POST /services`: creates a service and shows its first key once.
pub async fn create(
    State(state): State<AppState>,
    Posted(session, form): Posted<NewServiceForm>,
) -> Response {
    let caller = &session.caller;
    let done = match services::may_manage(caller).and_then(|()| form.service()) {
        Ok(new) => services::create(&state, caller, new).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(service) => {
            let key = service
                .integration_keys
                .as_ref()
                .and_then(|keys| keys.first());
            let page = SecretOnce {
                layout: Layout::new(Some(&session), format!("{} created", service.name), "services"),
                heading: format!("Service {} created", service.name),
                intro: "Its first integration key. Copy it now: this page is the only one that shows it."
                    .into(),
                items: key.map(|k| key_items(&state, k)).unwrap_or_default(),
                back: format!("/services/{}", service.name),
            };
            secret_once(&page)
        }
        Err(e) => match Outcome::refusal(&session, "create", e) {
            Outcome::Refused(refused) => list_page(&state, &session, form, Some(refused)).await,
            Outcome::Failed(response) => response,
            Outcome::Done(_) => unreachable!("a refusal is not done"),
        },
    }
}

/// `POST /services/{name}/settings`.
pub async fn settings(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, form): Posted<SettingsForm>,
) -> Response {
    let name = match name_of(&name) {
        Ok(name) => name,
        Err(e) => return error_page(Some(&session), &e),
    };
    let done = services::update(&state, &session.caller, &name, |current| {
        form.update(current)
    })
    .await;
    let outcome = Outcome::of(&session, "settings", format!("/services/{name}"), done);
    let entered = Entered {
        settings: Some(form),
        ..Entered::default()
    };
    answer(&state, &session, &name, outcome, entered).await
}

/// `POST /services/{name}/delete`: deletes the service and its keys.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let name = match name_of(&name) {
        Ok(name) => name,
        Err(e) => return error_page(Some(&session), &e),
    };
    let done = services::delete(&state, &session.caller, &name).await;
    let outcome = Outcome::of(&session, "delete", "/services", done);
    answer(&state, &session, &name, outcome, Entered::default()).await
}

/// `POST /services/{name}/keys`: adds a key and shows it once.
pub async fn add_key(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let done = match name_of(&name) {
        Ok(name) => services::add_key(&state, &session.caller, &name).await,
        Err(e) => Err(e),
    };
    key_answer(&state, &session, &name, done, "added").await
}

/// `POST /services/{name}/keys/{id}/rotate`: replaces a key and shows the new one once.
pub async fn rotate_key(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let done = match (name_of(&name), id_of(&id, KeyId, "integration key")) {
        (Ok(name), Ok(id)) => services::rotate_key(&state, &session.caller, &name, id).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    key_answer(&state, &session, &name, done, "rotated").await
}

async fn key_answer(
    state: &AppState,
    session: &WebSession,
    name: &str,
    done: Result<klaxon_domain::service::IntegrationKey, AppError>,
    how: &str,
) -> Response {
    match done {
        Ok(key) => {
            let page = SecretOnce {
                layout: Layout::new(Some(session), format!("{name}: new key"), "services"),
                heading: format!("Integration key {} of {name} {how}", key.id),
                intro: "Copy it now: this page is the only one that shows it.".into(),
                items: key_items(state, &key),
                back: format!("/services/{name}"),
            };
            secret_once(&page)
        }
        Err(e) => match (Outcome::refusal(session, "keys", e), name_of(name)) {
            (Outcome::Refused(refused), Ok(name)) => {
                page(state, session, &name, Entered::default(), Some(refused)).await
            }
            (Outcome::Failed(response), _) => response,
            (_, Err(e)) => error_page(Some(session), &e),
            (Outcome::Done(_), _) => unreachable!("a refusal is not done"),
        },
    }
}

/// `POST /services/{name}/keys/{id}/revoke`.
pub async fn revoke_key(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let (name, id) = match (name_of(&name), id_of(&id, KeyId, "integration key")) {
        (Ok(name), Ok(id)) => (name, id),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&session), &e),
    };
    let done = services::revoke_key(&state, &session.caller, &name, id).await;
    let outcome = Outcome::of(&session, "keys", format!("/services/{name}"), done);
    answer(&state, &session, &name, outcome, Entered::default()).await
}

/// `POST /services/{name}/maintenance`: opens a maintenance window.
pub async fn add_window(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, form): Posted<WindowForm>,
) -> Response {
    let name = match name_of(&name) {
        Ok(name) => name,
        Err(e) => return error_page(Some(&session), &e),
    };
    let caller = &session.caller;
    let done = match services::may_maintain(caller).and_then(|()| form.window()) {
        Ok(new) => services::add_maintenance(&state, caller, &name, &new).await,
        Err(e) => Err(e),
    };
    let outcome = Outcome::of(&session, "maintenance", format!("/services/{name}"), done);
    let entered = Entered {
        window: form,
        ..Entered::default()
    };
    answer(&state, &session, &name, outcome, entered).await
}

/// `POST /services/{name}/maintenance/{id}/end`: ends a window by removing it.
pub async fn end_window(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let (name, id) = match (
        name_of(&name),
        id_of(&id, MaintenanceId, "maintenance window"),
    ) {
        (Ok(name), Ok(id)) => (name, id),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&session), &e),
    };
    let done = services::remove_maintenance(&state, &session.caller, &name, id).await;
    let outcome = Outcome::of(&session, "maintenance", format!("/services/{name}"), done);
    answer(&state, &session, &name, outcome, Entered::default()).await
}

/// `POST /services/{name}/heartbeats`: adds a heartbeat monitor and shows its ping URL
/// once.
pub async fn add_heartbeat(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, form): Posted<HeartbeatForm>,
) -> Response {
    let name = match name_of(&name) {
        Ok(name) => name,
        Err(e) => return error_page(Some(&session), &e),
    };
    let new = NewHeartbeat {
        service: name.clone(),
        name: form.name.clone(),
        interval: form.interval.clone(),
    };
    match services::create_heartbeat(&state, &session.caller, &new).await {
        Ok(heartbeat) => {
            let base = state.public_url.clone().unwrap_or_default();
            let page = SecretOnce {
                layout: Layout::new(Some(&session), format!("{name}: new heartbeat"), "services"),
                heading: format!("Heartbeat {} of {name} added", heartbeat.name),
                intro: "Have the job POST to this URL at least once per interval. Copy it now: \
                        this page is the only one that shows it."
                    .into(),
                items: vec![(
                    "Ping URL",
                    format!("{base}/heartbeat/{}", heartbeat.key.unwrap_or_default()),
                )],
                back: format!("/services/{name}"),
            };
            secret_once(&page)
        }
        Err(e) => {
            let outcome = Outcome::refusal(&session, "heartbeat", e);
            let entered = Entered {
                heartbeat: form,
                ..Entered::default()
            };
            answer(&state, &session, &name, outcome, entered).await
        }
    }
}
