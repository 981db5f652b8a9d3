//! The status page in HTML, without JavaScript: the banner, the active incidents with
//! their updates, the components in their groups with 90-day uptime bars (one small
//! inline SVG each); the incident history by month; one incident's page.

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use klaxon_domain::status::uptime::Day;
use klaxon_domain::status::view::{
    incident_path, maintenance_path, PublicMaintenance, PublicMaintenanceUpdate, PublicUpdateView,
};
use klaxon_domain::status::{ComponentStatus, PublicComponent, PublicIncident, PublicView};
use serde::Deserialize;

use super::{bad_request, rendered};
use crate::infra::state::AppState;
use crate::infra::status_page::{PageSnapshot, StatusColors};

const CSS: &str = include_str!("../../../static/status.css");

/// What every status page shares: its name, look, and how fresh it is.
pub(super) struct Frame<'a> {
    pub(super) title: String,
    pub(super) name: &'a str,
    pub(super) logo: Option<&'a str>,
    pub(super) colors: &'a StatusColors,
    pub(super) css: &'static str,
    pub(super) updated: String,
    pub(super) notice: Option<String>,
}

pub(super) fn frame<'a>(state: &'a AppState, snapshot: &PageSnapshot, title: String) -> Frame<'a> {
    Frame {
        title,
        name: &state.status_config.name,
        logo: state.status_config.logo_url.as_deref(),
        colors: &state.status_config.colors,
        css: CSS,
        updated: when(snapshot.built_at),
        notice: snapshot.failing_since.map(|since| {
            format!(
                "This page could not be refreshed since {}; it shows the status as of {}.",
                when(since),
                when(snapshot.built_at)
            )
        }),
    }
}

/// A time for people: `Nov 26, 10:15 UTC`.
fn when(t: Timestamp) -> String {
    t.strftime("%b %d, %H:%M UTC").to_string()
}

struct UpdateLine {
    label: &'static str,
    body: String,
    at: String,
    iso: String,
}

/// An incident or a maintenance, as a card.
struct IncidentBlock {
    /// Its page, below the page's URL.
    href: String,
    name: String,
    /// A maintenance's window: "Nov 26, 12:00 UTC – Nov 26, 14:00 UTC".
    window: Option<String>,
    impact: &'static str,
    status: &'static str,
    resolved: bool,
    affected: String,
    updates: Vec<UpdateLine>,
}

