//! On-call schedules: stored whole, read as shifts, who is on call, and iCalendar feeds.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::{SignedDuration, Timestamp};
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::api::OnCall;
use klaxon_domain::schedule::{NewSchedule, Schedule, Shift};
use klaxon_domain::Handle;
use serde::Deserialize;

use crate::app::auth::Caller;
use crate::app::schedules;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::infra::state::AppState;

/// The longest window one shifts query covers.
const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 366);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// Start (RFC 3339); now by default.
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// End (RFC 3339); a week after `from` by default.
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
}

impl Window {
    fn resolve(&self, now: Timestamp) -> Result<(Timestamp, Timestamp), ApiError> {
        let from = self.from.unwrap_or(now);
        let to = self.to.unwrap_or(from + SignedDuration::from_hours(24 * 7));
        if to <= from {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "to",
                "must be after from",
            ));
        }
        if to.duration_since(from) > MAX_WINDOW {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "to",
                "ask for at most 366 days at once",
            ));
        }
        Ok((from, to))
    }
}

#[utoipa::path(get, path = "/schedules", tag = "schedules", responses((status = 200, body = [Schedule], description = "Not paged: every schedule; they are configuration people write, a few per team")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Schedule>>, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(state.store.schedules().await?))
}

#[utoipa::path(post, path = "/schedules", tag = "schedules", security(("bearer" = ["admin"])), request_body = NewSchedule,
    responses((status = 201, body = Schedule), (status = 409), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewSchedule>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    let schedule = schedules::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

#[utoipa::path(get, path = "/schedules/{name}", tag = "schedules", params(("name" = String, Path)),
    responses((status = 200, body = Schedule), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Schedule>, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(state.store.schedule(&name).await?))
}

#[utoipa::path(put, path = "/schedules/{name}", tag = "schedules", params(("name" = String, Path)), security(("bearer" = ["admin"])),
    request_body = NewSchedule, responses((status = 200, body = Schedule), (status = 404), (status = 409, description = "Renamed to a name that is taken"), (status = 422)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(new): ApiJson<NewSchedule>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(schedules::replace(&state, &caller, &name, new).await?))
}

#[utoipa::path(delete, path = "/schedules/{name}", tag = "schedules", params(("name" = String, Path)), security(("bearer" = ["admin"])),
    responses((status = 204), (status = 404), (status = 409, description = "An escalation policy pages it")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    schedules::delete(&state, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/schedules/{name}/shifts", tag = "schedules", params(("name" = String, Path), Window),
    responses((status = 200, body = [Shift], description = "Not paged: the shifts of the window asked for, at most 366 days"), (status = 400, description = "A malformed instant, `to` not after `from`, or a window over 366 days"), (status = 404)))]
pub async fn shifts(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Json<Vec<Shift>>, ApiError> {
    caller.require(Scope::Viewer)?;
    let (from, to) = window.resolve(state.clock.now())?;
    Ok(Json(state.store.schedule(&name).await?.shifts(from, to)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct At {
    /// The instant (RFC 3339); now by default.
    #[param(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

#[utoipa::path(get, path = "/schedules/{name}/oncall", tag = "schedules", params(("name" = String, Path), At),
    responses((status = 200, body = OnCall), (status = 404)))]
pub async fn on_call(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(at): ApiQuery<At>,
) -> Result<Json<OnCall>, ApiError> {
    caller.require(Scope::Viewer)?;
    let at = at.at.unwrap_or_else(|| state.clock.now());
    let schedule = state.store.schedule(&name).await?;
    Ok(Json(OnCall {
        user: schedule.on_call_at(at),
        schedule: schedule.name().to_owned(),
        at,
    }))
}

/// An iCalendar answer.
fn calendar(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response()
}

#[utoipa::path(get, path = "/schedules/{name}/calendar.ics", tag = "schedules", params(("name" = String, Path)),
    responses((status = 200, content_type = "text/calendar", description = "Shifts from 30 days ago to 90 days ahead"), (status = 404)))]
pub async fn schedule_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(calendar(
        schedules::schedule_calendar(&state, &caller, &name).await?,
    ))
}

#[utoipa::path(get, path = "/users/{handle}/calendar.ics", tag = "schedules", params(("handle" = Handle, Path)),
    responses((status = 200, content_type = "text/calendar", description = "The user's shifts on every schedule"), (status = 404)))]
pub async fn user_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
) -> Result<Response, ApiError> {
    let handle = Handle::parse(&handle)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok(calendar(
        schedules::user_calendar(&state, &caller, &handle).await?,
    ))
}
