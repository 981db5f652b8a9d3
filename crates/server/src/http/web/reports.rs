//! `/reports`: metrics across incidents for a window the URL names, as tables and as
//! charts drawn on the server (SVG in the page: no script, no chart library).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use klaxon_domain::metrics::{Count, Kept, Report, Spread};
use klaxon_domain::time::human_duration;

use crate::app::reports::{self, ReportQuery};
use crate::http::error::status_of;
use crate::http::web::form::Placed;
use crate::http::web::page::{render, Layout};
use crate::http::web::session::Web;
use crate::http::web::show;
use crate::infra::state::AppState;

/// One bar of a chart, in the chart's own units (a 100 × 40 box).
struct Bar {
    x: String,
    width: String,
    y: String,
    height: String,
    label: String,
    count: usize,
}

/// Bars for `counts`, the tallest filling the chart's height.
fn bars(counts: &[Count]) -> Vec<Bar> {
    let most = counts.iter().map(|c| c.count).max().unwrap_or(0).max(1);
    let slot = 100.0 / counts.len().max(1) as f64;
    counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let height = 36.0 * c.count as f64 / most as f64;
            Bar {
                x: format!("{:.2}", i as f64 * slot + slot * 0.1),
                width: format!("{:.2}", slot * 0.8),
                y: format!("{:.2}", 38.0 - height),
                height: format!("{height:.2}"),
                label: c.name.clone(),
                count: c.count,
            }
        })
        .collect()
}

struct Row {
    name: &'static str,
    samples: usize,
    median: String,
    p90: String,
}

fn row(name: &'static str, s: &Spread) -> Row {
    let show = |v: Option<i64>| v.map_or_else(|| "–".to_owned(), human_duration);
    Row {
        name,
        samples: s.samples,
        median: show(s.median_seconds),
        p90: show(s.p90_seconds),
    }
}

fn kept(k: Kept) -> String {
    match k.of {
        0 => "–".to_owned(),
        of => format!("{} of {of} ({}%)", k.kept, k.kept * 100 / of),
    }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    query: ReportQuery,
    error: Placed,
    report: Option<Report>,
    times: Vec<Row>,
    weeks: Vec<Bar>,
    severities: Vec<(String, usize, String)>,
    internal: String,
    customer: String,
    drills: Vec<DrillRow>,
}

/// A drill as the page lists it.
struct DrillRow {
    number: i64,
    title: String,
    severity: String,
    declared: String,
    score: String,
    /// The targets it missed, in words; empty if none.
    missed: Vec<String>,
}

fn drill_rows(r: &Report) -> Vec<DrillRow> {
    r.drill_scores
        .iter()
        .map(|d| DrillRow {
            number: d.number,
            title: d.title.clone(),
            severity: d.severity.clone(),
            declared: show::instant(d.declared_at),
            score: d.score.fraction(),
            missed: d
                .score
                .criteria
                .iter()
                .filter(|c| !c.met)
                .map(|c| match c.expected_seconds {
                    Some(_) => {
                        format!("{}: {} (expected {})", c.kind.label(), c.actual, c.expected)
                    }
                    // The roles' actual value names the missing ones.
                    None => format!("{}: {}", c.kind.label(), c.actual),
                })
                .collect(),
        })
        .collect()
}

/// `GET /reports?since=30d&service=api&severity=2`.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Query(query): Query<ReportQuery>,
) -> Response {
    let layout = Layout::new(Some(&session), "Reports", "reports");
    let (status, report, error) = match reports::report(&state, &session.caller, &query).await {
        Ok(r) => (StatusCode::OK, Some(r), Placed::default()),
        Err(e) => (
            status_of(e.kind),
            None,
            Placed::new(&e, "", &["since", "until", "service", "severity"]),
        ),
    };
    let page = match &report {
        Some(r) => ReportsPage {
            layout,
            times: vec![
                row("Time to acknowledge", &r.time_to_acknowledge),
                row("Time to mitigate", &r.time_to_mitigate),
                row("Time to resolve", &r.time_to_resolve),
            ],
            weeks: bars(&r.by_week),
            severities: r
                .by_severity
                .iter()
                .map(|s| (s.severity.clone(), s.count, kept(s.response_target)))
                .collect(),
            internal: kept(r.internal_updates),
            customer: kept(r.customer_updates),
            drills: drill_rows(r),
            query,
            error,
            report: report.clone(),
        },
        None => ReportsPage {
            layout,
            query,
            error,
            report: None,
            times: vec![],
            weeks: vec![],
            severities: vec![],
            internal: String::new(),
            customer: String::new(),
            drills: vec![],
        },
    };
    render(status, &page)
}
