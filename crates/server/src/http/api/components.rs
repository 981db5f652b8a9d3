//! Status-page components and groups: each handler reads the request and answers with
//! what `app::components` decided.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::status::{Component, ComponentUpdate, NewComponent};
use klaxon_domain::ComponentId;

use crate::app::auth::Caller;
use crate::app::components;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, ApiJson, ApiPath};
use crate::infra::state::AppState;

#[utoipa::path(get, path = "/components", tag = "components",
    responses((status = 200, body = [Component], description = "Not paged: every component and group, in page order (each group before its components), with its status now")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Component>>, ApiError> {
    Ok(Json(components::list(&state, &caller).await?))
}

#[utoipa::path(post, path = "/components", tag = "components", security(("bearer" = ["admin"])), request_body = NewComponent,
    responses((status = 201, body = Component), (status = 409, description = "The name is taken, or the page is full"), (status = 422, description = "A field breaks a rule: a group inside a group, an unknown group or service")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewComponent>,
) -> Result<(StatusCode, Json<Component>), ApiError> {
    let created = components::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/components/{id}", tag = "components", params(("id" = ComponentId, Path)),
    responses((status = 200, body = Component), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Component>, ApiError> {
    let id: ComponentId = path_id(&id)?;
    Ok(Json(components::show(&state, &caller, id).await?))
}

#[utoipa::path(patch, path = "/components/{id}", tag = "components", params(("id" = ComponentId, Path)), security(("bearer" = ["admin"])), request_body = ComponentUpdate,
    responses((status = 200, body = Component), (status = 404), (status = 409, description = "The name is taken"), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(update): ApiJson<ComponentUpdate>,
) -> Result<Json<Component>, ApiError> {
    let id: ComponentId = path_id(&id)?;
    Ok(Json(components::update(&state, &caller, id, update).await?))
}

#[utoipa::path(delete, path = "/components/{id}", tag = "components", params(("id" = ComponentId, Path)), security(("bearer" = ["admin"])),
    responses((status = 204), (status = 404), (status = 409, description = "A group that still holds components")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id: ComponentId = path_id(&id)?;
    components::delete(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
