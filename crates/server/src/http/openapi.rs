//! The OpenAPI document, served at `/api/v1/openapi.json`.
//!
//! Handlers document what is theirs: their parameters, body, answers, the scope they need
//! (`security(("bearer" = ["responder"]))`) and the refusals only they make (404, 409, a
//! 422 for a query value out of range). [`ErrorAnswers`] adds what the extractors and
//! the token check answer on every route, so that no operation repeats them by hand and
//! none forgets one: 401 everywhere, 403 where the scope needed is above viewer, 400 where
//! a parameter or body is parsed, 413/415/422 where a JSON body is read, and 500. Every
//! error answer is an `application/problem+json` [`Problem`].

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{Schema, SchemaType};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Content, ObjectBuilder, Ref, RefOr, Required, Response, ResponseBuilder, Type,
};
use utoipa::{Modify, OpenApi};

use axum::response::IntoResponse;
use axum::Json;
use klaxon_domain::api::Problem;
use klaxon_domain::auth::Scope;

use crate::app::auth::Caller;
use crate::http::api;
use crate::http::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "Klaxon", description = "Incident response: declare, coordinate, record. Every route needs `Authorization: Bearer <token>`; an operation's security requirement names the least scope its token needs (viewer < responder < admin; none named: viewer). Errors are application/problem+json."),
    servers((url = "/api/v1")),
    paths(
        api::system::policy, openapi,
        api::users::me, api::users::list, api::users::create, api::users::update, api::users::set_password,
        api::users::tokens, api::users::create_token, api::users::revoke_token,
        api::incidents::list, api::incidents::declare, api::incidents::show,
        api::incidents::ack, api::incidents::assign, api::incidents::relieve, api::incidents::severity,
        api::incidents::update, api::incidents::mitigate, api::incidents::resolve, api::incidents::close,
        api::incidents::reopen, api::incidents::decline, api::incidents::merge, api::incidents::note,
        api::incidents::evidence, api::incidents::components,
        api::components::list, api::components::create, api::components::show, api::components::update,
        api::components::delete,
        api::maintenances::list, api::maintenances::schedule, api::maintenances::show,
        api::maintenances::change, api::maintenances::post,
        api::subscribers::list, api::subscribers::create, api::subscribers::delete,
        api::services::list, api::services::create, api::services::show, api::services::update,
        api::services::delete, api::services::add_key, api::services::rotate_key, api::services::revoke_key,
        api::services::maintenance, api::services::add_maintenance, api::services::remove_maintenance,
        api::services::heartbeats, api::services::create_heartbeat,
        api::alerts::list, api::alerts::show, api::alerts::ack, api::alerts::resolve,
        api::people::methods, api::people::add_method, api::people::remove_method, api::people::test_method,
        api::people::send_code, api::people::verify,
        api::people::rules, api::people::add_rule, api::people::remove_rule,
        api::people::subscriptions, api::people::subscribe, api::people::unsubscribe,
        api::schedules::list, api::schedules::create, api::schedules::show, api::schedules::replace,
        api::schedules::delete, api::schedules::shifts, api::schedules::on_call,
        api::schedules::schedule_calendar, api::schedules::user_calendar,
        api::escalation::list, api::escalation::create, api::escalation::show, api::escalation::replace,
        api::escalation::delete, api::escalation::on_call, api::escalation::page,
        api::reports::report,
        api::reviews::show, api::reviews::open, api::reviews::settings, api::reviews::summary,
        api::reviews::impact, api::reviews::root_cause, api::reviews::lessons, api::reviews::meeting,
        api::reviews::set_whys, api::reviews::add_why, api::reviews::note, api::reviews::status,
        api::reviews::export, api::reviews::add_action, api::reviews::actions, api::reviews::action,
        api::reviews::update_action,
    ),
    components(schemas(klaxon_domain::api::Problem, klaxon_domain::api::FieldError)),
    modifiers(&BearerAuth, &ErrorAnswers, &UniqueOperationIds),
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

/// Adds the error answers every route shares to each operation, and gives every error
/// answer the problem body. See the module's comment.
struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations(openapi) {
            add_error_answers(operation);
        }
    }
}