fn block(v: &PublicView, i: &PublicIncident) -> IncidentBlock {
    let line = |u: &PublicUpdateView| UpdateLine {
        label: u.label,
        body: u.body.clone(),
        at: when(u.at),
        iso: klaxon_domain::status::statuspage::time(u.at),
    };
    IncidentBlock {
        href: incident_path(&i.id),
        name: i.name.clone(),
        window: None,
        impact: i.impact.as_str(),
        status: i.status.label(),
        resolved: !i.unresolved(),
        affected: i
            .components
            .iter()
            .filter_map(|id| v.component(id))
            .map(|c| c.component.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        updates: i.updates.iter().map(line).collect(),
    }
}

fn maintenance_block(v: &PublicView, m: &PublicMaintenance) -> IncidentBlock {
    let line = |u: &PublicMaintenanceUpdate| UpdateLine {
        label: u.label,
        body: u.body.clone(),
        at: when(u.at),
        iso: klaxon_domain::status::statuspage::time(u.at),
    };
    IncidentBlock {
        href: maintenance_path(&m.id),
        name: m.name.clone(),
        window: Some(format!(
            "{} – {}",
            when(m.scheduled_for),
            when(m.scheduled_until)
        )),
        impact: "maintenance",
        status: m.status.label(),
        resolved: m.status.is_final(),
        affected: m
            .components
            .iter()
            .filter_map(|id| v.component(id))
            .map(|c| c.component.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        updates: m.updates.iter().map(line).collect(),
    }
}

struct Row {
    name: String,
    description: Option<String>,
    status: &'static str,
    label: &'static str,
    bar: Option<String>,
    uptime: String,
    children: Vec<Row>,
}

fn row(v: &PublicView, c: &PublicComponent) -> Row {
    let k = &c.component;
    Row {
        name: k.name.clone(),
        description: k.description.clone(),
        status: k.status.as_str(),
        label: k.status.label(),
        bar: (!c.days.is_empty()).then(|| bar(&c.days, c.uptime)),
        uptime: c
            .uptime
            .map(|u| format!("{:.2} % uptime", u * 100.0))
            .unwrap_or_else(|| "no data yet".into()),
        children: c
            .children
            .iter()
            .filter_map(|id| v.component(id))
            .filter(|child| child.shown())
            .map(|child| row(v, child))
            .collect(),
    }
}

/// The class of a day's stripe: its worst status, or `n` for a day that does not count.
fn class(d: &Day) -> &'static str {
    if d.counted == 0 {
        return "n";
    }
    match d.worst {
        ComponentStatus::Operational => "o",
        ComponentStatus::DegradedPerformance => "d",
        ComponentStatus::PartialOutage => "p",
        ComponentStatus::MajorOutage => "m",
        ComponentStatus::UnderMaintenance => "u",
    }
}

/// The uptime bar: a stripe per day, quiet days merged into one rectangle so that the
/// page stays small; each day that saw trouble carries a title with its minutes.
fn bar(days: &[Day], uptime: Option<f64>) -> String {
    const W: usize = 3;
    let label = match uptime {
        Some(u) => format!("{:.2} % uptime over {} days", u * 100.0, days.len()),
        None => "no uptime data yet".to_owned(),
    };
    let mut svg = format!(
        "<svg class=\"bar\" viewBox=\"0 0 {} 24\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{label}\">",
        days.len() * W
    );
    let mut i = 0;
    while i < days.len() {
        let c = class(&days[i]);
        if matches!(c, "o" | "n") {
            let run = days[i..].iter().take_while(|d| class(d) == c).count();
            let _ = write!(
                svg,
                "<rect x=\"{}\" width=\"{}\" height=\"24\" class=\"{c}\"/>",
                i * W,
                run * W - 1
            );
            i += run;
            continue;
        }
        let d = &days[i];
        let (major, partial) = d.minutes();
        let _ = write!(
            svg,
            "<rect x=\"{}\" width=\"{}\" height=\"24\" class=\"{c}\"><title>{}: {}; {major} min major outage, {partial} min partial outage</title></rect>",
            i * W,
            W - 1,
            d.date.strftime("%b %d"),
            d.worst.label(),
        );
        i += 1;
    }
    svg.push_str("</svg>");
    svg
}

#[derive(Template)]
#[template(path = "status/page.html")]
struct MainPage<'a> {
    frame: Frame<'a>,
    banner_class: &'static str,
    banner: String,
    active: Vec<IncidentBlock>,
    /// Maintenance under way, then maintenance to come (soonest first).
    maintenance: Vec<IncidentBlock>,
    upcoming: Vec<IncidentBlock>,
    rows: Vec<Row>,
    /// The subscribe form's component choices, when the server sends e-mail.
    subscribe: Option<Vec<Choice>>,
}

/// A component (or group) a subscriber may choose, by public id.
struct Choice {
    id: String,
    name: String,
    child: bool,
}

/// The page at `/status`, rendered once per build of the view.
pub(super) fn main(state: &AppState, snapshot: &PageSnapshot) -> String {
    let v = &snapshot.view;
    let page = MainPage {
        frame: frame(state, snapshot, format!("{} Status", v.page.name)),
        banner_class: v.status.indicator.as_str(),
        banner: v.status.description.clone(),
        active: v.unresolved().map(|i| block(v, i)).collect(),
        maintenance: v.active().map(|m| maintenance_block(v, m)).collect(),
        upcoming: v
            .upcoming()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(|m| maintenance_block(v, m))
            .collect(),
        rows: v
            .components
            .iter()
            .filter(|c| c.group_id.is_none() && c.shown())
            .map(|c| row(v, c))
            .collect(),
        subscribe: state.channels.subscriber_mail.as_ref().map(|_| {
            v.components
                .iter()
                .map(|c| Choice {
                    id: c.id.clone(),
                    name: c.component.name.clone(),
                    child: c.group_id.is_some(),
                })
                .collect()
        }),
    };
    page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "the status page failed to render");
        "<!doctype html><title>Status</title><p>The status page could not be drawn.</p>".into()
    })
}

fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static(super::CACHE_CONTROL),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "a status page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "status/history.html")]
struct HistoryPage<'a> {
    frame: Frame<'a>,
    month: String,
    previous: Option<String>,
    next: Option<String>,
    incidents: Vec<IncidentBlock>,
    maintenances: Vec<IncidentBlock>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    month: Option<String>,
}

