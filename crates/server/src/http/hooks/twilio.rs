//! Twilio's callbacks: a digit pressed during a page call, and an SMS reply (`ACK 42`).
//! Each is checked against Twilio's signature, and acts only from a verified number
//! (`klaxon_domain::paging::verify`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use klaxon_domain::auth::User;
use klaxon_domain::incident::Source;
use klaxon_domain::paging::{verify, ContactKind};
use klaxon_domain::IncidentNumber;
use klaxon_store::{ActionLink, StoreError};

use crate::app::auth::hash_token;
use crate::app::links;
use crate::http::links::unavailable;
use crate::infra::state::AppState;

/// Checks a Twilio webhook's signature over the URL Twilio called (this server's
/// public URL and the path) and its form parameters.
fn twilio_signed(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> bool {
    let (Some(token), Some(signature)) = (
        state
            .channels
            .twilio_auth_token
            .as_ref()
            .map(klaxon_domain::Secret::expose),
        headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    let url = format!("{}{path}", links::public_base(state));
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    klaxon_notify::twilio::verify_signature(token, &url, &pairs, signature)
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
    if !twilio_signed(&state, &format!("/twilio/voice/{token}"), &headers, &params) {
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
    match links::act_for(&state, user, link.incident, "acknowledge", Source::Voice).await {
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
    if !twilio_signed(&state, "/twilio/sms", &headers, &params) {
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
    match links::act_for(&state, user, number, action, Source::Sms).await {
        Ok(done) => reply(&done),
        Err(e) => reply(&e.detail),
    }
}
