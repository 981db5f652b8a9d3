//! The incident page's status-page form: the components an incident affects and the
//! status it gives each, answered like the page's other forms.

use axum::extract::{Path, State};
use axum::response::Response;
use klaxon_domain::status::{ComponentChoice, ComponentStatus};
use klaxon_domain::ComponentId;

use crate::app::error::AppError;
use crate::app::incidents;
use crate::http::web::incident::{answer, number_of};
use crate::http::web::page::error_page;
use crate::http::web::session::Posted;
use crate::infra::state::AppState;

/// `POST /incidents/{number}/components`: the form names `c-{id}` = a status, or "" for
/// a component the incident does not affect.
pub async fn incident_components(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    let n = match number_of(&number) {
        Ok(n) => n,
        Err(e) => return error_page(Some(&session), &e),
    };
    let mut choices = Vec::new();
    let mut bad = None;
    for (name, value) in &fields {
        let Some(id) = name.strip_prefix("c-") else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        match (id.parse(), ComponentStatus::parse(value)) {
            (Ok(id), Ok(status)) => choices.push(ComponentChoice {
                component: ComponentId(id),
                status: Some(status),
            }),
            (Err(_), _) => {
                bad = Some(AppError::invalid(
                    "components",
                    "choose components from the list",
                ))
            }
            (_, Err(e)) => bad = Some(e.into()),
        }
    }
    let done = match bad {
        Some(e) => Err(e),
        None => incidents::set_components(&state, &session.caller, n, &choices)
            .await
            .map(|v| v.incident.number),
    };
    answer(&state, &session, n, "components", done).await
}
