//! `/actions`: action items across the incidents the reader may see, by deadline, with
//! filters (mine, overdue, still owed) and a status form per item.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use klaxon_domain::auth::Scope;
use klaxon_domain::review::api::ActionQuery;
use klaxon_domain::review::{ActionItemPatch, ActionItemRef, ActionStatus, ListedAction};
use serde::Deserialize;

use crate::app::reviews;
use crate::http::web::page::{error_page, render, Layout};
use crate::http::web::session::{Posted, Web};
use crate::infra::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    pending: Option<String>,
}

#[derive(Template)]
#[template(path = "actions.html")]
struct ActionsPage {
    layout: Layout,
    items: Vec<ListedAction>,
    mine: bool,
    overdue: bool,
    pending: bool,
    can_act: bool,
}

/// `GET /actions`.
pub async fn list(
    State(state): State<AppState>,
    Web(session): Web,
    Query(f): Query<Filters>,
) -> Response {
    let (mine, overdue, pending) = (f.mine.is_some(), f.overdue.is_some(), f.pending.is_some());
    let query = ActionQuery {
        mine: Some(mine),
        overdue: Some(overdue),
        pending: Some(pending),
        ..Default::default()
    };
    match reviews::actions(&state, &session.caller, query).await {
        Ok(items) => render(
            StatusCode::OK,
            &ActionsPage {
                layout: Layout::new(Some(&session), "Action items", "actions"),
                items,
                mine,
                overdue,
                pending,
                can_act: session.caller.scope.allows(Scope::Responder),
            },
        ),
        Err(e) => error_page(Some(&session), &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
}

/// `POST /actions/{item}`: sets an item's status, then back to the list.
pub async fn set_status(
    State(state): State<AppState>,
    Path(item): Path<String>,
    Posted(session, form): Posted<StatusForm>,
) -> Response {
    let done = async {
        let r: ActionItemRef = item.parse()?;
        let patch = ActionItemPatch {
            status: Some(ActionStatus::parse(&form.status)?),
            ..Default::default()
        };
        reviews::update_action(&state, &session.caller, r, patch).await
    };
    match done.await {
        Ok(_) => Redirect::to("/actions").into_response(),
        Err(e) => error_page(Some(&session), &e),
    }
}
