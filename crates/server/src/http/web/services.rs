//! `/services`: every service with its escalation policy, open incidents and whether it
//! is in maintenance now, and (for admins) a form that creates one; `/services/{name}`:
//! one service's settings, who is on call, its integration keys (admins), maintenance
//! windows, heartbeats and recent incidents and alerts. The forms' answers are in
//! `service_forms`; a key's secret is shown once, on the page that answers its creation.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use klaxon_domain::api::IncidentQuery;
use klaxon_domain::service::{IntegrationKey, ServiceName};
use klaxon_domain::time::human_duration;
use serde::Deserialize;

use crate::app::error::AppError;
use crate::app::sessions::WebSession;
use crate::app::{alerts, incidents, paging, services};
use crate::http::web::page::{error_page, render, Layout};
use crate::http::web::refusal::{Forms, Refused};
use crate::http::web::session::Web;
use crate::http::web::show::{self, IncidentRow};
use crate::infra::state::AppState;

/// How many of a service's incidents and alerts its page lists.
const RECENT: u32 = 20;

struct ServiceRow {
    name: String,
    description: String,
    team: String,
    policy: Option<String>,
    open: usize,
    maintenance: bool,
}

/// The form that creates a service, as posted (and shown again if refused).
#[derive(Debug, Default, Deserialize)]
pub struct NewServiceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner_team: String,
    #[serde(default)]
    pub escalation_policy: String,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    layout: Layout,
    rows: Vec<ServiceRow>,
    /// More incidents are open than were counted.
    more_open: bool,
    can_manage: bool,
    policies: Vec<String>,
    new: NewServiceForm,
    refused: Option<Refused>,
}

impl Forms for ServicesPage {
    fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }
}

/// `GET /services`.
pub async fn list(State(state): State<AppState>, Web(session): Web) -> Response {
    list_page(&state, &session, NewServiceForm::default(), None).await
}

/// The list of services, with the creation form as posted and why it was refused.
pub(super) async fn list_page(
    state: &AppState,
    session: &WebSession,
    new: NewServiceForm,
    refused: Option<Refused>,
) -> Response {
    let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
    match list_build(state, session, new, refused).await {
        Ok(page) => render(status, &page),
        Err(e) => error_page(Some(session), &e),
    }
}

async fn list_build(
    state: &AppState,
    session: &WebSession,
    new: NewServiceForm,
    refused: Option<Refused>,
) -> Result<ServicesPage, AppError> {
    let caller = &session.caller;
    let all = services::list(state, caller).await?;
    let maintenance = services::in_maintenance_now(state, &all).await?;
    let (open, more_open) = incidents::open_by_service(state, caller).await?;
    let rows = all
        .into_iter()
        .zip(maintenance)
        .map(|(s, maintenance)| ServiceRow {
            open: open.get(s.name.as_str()).copied().unwrap_or(0),
            name: s.name.to_string(),
            description: s.description,
            team: s.owner_team.unwrap_or_default(),
            policy: s.rules.escalation_policy,
            maintenance,
        })
        .collect();
    let can_manage = services::may_manage(caller).is_ok();
    let policies = if can_manage {
        policy_names(state, session).await?
    } else {
        vec![]
    };
    Ok(ServicesPage {
        layout: Layout::new(Some(session), "Services", "services"),
        rows,
        more_open,
        can_manage,
        policies,
        new,
        refused,
    })
}

async fn policy_names(state: &AppState, session: &WebSession) -> Result<Vec<String>, AppError> {
    Ok(services::policies(state, &session.caller)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect())
}

/// The settings form, filled with the service's settings (or as posted, if refused).
#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner_team: String,
    /// One URL a line.
    #[serde(default)]
    pub runbook_links: String,
    #[serde(default)]
    pub grouping: String,
    /// Checked: "1"; left out when not.
    #[serde(default)]
    pub auto_resolve: String,
    #[serde(default)]
    pub alertmanager_dedup: String,
    #[serde(default)]
    pub escalation_policy: String,
}

/// A maintenance window as entered.
#[derive(Debug, Default, Deserialize)]
pub struct WindowForm {
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default)]
    pub reason: String,
}

