//! `/incidents/{number}`: the incident room. Its header (severity, status, roles,
//! durations, response target), a form for every action its state allows, the timeline
//! newest first (live while the page is open), its alerts, the service's recent changes
//! and the policy's runbooks. Every form posts to `/incidents/{number}/{action}`; a
//! refusal (a stale page, a bad field) shows the page again with the reason next to the
//! form, and nothing changes.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use klaxon_domain::alert::Alert;
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{
    describe, Actions, Command, EventKind, Evidence, IncidentView, MitigationStrategy, Role,
    StatusUpdateInput, TimelineEvent, UpdateAudience, UpdateKind,
};
use klaxon_domain::policy::RunbookEntry;
use klaxon_domain::{Handle, IncidentNumber, Severity};
use serde::Deserialize;

use crate::app::error::{AppError, ErrorKind};
use crate::app::incidents;
use crate::app::sessions::WebSession;
use crate::http::error::status_of;
use crate::http::web::page::{error_page, optional, render, Layout};
use crate::http::web::session::{Posted, Web};
use crate::http::web::show::{self, Deadline};
use crate::infra::state::AppState;

/// How many timeline events a page shows; older ones are a link away.
const TIMELINE_PAGE: u32 = 100;

/// An event as the timeline shows it.
pub struct EventRow {
    pub seq: i64,
    pub headline: String,
    pub body: String,
    pub actor: String,
    pub source: String,
    pub at: String,
    pub kind: &'static str,
}

impl EventRow {
    pub(super) fn new(e: &TimelineEvent) -> EventRow {
        let text = describe(&e.kind, str::to_owned);
        let (headline, body) = match text.split_once('\n') {
            Some((h, b)) => (h.to_owned(), b.to_owned()),
            None => (text, String::new()),
        };
        EventRow {
            seq: e.seq,
            headline,
            body,
            actor: e.actor.clone(),
            source: e.source.as_str().to_owned(),
            at: show::instant(e.effective_at()),
            kind: event_class(&e.kind),
        }
    }
}

/// The CSS class of an event: milestones stand out, the engine's paging recedes.
fn event_class(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Declared { .. }
        | EventKind::Acknowledged
        | EventKind::Mitigated { .. }
        | EventKind::Resolved { .. }
        | EventKind::Closed
        | EventKind::Reopened { .. } => "milestone",
        EventKind::StatusUpdated { .. } => "update",
        EventKind::ResponseTargetMissed { .. }
        | EventKind::UpdateMissed { .. }
        | EventKind::NotificationFailed { .. } => "warning",
        EventKind::Paged { .. } | EventKind::Notified { .. } => "engine",
        _ => "",
    }
}

#[derive(Template)]
#[template(path = "timeline_event.html")]
pub(super) struct EventFragment<'a> {
    pub e: &'a EventRow,
}

/// Why the last form failed, shown next to it.
pub struct Refusal {
    pub form: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    layout: Layout,
    number: i64,
    slug: String,
    title: String,
    severity: String,
    severity_level: u8,
    status: String,
    service: String,
    restricted: bool,
    drill: bool,
    customer_facing: bool,
    roles: Vec<(String, Vec<String>)>,
    missing_roles: Vec<String>,
    declared: String,
    durations: Vec<(&'static str, String)>,
    response: Deadline,
    response_met: bool,
    next_update: Option<Deadline>,
    next_customer_update: Option<Deadline>,
    /// Forms are shown only to people who may act.
    can_act: bool,
    actions: Actions,
    refusal: Option<Refusal>,
    timeline: Vec<EventRow>,
    /// Where the next older page starts, if there are older events.
    older: Option<i64>,
    /// This page shows older events, not the newest.
    paged: bool,
    last_seq: i64,
    live: bool,
    alerts: Vec<Alert>,
    changes: Vec<(String, String)>,
    runbooks: Vec<RunbookEntry>,
    people: Vec<String>,
    severities: Vec<(u8, String)>,
    strategies: Vec<&'static str>,
    update_kinds: Vec<(&'static str, &'static str)>,
    /// The status-page components the incident affects, in words, and the form's
    /// choices: every component, the statuses, and the severity's suggestion.
    named: String,
    components: Vec<super::components::Offered>,
    component_statuses: Vec<(&'static str, &'static str)>,
    suggested: String,
}

impl IncidentPage {
    /// Why form `form` was refused, if it was the one.
    fn refused(&self, form: &str) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| r.form == form)
            .map(|r| r.message.as_str())
    }

    /// Whether one of `forms` was refused, so its section opens.
    fn opened(&self, forms: &[&str]) -> bool {
        forms.iter().any(|f| self.refused(f).is_some())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// Show events before this one (older ones).
    #[serde(default)]
    before: Option<i64>,
}

