//! Subscribing to the status page without a login: the form on `/status` and its JSON
//! twin, the confirm link and the unsubscribe link (a page with a button, and the
//! one-click POST of RFC 8058 that mail clients send). No CSRF token: these forms act
//! for no signed-in person, and the links carry their own signature. Every answer is a
//! small page (or problem+json for the JSON endpoint) that says what happened.

use std::net::SocketAddr;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::page::{frame, Frame};
use crate::app::error::{AppError, ErrorKind};
use crate::app::subscribers::{self, LinkOutcome, LinkRefusal, PublicSubscription};
use crate::http::error::{status_of, ApiError};
use crate::infra::state::AppState;

/// What a subscription answers, on the page and in JSON: the same whether or not the
/// address was subscribed already, so nobody learns who is.
const ACCEPTED: &str = "If this address is not subscribed yet, we have sent it a mail with a \
     link to confirm. Nothing is sent to it until the link is opened.";

#[derive(Template)]
#[template(path = "status/message.html")]
struct MessagePage<'a> {
    frame: Frame<'a>,
    heading: String,
    text: String,
    /// A button that posts to this URL (the unsubscribe page's).
    button: Option<(String, String)>,
}

fn message(
    state: &AppState,
    status: StatusCode,
    heading: &str,
    text: impl Into<String>,
    button: Option<(String, String)>,
) -> Response {
    let snapshot = state.status_page.get();
    let page = MessagePage {
        frame: frame(
            state,
            &snapshot,
            format!("{heading} - {} Status", snapshot.view.page.name),
        ),
        heading: heading.to_owned(),
        text: text.into(),
        button,
    };
    match page.render() {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "a subscription page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The subscription a form posts: `email`, and `components` once per box ticked.
fn read_form(body: &[u8]) -> Result<PublicSubscription, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| AppError::invalid("email", "the form could not be read; send it again"))?;
    let mut out = PublicSubscription::default();
    let mut components = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "email" => out.email = value,
            "components" => components.push(value),
            _ => {}
        }
    }
    out.components = (!components.is_empty()).then_some(components);
    Ok(out)
}

fn too_large() -> AppError {
    AppError::new(
        ErrorKind::TooLarge,
        format!(
            "the request is larger than {} KiB",
            subscribers::PUBLIC_BODY_LIMIT / 1024
        ),
    )
}

/// `POST /status/subscribe`: the form on the page.
pub async fn subscribe_form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let done = if body.len() > subscribers::PUBLIC_BODY_LIMIT {
        Err(too_large())
    } else {
        match read_form(&body) {
            Ok(request) => subscribers::subscribe(&state, &request, peer.ip()).await,
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(()) => message(&state, StatusCode::OK, "Check your inbox", ACCEPTED, None),
        Err(e) => message(
            &state,
            status_of(e.kind),
            "Not subscribed",
            format!("{} Go back to the status page to try again.", e.detail),
            None,
        ),
    }
}

/// `POST /api/v2/subscribers.json`: `{"email": "…", "components": ["<public id>", …]}`.
pub async fn subscribe_json(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if body.len() > subscribers::PUBLIC_BODY_LIMIT {
        return Err(too_large().into());
    }
    let request: PublicSubscription = serde_json::from_slice(&body).map_err(|e| {
        let status = if e.classify() == serde_json::error::Category::Data {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        let text = e.to_string();
        let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
        ApiError::new(
            status,
            format!("{text}; send {{\"email\": \"you@example.com\", \"components\": [\"<component id>\"]}}"),
        )
    })?;
    subscribers::subscribe(&state, &request, peer.ip()).await?;
    let mut r = (StatusCode::ACCEPTED, Json(json!({ "message": ACCEPTED }))).into_response();
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    Ok(r)
}

/// A signed link's query: the subscriber's id and the signature.
#[derive(Debug, Default, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    s: String,
    #[serde(default)]
    t: String,
}

fn refused(state: &AppState, refusal: LinkRefusal) -> Response {
    match refusal {
        LinkRefusal::Tampered => message(
            state,
            StatusCode::BAD_REQUEST,
            "This link is not valid",
            "The link is incomplete or was changed. Open it exactly as the mail gives it, \
             or subscribe again on the status page.",
            None,
        ),
        LinkRefusal::Gone => message(
            state,
            StatusCode::NOT_FOUND,
            "No such subscription",
            "This subscription was removed or unsubscribed. Subscribe again on the status \
             page if you want updates.",
            None,
        ),
    }
}

fn failed(state: &AppState, e: AppError) -> Response {
    message(
        state,
        status_of(e.kind),
        "Something went wrong",
        format!("{} Try the link again in a minute.", e.detail),
        None,
    )
}

/// `GET /status/subscribers/confirm?s=…&t=…`.
pub async fn confirm(State(state): State<AppState>, Query(q): Query<LinkQuery>) -> Response {
    let name = state.status_config.name.clone();
    match subscribers::confirm(&state, &q.s, &q.t).await {
        Ok(Ok(LinkOutcome::Done(s))) => message(
            &state,
            StatusCode::OK,
            "Subscription confirmed",
            format!(
                "{} will receive {name} Status updates. Every mail has a link to unsubscribe.",
                s.address
            ),
            None,
        ),
        Ok(Ok(_)) => message(
            &state,
            StatusCode::OK,
            "Already confirmed",
            "This subscription was confirmed already; nothing changed.",
            None,
        ),
        Ok(Err(refusal)) => refused(&state, refusal),
        Err(e) => failed(&state, e),
    }
}

/// `GET /status/subscribers/unsubscribe?s=…&t=…`: asks for the press of a button, so
/// that a mail scanner opening the link unsubscribes nobody.
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let name = state.status_config.name.clone();
    match subscribers::unsubscribe(&state, &q.s, &q.t, false).await {
        Ok(Ok(LinkOutcome::Ask(s))) => {
            let action = format!(
                "/status/subscribers/unsubscribe?s={}&t={}",
                urlencode(&q.s),
                urlencode(&q.t)
            );
            message(
                &state,
                StatusCode::OK,
                "Unsubscribe",
                format!("Stop sending {name} Status updates to {}?", s.address),
                Some((action, "Unsubscribe".into())),
            )
        }
        Ok(Ok(_)) => message(
            &state,
            StatusCode::OK,
            "Not subscribed",
            "This address is not subscribed (any more); nothing changed.",
            None,
        ),
        Ok(Err(refusal)) => refused(&state, refusal),
        Err(e) => failed(&state, e),
    }
}

/// `POST /status/subscribers/unsubscribe?s=…&t=…`: the button, and the one-click POST
/// mail clients send (`List-Unsubscribe=One-Click`); the body is not needed.
pub async fn unsubscribe(State(state): State<AppState>, Query(q): Query<LinkQuery>) -> Response {
    let name = state.status_config.name.clone();
    match subscribers::unsubscribe(&state, &q.s, &q.t, true).await {
        Ok(Ok(LinkOutcome::Done(s))) => message(
            &state,
            StatusCode::OK,
            "Unsubscribed",
            format!("{} will receive no more {name} Status updates.", s.address),
            None,
        ),
        Ok(Ok(_)) => message(
            &state,
            StatusCode::OK,
            "Not subscribed",
            "This address is not subscribed (any more); nothing changed.",
            None,
        ),
        Ok(Err(refusal)) => refused(&state, refusal),
        Err(e) => failed(&state, e),
    }
}

/// A query value as it may sit in a URL.
fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)])
        .map(|s| s[2..].to_owned())
        .unwrap_or_default()
}
