//! The web UI: server-rendered pages (askama templates in `templates/`) over the same
//! application layer as the JSON API, each readable and each form usable without
//! JavaScript; htmx (vendored, `static/`) refreshes the dashboard and previews status
//! updates, and a few lines of script follow a live timeline.

mod actions;
mod assets;
mod components;
mod dashboard;
mod declare;
mod escalation;
mod form;
mod incident;
mod incident_components;
mod live;
mod maintenances;
mod markdown;
mod page;
mod people;
mod refusal;
mod reports;
mod review;
mod schedule_form;
mod schedules;
mod service_forms;
mod services;
mod session;
mod show;
mod subscribers;

use axum::routing::{get, post};
use axum::Router;

use crate::infra::state::AppState;

/// The printable HTML of a review, for the API's export.
pub fn printable_review(view: &klaxon_domain::review::ReviewView) -> axum::response::Response {
    review::printable(view)
}

/// The pages and their forms.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/oncall", get(dashboard::on_call))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/incidents", post(declare::declare))
        .route("/incidents/new", get(declare::form))
        .route("/incidents/{number}", get(incident::show))
        .route("/incidents/{number}/live", get(live::live))
        .route("/incidents/{number}/preview", post(incident::preview))
        .route(
            "/incidents/{number}/evidence-file",
            post(incident::evidence_file),
        )
        .route(
            "/incidents/{number}/components",
            post(incident_components::incident_components),
        )
        .route("/incidents/{number}/{action}", post(incident::act))
        .route(
            "/components",
            get(components::list).post(components::create),
        )
        .route(
            "/components/{id}",
            get(components::show).post(components::update),
        )
        .route("/components/{id}/status", post(components::set_status))
        .route("/components/{id}/delete", post(components::delete))
        .route(
            "/maintenances",
            get(maintenances::list).post(maintenances::schedule),
        )
        .route(
            "/maintenances/{id}",
            get(maintenances::show).post(maintenances::change),
        )
        .route("/maintenances/{id}/updates", post(maintenances::post))
        .route("/subscribers", get(subscribers::list))
        .route("/subscribers/{id}/remove", post(subscribers::remove))
        .route("/incidents/{number}/review", get(review::show))
        .route("/incidents/{number}/review/print", get(review::print))
        .route(
            "/incidents/{number}/review/report.md",
            get(review::markdown),
        )
        .route("/incidents/{number}/review/{form}", post(review::act))
        .route("/actions", get(actions::list))
        .route("/actions/{item}", post(actions::set_status))
        .route(
            "/schedules",
            get(schedules::list).post(schedule_form::create),
        )
        .route("/schedules/new", get(schedule_form::new_form))
        .route(
            "/schedules/{name}",
            get(schedules::show).post(schedule_form::update),
        )
        .route("/schedules/{name}/edit", get(schedule_form::edit_form))
        .route("/schedules/{name}/delete", post(schedules::delete))
        .route("/schedules/{name}/calendar.ics", get(schedules::calendar))
        .route("/schedules/{name}/overrides", post(schedules::add_override))
        .route(
            "/schedules/{name}/overrides/{index}/remove",
            post(schedules::remove_override),
        )
        .route(
            "/escalation-policies",
            get(escalation::list).post(escalation::create),
        )
        .route("/escalation-policies/new", get(escalation::new_form))
        .route(
            "/escalation-policies/{name}",
            get(escalation::show).post(escalation::update),
        )
        .route(
            "/escalation-policies/{name}/edit",
            get(escalation::edit_form),
        )
        .route(
            "/escalation-policies/{name}/delete",
            post(escalation::delete),
        )
        .route("/services", get(services::list).post(service_forms::create))
        .route("/services/{name}", get(services::show))
        .route("/services/{name}/settings", post(service_forms::settings))
        .route("/services/{name}/delete", post(service_forms::delete))
        .route("/services/{name}/keys", post(service_forms::add_key))
        .route(
            "/services/{name}/keys/{id}/rotate",
            post(service_forms::rotate_key),
        )
        .route(
            "/services/{name}/keys/{id}/revoke",
            post(service_forms::revoke_key),
        )
        .route(
            "/services/{name}/maintenance",
            post(service_forms::add_window),
        )
        .route(
            "/services/{name}/maintenance/{id}/end",
            post(service_forms::end_window),
        )
        .route(
            "/services/{name}/heartbeats",
            post(service_forms::add_heartbeat),
        )
        .route("/people", get(people::list))
        .route("/people/{handle}", get(people::show))
        .route("/people/{handle}/contact-methods", post(people::add_method))
        .route(
            "/people/{handle}/contact-methods/{id}/verify",
            post(people::verify),
        )
        .route(
            "/people/{handle}/contact-methods/{id}/{action}",
            post(people::method_action),
        )
        .route(
            "/people/{handle}/notification-rules",
            post(people::add_rule),
        )
        .route(
            "/people/{handle}/notification-rules/{id}/remove",
            post(people::remove_rule),
        )
        .route("/reports", get(reports::show))
        .route("/static/{file}", get(assets::serve))
        .layer(axum::extract::DefaultBodyLimit::max(session::FORM_LIMIT))
}
