//! `/incidents/{number}/review`: the post-incident review. Each section shown (free
//! text as safe Markdown) with its form; the timeline from the event log with a star
//! and context per event; the 5-whys as chains, with a form that adds a node after any
//! other (or starts a chain) and one that links an action item to a node; the action
//! items with the runbook's lists; the history. Every form posts to
//! `/incidents/{number}/review/{form}` and works without JavaScript; a refusal shows
//! the page again with the reason beside the form, as typed, and nothing changes.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use klaxon_domain::auth::Scope;
use klaxon_domain::review::{
    self, ActionItemPatch, ActionStatus, AgendaItem, Answers, Category, FactorInput, Impact,
    ImpactFigure, Lessons, Meeting, NewActionItem, OpenReview, ReviewCommand, ReviewStatus,
    ReviewView, RootCauseInput, Summary, WhyNodeInput,
};
use klaxon_domain::time::parse_utc_instant;
use klaxon_domain::{Handle, IncidentNumber};

use crate::app::error::AppError;
use crate::app::reviews;
use crate::app::sessions::WebSession;
use crate::http::error::status_of;
use crate::http::web::form::Fields;
use crate::http::web::incident::number_of;
use crate::http::web::markdown::to_html;
use crate::http::web::page::{error_page, optional, render, Layout};
use crate::http::web::session::{Posted, Web};
use crate::http::web::show;
use crate::infra::state::AppState;

/// Why a form was refused: which form, the field at fault (its last name part) and the
/// message, with what was typed.
pub struct Refusal {
    pub form: String,
    pub field: String,
    pub message: String,
    pub typed: Fields,
}

/// One node of a 5-whys chain as the page shows it.
pub struct NodeRow {
    pub id: u32,
    pub depth: usize,
    pub why: String,
    pub because: String,
    pub actions: Vec<String>,
}

/// An action item as the page lists it.
pub struct ItemRow {
    pub number: u32,
    pub reference: String,
    pub title: String,
    pub owner: String,
    pub category: &'static str,
    pub status: &'static str,
    pub due: String,
    pub overdue: bool,
    pub answers: String,
    pub ticket: String,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    layout: Layout,
    number: i64,
    title: String,
    can_act: bool,
    view: Option<ReviewView>,
    editable: bool,
    chains: Vec<Vec<NodeRow>>,
    items: Vec<ItemRow>,
    due: String,
    due_input: String,
    meeting_at: String,
    people: Vec<String>,
    refusal: Option<Refusal>,
}

impl ReviewPage {
    /// The refusal's message if it is about `form`.
    fn refused(&self, form: &str) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| r.form == form)
            .map(|r| r.message.as_str())
    }

    /// The refusal's message if it is about `field` of `form`.
    fn error_at(&self, form: &str, field: &str) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| r.form == form && r.field == field)
            .map(|r| r.message.as_str())
    }

    /// What field `name` of `form` shows: as typed if that form was refused, else
    /// `stored`.
    fn val(&self, form: &str, name: &str, stored: impl AsRef<str>) -> String {
        match &self.refusal {
            Some(r) if r.form == form => r.typed.get(name).to_owned(),
            _ => stored.as_ref().to_owned(),
        }
    }

    fn md(&self, text: &str) -> String {
        to_html(text)
    }

    fn at(&self, t: impl Plain<jiff::Timestamp>) -> String {
        show::instant(t.plain())
    }

    fn duration(&self, seconds: impl Plain<i64>) -> String {
        klaxon_domain::time::human_duration(seconds.plain())
    }
}

/// A value however many references deep a template hands it over.
pub trait Plain<T> {
    fn plain(&self) -> T;
}

impl<T: Copy> Plain<T> for T {
    fn plain(&self) -> T {
        *self
    }
}

impl<T: Copy> Plain<T> for &T {
    fn plain(&self) -> T {
        **self
    }
}

impl<T: Copy> Plain<T> for &&T {
    fn plain(&self) -> T {
        ***self
    }
}

fn path_of(n: IncidentNumber) -> String {
    format!("/incidents/{}/review", n.0)
}

/// `GET /incidents/{number}/review`.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Path(number): Path<String>,
) -> Response {
    match number_of(&number) {
        Ok(n) => page(&state, &session, n, StatusCode::OK, None).await,
        Err(e) => error_page(Some(&session), &e),
    }
}

