//! Post-incident review routes: the review of an incident, each section, the 5-whys,
//! stars on the timeline, the status, the exports; action items under their review and
//! across incidents (`/actions`). Each handler turns its body into review commands for
//! `app::reviews`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use klaxon_domain::auth::Scope;
use klaxon_domain::review::api::{
    ActionQuery, ExportFormat, ExportQuery, NoteInput, ReviewSettings, StatusRequest, WhysInput,
};
use klaxon_domain::review::{
    self, ActionItemPatch, ActionItemRef, Impact, Lessons, ListedAction, Meeting, NewActionItem,
    OpenReview, ReviewCommand, ReviewView, RootCauseInput, Summary, WhyNodeInput,
};
use klaxon_domain::IncidentNumber;

use crate::app::auth::Caller;
use crate::app::reviews;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, ApiJson, ApiPath, ApiQuery, NumberPath};
use crate::infra::state::AppState;

type Answer = Result<Json<ReviewView>, ApiError>;

async fn run(s: &AppState, caller: &Caller, n: IncidentNumber, command: ReviewCommand) -> Answer {
    reviews::act(s, caller, n, &[command])
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(get, path = "/incidents/{number}/review", tag = "reviews", params(("number" = IncidentNumber, Path)),
    responses((status = 200, body = ReviewView), (status = 404, description = "No such incident (or not the caller's to see), or it has no review")))]
pub async fn show(State(s): State<AppState>, caller: Caller, NumberPath(n): NumberPath) -> Answer {
    caller.require(Scope::Viewer)?;
    reviews::show(&s, &caller, n)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/review", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Option<OpenReview>,
    responses((status = 201, body = ReviewView), (status = 404), (status = 409, description = "It has a review already, or it was declined or merged")))]
pub async fn open(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<OpenReview>,
) -> Result<(StatusCode, Json<ReviewView>), ApiError> {
    reviews::open(&s, &caller, n, input)
        .await
        .map(|v| (StatusCode::CREATED, Json(v)))
        .map_err(ApiError::from)
}

#[utoipa::path(patch, path = "/incidents/{number}/review", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = ReviewSettings,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409), (status = 422, description = "An owner who does not exist, or a deadline in the past")))]
pub async fn settings(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<ReviewSettings>,
) -> Answer {
    reviews::act(&s, &caller, n, &reviews::settings(input))
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(put, path = "/incidents/{number}/review/summary", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Summary,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "The review is published")))]
pub async fn summary(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<Summary>,
) -> Answer {
    run(&s, &caller, n, ReviewCommand::Summary(input)).await
}

#[utoipa::path(put, path = "/incidents/{number}/review/impact", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Impact,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "The review is published")))]
pub async fn impact(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<Impact>,
) -> Answer {
    run(&s, &caller, n, ReviewCommand::Impact(input)).await
}

#[utoipa::path(put, path = "/incidents/{number}/review/root-cause", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = RootCauseInput,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "The review is published"), (status = 422, description = "A factor an action item answers would go")))]
pub async fn root_cause(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<RootCauseInput>,
) -> Answer {
    run(&s, &caller, n, ReviewCommand::RootCause(input)).await
}

#[utoipa::path(put, path = "/incidents/{number}/review/lessons", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Lessons,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "The review is published")))]
pub async fn lessons(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<Lessons>,
) -> Answer {
    run(&s, &caller, n, ReviewCommand::Lessons(input)).await
}

#[utoipa::path(put, path = "/incidents/{number}/review/meeting", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Meeting,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "The review is published")))]
pub async fn meeting(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<Meeting>,
) -> Answer {
    run(&s, &caller, n, ReviewCommand::Meeting(input)).await
}

#[utoipa::path(put, path = "/incidents/{number}/review/whys", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = WhysInput,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "The review is published"), (status = 422, description = "A cycle, a link to a node that does not exist, or a node an action item answers left out")))]
pub async fn set_whys(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<WhysInput>,
) -> Answer {
    run(&s, &caller, n, ReviewCommand::SetWhys(input.nodes)).await
}

#[utoipa::path(post, path = "/incidents/{number}/review/whys/nodes", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = WhyNodeInput,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "The review is published"), (status = 422, description = "It follows a node that does not exist")))]
pub async fn add_why(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<WhyNodeInput>,
) -> Answer {
    run(&s, &caller, n, ReviewCommand::AddWhy(input)).await
}

