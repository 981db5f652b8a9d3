//! Reports across incidents.

use axum::extract::State;
use axum::Json;
use klaxon_domain::metrics::Report;

use crate::app::auth::Caller;
use crate::app::reports::{self, ReportQuery};
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::infra::state::AppState;

#[utoipa::path(get, path = "/reports", tag = "reports", params(ReportQuery),
    responses((status = 200, body = Report, description = "Drills, declined and merged incidents left out; restricted ones only for those who may see them"),
        (status = 422, description = "A window that ends before it starts or is longer than 731 days, an unknown service or severity")))]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(reports::report(&state, &caller, &query).await?))
}
