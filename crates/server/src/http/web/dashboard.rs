//! `/`: what is burning. Open incidents by severity with their age, status, commander,
//! response target and update deadlines; recent alerts not in an incident; who is on
//! call for each service. Filters live in the URL, so a view can be shared; the page
//! refreshes its board every 15 seconds (htmx), or on reload without JavaScript.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use klaxon_domain::api::IncidentQuery;
use klaxon_domain::incident::{IncidentView, Status};
use klaxon_domain::paging::api::ServiceOnCall;
use klaxon_domain::Severity;
use serde::Deserialize;

use crate::app::error::AppError;
use crate::app::{alerts, incidents, paging};
use crate::http::web::page::{error_page, render, Layout};
use crate::http::web::schedules::{self, ScheduleRow};
use crate::http::web::session::Web;
use crate::http::web::show::{self, IncidentRow};
use crate::infra::state::AppState;

/// The dashboard's filters, as the URL carries them; empty means any.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct Filters {
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub mine: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    /// This view's own URL, which the board refreshes from.
    refresh: String,
    filters: Filters,
    /// Why a filter was not applied, next to it.
    filter_error: Option<String>,
    incidents: Vec<IncidentRow>,
    /// More incidents matched than the board shows.
    more: bool,
    alerts: Vec<AlertRow>,
    on_call: Vec<ServiceOnCall>,
    severities: Vec<(u8, String)>,
    statuses: [&'static str; 3],
}

struct AlertRow {
    id: i64,
    summary: String,
    severity: String,
    age: String,
}

/// How many open incidents the board lists.
const BOARD_LIMIT: u32 = 200;

/// `GET /`.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Query(filters): Query<Filters>,
) -> Response {
    match board(&state, &session, filters).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(Some(&session), &e),
    }
}

async fn board(
    state: &AppState,
    session: &crate::app::sessions::WebSession,
    filters: Filters,
) -> Result<Dashboard, AppError> {
    let caller = &session.caller;
    let mut query = IncidentQuery {
        open: Some(true),
        ..Default::default()
    };
    let mut filter_error = None;
    if !filters.severity.is_empty() {
        match Severity::parse(&filters.severity) {
            Ok(s) => query.severity = Some(s),
            Err(e) => filter_error = Some(e.to_string()),
        }
    }
    if !filters.status.is_empty() {
        match Status::parse(&filters.status) {
            Ok(s) => {
                query.status = Some(s);
                query.open = None;
            }
            Err(e) => filter_error = Some(e.to_string()),
        }
    }
    if !filters.service.is_empty() {
        query.service = Some(filters.service.clone());
    }
    // Independent reads, run at once: the page waits for the slowest, not for the sum
    // of their round trips.
    let ((listed, more), alerts, on_call) = tokio::try_join!(
        incidents::worst_first(state, caller, query, BOARD_LIMIT),
        alerts::recent_without_incident(state, caller, 20),
        async { paging::on_call_now(state).await.map_err(AppError::from) },
    )?;
    let now = state.clock.now();
    let me = caller.user.handle.as_str();
    let mut views: Vec<IncidentView> = listed
        .into_iter()
        .filter(|v| filters.mine.is_empty() || v.incident.participants.iter().any(|p| p == me))
        .collect();
    // The worst first; within a severity, the oldest first.
    views.sort_by_key(|v| (v.incident.severity, v.incident.declared_at));
    let incidents = views.iter().map(|v| IncidentRow::new(v, now)).collect();
    let alerts = alerts
        .into_iter()
        .map(|a| AlertRow {
            id: a.id.0,
            summary: a.summary,
            severity: a.severity.to_string(),
            age: show::ago(now, a.first_seen_at),
        })
        .collect();
    let severities = state
        .policy
        .severities
        .iter()
        .map(|s| (s.level.level(), format!("{} {}", s.level, s.name)))
        .collect();
    let refresh = format!(
        "/?{}",
        serde_urlencoded::to_string(&filters).unwrap_or_default()
    );
    Ok(Dashboard {
        layout: Layout::new(Some(session), "Incidents", "dashboard"),
        refresh,
        filters,
        filter_error,
        incidents,
        more,
        alerts,
        on_call,
        severities,
        statuses: ["triggered", "acknowledged", "mitigated"],
    })
}

#[derive(Template)]
#[template(path = "oncall.html")]
struct OnCallPage {
    layout: Layout,
    on_call: Vec<ServiceOnCall>,
    schedules: Vec<ScheduleRow>,
}

/// `GET /oncall`: who the first step of each service's escalation policy pages now, and
/// who is on call on each schedule now and next.
pub async fn on_call(State(state): State<AppState>, Web(session): Web) -> Response {
    let found = async {
        let on_call = paging::on_call_now(&state).await?;
        let schedules = state.store.schedules().await?;
        Ok::<_, klaxon_store::StoreError>((on_call, schedules))
    };
    match found.await {
        Ok((on_call, schedules)) => {
            let page = OnCallPage {
                layout: Layout::new(Some(&session), "On call", "oncall"),
                on_call,
                schedules: schedules::rows(&schedules, state.clock.now()),
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(Some(&session), &e.into()),
    }
}