async fn page(
    state: &AppState,
    session: &WebSession,
    n: IncidentNumber,
    status: StatusCode,
    refusal: Option<Refusal>,
) -> Response {
    match build(state, session, n, refusal).await {
        Ok(page) => render(status, &page),
        Err(e) => error_page(Some(session), &e),
    }
}

async fn build(
    state: &AppState,
    session: &WebSession,
    n: IncidentNumber,
    refusal: Option<Refusal>,
) -> Result<ReviewPage, AppError> {
    let caller = &session.caller;
    let incident = crate::app::incidents::visible_incident(state, caller, n).await?;
    let view = match reviews::show(state, caller, n).await {
        Ok(v) => Some(v),
        Err(e) if e.kind == crate::app::error::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let people = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| u.handle.to_string())
        .collect();
    let now = state.clock.now();
    let (chains, items, due, due_input, meeting_at) = match &view {
        Some(v) => (
            node_rows(v),
            v.action_items
                .iter()
                .map(|i| ItemRow {
                    number: i.number,
                    reference: i.reference().to_string(),
                    title: i.title.clone(),
                    owner: i.owner.to_string(),
                    category: i.category.as_str(),
                    status: i.status.as_str(),
                    due: i.due_at.strftime("%Y-%m-%d").to_string(),
                    overdue: i.is_overdue(now),
                    answers: i.answers.map(|a| a.to_string()).unwrap_or_default(),
                    ticket: i.ticket.clone().unwrap_or_default(),
                })
                .collect(),
            show::Deadline::new(now, v.review.due_at, v.overdue).text,
            local(v.review.due_at),
            v.review.meeting.at.map(local).unwrap_or_default(),
        ),
        None => Default::default(),
    };
    Ok(ReviewPage {
        layout: Layout::new(Some(session), format!("Review of #{}", n.0), "dashboard"),
        number: n.0,
        title: incident.title,
        can_act: caller.scope.allows(Scope::Responder),
        editable: view
            .as_ref()
            .is_some_and(|v| v.review.status != ReviewStatus::Published),
        view,
        chains,
        items,
        due,
        due_input,
        meeting_at,
        people,
        refusal,
    })
}

/// An instant as a `datetime-local` field shows it (UTC).
fn local(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M").to_string()
}

fn node_rows(v: &ReviewView) -> Vec<Vec<NodeRow>> {
    review::chains(&v.review.whys)
        .into_iter()
        .map(|chain| {
            chain
                .into_iter()
                .map(|(depth, node)| NodeRow {
                    id: node.id,
                    depth,
                    why: node.why.clone(),
                    because: node.because.clone(),
                    actions: v
                        .action_items
                        .iter()
                        .filter(|i| i.answers == Some(Answers::Why(node.id)))
                        .map(|i| format!("{} {}", i.reference(), i.title))
                        .collect(),
                })
                .collect()
        })
        .collect()
}

/// `POST /incidents/{number}/review/{form}`.
pub async fn act(
    State(state): State<AppState>,
    Path((number, form)): Path<(String, String)>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    let n = match number_of(&number) {
        Ok(n) => n,
        Err(e) => return error_page(Some(&session), &e),
    };
    let f = Fields(fields);
    let caller = &session.caller;
    let done = match form.as_str() {
        "open" => match open_input(&f) {
            Ok(input) => reviews::open(&state, caller, n, input).await.map(|_| ()),
            Err(e) => Err(e),
        },
        _ => match commands(&form, &f) {
            Ok(commands) => reviews::act(&state, caller, n, &commands).await.map(|_| ()),
            Err(e) => Err(e),
        },
    };
    match done {
        Ok(()) => Redirect::to(&format!("{}#{form}", path_of(n))).into_response(),
        Err(e)
            if e.errors.is_empty()
                && matches!(
                    e.kind,
                    crate::app::error::ErrorKind::NotFound
                        | crate::app::error::ErrorKind::Forbidden
                ) =>
        {
            error_page(Some(&session), &e)
        }
        Err(e) => {
            let field = e
                .errors
                .first()
                .map(|f| f.field.rsplit('.').next().unwrap_or(&f.field).to_owned())
                .unwrap_or_default();
            let message = e
                .errors
                .first()
                .map_or_else(|| e.detail.clone(), |f| f.message.clone());
            let refusal = Refusal {
                form,
                field,
                message,
                typed: f,
            };
            page(&state, &session, n, status_of(e.kind), Some(refusal)).await
        }
    }
}