pub(super) fn number_of(text: &str) -> Result<IncidentNumber, AppError> {
    IncidentNumber::parse(text)
        .map_err(|_| AppError::not_found(format!("there is no incident {text}")))
}

/// `GET /incidents/{number}`.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Path(number): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let n = match number_of(&number) {
        Ok(n) => n,
        Err(e) => return error_page(Some(&session), &e),
    };
    page(&state, &session, n, q.before, None).await
}

async fn page(
    state: &AppState,
    session: &WebSession,
    n: IncidentNumber,
    before: Option<i64>,
    refusal: Option<(StatusCode, Refusal)>,
) -> Response {
    let (status, refusal) = match refusal {
        Some((status, refusal)) => (status, Some(refusal)),
        None => (StatusCode::OK, None),
    };
    match build(state, session, n, before, refusal).await {
        Ok(page) => render(status, &page),
        Err(e) => error_page(Some(session), &e),
    }
}

async fn build(
    state: &AppState,
    session: &WebSession,
    n: IncidentNumber,
    before: Option<i64>,
    refusal: Option<Refusal>,
) -> Result<IncidentPage, AppError> {
    let caller = &session.caller;
    let (view, page) = incidents::show_page(state, caller, n, before, TIMELINE_PAGE).await?;
    let alerts = incidents::alerts_of(state, caller, n).await?;
    let all_components = state.store.components().await?;
    let people = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| u.handle.to_string())
        .collect();
    let now = state.clock.now();
    let IncidentView {
        incident: i,
        durations: d,
        response,
        next_update_due_at,
        next_customer_update_due_at,
        missing_roles,
        timeline: _,
        recent_changes,
    } = view;
    let roles = [
        Role::Commander,
        Role::Investigator,
        Role::Communicator,
        Role::Scribe,
    ]
    .into_iter()
    .map(|r| {
        let holders = match r {
            Role::Investigator => i
                .roles
                .investigators
                .iter()
                .map(Handle::to_string)
                .collect(),
            _ => i
                .roles
                .holder(r)
                .map(Handle::to_string)
                .into_iter()
                .collect(),
        };
        (r.to_string(), holders)
    })
    .collect();
    let secs = |s: Option<i64>| s.map(klaxon_domain::time::human_duration);
    let durations = [
        ("to acknowledge", secs(d.to_acknowledge)),
        ("to mitigate", secs(d.to_mitigate)),
        ("to resolve", secs(d.to_resolve)),
        ("impact", secs(d.duration)),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.map(|v| (name, v)))
    .collect();
    let due = |t: Option<jiff::Timestamp>| t.map(|t| Deadline::new(now, t, t < now));
    let actions = Actions::of(&i);
    let named = i
        .components
        .iter()
        .map(|c| format!("{} {}", c.name, c.status.label().to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(IncidentPage {
        layout: Layout::new(
            Some(session),
            format!("{} {}", i.number, i.title),
            "incident",
        ),
        number: i.number.0,
        slug: i.slug.clone(),
        title: i.title.clone(),
        severity: i.severity.to_string(),
        severity_level: i.severity.level(),
        status: i.status.to_string(),
        service: i.service.clone().unwrap_or_default(),
        restricted: i.restricted,
        drill: i.drill,
        customer_facing: i.customer_facing,
        roles,
        missing_roles: missing_roles.iter().map(Role::to_string).collect(),
        declared: show::instant(i.declared_at),
        durations,
        response: Deadline::new(now, response.due_at, response.breached),
        response_met: i.acknowledged_at.is_some() && !response.breached,
        next_update: due(next_update_due_at),
        next_customer_update: due(next_customer_update_due_at),
        can_act: caller.scope.allows(Scope::Responder),
        actions,
        refusal,
        timeline: page.events.iter().map(EventRow::new).collect(),
        older: page.older,
        paged: before.is_some(),
        // The projection's version is its newest event's number.
        last_seq: i.version,
        live: i.status.is_open() && before.is_none(),
        alerts,
        changes: recent_changes
            .unwrap_or_default()
            .into_iter()
            .map(|c| (show::instant(c.occurred_at), c.summary))
            .collect(),
        runbooks: state.policy.runbooks.clone(),
        people,
        severities: state
            .policy
            .severities
            .iter()
            .map(|s| (s.level.level(), format!("{} {}", s.level, s.name)))
            .collect(),
        strategies: MitigationStrategy::ALL.iter().map(|s| s.as_str()).collect(),
        update_kinds: [
            (UpdateKind::Detected, "detected", "DETECTED"),
            (UpdateKind::Update, "update", "STATUS UPDATE"),
            (UpdateKind::Mitigated, "mitigated", "MITIGATION APPLIED"),
            (UpdateKind::Resolved, "resolved", "RESOLVED"),
        ]
        .into_iter()
        .filter(|(kind, _, _)| actions.update(*kind))
        .map(|(_, value, label)| (value, label))
        .collect(),
        components: super::components::offered(&all_components, &i.components),
        component_statuses: klaxon_domain::status::ComponentStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        suggested: state
            .policy
            .severity(i.severity)
            .component_status()
            .label()
            .to_lowercase(),
        named,
    })
}

/// Every field any incident form posts; each action reads its own.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    next_steps: String,
    #[serde(default)]
    eta: String,
    #[serde(default)]
    customer_impact: String,
    #[serde(default)]
    strategy: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    root_cause: String,
    #[serde(default)]
    fix: String,
    #[serde(default)]
    into: String,
    #[serde(default)]
    text: String,
}