/// A heartbeat monitor as entered.
#[derive(Debug, Default, Deserialize)]
pub struct HeartbeatForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub interval: String,
}

/// What a refused form had entered, shown again.
#[derive(Default)]
pub(super) struct Entered {
    pub settings: Option<SettingsForm>,
    pub window: WindowForm,
    pub heartbeat: HeartbeatForm,
}

struct KeyRow {
    id: i64,
    /// The key's last four characters, so that people can tell keys apart.
    tail: String,
    created: String,
    revoked: Option<String>,
}

struct WindowRow {
    id: i64,
    from: String,
    until: String,
    by: String,
    reason: String,
    now: bool,
}

struct HeartbeatRow {
    name: String,
    every: String,
    last: String,
    down: bool,
    due: show::Deadline,
}

struct AlertRow {
    id: i64,
    status: String,
    severity: String,
    summary: String,
    seen: String,
    incident: Option<i64>,
}

#[derive(Template)]
#[template(path = "service.html")]
struct ServicePage {
    layout: Layout,
    name: String,
    description: String,
    team: Option<String>,
    runbook_links: Vec<String>,
    rules: Vec<(&'static str, String)>,
    escalation_policy: Option<String>,
    in_maintenance: bool,
    on_call: Vec<String>,
    /// Admins only.
    keys: Option<Vec<KeyRow>>,
    windows: Vec<WindowRow>,
    heartbeats: Vec<HeartbeatRow>,
    incidents: Vec<IncidentRow>,
    alerts: Vec<AlertRow>,
    can_manage: bool,
    can_maintain: bool,
    policies: Vec<String>,
    dedups: [&'static str; 2],
    settings: SettingsForm,
    window: WindowForm,
    heartbeat: HeartbeatForm,
    refused: Option<Refused>,
}

impl Forms for ServicePage {
    fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }
}

/// A service name in a page's path; one that cannot be a name names no service.
pub(super) fn name_of(text: &str) -> Result<ServiceName, AppError> {
    ServiceName::parse(text)
        .map_err(|_| AppError::not_found(format!("there is no service '{text}'")))
}

/// `GET /services/{name}`.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Path(name): Path<String>,
) -> Response {
    match name_of(&name) {
        Ok(name) => page(&state, &session, &name, Entered::default(), None).await,
        Err(e) => error_page(Some(&session), &e),
    }
}

/// The service's page, with a refused form's entries and why it was refused.
pub(super) async fn page(
    state: &AppState,
    session: &WebSession,
    name: &ServiceName,
    entered: Entered,
    refused: Option<Refused>,
) -> Response {
    let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
    match build(state, session, name, entered, refused).await {
        Ok(page) => render(status, &page),
        Err(e) => error_page(Some(session), &e),
    }
}