/// Operation ids must be unique; utoipa takes a handler's name, and several modules have
/// a `list` or a `show`. Those shared names get the tag in front: `incidents_list`.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut seen = std::collections::HashMap::<String, usize>::new();
        for operation in operations(openapi) {
            *seen
                .entry(operation.operation_id.clone().unwrap_or_default())
                .or_default() += 1;
        }
        for operation in operations(openapi) {
            let (Some(id), Some(tag)) = (&operation.operation_id, &operation.tags) else {
                continue;
            };
            if seen.get(id).is_some_and(|n| *n > 1) {
                let tag = tag.first().map(String::as_str).unwrap_or("api");
                operation.operation_id = Some(format!("{tag}_{id}"));
            }
        }
    }
}

/// Every operation of the document.
fn operations(openapi: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

fn add_error_answers(operation: &mut Operation) {
    if let Some(body) = &mut operation.request_body {
        body_may_be_left_out(body);
    }
    let has_body = operation.request_body.is_some();
    let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut common = vec![(
        401,
        "The API token is missing, mistyped or revoked".to_owned(),
    )];
    if let Some(scope) = scope_needed(operation) {
        common.push((403, format!("The token's scope is below {scope}")));
    }
    if has_parameters || has_body {
        let what = match (has_parameters, has_body) {
            (true, true) => "A path or query parameter does not parse, or the body is not JSON",
            (true, false) => "A path or query parameter does not parse",
            _ => "The body is not JSON",
        };
        common.push((400, what.to_owned()));
    }
    if has_body {
        common.push((
            413,
            format!(
                "The body is larger than {} KiB",
                crate::http::extract::BODY_LIMIT / 1024
            ),
        ));
        common.push((
            415,
            "The body is not sent as `Content-Type: application/json`".to_owned(),
        ));
        common.push((
            422,
            "A field of the body is missing, unknown, of the wrong type or breaks a rule"
                .to_owned(),
        ));
    }
    common.push((
        500,
        "Internal error (e.g. the database is unreachable); the server log has the cause"
            .to_owned(),
    ));
    let responses = &mut operation.responses.responses;
    for (status, description) in common {
        responses
            .entry(status.to_string())
            .or_insert_with(|| ResponseBuilder::new().description(description).into());
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if status.parse::<u16>().is_ok_and(|s| s >= 400) {
            give_problem_body(status, response);
        }
    }
}

/// utoipa writes an optional body (`request_body = Option<T>`) as "`T` or `null`"; what
/// the server takes is `T` or no body at all (`ApiJson` reads an empty body as `{}`), and
/// it refuses `null`. So the body becomes `T`, not required.
fn body_may_be_left_out(body: &mut RequestBody) {
    if matches!(body.required, Some(Required::True)) {
        return;
    }
    for content in body.content.values_mut() {
        let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema else {
            continue;
        };
        let is_null = |item: &RefOr<Schema>| matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
        let mut rest = one_of.items.iter().filter(|item| !is_null(item));
        if let (Some(only), None) = (rest.next(), rest.next()) {
            content.schema = Some(only.clone());
        }
    }
}

/// The scope named by the operation's own security requirement, when it is above viewer
/// (a viewer token is the least there is, so a viewer operation cannot answer 403).
fn scope_needed(operation: &Operation) -> Option<String> {
    let requirements = serde_json::to_value(operation.security.as_ref()?).ok()?;
    requirements
        .as_array()?
        .iter()
        .filter_map(|r| r.get("bearer")?.as_array()?.first()?.as_str())
        .find(|scope| *scope != "viewer")
        .map(str::to_owned)
}

/// An error answer as the server sends it: a problem, with `WWW-Authenticate` on a 401.
fn give_problem_body(status: &str, response: &mut Response) {
    if response.description.is_empty() {
        response.description = match status {
            "404" => "No such resource",
            "409" => "Conflicts with the resource's current state",
            "422" => "A value breaks a rule",
            _ => "Refused",
        }
        .to_owned();
    }
    if response.content.is_empty() {
        response.content.insert(
            "application/problem+json".to_owned(),
            Content::new(Some(Ref::from_schema_name(
                <Problem as utoipa::ToSchema>::name(),
            ))),
        );
    }
    if status == "401" {
        response.headers.insert(
            "WWW-Authenticate".to_owned(),
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`Bearer`"))
                .build(),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "policy", responses((status = 200, description = "The OpenAPI document", body = Object)))]
pub async fn openapi(caller: Caller) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(document()))
}
