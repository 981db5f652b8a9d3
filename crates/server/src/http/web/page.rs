//! What every page shares: the layout (who is signed in, the CSRF token for its forms,
//! the asset paths), rendering a template into a response, and the error page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::app::error::{AppError, ErrorKind};
use crate::app::sessions::WebSession;
use crate::http::error::status_of;
use crate::http::web::assets::{Assets, ASSETS};

/// The parts of a page's frame: the title, the signed-in person and the menu.
pub struct Layout {
    pub title: String,
    /// The signed-in person's handle and role, if any.
    pub user: Option<(String, String)>,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// Which item of the menu is this page's.
    pub section: &'static str,
    pub assets: &'static Assets,
}

impl Layout {
    /// The layout of a page titled `title` in menu section `section`.
    pub fn new(
        session: Option<&WebSession>,
        title: impl Into<String>,
        section: &'static str,
    ) -> Self {
        Self {
            title: title.into(),
            user: session.map(|s| {
                let user = &s.caller.user;
                (user.handle.to_string(), user.role.to_string())
            }),
            csrf: session
                .map(|s| s.csrf.expose().to_owned())
                .unwrap_or_default(),
            section,
            assets: &ASSETS,
        }
    }
}

/// A form field's text, trimmed; `None` when left empty.
pub fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A rendered page with `status`; a template that fails to render is a 500 with the
/// cause in the log.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; the server log has the cause",
            )
                .into_response()
        }
    }
}

/// The page that says why something could not be shown or done.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub message: String,
}

/// The error page for `e`: a 404 page for anything not found (and for restricted
/// incidents the reader may not see, which answer the same).
pub fn error_page(session: Option<&WebSession>, e: &AppError) -> Response {
    let status = status_of(e.kind);
    let title = match e.kind {
        ErrorKind::NotFound => "Not found",
        ErrorKind::Forbidden => "Not allowed",
        ErrorKind::Unavailable | ErrorKind::Internal => "Klaxon could not do that",
        _ => "Nothing was changed",
    };
    let page = ErrorPage {
        layout: Layout::new(session, title, ""),
        status: status.as_u16(),
        message: e.detail.clone(),
    };
    render(status, &page)
}
