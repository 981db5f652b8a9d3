//! How people are reached: their contact methods, notification rules and team
//! subscriptions. Responders and admins manage their own; admins anyone's; viewers may
//! read their own but change nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::api::{CodeSent, Subscription, VerifyCode};
use klaxon_domain::paging::{
    ContactKind, ContactMethod, Delivery, JobPayload, NewContactMethod, NewNotificationRule,
    NotificationRule,
};
use klaxon_domain::{ContactMethodId, Handle, NotificationRuleId};

use crate::app::auth::Caller;
use crate::app::phones;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, ApiJson, ApiPath};
use crate::infra::state::AppState;

fn parse_handle(handle: &str) -> Result<Handle, ApiError> {
    Handle::parse(handle).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

/// The handle in the path, if the caller may read that person's paging settings:
/// their own, or anyone's for an admin.
fn readable(caller: &Caller, handle: &str) -> Result<Handle, ApiError> {
    let handle = parse_handle(handle)?;
    if caller.user.handle != handle {
        caller.require(Scope::Admin).map_err(|_| {
            ApiError::forbidden(format!(
                "only {handle} and admins may see or change how {handle} is reached"
            ))
        })?;
    }
    caller.require(Scope::Viewer)?;
    Ok(handle)
}

/// The handle in the path, if the caller may change that person's paging settings:
/// their own with a responder token, or anyone's for an admin.
fn manageable(caller: &Caller, handle: &str) -> Result<Handle, ApiError> {
    let handle = readable(caller, handle)?;
    caller.require(Scope::Responder).map_err(|_| {
        ApiError::forbidden(format!(
            "token '{}' has scope viewer, which changes nothing; ask an admin, or use a responder token",
            caller.token.name
        ))
    })?;
    Ok(handle)
}

#[utoipa::path(get, path = "/users/{handle}/contact-methods", tag = "people", params(("handle" = Handle, Path)),
    responses((status = 200, body = [ContactMethod], description = "Not paged: one person's contact methods"), (status = 403, description = "Someone else's, and the token is not admin"), (status = 404)))]
pub async fn methods(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
) -> Result<Json<Vec<ContactMethod>>, ApiError> {
    let handle = readable(&caller, &handle)?;
    state.store.user(&handle).await?;
    Ok(Json(state.store.contact_methods(&handle).await?))
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
    let handle = manageable(&caller, &handle)?;
    let method = method.validated()?;
    if method.kind == ContactKind::Webhook {
        state
            .channels
            .outbound
            .check_url(&method.address)
            .await
            .map_err(|e| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "address", e))?;
    }
    let added = state
        .store
        .add_contact_method(&handle, &method, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

#[utoipa::path(delete, path = "/users/{handle}/contact-methods/{id}", tag = "people", security(("bearer" = ["responder"])),
    params(("handle" = Handle, Path), ("id" = ContactMethodId, Path)), responses((status = 204), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404)))]
pub async fn remove_method(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((handle, method)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let handle = manageable(&caller, &handle)?;
    let method: ContactMethodId = path_id(&method)?;
    state.store.remove_contact_method(&handle, method).await?;
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
    let handle = manageable(&caller, &handle)?;
    let method = state.store.contact_method(path_id(&method)?).await?;
    if method.user != handle {
        return Err(ApiError::not_found(format!(
            "{handle} has no contact method {}",
            method.id
        )));
    }
    state
        .test_limits
        .check(&handle, method.id)
        .map_err(|refused| ApiError::new(StatusCode::TOO_MANY_REQUESTS, refused))?;
    let now = state.clock.now();
    let test = Delivery {
        user: handle.to_string(),
        contact_method: method.id,
        message: None,
        from: None,
    };
    let job = JobPayload::Notify(test)
        .planned(format!("test/{}/{}", method.id, now.as_millisecond()), now);
    state.store.add_jobs(None, &[job], now).await?;
    state.engine_wake.notify_one();
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
    let handle = readable(&caller, &handle)?;
    state.store.user(&handle).await?;
    Ok(Json(state.store.notification_rules(&handle).await?))
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
    let handle = manageable(&caller, &handle)?;
    let rule = rule.validated()?;
    let added = state.store.add_notification_rule(&handle, &rule).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

#[utoipa::path(delete, path = "/users/{handle}/notification-rules/{id}", tag = "people", security(("bearer" = ["responder"])),
    params(("handle" = Handle, Path), ("id" = NotificationRuleId, Path)), responses((status = 204), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404)))]
pub async fn remove_rule(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((handle, rule)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let handle = manageable(&caller, &handle)?;
    state
        .store
        .remove_notification_rule(&handle, path_id::<NotificationRuleId>(&rule)?)
        .await?;
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
    let new = new.validated()?;
    manageable(&caller, new.user.as_str())?;
    state.store.subscribe(&new.team, &new.user).await?;
    Ok((StatusCode::CREATED, Json(new)))
}

#[utoipa::path(delete, path = "/subscriptions/{team}/{handle}", tag = "people", security(("bearer" = ["responder"])),
    params(("team" = String, Path), ("handle" = Handle, Path)), responses((status = 204), (status = 403, description = "A viewer token, or someone else's without an admin token"), (status = 404)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((team, handle)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let handle = manageable(&caller, &handle)?;
    state.store.unsubscribe(&team, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}
