//! What the service and people pages share about their forms: why a form was
//! refused, shown next to the field at fault, and how a form's answer is chosen: on to
//! the page, the error page, or the page again with the refusal.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::error::{AppError, ErrorKind};
use crate::app::sessions::WebSession;
use crate::http::error::status_of;
use crate::http::web::page::error_page;

/// Why form `form` was refused: the field at fault (as the form names it), if one, and
/// the message, with the status the page answers.
pub struct Refused {
    pub form: &'static str,
    pub field: Option<String>,
    pub message: String,
    pub status: StatusCode,
}

impl Refused {
    pub fn new(form: &'static str, e: &AppError) -> Refused {
        let first = e.errors.first();
        Refused {
            form,
            field: first.map(|f| form_field(&f.field).to_owned()),
            message: first.map_or_else(|| e.detail.clone(), |f| f.message.clone()),
            status: status_of(e.kind),
        }
    }
}

/// The form field a rule's field stands for: `rules.escalation_policy` is the form's
/// `escalation_policy`, `grouping.minutes` its `grouping`.
fn form_field(field: &str) -> &str {
    let field = field.strip_prefix("rules.").unwrap_or(field);
    field.split('.').next().unwrap_or(field)
}

/// A page with forms that may come back refused.
pub trait Forms {
    fn refused(&self) -> Option<&Refused>;

    /// The refusal's message if it belongs next to `field` of `form`.
    fn error_at(&self, form: &str, field: &str) -> Option<&str> {
        self.refused()
            .filter(|r| r.form == form && r.field.as_deref() == Some(field))
            .map(|r| r.message.as_str())
    }

    /// The refusal's message if it is about `form` but none of `fields`: shown below
    /// the form.
    fn error_below(&self, form: &str, fields: &[&str]) -> Option<&str> {
        self.refused()
            .filter(|r| r.form == form && r.field.as_deref().is_none_or(|f| !fields.contains(&f)))
            .map(|r| r.message.as_str())
    }

    /// Whether form `form` was refused, so that its section opens.
    fn opened(&self, form: &str) -> bool {
        self.refused().is_some_and(|r| r.form == form)
    }
}

/// How a form's outcome is answered.
pub enum Outcome {
    /// Done: on to `to` (303).
    Done(String),
    /// Refused for a reason worth showing next to the form.
    Refused(Refused),
    /// Not allowed, or what it names is gone: the error page.
    Failed(Response),
}

impl Outcome {
    /// `done` as an outcome of form `form`: on to `to`, or why not. A refusal without a
    /// field that says "not found" or "not allowed" is the error page.
    pub fn of<T>(
        session: &WebSession,
        form: &'static str,
        to: impl Into<String>,
        done: Result<T, AppError>,
    ) -> Outcome {
        match done {
            Ok(_) => Outcome::Done(to.into()),
            Err(e) => Outcome::refusal(session, form, e),
        }
    }

    /// Why form `form` was not done.
    pub fn refusal(session: &WebSession, form: &'static str, e: AppError) -> Outcome {
        if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Forbidden) && e.errors.is_empty() {
            Outcome::Failed(error_page(Some(session), &e))
        } else {
            Outcome::Refused(Refused::new(form, &e))
        }
    }

    /// The response, with `again` showing the page with a refusal.
    pub async fn answer<F, Fut>(self, again: F) -> Response
    where
        F: FnOnce(Refused) -> Fut,
        Fut: std::future::Future<Output = Response>,
    {
        match self {
            Outcome::Done(to) => Redirect::to(&to).into_response(),
            Outcome::Refused(r) => again(r).await,
            Outcome::Failed(response) => response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_fields_are_the_forms_fields() {
        assert_eq!(form_field("rules.escalation_policy"), "escalation_policy");
        assert_eq!(form_field("grouping.minutes"), "grouping");
        assert_eq!(form_field("address"), "address");
    }
}
