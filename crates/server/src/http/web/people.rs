//! `/people`: everyone, with their role; `/people/{handle}`: one person, their coming
//! shifts and, to themselves and admins, how they are reached (contact methods and
//! notification rules). A person edits their own (a responder or admin), an admin
//! anyone's, a viewer nothing: `app::people`'s rules, as in the API.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use klaxon_domain::paging::{
    ContactKind, ContactMethod, NewContactMethod, NewNotificationRule, Urgency,
    MAX_RULE_DELAY_MINUTES,
};
use klaxon_domain::{ContactMethodId, Handle, NotificationRuleId};
use serde::Deserialize;

use crate::app::error::AppError;
use crate::app::sessions::WebSession;
use crate::app::{people, phones};
use crate::http::web::page::{error_page, optional, render, Layout};
use crate::http::web::refusal::{Forms, Outcome, Refused};
use crate::http::web::session::{NoFields, Posted, Web};
use crate::http::web::show;
use crate::infra::state::AppState;

/// How far ahead a person's page lists their shifts.
const SHIFT_DAYS: i64 = 14;

struct PersonRow {
    handle: String,
    name: String,
    role: String,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    layout: Layout,
    people: Vec<PersonRow>,
}

/// `GET /people`.
pub async fn list(State(state): State<AppState>, Web(session): Web) -> Response {
    match people::list(&state, &session.caller).await {
        Ok(all) => {
            let page = PeoplePage {
                layout: Layout::new(Some(&session), "People", "people"),
                people: all
                    .into_iter()
                    .map(|u| PersonRow {
                        handle: u.handle.to_string(),
                        name: u.name,
                        role: u.role.to_string(),
                    })
                    .collect(),
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(Some(&session), &e),
    }
}

/// A contact method as entered.
#[derive(Debug, Default, Deserialize)]
pub struct MethodForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    label: String,
}

impl MethodForm {
    fn method(&self) -> Result<NewContactMethod, AppError> {
        Ok(NewContactMethod {
            kind: ContactKind::parse(&self.kind)?,
            address: self.address.clone(),
            label: optional(&self.label),
        })
    }
}

/// A notification rule as entered.
#[derive(Debug, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    contact_method: String,
    #[serde(default)]
    delay_minutes: String,
}

impl RuleForm {
    fn rule(&self) -> Result<NewNotificationRule, AppError> {
        let urgency = Urgency::parse(&self.urgency)
            .ok_or_else(|| AppError::invalid("urgency", "choose high or low"))?;
        let contact_method = self
            .contact_method
            .trim()
            .parse()
            .map(ContactMethodId)
            .map_err(|_| AppError::invalid("contact_method", "choose a contact method"))?;
        let delay_minutes = match self.delay_minutes.trim() {
            "" => 0,
            text => text.parse().map_err(|_| {
                AppError::invalid(
                    "delay_minutes",
                    format!("use 0 to {MAX_RULE_DELAY_MINUTES} minutes"),
                )
            })?,
        };
        Ok(NewNotificationRule {
            urgency,
            contact_method,
            delay_minutes,
        })
    }
}

/// A verification code as entered.
#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// What a form did, said on the page it leads to.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    fn notice(&self) -> Option<&'static str> {
        Some(match self.done.as_str() {
            "test" => "A test message is on its way; the method is verified once it is delivered.",
            "code" => "A code is on its way; enter it below to verify the number.",
            "verified" => "The number is verified.",
            _ => return None,
        })
    }
}

struct ShiftRow {
    schedule: String,
    from: String,
    until: String,
    now: bool,
}

struct MethodRow {
    id: i64,
    kind: &'static str,
    address: String,
    label: String,
    verified: bool,
    /// A phone number, verified by a code.
    phone: bool,
}

struct RuleRow {
    id: i64,
    urgency: &'static str,
    method: String,
    delay: u32,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    layout: Layout,
    handle: String,
    name: String,
    email: String,
    role: String,
    shifts: Vec<ShiftRow>,
    shift_days: i64,
    /// The reader may see how this person is reached.
    can_read: bool,
    can_manage: bool,
    methods: Vec<MethodRow>,
    rules: Vec<RuleRow>,
    kinds: [&'static str; 5],
    method: MethodForm,
    rule: RuleForm,
    notice: Option<&'static str>,
    refused: Option<Refused>,
}

impl Forms for PersonPage {
    fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }
}

