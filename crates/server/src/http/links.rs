//! `/l/{token}`: the acknowledge and resolve links notifications carry. A link works
//! once, until it expires, and acts as the person it was sent to, with that person's
//! role (a viewer's changes nothing). Opening a link only shows a button (mail scanners
//! open links); the button's POST acts. (A key press or an SMS reply: `http::hooks`.)

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use klaxon_domain::incident::Source;

use crate::app::auth::hash_token;
use crate::app::links;
use crate::infra::state::AppState;

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title></head><body style=\"font-family:sans-serif;max-width:32em;margin:2em auto\">\
         <h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    // A link is a credential: no cache keeps the page, no Referer carries the token to
    // another site, and no other site frames the button to trick a click.
    let headers = [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    ];
    (status, headers, Html(html)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn gone() -> Response {
    page(
        StatusCode::GONE,
        "This link no longer works",
        "<p>It was used already or has expired. Open Klaxon (or run <code>klaxon incident show</code>) to act on the incident.</p>",
    )
}

/// `GET /l/{token}`: what the link will do, and a button to do it.
pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let link = match state
        .store
        .peek_link(&hash_token(&token), state.clock.now())
        .await
    {
        Ok(Some(link)) => link,
        Ok(None) => return gone(),
        Err(e) => return unavailable(e),
    };
    let title = state
        .store
        .incident(link.incident)
        .await
        .map(|i| i.title)
        .unwrap_or_default();
    let verb = if link.action == "resolve" {
        "Resolve"
    } else {
        "Acknowledge"
    };
    let body = format!(
        "<p>{}: {}</p><p>as {}</p><form method=\"post\"><button type=\"submit\" style=\"font-size:1.5em\">{verb}</button></form>",
        link.incident,
        escape(&title),
        escape(link.handle.as_str())
    );
    page(
        StatusCode::OK,
        &format!("{verb} incident {}", link.incident),
        &body,
    )
}

/// `POST /l/{token}`: uses the link up and acts.
pub async fn act(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let link = match state
        .store
        .use_link(&hash_token(&token), state.clock.now())
        .await
    {
        Ok(Some(link)) => link,
        Ok(None) => return gone(),
        Err(e) => return unavailable(e),
    };
    let user = match state.store.user(&link.handle).await {
        Ok(user) => user,
        Err(e) => return unavailable(e),
    };
    // On to the incident room (the web UI asks to sign in first).
    let room = format!(
        "<p><a href=\"/incidents/{n}\">Open incident {}</a></p>",
        link.incident,
        n = link.incident.0
    );
    match links::act_for(&state, user, link.incident, &link.action, Source::Link).await {
        Ok(done) => page(
            StatusCode::OK,
            &done,
            &format!("<p>Thank you. Klaxon has recorded it on the timeline.</p>{room}"),
        ),
        Err(e) => page(
            crate::http::error::status_of(e.kind),
            "Nothing was changed",
            &format!("<p>{}</p>{room}", escape(&e.detail)),
        ),
    }
}

pub(crate) fn unavailable(e: klaxon_store::StoreError) -> Response {
    tracing::error!(error = %e, "action link failed");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Klaxon could not do that now",
        "<p>Please try again in a moment.</p>",
    )
}
