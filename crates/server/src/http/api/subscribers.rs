//! Status-page subscribers, for admins: each handler reads the request and answers with
//! what `app::subscribers` decided. Anyone subscribes an e-mail address on the public
//! page instead (`/status`, `POST /api/v2/subscribers.json`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::status::{AddedSubscriber, NewSubscriber, Subscriber};
use klaxon_domain::SubscriberId;

use crate::app::auth::Caller;
use crate::app::subscribers;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, ApiJson, ApiPath};
use crate::infra::state::AppState;

#[utoipa::path(get, path = "/subscribers", tag = "subscribers", security(("bearer" = ["admin"])),
    responses((status = 200, body = [Subscriber], description = "Not paged: every subscriber, confirmed or not, by id")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Subscriber>>, ApiError> {
    Ok(Json(subscribers::list(&state, &caller).await?))
}

#[utoipa::path(post, path = "/subscribers", tag = "subscribers", security(("bearer" = ["admin"])), request_body = NewSubscriber,
    responses((status = 201, body = AddedSubscriber, description = "A webhook's signing secret is in the answer, this once"),
        (status = 409, description = "The address is subscribed already, or e-mail is not configured"),
        (status = 413, description = "An address or list too long"),
        (status = 422, description = "A malformed address, a URL that is not http(s) or points where Klaxon may not call, an unknown component")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewSubscriber>,
) -> Result<(StatusCode, Json<AddedSubscriber>), ApiError> {
    let added = subscribers::add(&state, &caller, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(AddedSubscriber {
            subscriber: added.subscriber,
            signing_secret: added.secret.map(|s| s.expose().to_owned()),
        }),
    ))
}

#[utoipa::path(delete, path = "/subscribers/{id}", tag = "subscribers", params(("id" = SubscriberId, Path)), security(("bearer" = ["admin"])),
    responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id: SubscriberId = path_id(&id)?;
    subscribers::remove(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