fn handle(field: &str, text: &str) -> Result<Handle, AppError> {
    Handle::parse(text)
        .map_err(|_| AppError::invalid(field, format!("'{text}' is not a person's handle")))
}

fn when(field: &'static str, text: &str) -> Result<Option<jiff::Timestamp>, AppError> {
    match optional(text) {
        None => Ok(None),
        Some(t) => Ok(Some(parse_utc_instant(field, &t)?)),
    }
}

fn open_input(f: &Fields) -> Result<OpenReview, AppError> {
    Ok(OpenReview {
        owner: optional(f.get("owner"))
            .map(|o| handle("owner", &o))
            .transpose()?,
        due_at: when("due_at", f.get("due_at"))?,
    })
}

/// The review commands form `form` asks for.
fn commands(form: &str, f: &Fields) -> Result<Vec<ReviewCommand>, AppError> {
    let text = |name: &str| f.get(name).to_owned();
    Ok(match form {
        "settings" => {
            let mut out = vec![];
            if let Some(o) = optional(f.get("owner")) {
                out.push(ReviewCommand::SetOwner(handle("owner", &o)?));
            }
            if let Some(at) = when("due_at", f.get("due_at"))? {
                out.push(ReviewCommand::SetDue(at));
            }
            out
        }
        "status" => vec![ReviewCommand::SetStatus(ReviewStatus::parse(
            f.get("status"),
        )?)],
        "summary" => vec![ReviewCommand::Summary(Summary {
            what_happened: text("what_happened"),
            who_affected: text("who_affected"),
            detection: text("detection"),
        })],
        "note" => vec![ReviewCommand::Note {
            seq: f
                .get("seq")
                .trim()
                .parse()
                .map_err(|_| AppError::invalid("seq", "name the timeline event to star"))?,
            starred: f.has("starred"),
            context: text("context"),
        }],
        "impact" => vec![ReviewCommand::Impact(Impact {
            description: text("description"),
            figures: figures(f)?,
        })],
        "root-cause" => vec![ReviewCommand::RootCause(RootCauseInput {
            technical_cause: text("technical_cause"),
            factors: (0..f.groups("factors", 60))
                .filter(|&i| {
                    !f.of("factors", i, "text").trim().is_empty()
                        && f.of("factors", i, "remove").is_empty()
                })
                .map(|i| FactorInput {
                    id: f.of("factors", i, "id").trim().parse().ok(),
                    text: f.of("factors", i, "text").to_owned(),
                })
                .collect(),
            why_not_caught: text("why_not_caught"),
        })],
        "why" => {
            vec![ReviewCommand::AddWhy(WhyNodeInput {
                follows: match f.get("follows").trim() {
                    "" => None,
                    id => Some(id.parse().map_err(|_| {
                        AppError::invalid("follows", format!("'{id}' is not a node"))
                    })?),
                },
                why: text("why"),
                because: text("because"),
            })]
        }
        "link" => {
            let number = item_number(f)?;
            let answers = match f.get("answers").trim() {
                "" => None,
                a => Some(a.parse::<Answers>()?),
            };
            vec![ReviewCommand::UpdateAction {
                number,
                patch: ActionItemPatch {
                    answers: Some(answers),
                    ..Default::default()
                },
            }]
        }
        "lessons" => vec![ReviewCommand::Lessons(Lessons {
            went_well: text("went_well"),
            could_improve: text("could_improve"),
        })],
        "meeting" => vec![ReviewCommand::Meeting(Meeting {
            at: when("at", f.get("at"))?,
            attendees: f
                .get("attendees")
                .split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
            agenda: (0..f.groups("agenda", 60))
                .filter(|&i| !f.of("agenda", i, "topic").trim().is_empty())
                .map(|i| {
                    let minutes = f.of("agenda", i, "minutes").trim();
                    Ok(AgendaItem {
                        topic: f.of("agenda", i, "topic").to_owned(),
                        minutes: minutes.parse().map_err(|_| {
                            AppError::invalid(
                                "minutes",
                                format!(
                                    "agenda[{i}]: '{minutes}' is not a whole number of minutes"
                                ),
                            )
                        })?,
                        notes: f.of("agenda", i, "notes").to_owned(),
                    })
                })
                .collect::<Result<_, AppError>>()?,
        })],
        "action" => vec![ReviewCommand::AddAction(NewActionItem {
            title: text("title"),
            owner: handle("owner", f.get("owner").trim())?,
            category: Category::parse(f.get("category"))?,
            due_at: when("due_at", f.get("due_at"))?,
            status: None,
            answers: match f.get("answers").trim() {
                "" => None,
                a => Some(a.parse()?),
            },
            ticket: optional(f.get("ticket")),
        })],
        "action-update" => {
            let number = item_number(f)?;
            let patch = ActionItemPatch {
                status: optional(f.get("status"))
                    .map(|s| ActionStatus::parse(&s))
                    .transpose()?,
                owner: optional(f.get("owner"))
                    .map(|o| handle("owner", &o))
                    .transpose()?,
                due_at: when("due_at", f.get("due_at"))?,
                ..Default::default()
            };
            vec![ReviewCommand::UpdateAction { number, patch }]
        }
        other => {
            return Err(AppError::not_found(format!(
                "a review has no form '{other}'"
            )))
        }
    })
}

