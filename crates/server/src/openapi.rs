//! The OpenAPI document, served at `/api/v1/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "Klaxon", description = "Incident response: declare, coordinate, record. Every route needs `Authorization: Bearer <token>`; errors are application/problem+json."),
    servers((url = "/api/v1")),
    paths(
        api::system::policy,
        api::users::me, api::users::list, api::users::create,
        api::users::tokens, api::users::create_token, api::users::revoke_token,
        api::incidents::list, api::incidents::declare, api::incidents::show,
        api::incidents::ack, api::incidents::assign, api::incidents::relieve, api::incidents::severity,
        api::incidents::update, api::incidents::mitigate, api::incidents::resolve, api::incidents::close,
        api::incidents::reopen, api::incidents::decline, api::incidents::merge, api::incidents::note,
        api::incidents::evidence,
        api::services::list, api::services::create, api::services::show, api::services::update,
        api::services::delete, api::services::add_key, api::services::rotate_key, api::services::revoke_key,
        api::services::maintenance, api::services::add_maintenance, api::services::remove_maintenance,
        api::services::heartbeats, api::services::create_heartbeat,
        api::alerts::list, api::alerts::show, api::alerts::ack, api::alerts::resolve,
        api::people::methods, api::people::add_method, api::people::remove_method, api::people::test_method,
        api::people::rules, api::people::add_rule, api::people::remove_rule,
        api::people::subscriptions, api::people::subscribe, api::people::unsubscribe,
        api::schedules::list, api::schedules::create, api::schedules::show, api::schedules::replace,
        api::schedules::delete, api::schedules::shifts, api::schedules::on_call,
        api::schedules::schedule_calendar, api::schedules::user_calendar,
        api::escalation::list, api::escalation::create, api::escalation::show, api::escalation::replace,
        api::escalation::delete, api::escalation::on_call, api::escalation::page,
    ),
    components(schemas(klaxon_domain::api::Problem, klaxon_domain::api::FieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
