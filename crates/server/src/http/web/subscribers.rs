//! `/subscribers` (admins): the status page's subscribers, their addresses (never shown
//! on the public page), what each follows and whether it confirmed, each with a button
//! that removes it. Subscribing happens on the public page, or through the API and CLI.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use klaxon_domain::status::Subscriber;
use klaxon_domain::SubscriberId;

use crate::app::error::AppError;
use crate::app::sessions::WebSession;
use crate::app::{components, subscribers};
use crate::http::web::page::{error_page, render, Layout};
use crate::http::web::refusal::{Forms, Outcome, Refused};
use crate::http::web::session::{NoFields, Posted, Web};
use crate::infra::state::AppState;

/// A subscriber as the list shows it.
pub struct Row {
    id: i64,
    kind: &'static str,
    address: String,
    follows: String,
    confirmed: String,
    created: String,
}

fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn rows(all: &[Subscriber], names: &[(klaxon_domain::ComponentId, String)]) -> Vec<Row> {
    all.iter()
        .map(|s| Row {
            id: s.id.0,
            kind: s.kind.as_str(),
            address: s.address.clone(),
            follows: match &s.components {
                None => "the whole page".to_owned(),
                Some(ids) if ids.is_empty() => {
                    "nothing left (its components were deleted)".to_owned()
                }
                Some(ids) => ids
                    .iter()
                    .map(|id| {
                        names
                            .iter()
                            .find(|(c, _)| c == id)
                            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            confirmed: s
                .confirmed_at
                .map_or_else(|| "waiting for confirmation".to_owned(), when),
            created: when(s.created_at),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "subscribers.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    refused: Option<Refused>,
}

impl Forms for ListPage {
    fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }
}

/// `GET /subscribers`.
pub async fn list(State(state): State<AppState>, Web(session): Web) -> Response {
    list_page(&state, &session, None).await
}

async fn list_page(state: &AppState, session: &WebSession, refused: Option<Refused>) -> Response {
    let built = async {
        let all = subscribers::list(state, &session.caller).await?;
        let names: Vec<_> = components::list(state, &session.caller)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        Ok::<_, AppError>(rows(&all, &names))
    };
    match built.await {
        Ok(rows) => {
            let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
            let page = ListPage {
                layout: Layout::new(Some(session), "Subscribers", "subscribers"),
                rows,
                refused,
            };
            render(status, &page)
        }
        Err(e) => error_page(Some(session), &e),
    }
}

/// `POST /subscribers/{id}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let id = match id.parse() {
        Ok(id) => SubscriberId(id),
        Err(_) => {
            let e = AppError::not_found(format!("there is no subscriber '{id}'"));
            return error_page(Some(&session), &e);
        }
    };
    let done = subscribers::remove(&state, &session.caller, id).await;
    Outcome::of(&session, "remove", "/subscribers", done)
        .answer(|r| list_page(&state, &session, Some(r)))
        .await
}
