//! The signed-in person of a page request, from the session cookie; forms checked for
//! their CSRF token; `/login` and `/logout`.
//!
//! The session cookie is `HttpOnly`, `SameSite=Lax`, `Secure` when the public URL is
//! https, and holds a random token whose hash names the session in the database. The
//! sign-in form, before any session exists, is protected by a second cookie whose value
//! the form must repeat.

use std::net::SocketAddr;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use klaxon_domain::session::SESSION_MAX;
use klaxon_domain::Secret;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::app::auth::random_hex;
use crate::app::error::{AppError, ErrorKind};
use crate::app::sessions::{self, constant_time_eq, WebSession};
use crate::http::web::page::{error_page, render, Layout};
use crate::infra::state::AppState;

const SESSION_COOKIE: &str = "klaxon_session";
const LOGIN_COOKIE: &str = "klaxon_login";
/// The largest form the web UI reads (evidence text included).
pub const FORM_LIMIT: usize = 256 * 1024;

/// The signed-in person of a page request. A request without a live session is sent
/// to `/login`, and back to the page once signed in.
pub struct Web(pub WebSession);

/// The signed-in person, if any.
pub struct MaybeWeb(pub Option<WebSession>);

/// Why a page request has no session: send the browser to sign in.
pub enum NoSession {
    SignIn { next: String, htmx: bool },
    Failed(AppError),
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::SignIn { next, htmx } => {
                let to = format!("/login?next={}", urlencode(&next));
                if htmx {
                    // htmx follows a redirect inside the page; this tells it to leave.
                    let mut r = StatusCode::NO_CONTENT.into_response();
                    if let Ok(v) = HeaderValue::from_str(&to) {
                        r.headers_mut().insert("hx-redirect", v);
                    }
                    r
                } else {
                    Redirect::to(&to).into_response()
                }
            }
            NoSession::Failed(e) => error_page(None, &e),
        }
    }
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse_encoded)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

async fn session_of(parts: &Parts, state: &AppState) -> Result<Option<WebSession>, AppError> {
    match cookie_value(&parts.headers, SESSION_COOKIE) {
        Some(token) => sessions::session(state, &token).await,
        None => Ok(None),
    }
}

impl FromRequestParts<AppState> for MaybeWeb {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NoSession> {
        session_of(parts, state)
            .await
            .map(MaybeWeb)
            .map_err(NoSession::Failed)
    }
}

impl FromRequestParts<AppState> for Web {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NoSession> {
        match session_of(parts, state).await.map_err(NoSession::Failed)? {
            Some(session) => Ok(Web(session)),
            None => {
                let htmx = parts.headers.contains_key("hx-request");
                // After signing in, come back to the page (not to a form's target).
                let next = if parts.method == axum::http::Method::GET && !htmx {
                    parts
                        .uri
                        .path_and_query()
                        .map_or("/", |p| p.as_str())
                        .to_owned()
                } else {
                    parts
                        .headers
                        .get(header::REFERER)
                        .and_then(|r| r.to_str().ok())
                        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
                        .and_then(|r| r.find('/').map(|i| r[i..].to_owned()))
                        .unwrap_or_else(|| "/".to_owned())
                };
                Err(NoSession::SignIn { next, htmx })
            }
        }
    }
}

/// A form whose only field is its CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

/// A form posted by a signed-in person, its CSRF token checked: a form whose token is
/// missing or wrong is refused with 403 before anything is read from it.
pub struct Posted<T>(pub WebSession, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Web(session) = Web::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            let e = AppError::new(
                ErrorKind::TooLarge,
                format!("the form is larger than {} KiB", FORM_LIMIT / 1024),
            );
            error_page(Some(&session), &e)
        })?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let token = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        if !token.is_some_and(|t| sessions::csrf_matches(&session, t)) {
            tracing::info!(user = %session.caller.user.handle, "form refused: CSRF token missing or wrong");
            let e = AppError::forbidden(
                "this form is out of date or came from another site; reload the page and try again",
            );
            return Err(error_page(Some(&session), &e));
        }
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(form) => Ok(Posted(session, form)),
            Err(e) => {
                let e = AppError::new(
                    ErrorKind::Invalid,
                    format!("the form could not be read: {e}"),
                );
                Err(error_page(Some(&session), &e))
            }
        }
    }
}

/// The session cookie, set or cleared; `Secure` when the server is reached over https.
fn session_cookie(state: &AppState, value: Option<&Secret>) -> HeaderValue {
    let secure = state
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let mut c = Cookie::build((SESSION_COOKIE, value.map_or("", Secret::expose).to_owned()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax);
    c = match value {
        Some(_) => c.max_age(cookie::time::Duration::seconds(SESSION_MAX.as_secs())),
        None => c.max_age(cookie::time::Duration::ZERO),
    };
    HeaderValue::from_str(&c.build().encoded().to_string()).expect("a cookie is a header value")
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    handle: String,
    login_csrf: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Where to go after signing in: a path on this server, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn login_page(status: StatusCode, next: &str, handle: &str, error: Option<String>) -> Response {
    let login_csrf = random_hex(16);
    let page = LoginPage {
        layout: Layout::new(None, "Sign in", ""),
        next: next.to_owned(),
        handle: handle.to_owned(),
        login_csrf: login_csrf.clone(),
        error,
    };
    let mut response = render(status, &page);
    let cookie = Cookie::build((LOGIN_COOKIE, login_csrf))
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    if let Ok(v) = HeaderValue::from_str(&cookie.encoded().to_string()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `GET /login`: the sign-in form, or on to the page if signed in already.
pub async fn login_form(MaybeWeb(session): MaybeWeb, Query(q): Query<LoginQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    if session.is_some() {
        return Redirect::to(&next).into_response();
    }
    login_page(StatusCode::OK, &next, "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    login_csrf: String,
}

/// `POST /login`: signs in and goes on to `next`, or shows the form again with why not.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: LoginForm = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(_) => {
            return login_page(
                StatusCode::BAD_REQUEST,
                "/",
                "",
                Some("the form could not be read; try again".into()),
            )
        }
    };
    let next = safe_next(form.next.as_deref());
    let expected = cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.login_csrf.as_bytes()) {
        return login_page(
            StatusCode::FORBIDDEN,
            &next,
            &form.handle,
            Some("this form is out of date or came from another site; try again".into()),
        );
    }
    match sessions::sign_in(&state, &form.handle, Secret::new(form.password), peer.ip()).await {
        Ok(signed_in) => {
            let mut response = Redirect::to(&next).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&state, Some(&signed_in.token)),
            );
            response
        }
        Err(e) => {
            let status = crate::http::error::status_of(e.kind);
            let message = e.errors.first().map_or(e.detail, |f| f.message.clone());
            login_page(status, &next, &form.handle, Some(message))
        }
    }
}

/// `POST /logout`: ends the session everywhere and goes to the sign-in page.
pub async fn logout(
    State(state): State<AppState>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    if let Err(e) = sessions::sign_out(&state, &session).await {
        return error_page(Some(&session), &e);
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(&state, None));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/incidents/4")), "/incidents/4");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
