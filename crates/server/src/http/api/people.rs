//! How people are reached: their contact methods, notification rules and team
//! subscriptions. Responders and admins manage their own; admins anyone's; viewers may
//! read their own but change nothing (the rules are `app::people`'s).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::api::{CodeSent, Subscription, VerifyCode};
use klaxon_domain::paging::{
    ContactMethod, NewContactMethod, NewNotificationRule, NotificationRule,
};
use klaxon_domain::{ContactMethodId, Handle, NotificationRuleId};

use crate::app::auth::Caller;
use crate::app::{people, phones};
use crate::http::error::ApiError;
use crate::http::extract::{path_id, ApiJson, ApiPath};
use crate::infra::state::AppState;

fn parse_handle(handle: &str) -> Result<Handle, ApiError> {
    Handle::parse(handle).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

#[utoipa::path(get, path = "/users/{handle}/contact-methods", tag = "people", params(("handle" = Handle, Path)),
    responses((status = 200, body = [ContactMethod], description = "Not paged: one person's contact methods"), (status = 403, description = "Someone else's, and the token is not admin"), (status = 404)))]
pub async fn methods(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
) -> Result<Json<Vec<ContactMethod>>, ApiError> {
    let handle = parse_handle(&handle)?;
    Ok(Json(
        people::contact_methods(&state, &caller, &handle).await?,
    ))
}

#[utoipa::path(post, path = "/users/{handle}/contact-methods", tag = "people", params(("handle" = Handle, Path)),
    security(("bearer" = ["responder"])), request_body = NewContactMethod,
    responses((status = 201, body = ContactMethod), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404), (status = 409), (status = 422)))]
pub async fn add_method(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
    ApiJson(method): ApiJson<NewContactMethod>,
) -> Result<(StatusCode, Json<ContactMethod>), ApiError> {
    let handle = parse_handle(&handle)?;
    let added = people::add_contact_method(&state, &caller, &handle, method).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

#[utoipa::path(delete, path = "/users/{handle}/contact-methods/{id}", tag = "people", security(("bearer" = ["responder"])),
    params(("handle" = Handle, Path), ("id" = ContactMethodId, Path)), responses((status = 204), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404)))]
pub async fn remove_method(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((handle, method)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let handle = parse_handle(&handle)?;
    people::manageable(&caller, &handle)?;
    let method: ContactMethodId = path_id(&method)?;
    people::remove_contact_method(&state, &caller, &handle, method).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/users/{handle}/contact-methods/{id}/test", tag = "people", security(("bearer" = ["responder"])),
    params(("handle" = Handle, Path), ("id" = ContactMethodId, Path)),
    responses((status = 202, description = "A test message is queued; an e-mail, Slack or webhook method is verified once it is delivered (a phone number is verified by a code: `/code`, `/verify`)"), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404),
        (status = 429, description = "A test message went to this method less than a minute ago, or five to this person within the hour")))]
pub async fn test_method(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((handle, method)): ApiPath<(String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let handle = parse_handle(&handle)?;
    people::manageable(&caller, &handle)?;
    people::send_test(&state, &caller, &handle, path_id(&method)?).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "status": "queued" })),
    ))
}

#[utoipa::path(post, path = "/users/{handle}/contact-methods/{id}/code", tag = "people",
    security(("bearer" = ["responder"])), params(("handle" = Handle, Path), ("id" = ContactMethodId, Path)),
    responses((status = 202, body = CodeSent, description = "A code is sent: by SMS to an SMS method, by a call that reads it to a voice method"),
        (status = 403, description = "A viewer, or someone else's without an admin token"), (status = 404), (status = 409, description = "Not a phone number, verified already, or verified by another user"),
        (status = 429, description = "A code was sent less than a minute ago"), (status = 503, description = "The code could not be sent")))]
pub async fn send_code(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((handle, method)): ApiPath<(String, String)>,
) -> Result<(StatusCode, Json<CodeSent>), ApiError> {
    let handle = parse_handle(&handle)?;
    let sent = phones::send_code(&state, &caller, &handle, path_id(&method)?).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

#[utoipa::path(post, path = "/users/{handle}/contact-methods/{id}/verify", tag = "people",
    security(("bearer" = ["responder"])), params(("handle" = Handle, Path), ("id" = ContactMethodId, Path)), request_body = VerifyCode,
    responses((status = 200, body = ContactMethod, description = "The method, verified"), (status = 403, description = "A viewer, or someone else's without an admin token"), (status = 404),
        (status = 409, description = "No code pending, expired, too many wrong codes, or the number is verified by another user"),
        (status = 422, description = "Not the code sent")))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((handle, method)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<VerifyCode>,
) -> Result<Json<ContactMethod>, ApiError> {
    let handle = parse_handle(&handle)?;
    let verified =
        phones::confirm_code(&state, &caller, &handle, path_id(&method)?, &body.code).await?;
    Ok(Json(verified))
}

#[utoipa::path(get, path = "/users/{handle}/notification-rules", tag = "people", params(("handle" = Handle, Path)),
    responses((status = 200, body = [NotificationRule], description = "Not paged: one person's notification rules"), (status = 403, description = "Someone else's, and the token is not admin"), (status = 404)))]
pub async fn rules(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
) -> Result<Json<Vec<NotificationRule>>, ApiError> {
    let handle = parse_handle(&handle)?;
    Ok(Json(
        people::notification_rules(&state, &caller, &handle).await?,
    ))
}

#[utoipa::path(post, path = "/users/{handle}/notification-rules", tag = "people", params(("handle" = Handle, Path)),
    security(("bearer" = ["responder"])), request_body = NewNotificationRule,
    responses((status = 201, body = NotificationRule), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404), (status = 409), (status = 422)))]
pub async fn add_rule(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
    ApiJson(rule): ApiJson<NewNotificationRule>,
) -> Result<(StatusCode, Json<NotificationRule>), ApiError> {
    let handle = parse_handle(&handle)?;
    let added = people::add_notification_rule(&state, &caller, &handle, rule).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

#[utoipa::path(delete, path = "/users/{handle}/notification-rules/{id}", tag = "people", security(("bearer" = ["responder"])),
    params(("handle" = Handle, Path), ("id" = NotificationRuleId, Path)), responses((status = 204), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404)))]
pub async fn remove_rule(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((handle, rule)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let handle = parse_handle(&handle)?;
    people::manageable(&caller, &handle)?;
    let rule: NotificationRuleId = path_id(&rule)?;
    people::remove_notification_rule(&state, &caller, &handle, rule).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/subscriptions", tag = "people", responses((status = 200, body = [Subscription], description = "Not paged: every stakeholder subscription; one per person and team at most")))]
pub async fn subscriptions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Subscription>>, ApiError> {
    caller.require(Scope::Viewer)?;
    let all = state.store.subscriptions().await?;
    Ok(Json(
        all.into_iter()
            .map(|(team, user)| Subscription { team, user })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/subscriptions", tag = "people", security(("bearer" = ["responder"])), request_body = Subscription,
    responses((status = 201, body = Subscription), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404), (status = 409), (status = 422)))]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<Subscription>,
) -> Result<(StatusCode, Json<Subscription>), ApiError> {
    let new = people::subscribe(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(new)))
}

#[utoipa::path(delete, path = "/subscriptions/{team}/{handle}", tag = "people", security(("bearer" = ["responder"])),
    params(("team" = String, Path), ("handle" = Handle, Path)), responses((status = 204), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((team, handle)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let handle = parse_handle(&handle)?;
    people::unsubscribe(&state, &caller, &team, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}
