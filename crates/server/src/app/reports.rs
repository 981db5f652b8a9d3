//! Reports across incidents: the window and filters a person asks for, checked, the
//! facts read (restricted incidents only for those who may see them) and the domain's
//! metrics computed over them.

use klaxon_domain::auth::Scope;
use klaxon_domain::metrics::{self, Report};
use klaxon_domain::service::ServiceName;
use klaxon_domain::time::parse_instant_or_ago;
use klaxon_domain::Severity;
use klaxon_store::{FactsFilter, StoreError};
use serde::Deserialize;

use crate::app::auth::Caller;
use crate::app::error::AppError;
use crate::infra::state::AppState;

/// The longest window one report covers.
const MAX_DAYS: i64 = 731;

/// What a report covers, as a person writes it.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// From: an instant (RFC 3339) or a time ago (`30d`, `12 weeks`); 30 days ago by
    /// default.
    pub since: Option<String>,
    /// Until: an instant or a time ago; now by default.
    pub until: Option<String>,
    /// Only this service's incidents.
    pub service: Option<String>,
    /// Only incidents of this severity (`2` or `SEV2`).
    pub severity: Option<String>,
}

/// The report `query` asks for, as `caller` may see it.
pub async fn report(
    state: &AppState,
    caller: &Caller,
    query: &ReportQuery,
) -> Result<Report, AppError> {
    caller.require(Scope::Viewer)?;
    let now = state.clock.now();
    let since = parse_instant_or_ago("since", query.since.as_deref().unwrap_or("30d"), now)?;
    let until = match query
        .until
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(u) => parse_instant_or_ago("until", u, now)?,
        None => now,
    };
    if until <= since {
        return Err(AppError::invalid(
            "until",
            "the window must end after it starts",
        ));
    }
    if until.duration_since(since).as_hours() > MAX_DAYS * 24 {
        return Err(AppError::invalid(
            "since",
            format!("a report covers at most {MAX_DAYS} days"),
        ));
    }
    let severity = match query
        .severity
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(Severity::parse(s)?),
        None => None,
    };
    let service = match query
        .service
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => {
            let name = ServiceName::parse(s).map_err(|_| {
                AppError::invalid("service", format!("'{s}' is not a service name"))
            })?;
            match state.store.service(&name).await {
                Ok(_) => Some(name.to_string()),
                Err(StoreError::NotFound(_)) => {
                    return Err(AppError::invalid(
                        "service",
                        format!("there is no service '{s}'; see `klaxon service list`"),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
    };
    let filter = FactsFilter {
        since,
        until,
        severity,
        service,
        viewer: caller.viewer(),
    };
    let facts = state.store.incident_facts(&filter).await?;
    Ok(metrics::report(&facts, &state.policy, since, until))
}
