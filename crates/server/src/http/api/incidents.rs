//! Incident routes: one small handler per command. Each turns its body into a domain
//! [`Command`] and hands it to `app::incidents::act`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::api::{
    AckRequest, IncidentPage, IncidentQuery, MergeRequest, MitigateRequest, NoteRequest,
    ReasonRequest, ResolveRequest, RoleRequest, SeverityRequest,
};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{Command, DeclareInput, Evidence, IncidentView, StatusUpdateInput};
use klaxon_domain::status::ComponentsRequest;
use klaxon_domain::IncidentNumber;

use crate::app::auth::Caller;
use crate::app::incidents;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, NumberPath};
use crate::infra::state::AppState;

type Answer = Result<Json<IncidentView>, ApiError>;

#[utoipa::path(get, path = "/incidents", tag = "incidents", params(IncidentQuery),
    responses((status = 200, body = IncidentPage), (status = 400, description = "An unknown or malformed filter"),
        (status = 422, description = "`limit` out of range, or `since` neither an instant nor a duration")))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<IncidentQuery>,
) -> Result<Json<IncidentPage>, ApiError> {
    caller.require(Scope::Viewer)?;
    incidents::list(&s, &caller, q)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents", tag = "incidents", security(("bearer" = ["responder"])), request_body = DeclareInput,
    responses((status = 201, body = IncidentView), (status = 422, description = "A field breaks a rule")))]
pub async fn declare(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<DeclareInput>,
) -> Result<(StatusCode, Json<IncidentView>), ApiError> {
    incidents::declare(&s, &caller, input)
        .await
        .map(|v| (StatusCode::CREATED, Json(v)))
        .map_err(ApiError::from)
}

#[utoipa::path(get, path = "/incidents/{number}", tag = "incidents", params(("number" = IncidentNumber, Path)),
    responses((status = 200, body = IncidentView, description = "With its timeline"), (status = 404)))]
pub async fn show(State(s): State<AppState>, caller: Caller, NumberPath(n): NumberPath) -> Answer {
    caller.require(Scope::Viewer)?;
    incidents::show(&s, &caller, n)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/ack", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Option<AckRequest>,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409, description = "Not triggered, or merged away")))]
pub async fn ack(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<AckRequest>,
) -> Answer {
    incidents::act(&s, &caller, n, Command::Acknowledge { at: r.at })
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/assign", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = RoleRequest,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409), (status = 422)))]
pub async fn assign(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<RoleRequest>,
) -> Answer {
    incidents::act(
        &s,
        &caller,
        n,
        Command::Assign {
            role: r.role,
            user: r.user,
        },
    )
    .await
    .map(Json)
    .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/relieve", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = RoleRequest,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409)))]
pub async fn relieve(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<RoleRequest>,
) -> Answer {
    incidents::act(
        &s,
        &caller,
        n,
        Command::Relieve {
            role: r.role,
            user: r.user,
        },
    )
    .await
    .map(Json)
    .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/severity", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = SeverityRequest,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409), (status = 422)))]
pub async fn severity(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<SeverityRequest>,
) -> Answer {
    incidents::act(
        &s,
        &caller,
        n,
        Command::ChangeSeverity {
            severity: r.severity,
            reason: r.reason,
        },
    )
    .await
    .map(Json)
    .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/updates", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = StatusUpdateInput,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<StatusUpdateInput>,
) -> Answer {
    incidents::act(&s, &caller, n, Command::PostUpdate(r))
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/mitigate", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = MitigateRequest,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409), (status = 422)))]
pub async fn mitigate(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<MitigateRequest>,
) -> Answer {
    incidents::act(
        &s,
        &caller,
        n,
        Command::Mitigate {
            strategy: r.strategy,
            action: r.action,
            at: r.at,
        },
    )
    .await
    .map(Json)
    .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/resolve", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Option<ResolveRequest>,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409), (status = 422)))]
pub async fn resolve(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<ResolveRequest>,
) -> Answer {
    incidents::act(
        &s,
        &caller,
        n,
        Command::Resolve {
            root_cause: r.root_cause,
            fix: r.fix,
            at: r.at,
        },
    )
    .await
    .map(Json)
    .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/close", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Option<Empty>,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409)))]
pub async fn close(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(_empty): ApiJson<Empty>,
) -> Answer {
    incidents::act(&s, &caller, n, Command::Close)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/reopen", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Option<ReasonRequest>,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409)))]
pub async fn reopen(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<ReasonRequest>,
) -> Answer {
    incidents::act(&s, &caller, n, Command::Reopen { reason: r.reason })
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/decline", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Option<ReasonRequest>,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409)))]
pub async fn decline(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<ReasonRequest>,
) -> Answer {
    incidents::act(&s, &caller, n, Command::Decline { reason: r.reason })
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/merge", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = MergeRequest,
    responses((status = 200, body = IncidentView, description = "The incident merged into"), (status = 404), (status = 409), (status = 422)))]
pub async fn merge(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<MergeRequest>,
) -> Answer {
    incidents::merge(&s, &caller, n, r.into)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/notes", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = NoteRequest,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409), (status = 422)))]
pub async fn note(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<NoteRequest>,
) -> Answer {
    incidents::act(
        &s,
        &caller,
        n,
        Command::Note {
            text: r.text,
            at: r.at,
        },
    )
    .await
    .map(Json)
    .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/evidence", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])), request_body = Evidence,
    responses((status = 200, body = IncidentView), (status = 404), (status = 409), (status = 413, description = "The evidence is over 64 KiB, or the body over 256 KiB"), (status = 422)))]
pub async fn evidence(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<Evidence>,
) -> Answer {
    incidents::act(&s, &caller, n, Command::AttachEvidence(r))
        .await
        .map(Json)
        .map_err(ApiError::from)
}

#[utoipa::path(post, path = "/incidents/{number}/components", tag = "incidents", params(("number" = IncidentNumber, Path)), security(("bearer" = ["responder"])),
    request_body(content = ComponentsRequest, description = "The status-page components it affects, replacing those named before; a status left out is the one the policy suggests for the severity"),
    responses((status = 200, body = IncidentView), (status = 404), (status = 409, description = "The incident is not open, is restricted, or names these already"), (status = 422, description = "An unknown component, a group, or one named twice")))]
pub async fn components(
    State(s): State<AppState>,
    caller: Caller,
    NumberPath(n): NumberPath,
    ApiJson(r): ApiJson<ComponentsRequest>,
) -> Answer {
    incidents::set_components(&s, &caller, n, &r.components)
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// A body that must be empty or `{}`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}