async fn build(
    state: &AppState,
    session: &WebSession,
    name: &ServiceName,
    entered: Entered,
    refused: Option<Refused>,
) -> Result<ServicePage, AppError> {
    let caller = &session.caller;
    let now = state.clock.now();
    let service = services::show(state, caller, name).await?;
    let windows = services::maintenance(state, caller, name).await?;
    let heartbeats = services::heartbeats(state, caller).await?;
    let on_call = paging::service_on_call(state, &service).await?.on_call;
    let query = IncidentQuery {
        service: Some(name.to_string()),
        limit: Some(RECENT),
        ..Default::default()
    };
    let incidents = incidents::list(state, caller, query).await?.incidents;
    let alerts = alerts::recent_of_service(state, caller, service.id, RECENT).await?;
    let can_manage = services::may_manage(caller).is_ok();
    let policies = if can_manage {
        policy_names(state, session).await?
    } else {
        vec![]
    };
    let r = &service.rules;
    let severity = |s: Option<klaxon_domain::Severity>| {
        s.map_or_else(|| "alert only".to_owned(), |s| s.to_string())
    };
    let rules = vec![
        ("Grouping", r.grouping.to_string()),
        ("Resolve with its alerts", yes_no(r.auto_resolve).to_owned()),
        ("Alertmanager", r.alertmanager_dedup.as_str().to_owned()),
        ("Critical alerts open", severity(r.severities.critical)),
        ("Error alerts open", severity(r.severities.error)),
        ("Warning alerts open", severity(r.severities.warning)),
        ("Info alerts open", severity(r.severities.info)),
    ];
    let settings = entered.settings.unwrap_or_else(|| SettingsForm {
        description: service.description.clone(),
        owner_team: service.owner_team.clone().unwrap_or_default(),
        runbook_links: service.runbook_links.join("\n"),
        grouping: r.grouping.to_string(),
        auto_resolve: if r.auto_resolve {
            "1".into()
        } else {
            String::new()
        },
        alertmanager_dedup: r.alertmanager_dedup.as_str().to_owned(),
        escalation_policy: r.escalation_policy.clone().unwrap_or_default(),
    });
    Ok(ServicePage {
        layout: Layout::new(Some(session), service.name.to_string(), "services"),
        name: service.name.to_string(),
        in_maintenance: windows.iter().any(|w| w.covers(now)),
        windows: windows
            .iter()
            .map(|w| WindowRow {
                id: w.id.0,
                from: show::instant(w.starts_at),
                until: show::instant(w.ends_at),
                by: w.created_by.clone(),
                reason: w.reason.clone(),
                now: w.covers(now),
            })
            .collect(),
        keys: service.integration_keys.as_deref().map(key_rows),
        heartbeats: heartbeats
            .iter()
            .filter(|h| h.service == *name)
            .map(|h| HeartbeatRow {
                name: h.name.clone(),
                every: human_duration(h.interval_seconds),
                last: show::ago(now, h.last_ping_at),
                down: h.down,
                due: show::Deadline::new(now, h.due_at(), h.due_at() < now),
            })
            .collect(),
        incidents: incidents.iter().map(|v| IncidentRow::new(v, now)).collect(),
        alerts: alerts
            .into_iter()
            .map(|a| AlertRow {
                id: a.id.0,
                status: a.status.to_string(),
                severity: a.severity.to_string(),
                summary: a.summary,
                seen: show::ago(now, a.last_seen_at),
                incident: a.incident.map(|n| n.0),
            })
            .collect(),
        description: service.description,
        team: service.owner_team,
        runbook_links: service.runbook_links,
        escalation_policy: service.rules.escalation_policy.clone(),
        rules,
        on_call,
        can_manage,
        can_maintain: services::may_maintain(caller).is_ok(),
        policies,
        dedups: ["per-alert", "per-group"],
        settings,
        window: entered.window,
        heartbeat: entered.heartbeat,
        refused,
    })
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn key_rows(keys: &[IntegrationKey]) -> Vec<KeyRow> {
    keys.iter()
        .map(|k| KeyRow {
            id: k.id.0,
            // Keys are 32 hex characters (ASCII).
            tail: k.key[k.key.len().saturating_sub(4)..].to_owned(),
            created: show::instant(k.created_at),
            revoked: k.revoked_at.map(show::instant),
        })
        .collect()
}

/// A secret shown once: a new integration key with its signing secret, or a new
/// heartbeat's ping URL.
#[derive(Template)]
#[template(path = "secret_once.html")]
pub(super) struct SecretOnce {
    pub layout: Layout,
    pub heading: String,
    pub intro: String,
    pub items: Vec<(&'static str, String)>,
    pub back: String,
}

/// The page that shows `page`'s secrets, answered `201 Created` and never stored by
/// the browser or a proxy.
pub(super) fn secret_once(page: &SecretOnce) -> Response {
    let mut response = render(StatusCode::CREATED, page);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What a monitoring tool needs of integration key `key`, for [`SecretOnce`].
pub(super) fn key_items(state: &AppState, key: &IntegrationKey) -> Vec<(&'static str, String)> {
    let base = state.public_url.clone().unwrap_or_default();
    vec![
        ("Integration key", key.key.clone()),
        (
            "Signing secret (Sentry, Grafana)",
            key.signing_secret.expose().to_owned(),
        ),
        ("Events API v2 URL", format!("{base}/v2/enqueue")),
        (
            "Alertmanager webhook URL",
            format!("{base}/ingest/alertmanager/{}", key.key),
        ),
    ]
}