/// The first day of `YYYY-MM`.
fn month_of(text: &str) -> Option<Date> {
    let (y, m) = text.trim().split_once('-')?;
    let (y, m) = (y.parse::<i16>().ok()?, m.parse::<i8>().ok()?);
    Date::new(y, m, 1).ok()
}

/// `GET /status/history?month=2026-11`: the incidents declared that month, newest first.
pub async fn history(State(state): State<AppState>, Query(q): Query<HistoryQuery>) -> Response {
    let (snapshot, _) = rendered(&state);
    let now = state.clock.now();
    let this_month = now
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .first_of_month();
    let first = match q.month.as_deref().filter(|m| !m.is_empty()) {
        None => this_month,
        Some(text) => match month_of(text) {
            Some(d) => d,
            None => return bad_request("month: write it as YYYY-MM, e.g. 2026-11"),
        },
    };
    let Ok(next) = first.checked_add(1.month()) else {
        return bad_request("month: out of range");
    };
    let in_month = |t: Timestamp| {
        let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
        first <= d && d < next
    };
    let v = &snapshot.view;
    let page = HistoryPage {
        frame: frame(
            &state,
            &snapshot,
            format!("{} Status - Incident History", v.page.name),
        ),
        month: first.strftime("%B %Y").to_string(),
        previous: first
            .checked_sub(1.month())
            .ok()
            .map(|d| d.strftime("%Y-%m").to_string()),
        next: (next <= this_month).then(|| next.strftime("%Y-%m").to_string()),
        incidents: v
            .incidents
            .iter()
            .filter(|i| in_month(i.created_at))
            .map(|i| block(v, i))
            .collect(),
        maintenances: v
            .maintenances
            .iter()
            .filter(|m| m.status.is_final() && in_month(m.scheduled_for))
            .map(|m| maintenance_block(v, m))
            .collect(),
    };
    html(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "status/incident.html")]
struct IncidentPage<'a> {
    frame: Frame<'a>,
    i: IncidentBlock,
}

/// `GET /status/incidents/{id}`.
pub async fn incident(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (snapshot, _) = rendered(&state);
    let v = &snapshot.view;
    match v.incident(&id) {
        Some(i) => {
            let page = IncidentPage {
                frame: frame(
                    &state,
                    &snapshot,
                    format!("{} - {} Status", i.name, v.page.name),
                ),
                i: block(v, i),
            };
            html(StatusCode::OK, &page)
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "There is no such incident on this status page.",
        )
            .into_response(),
    }
}

/// `GET /status/maintenances/{id}`.
pub async fn maintenance(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (snapshot, _) = rendered(&state);
    let v = &snapshot.view;
    match v.maintenance(&id) {
        Some(m) => {
            let page = IncidentPage {
                frame: frame(
                    &state,
                    &snapshot,
                    format!("{} - {} Status", m.name, v.page.name),
                ),
                i: maintenance_block(v, m),
            };
            html(StatusCode::OK, &page)
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "There is no such maintenance on this status page.",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, counted: i64, worst: ComponentStatus) -> Day {
        Day {
            date: date.parse().unwrap(),
            counted,
            major: 0,
            partial: if worst == ComponentStatus::PartialOutage {
                1_800_000
            } else {
                0
            },
            degraded: 0,
            maintenance: 0,
            worst,
        }
    }

    #[test]
    fn quiet_days_share_a_stripe_and_bad_ones_say_why() {
        let mut days = vec![day("2026-11-20", 0, ComponentStatus::Operational)];
        for d in 21..=25 {
            days.push(day(
                &format!("2026-11-{d}"),
                86_400,
                ComponentStatus::Operational,
            ));
        }
        days.push(day(
            "2026-11-26",
            86_400_000,
            ComponentStatus::PartialOutage,
        ));
        let svg = bar(&days, Some(0.99));
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("Nov 26: Partial outage; 0 min major outage, 30 min partial outage"));
        assert!(svg.contains("99.00 % uptime"));
    }

    #[test]
    fn months_are_read_as_written() {
        assert_eq!(month_of("2026-11"), Some("2026-11-01".parse().unwrap()));
        assert_eq!(month_of("2026-13"), None);
        assert_eq!(month_of("november"), None);
    }
}
