//! Routes: the JSON API under `/api/v1`, the ingest endpoints, the links and inbound
//! hooks, health and metrics, the web UI and the public status page, each to its handler.

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{CompressionLayer, CompressionLevel};

use crate::http::api::{
    alerts, components, escalation, incidents, maintenances, people, reports, reviews, schedules,
    services, subscribers, system, users,
};
use crate::http::error::ApiError;
use crate::http::extract::BODY_LIMIT;
use crate::infra::state::AppState;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/policy", get(system::policy))
        .route("/me", get(users::me))
        .route("/incidents", get(incidents::list).post(incidents::declare))
        .route("/incidents/{number}", get(incidents::show))
        .route("/incidents/{number}/ack", post(incidents::ack))
        .route("/incidents/{number}/assign", post(incidents::assign))
        .route("/incidents/{number}/relieve", post(incidents::relieve))
        .route("/incidents/{number}/severity", post(incidents::severity))
        .route("/incidents/{number}/updates", post(incidents::update))
        .route("/incidents/{number}/mitigate", post(incidents::mitigate))
        .route("/incidents/{number}/resolve", post(incidents::resolve))
        .route("/incidents/{number}/close", post(incidents::close))
        .route("/incidents/{number}/reopen", post(incidents::reopen))
        .route("/incidents/{number}/decline", post(incidents::decline))
        .route("/incidents/{number}/merge", post(incidents::merge))
        .route("/incidents/{number}/notes", post(incidents::note))
        .route("/incidents/{number}/evidence", post(incidents::evidence))
        .route(
            "/incidents/{number}/components",
            post(incidents::components),
        )
        .route(
            "/components",
            get(components::list).post(components::create),
        )
        .route(
            "/components/{id}",
            get(components::show)
                .patch(components::update)
                .delete(components::delete),
        )
        .route(
            "/maintenances",
            get(maintenances::list).post(maintenances::schedule),
        )
        .route(
            "/maintenances/{id}",
            get(maintenances::show).patch(maintenances::change),
        )
        .route("/maintenances/{id}/updates", post(maintenances::post))
        .route(
            "/subscribers",
            get(subscribers::list).post(subscribers::create),
        )
        .route(
            "/subscribers/{id}",
            axum::routing::delete(subscribers::delete),
        )
        .merge(review_routes())
        .route("/users", get(users::list).post(users::create))
        .route("/users/{handle}", axum::routing::patch(users::update))
        .route(
            "/users/{handle}/password",
            axum::routing::put(users::set_password),
        )
        .route("/tokens", get(users::tokens).post(users::create_token))
        .route("/tokens/{id}/revoke", post(users::revoke_token))
        .route("/services", get(services::list).post(services::create))
        .route(
            "/services/{name}",
            get(services::show)
                .patch(services::update)
                .delete(services::delete),
        )
        .route("/services/{name}/keys", post(services::add_key))
        .route(
            "/services/{name}/maintenance",
            get(services::maintenance).post(services::add_maintenance),
        )
        .route(
            "/services/{name}/maintenance/{id}",
            axum::routing::delete(services::remove_maintenance),
        )
        .route(
            "/services/{name}/keys/{id}/rotate",
            post(services::rotate_key),
        )
        .route(
            "/services/{name}/keys/{id}/revoke",
            post(services::revoke_key),
        )
        .route(
            "/heartbeats",
            get(services::heartbeats).post(services::create_heartbeat),
        )
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::show))
        .route("/alerts/{id}/ack", post(alerts::ack))
        .route("/alerts/{id}/resolve", post(alerts::resolve))
        .route(
            "/users/{handle}/contact-methods",
            get(people::methods).post(people::add_method),
        )
        .route(
            "/users/{handle}/contact-methods/{id}",
            axum::routing::delete(people::remove_method),
        )
        .route(
            "/users/{handle}/contact-methods/{id}/test",
            post(people::test_method),
        )
        .route(
            "/users/{handle}/contact-methods/{id}/code",
            post(people::send_code),
        )
        .route(
            "/users/{handle}/contact-methods/{id}/verify",
            post(people::verify),
        )
        .route(
            "/users/{handle}/notification-rules",
            get(people::rules).post(people::add_rule),
        )
        .route(
            "/users/{handle}/notification-rules/{id}",
            axum::routing::delete(people::remove_rule),
        )
        .route(
            "/users/{handle}/calendar.ics",
            get(schedules::user_calendar),
        )
        .route(
            "/subscriptions",
            get(people::subscriptions).post(people::subscribe),
        )
        .route(
            "/subscriptions/{team}/{handle}",
            axum::routing::delete(people::unsubscribe),
        )
        .route("/schedules", get(schedules::list).post(schedules::create))
        .route(
            "/schedules/{name}",
            get(schedules::show)
                .put(schedules::replace)
                .delete(schedules::delete),
        )
        .route("/schedules/{name}/shifts", get(schedules::shifts))
        .route("/schedules/{name}/oncall", get(schedules::on_call))
        .route(
            "/schedules/{name}/calendar.ics",
            get(schedules::schedule_calendar),
        )
        .route(
            "/escalation-policies",
            get(escalation::list).post(escalation::create),
        )
        .route(
            "/escalation-policies/{name}",
            get(escalation::show)
                .put(escalation::replace)
                .delete(escalation::delete),
        )
        .route("/oncall", get(escalation::on_call))
        .route("/page", post(escalation::page))
        .route("/reports", get(reports::report))
        .route("/openapi.json", get(crate::http::openapi::openapi));
    let ingest = Router::new()
        .route("/v2/enqueue", post(crate::http::ingest::pagerduty::enqueue))
        .route(
            "/v2/change/enqueue",
            post(crate::http::ingest::pagerduty::change_enqueue),
        )
        .route(
            "/generic/2010-04-15/create_event.json",
            post(crate::http::ingest::pagerduty::create_event_v1),
        )
        .route(
            "/ingest/{format}/{key}",
            post(crate::http::ingest::webhooks::ingest),
        )
        .route(
            "/heartbeat/{key}",
            post(crate::http::ingest::heartbeats::ping),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::http::ingest::INGEST_BODY_LIMIT,
        ));
    Router::new()
        .merge(ingest)
        .route(
            "/l/{token}",
            get(crate::http::links::show).post(crate::http::links::act),
        )
        .route(
            "/twilio/voice/{token}",
            post(crate::http::hooks::twilio::voice),
        )
        .route("/twilio/sms", post(crate::http::hooks::twilio::sms))
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(system::metrics))
        .nest("/api/v1", api)
        .merge(crate::http::web::routes())
        .merge(crate::http::status::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::metrics::track,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::status::on_status_host,
        ))
        .layer(compression())
        .layer(CatchPanicLayer::custom(crate::http::error::panicked))
        .with_state(state)
}

