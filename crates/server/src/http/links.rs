//! Acting without a login: the acknowledge and resolve links notifications carry, a
//! digit pressed during a voice call, and an SMS reply (`ACK 42`). A link works once,
//! until it expires, and acts as the person it was sent to, with that person's role (a
//! viewer's changes nothing). Opening a link only shows a button (mail scanners open
//! links); the button's POST acts. A reply or key press acts only from a verified number
//! (`klaxon_domain::paging::verify`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use klaxon_domain::auth::{check_may_act, TokenInfo, User};
use klaxon_domain::incident::{Command, Source};
use klaxon_domain::paging::{verify, ContactKind};
use klaxon_domain::IncidentNumber;
use klaxon_store::{ActionLink, StoreError};

use crate::app::auth::{hash_token, Caller};
use crate::app::error::ApiError;
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
    match state
        .act_for(user, link.incident, &link.action, Source::Link)
        .await
    {
        Ok(done) => page(
            StatusCode::OK,
            &done,
            "<p>Thank you. Klaxon has recorded it on the timeline.</p>",
        ),
        Err(e) => page(
            e.status,
            "Nothing was changed",
            &format!("<p>{}</p>", escape(&e.detail)),
        ),
    }
}

impl AppState {
    /// Acknowledges or resolves incident `n` as `user`, with the user's role; a sentence
    /// for the person, or why nothing changed.
    pub(crate) async fn act_for(
        &self,
        user: User,
        n: IncidentNumber,
        action: &str,
        source: Source,
    ) -> Result<String, ApiError> {
        check_may_act(user.role).map_err(ApiError::forbidden)?;
        let token = TokenInfo {
            id: 0,
            name: "action link".into(),
            scope: user.role,
            user: user.handle.clone(),
            created_at: user.created_at,
            revoked_at: None,
        };
        let caller = Caller::new(user, token, source);
        let (command, done) = match action {
            "resolve" => (
                Command::Resolve {
                    root_cause: None,
                    fix: None,
                    at: None,
                },
                "resolved",
            ),
            _ => (Command::Acknowledge { at: None }, "acknowledged"),
        };
        self.act(&caller, n, command).await?;
        Ok(format!("Incident {n} {done}"))
    }

    /// Checks a Twilio webhook's signature over the URL Twilio called (this server's
    /// public URL and the path) and its form parameters.
    fn twilio_signed(&self, path: &str, headers: &HeaderMap, params: &[(String, String)]) -> bool {
        let (Some(token), Some(signature)) = (
            self.channels.twilio_auth_token.as_deref(),
            headers
                .get("x-twilio-signature")
                .and_then(|v| v.to_str().ok()),
        ) else {
            return false;
        };
        let url = format!("{}{path}", self.public_base());
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        klaxon_notify::twilio::verify_signature(token, &url, &pairs, signature)
    }
}

fn twiml(body: &str) -> Response {
    let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{body}</Response>");
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `POST /twilio/voice/{token}`: the digit pressed during a page call; 1 acknowledges.
pub async fn voice(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form(&body);
    if !state.twilio_signed(&format!("/twilio/voice/{token}"), &headers, &params) {
        return (
            StatusCode::FORBIDDEN,
            "the X-Twilio-Signature header does not match",
        )
            .into_response();
    }
    if param(&params, "Digits") != "1" {
        return twiml("<Say>Not acknowledged. Goodbye.</Say>");
    }
    let say = |text: &str| {
        twiml(&format!(
            "<Say>{}</Say>",
            klaxon_notify::twilio::xml_escape(text)
        ))
    };
    let expired = "This page has expired or was answered already.";
    let hash = hash_token(&token);
    let link = match state.store.peek_link(&hash, state.clock.now()).await {
        Ok(Some(link)) => link,
        Ok(None) => return say(expired),
        Err(e) => return unavailable(e),
    };
    let (user, called) = match called(&state, &link).await {
        Ok(found) => found,
        Err(e) => return unavailable(e),
    };
    if let Err(refused) = verify::check_keypress_may_act(called.as_ref(), &user.handle, user.role) {
        return say(&refused);
    }
    match state.store.use_link(&hash, state.clock.now()).await {
        Ok(Some(_)) => {}
        Ok(None) => return say(expired),
        Err(e) => return unavailable(e),
    }
    match state
        .act_for(user, link.incident, "acknowledge", Source::Voice)
        .await
    {
        Ok(done) => say(&format!("{done}. Thank you.")),
        Err(e) => say(&e.detail),
    }
}

/// The link's user, and the contact method its call went to, if it says and it exists.
async fn called(
    state: &AppState,
    link: &ActionLink,
) -> Result<(User, Option<klaxon_domain::paging::ContactMethod>), StoreError> {
    let user = state.store.user(&link.handle).await?;
    let method = match link.contact_method {
        Some(id) => match state.store.contact_method(id).await {
            Ok(m) => Some(m),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    Ok((user, method))
}

/// `POST /twilio/sms`: a reply to a page, `ACK 42` or `RESOLVE 42`, from a phone number
/// one of Klaxon's users has as a verified SMS contact method; it acts with their role.
pub async fn sms(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let params = form(&body);
    if !state.twilio_signed("/twilio/sms", &headers, &params) {
        return (
            StatusCode::FORBIDDEN,
            "the X-Twilio-Signature header does not match",
        )
            .into_response();
    }
    let reply = |text: &str| {
        twiml(&format!(
            "<Message>{}</Message>",
            klaxon_notify::twilio::xml_escape(text)
        ))
    };
    let words: Vec<String> = param(&params, "Body")
        .split_whitespace()
        .map(str::to_uppercase)
        .collect();
    let (action, number) = match words.as_slice() {
        [verb, n] if verb == "ACK" || verb == "RESOLVE" => match IncidentNumber::parse(n) {
            Ok(n) => (
                if verb == "ACK" {
                    "acknowledge"
                } else {
                    "resolve"
                },
                n,
            ),
            Err(_) => return reply("Reply ACK or RESOLVE and the incident number, e.g. ACK 42."),
        },
        _ => return reply("Reply ACK or RESOLVE and the incident number, e.g. ACK 42."),
    };
    let from = param(&params, "From");
    let method = match state
        .store
        .contact_method_by_address(ContactKind::Sms, from)
        .await
    {
        Ok(Some(method)) => method,
        Ok(None) => return reply("This number is not an SMS contact method of any Klaxon user."),
        Err(e) => return unavailable(e),
    };
    let user = match state.store.user(&method.user).await {
        Ok(user) => user,
        Err(e) => return unavailable(e),
    };
    if let Err(refused) = verify::check_phone_may_act(&method, user.role) {
        return reply(&refused);
    }
    match state.act_for(user, number, action, Source::Sms).await {
        Ok(done) => reply(&done),
        Err(e) => reply(&e.detail),
    }
}

fn unavailable(e: klaxon_store::StoreError) -> Response {
    tracing::error!(error = %e, "action link failed");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Klaxon could not do that now",
        "<p>Please try again in a moment.</p>",
    )
}