impl ActionForm {
    /// The command a form stands for, or why its fields do not make one.
    fn command(&self, action: &str) -> Result<Command, AppError> {
        let role = || {
            Role::parse(&self.role).map_err(|_| {
                AppError::invalid(
                    "role",
                    "choose commander, investigator, communicator or scribe",
                )
            })
        };
        let user =
            || Handle::parse(&self.user).map_err(|e| AppError::invalid("user", e.to_string()));
        Ok(match action {
            "ack" => Command::Acknowledge { at: None },
            "assign" => Command::Assign {
                role: role()?,
                user: user()?,
            },
            "relieve" => Command::Relieve {
                role: role()?,
                user: user()?,
            },
            "severity" => Command::ChangeSeverity {
                severity: Severity::parse(&self.severity)
                    .map_err(|e| AppError::invalid("severity", e.to_string()))?,
                reason: self.reason.clone(),
            },
            "update" => Command::PostUpdate(self.update()?),
            "mitigate" => Command::Mitigate {
                strategy: MitigationStrategy::parse(&self.strategy)
                    .ok_or_else(|| AppError::invalid("strategy", "choose a mitigation strategy"))?,
                action: self.action.clone(),
                at: None,
            },
            "resolve" => Command::Resolve {
                root_cause: optional(&self.root_cause),
                fix: optional(&self.fix),
                at: None,
            },
            "close" => Command::Close,
            "reopen" => Command::Reopen {
                reason: optional(&self.reason),
            },
            "decline" => Command::Decline {
                reason: optional(&self.reason),
            },
            "note" => Command::Note {
                text: self.text.clone(),
                at: None,
            },
            "evidence" => {
                if self.text.trim().is_empty() {
                    return Err(AppError::invalid(
                        "text",
                        "paste the evidence: a log line, a graph's numbers, a command's output",
                    ));
                }
                Command::AttachEvidence(Evidence::Text {
                    text: self.text.clone(),
                })
            }
            other => return Err(AppError::not_found(format!("there is no action '{other}'"))),
        })
    }

    fn update(&self) -> Result<StatusUpdateInput, AppError> {
        let kind = match self.kind.as_str() {
            "detected" => UpdateKind::Detected,
            "update" => UpdateKind::Update,
            "mitigated" => UpdateKind::Mitigated,
            "resolved" => UpdateKind::Resolved,
            _ => return Err(AppError::invalid("kind", "choose which update this is")),
        };
        let audience = match self.audience.as_str() {
            "" | "internal" => UpdateAudience::Internal,
            "customer" => UpdateAudience::Customer,
            _ => return Err(AppError::invalid("audience", "choose internal or customer")),
        };
        let mut input = StatusUpdateInput::new(kind);
        input.audience = audience;
        input.status = optional(&self.status);
        input.impact = optional(&self.impact);
        input.next_steps = optional(&self.next_steps);
        input.eta = optional(&self.eta);
        input.customer_impact = optional(&self.customer_impact);
        input.action = optional(&self.action);
        input.root_cause = optional(&self.root_cause);
        input.fix = optional(&self.fix);
        Ok(input)
    }
}