/// Gzip for clients that accept it: pages, assets and JSON lists shrink five- to
/// tenfold. The default predicate leaves server-sent events alone (compressing them
/// would hold events back until a block fills), and bodies under 32 bytes. The fastest
/// level: at the default, compressing the dashboard cost as much CPU as rendering it.
fn compression() -> CompressionLayer {
    CompressionLayer::new().quality(CompressionLevel::Fastest)
}

/// The post-incident review of an incident, and action items across incidents.
fn review_routes() -> Router<AppState> {
    use axum::routing::put;
    Router::new()
        .route(
            "/incidents/{number}/review",
            get(reviews::show)
                .post(reviews::open)
                .patch(reviews::settings),
        )
        .route("/incidents/{number}/review/summary", put(reviews::summary))
        .route("/incidents/{number}/review/impact", put(reviews::impact))
        .route(
            "/incidents/{number}/review/root-cause",
            put(reviews::root_cause),
        )
        .route("/incidents/{number}/review/lessons", put(reviews::lessons))
        .route("/incidents/{number}/review/meeting", put(reviews::meeting))
        .route("/incidents/{number}/review/whys", put(reviews::set_whys))
        .route(
            "/incidents/{number}/review/whys/nodes",
            post(reviews::add_why),
        )
        .route(
            "/incidents/{number}/review/timeline/{seq}",
            put(reviews::note),
        )
        .route("/incidents/{number}/review/status", post(reviews::status))
        .route("/incidents/{number}/review/export", get(reviews::export))
        .route(
            "/incidents/{number}/review/actions",
            post(reviews::add_action),
        )
        .route("/actions", get(reviews::actions))
        .route(
            "/actions/{item}",
            get(reviews::action).patch(reviews::update_action),
        )
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no such route: {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}