fn item_number(f: &Fields) -> Result<u32, AppError> {
    f.get("item")
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("item", "choose an action item"))
}

fn figures(f: &Fields) -> Result<Vec<ImpactFigure>, AppError> {
    (0..f.groups("figures", 60))
        .filter(|&i| {
            let blank = ["name", "value", "unit", "source"]
                .iter()
                .all(|k| f.of("figures", i, k).trim().is_empty());
            !blank && f.of("figures", i, "remove").is_empty()
        })
        .map(|i| {
            let value = f.of("figures", i, "value").trim();
            Ok(ImpactFigure {
                name: f.of("figures", i, "name").to_owned(),
                value: value.replace(',', "").parse().map_err(|_| {
                    AppError::invalid("value", format!("figures[{i}]: '{value}' is not a number"))
                })?,
                unit: f.of("figures", i, "unit").to_owned(),
                source: f.of("figures", i, "source").to_owned(),
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "review_print.html")]
struct PrintPage<'a> {
    v: &'a ReviewView,
    chains: Vec<Vec<NodeRow>>,
}

impl PrintPage<'_> {
    fn md(&self, text: &str) -> String {
        to_html(text)
    }

    fn duration(&self, seconds: impl Plain<i64>) -> String {
        klaxon_domain::time::human_duration(seconds.plain())
    }

    /// The runbook's lists, titled.
    fn lists(&self) -> Vec<(&'static str, &[review::ActionItem])> {
        let l = &self.v.lists;
        vec![
            ("✅ Completed", &l.completed),
            ("🔄 In progress", &l.in_progress),
            ("📋 Planned", &l.planned),
            ("Not doing", &l.dropped),
        ]
    }
}

/// The review as a printable HTML page, headed like the Markdown report; free text
/// drawn as safe Markdown.
pub fn printable(view: &ReviewView) -> Response {
    let page = PrintPage {
        v: view,
        chains: node_rows(view),
    };
    render(StatusCode::OK, &page)
}

/// `GET /incidents/{number}/review/print`.
pub async fn print(
    State(state): State<AppState>,
    Web(session): Web,
    Path(number): Path<String>,
) -> Response {
    let view = match number_of(&number) {
        Ok(n) => reviews::show(&state, &session.caller, n).await,
        Err(e) => Err(e),
    };
    match view {
        Ok(v) => printable(&v),
        Err(e) => error_page(Some(&session), &e),
    }
}

/// `GET /incidents/{number}/review/report.md`.
pub async fn markdown(
    State(state): State<AppState>,
    Web(session): Web,
    Path(number): Path<String>,
) -> Response {
    let view = match number_of(&number) {
        Ok(n) => reviews::show(&state, &session.caller, n).await,
        Err(e) => Err(e),
    };
    match view {
        Ok(v) => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            review::markdown(&v),
        )
            .into_response(),
        Err(e) => error_page(Some(&session), &e),
    }
}