/// What a refused form had entered, shown again.
#[derive(Default)]
struct Entered {
    method: MethodForm,
    rule: RuleForm,
}

fn handle_of(text: &str) -> Result<Handle, AppError> {
    Handle::parse(text).map_err(|_| AppError::not_found(format!("there is no user '{text}'")))
}

/// `GET /people/{handle}`.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Path(handle): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    match handle_of(&handle) {
        Ok(handle) => {
            page(
                &state,
                &session,
                &handle,
                Entered::default(),
                done.notice(),
                None,
            )
            .await
        }
        Err(e) => error_page(Some(&session), &e),
    }
}

async fn page(
    state: &AppState,
    session: &WebSession,
    handle: &Handle,
    entered: Entered,
    notice: Option<&'static str>,
    refused: Option<Refused>,
) -> Response {
    let status = refused.as_ref().map_or(StatusCode::OK, |r| r.status);
    match build(state, session, handle, entered, notice, refused).await {
        Ok(page) => render(status, &page),
        Err(e) => error_page(Some(session), &e),
    }
}

async fn build(
    state: &AppState,
    session: &WebSession,
    handle: &Handle,
    entered: Entered,
    notice: Option<&'static str>,
    refused: Option<Refused>,
) -> Result<PersonPage, AppError> {
    let caller = &session.caller;
    let now = state.clock.now();
    let user = people::person(state, caller, handle).await?;
    let shifts = people::upcoming_shifts(state, caller, handle, SHIFT_DAYS).await?;
    let can_read = people::readable(caller, handle).is_ok();
    let (methods, rules) = if can_read {
        (
            people::contact_methods(state, caller, handle).await?,
            people::notification_rules(state, caller, handle).await?,
        )
    } else {
        (vec![], vec![])
    };
    let method_name = |id: ContactMethodId| {
        methods
            .iter()
            .find(|m| m.id == id)
            .map_or_else(|| format!("method {id}"), describe)
    };
    Ok(PersonPage {
        layout: Layout::new(Some(session), user.handle.to_string(), "people"),
        handle: user.handle.to_string(),
        name: user.name,
        email: user.email,
        role: user.role.to_string(),
        shifts: shifts
            .into_iter()
            .map(|(schedule, s)| ShiftRow {
                schedule,
                from: show::instant(s.start),
                until: show::instant(s.end),
                now: s.start <= now,
            })
            .collect(),
        shift_days: SHIFT_DAYS,
        can_read,
        can_manage: people::manageable(caller, handle).is_ok(),
        rules: rules
            .iter()
            .map(|r| RuleRow {
                id: r.id.0,
                urgency: r.urgency.as_str(),
                method: method_name(r.contact_method),
                delay: r.delay_minutes,
            })
            .collect(),
        methods: methods
            .iter()
            .map(|m| MethodRow {
                id: m.id.0,
                kind: m.kind.as_str(),
                address: m.address.clone(),
                label: m.label.clone().unwrap_or_default(),
                verified: m.verified,
                phone: m.kind.verified_by_code(),
            })
            .collect(),
        kinds: ContactKind::ALL.map(ContactKind::as_str),
        method: entered.method,
        rule: entered.rule,
        notice,
        refused,
    })
}

/// A contact method in a sentence: `sms +15551234567 (mobile)`.
fn describe(m: &ContactMethod) -> String {
    match &m.label {
        Some(label) => format!("{} {} ({label})", m.kind.as_str(), m.address),
        None => format!("{} {}", m.kind.as_str(), m.address),
    }
}

/// The person's page again with the refusal, or on to it.
async fn answer(
    state: &AppState,
    session: &WebSession,
    handle: &Handle,
    outcome: Outcome,
    entered: Entered,
) -> Response {
    outcome
        .answer(|refused: Refused| page(state, session, handle, entered, None, Some(refused)))
        .await
}

fn id_of<T>(text: &str, make: fn(i64) -> T, what: &str) -> Result<T, AppError> {
    text.parse()
        .map(make)
        .map_err(|_| AppError::not_found(format!("there is no {what} '{text}'")))
}