#[utoipa::path(put, path = "/incidents/{number}/review/timeline/{seq}", tag = "reviews", params(("number" = IncidentNumber, Path), ("seq" = i64, Path, description = "The timeline event")), security(("bearer" = ["responder"])), request_body = NoteInput,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "The review is published"), (status = 422, description = "No such event")))]
pub async fn note(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((number, seq)): ApiPath<(String, String)>,
    ApiJson(input): ApiJson<NoteInput>,
) -> Answer {
    caller.require(Scope::Responder)?;
    let n = IncidentNumber::parse(&number)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let seq: i64 = seq.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("'{seq}' is not a timeline event's number"),
        )
    })?;
    let command = ReviewCommand::Note {
        seq,
        starred: input.starred,
        context: input.context,
    };
    run(&s, &caller, n, command).await
}

#[utoipa::path(post, path = "/incidents/{number}/review/status", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = StatusRequest,
    responses((status = 200, body = ReviewView), (status = 404), (status = 409, description = "Already so, or a draft published before review"), (status = 422, description = "Publishing with required sections empty")))]
pub async fn status(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<StatusRequest>,
) -> Answer {
    run(&s, &caller, n, ReviewCommand::SetStatus(input.status)).await
}

#[utoipa::path(get, path = "/incidents/{number}/review/export", tag = "reviews", params(("number" = IncidentNumber, Path), ExportQuery),
    responses((status = 200, description = "The report: text/markdown, printable text/html or the review's JSON"), (status = 404), (status = 422, description = "An unknown format")))]
pub async fn export(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Viewer)?;
    let format = ExportFormat::parse(q.format.as_deref())?;
    let view = reviews::show(&s, &caller, n).await?;
    Ok(match format {
        ExportFormat::Json => Json(view).into_response(),
        ExportFormat::Markdown => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            review::markdown(&view),
        )
            .into_response(),
        ExportFormat::Html => crate::http::web::printable_review(&view),
    })
}

#[utoipa::path(post, path = "/incidents/{number}/review/actions", tag = "reviews", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = NewActionItem,
    responses((status = 201, body = ListedAction), (status = 404), (status = 422, description = "An owner who does not exist, a deadline in the past, or a link to a node or factor that does not exist")))]
pub async fn add_action(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(input): ApiJson<NewActionItem>,
) -> Result<(StatusCode, Json<ListedAction>), ApiError> {
    reviews::add_action(&s, &caller, n, input)
        .await
        .map(|a| (StatusCode::CREATED, Json(a)))
        .map_err(ApiError::from)
}

#[utoipa::path(get, path = "/actions", tag = "reviews", params(ActionQuery),
    responses((status = 200, body = [ListedAction], description = "Not paged: the first `limit` (100 by default, at most 500) by deadline, filtered to what a person works through; restricted incidents' items only for those who may see them"), (status = 422, description = "`limit` out of range, or both `mine` and `owner`")))]
pub async fn actions(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ActionQuery>,
) -> Result<Json<Vec<ListedAction>>, ApiError> {
    caller.require(Scope::Viewer)?;
    reviews::actions(&s, &caller, q)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(get, path = "/actions/{item}", tag = "reviews", params(("item" = String, Path, description = "INCIDENT-N, e.g. 42-3")),
    responses((status = 200, body = ListedAction), (status = 404)))]
pub async fn action(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(item): ApiPath<String>,
) -> Result<Json<ListedAction>, ApiError> {
    caller.require(Scope::Viewer)?;
    let r: ActionItemRef = path_id(&item)?;
    reviews::action(&s, &caller, r)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(patch, path = "/actions/{item}", tag = "reviews", params(("item" = String, Path, description = "INCIDENT-N, e.g. 42-3")), security(("bearer" = ["responder"])), request_body = ActionItemPatch,
    responses((status = 200, body = ListedAction), (status = 404), (status = 409, description = "Nothing would change"), (status = 422, description = "An owner who does not exist, a deadline in the past, or a link to a node or factor that does not exist")))]
pub async fn update_action(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(item): ApiPath<String>,
    ApiJson(patch): ApiJson<ActionItemPatch>,
) -> Result<Json<ListedAction>, ApiError> {
    caller.require(Scope::Responder)?;
    let r: ActionItemRef = path_id(&item)?;
    reviews::update_action(&s, &caller, r, patch)
        .await
        .map(Json)
        .map_err(ApiError::from)
}