/// `POST /incidents/{number}/{action}`: does it and shows the incident again, or shows
/// why not next to the form.
pub async fn act(
    State(state): State<AppState>,
    Path((number, action)): Path<(String, String)>,
    Posted(session, form): Posted<ActionForm>,
) -> Response {
    let n = match number_of(&number) {
        Ok(n) => n,
        Err(e) => return error_page(Some(&session), &e),
    };
    let done = match action.as_str() {
        "merge" => match IncidentNumber::parse(&form.into) {
            Ok(into) => incidents::merge(&state, &session.caller, n, into)
                .await
                .map(|v| v.incident.number),
            Err(e) => Err(e.into()),
        },
        _ => match form.command(&action) {
            Ok(command) => incidents::act(&state, &session.caller, n, command)
                .await
                .map(|_| n),
            Err(e) => Err(e),
        },
    };
    answer(&state, &session, n, &action, done).await
}

/// `POST /incidents/{number}/evidence-file`: a text file attached as evidence (a
/// multipart form: its CSRF token, then the file), at most
/// [`klaxon_domain::incident::MAX_EVIDENCE_BYTES`].
pub async fn evidence_file(
    State(state): State<AppState>,
    Web(session): Web,
    Path(number): Path<String>,
    multipart: Multipart,
) -> Response {
    let n = match number_of(&number) {
        Ok(n) => n,
        Err(e) => return error_page(Some(&session), &e),
    };
    let file = match read_file(&session, multipart).await {
        Ok(file) => file,
        Err(e) if e.kind == ErrorKind::Forbidden => return error_page(Some(&session), &e),
        Err(e) => Err(e),
    };
    let done = match file {
        Ok((name, content)) => {
            let command = Command::AttachEvidence(Evidence::File { name, content });
            incidents::act(&state, &session.caller, n, command)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    answer(&state, &session, n, "evidence", done.map(|()| n)).await
}

/// After a form: on to the incident it left in view, or the incident page again with
/// the reason next to form `form` (answered with the refusal's status), or the error page
/// for an incident the person may not see or act on.
pub(super) async fn answer(
    state: &AppState,
    session: &WebSession,
    n: IncidentNumber,
    form: &str,
    done: Result<IncidentNumber, AppError>,
) -> Response {
    match done {
        Ok(shown) => Redirect::to(&format!("/incidents/{}", shown.0)).into_response(),
        Err(e)
            if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Forbidden)
                && e.errors.is_empty() =>
        {
            error_page(Some(session), &e)
        }
        Err(e) => {
            let refusal = Refusal {
                form: form.to_owned(),
                message: e
                    .errors
                    .first()
                    .map_or(e.detail.clone(), |f| f.message.clone()),
            };
            page(state, session, n, None, Some((status_of(e.kind), refusal))).await
        }
    }
}

/// The form's CSRF token checked (a `Forbidden` error if wrong), then its file: its
/// name and text, or why it cannot be evidence.
async fn read_file(
    session: &WebSession,
    mut multipart: Multipart,
) -> Result<Result<(String, String), AppError>, AppError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        AppError::field(
            ErrorKind::Invalid,
            "file",
            format!("the upload could not be read: {}", e.body_text()),
        )
    };
    let mut csrf_ok = false;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("csrf") => {
                let token = field.text().await.map_err(unreadable)?;
                csrf_ok = crate::app::sessions::csrf_matches(session, &token);
            }
            Some("file") if csrf_ok => {
                let name = field.file_name().unwrap_or("evidence.txt").to_owned();
                let bytes = field.bytes().await.map_err(unreadable)?;
                if bytes.is_empty() {
                    return Ok(Err(AppError::invalid("file", "choose a file to attach")));
                }
                return Ok(match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => Ok((name, text)),
                    Err(_) => Err(AppError::invalid(
                        "file",
                        "attach a text file (a log, a config, a command's output)",
                    )),
                });
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(AppError::forbidden(
            "this form is out of date or came from another site; reload the page and try again",
        ));
    }
    Ok(Err(AppError::invalid("file", "choose a file to attach")))
}

#[derive(Template)]
#[template(path = "update_preview.html")]
struct UpdatePreview {
    message: Option<String>,
    error: Option<String>,
}

/// `POST /incidents/{number}/preview`: a status update's message as it would be posted.
pub async fn preview(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Posted(session, form): Posted<ActionForm>,
) -> Response {
    let result = match (number_of(&number), form.update()) {
        (Ok(n), Ok(input)) => {
            incidents::preview(&state, &session.caller, n, &Command::PostUpdate(input)).await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let page = match result {
        Ok(events) => UpdatePreview {
            message: events.iter().find_map(|e| match &e.kind {
                EventKind::StatusUpdated { message, .. } => Some(message.text.clone()),
                _ => None,
            }),
            error: None,
        },
        Err(e) => UpdatePreview {
            message: None,
            error: Some(e.errors.first().map_or(e.detail, |f| f.message.clone())),
        },
    };
    render(StatusCode::OK, &page)
}