fn page_of(handle: &Handle, done: Option<&str>) -> String {
    match done {
        Some(done) => format!("/people/{handle}?done={done}"),
        None => format!("/people/{handle}"),
    }
}

/// `POST /people/{handle}/contact-methods`.
pub async fn add_method(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    Posted(session, form): Posted<MethodForm>,
) -> Response {
    let handle = match handle_of(&handle) {
        Ok(h) => h,
        Err(e) => return error_page(Some(&session), &e),
    };
    let caller = &session.caller;
    let done = match people::manageable(caller, &handle).and_then(|()| form.method()) {
        Ok(new) => people::add_contact_method(&state, caller, &handle, new).await,
        Err(e) => Err(e),
    };
    let outcome = Outcome::of(&session, "method", page_of(&handle, None), done);
    let entered = Entered {
        method: form,
        ..Entered::default()
    };
    answer(&state, &session, &handle, outcome, entered).await
}

/// `POST /people/{handle}/contact-methods/{id}/{action}`: `remove`, `test` (a test
/// message), `code` (send a verification code to a phone number).
pub async fn method_action(
    State(state): State<AppState>,
    Path((handle, id, action)): Path<(String, String, String)>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let (handle, id) = match (
        handle_of(&handle),
        id_of(&id, ContactMethodId, "contact method"),
    ) {
        (Ok(h), Ok(id)) => (h, id),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&session), &e),
    };
    let caller = &session.caller;
    let (done, notice) = match action.as_str() {
        "remove" => (
            people::remove_contact_method(&state, caller, &handle, id).await,
            None,
        ),
        "test" => (
            people::send_test(&state, caller, &handle, id).await,
            Some("test"),
        ),
        "code" => (
            phones::send_code(&state, caller, &handle, id)
                .await
                .map(|_| ()),
            Some("code"),
        ),
        other => {
            let e = AppError::not_found(format!("there is no action '{other}'"));
            return error_page(Some(&session), &e);
        }
    };
    let outcome = Outcome::of(&session, "methods", page_of(&handle, notice), done);
    answer(&state, &session, &handle, outcome, Entered::default()).await
}

/// `POST /people/{handle}/contact-methods/{id}/verify`: the code sent to a number,
/// entered back.
pub async fn verify(
    State(state): State<AppState>,
    Path((handle, id)): Path<(String, String)>,
    Posted(session, form): Posted<CodeForm>,
) -> Response {
    let (handle, id) = match (
        handle_of(&handle),
        id_of(&id, ContactMethodId, "contact method"),
    ) {
        (Ok(h), Ok(id)) => (h, id),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&session), &e),
    };
    let done = phones::confirm_code(&state, &session.caller, &handle, id, &form.code).await;
    let outcome = Outcome::of(
        &session,
        "methods",
        page_of(&handle, Some("verified")),
        done,
    );
    answer(&state, &session, &handle, outcome, Entered::default()).await
}

/// `POST /people/{handle}/notification-rules`.
pub async fn add_rule(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    Posted(session, form): Posted<RuleForm>,
) -> Response {
    let handle = match handle_of(&handle) {
        Ok(h) => h,
        Err(e) => return error_page(Some(&session), &e),
    };
    let caller = &session.caller;
    let done = match people::manageable(caller, &handle).and_then(|()| form.rule()) {
        Ok(new) => people::add_notification_rule(&state, caller, &handle, new).await,
        Err(e) => Err(e),
    };
    let outcome = Outcome::of(&session, "rule", page_of(&handle, None), done);
    let entered = Entered {
        rule: form,
        ..Entered::default()
    };
    answer(&state, &session, &handle, outcome, entered).await
}

/// `POST /people/{handle}/notification-rules/{id}/remove`.
pub async fn remove_rule(
    State(state): State<AppState>,
    Path((handle, id)): Path<(String, String)>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    let (handle, id) = match (
        handle_of(&handle),
        id_of(&id, NotificationRuleId, "notification rule"),
    ) {
        (Ok(h), Ok(id)) => (h, id),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&session), &e),
    };
    let done = people::remove_notification_rule(&state, &session.caller, &handle, id).await;
    let outcome = Outcome::of(&session, "rules", page_of(&handle, None), done);
    answer(&state, &session, &handle, outcome, Entered::default()).await
}
