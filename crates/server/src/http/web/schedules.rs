//! `/schedules`: every schedule with who is on call; a schedule's week (each layer's
//! rotation, the overrides and the final schedule as bars, and as a table), its
//! overrides and its calendar feed; the form that creates or edits one, layer by layer.
//! Admins change schedules, as in the API; everyone signed in reads them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use klaxon_domain::schedule::{Override, Restriction, Schedule, Shift, ShiftLength, ShiftSource};
use klaxon_domain::Handle;
use serde::Deserialize;

use crate::app::error::AppError;
use crate::app::schedules;
use crate::app::sessions::WebSession;
use crate::http::error::status_of;
use crate::http::web::form::Placed;
use crate::http::web::page::{error_page, render, Layout};
use crate::http::web::session::{NoFields, Posted, Web};
use crate::infra::state::AppState;

/// A schedule's page.
pub(super) fn path_of(name: &str) -> String {
    format!("/schedules/{}", urlencoding(name))
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A schedule in a list: who is on call now and who next.
pub(super) struct ScheduleRow {
    pub name: String,
    pub path: String,
    pub time_zone: String,
    pub on_call: Option<String>,
    /// Who takes over next, and when (within two weeks).
    pub next: Option<String>,
}

/// Each schedule with who is on call at `now` and who takes over next.
pub(super) fn rows(all: &[Schedule], now: Timestamp) -> Vec<ScheduleRow> {
    all.iter()
        .map(|s| {
            let tz = s.time_zone().zone();
            let shifts = s.shifts(now, now + SignedDuration::from_hours(24 * 14));
            let next = match (shifts.first(), shifts.get(1)) {
                (Some(a), _) if a.start > now => Some(a),
                (Some(_), Some(b)) => Some(b),
                _ => None,
            }
            .map(|s| format!("{} from {}", s.user, local(tz, s.start)));
            ScheduleRow {
                name: s.name().to_owned(),
                path: path_of(s.name()),
                time_zone: s.time_zone().name().to_owned(),
                on_call: s.on_call_at(now).map(|h| h.to_string()),
                next,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "schedules.html")]
struct ListPage {
    layout: Layout,
    schedules: Vec<ScheduleRow>,
    admin: bool,
}

/// `GET /schedules`.
pub async fn list(State(state): State<AppState>, Web(session): Web) -> Response {
    let all = match state.store.schedules().await {
        Ok(all) => all,
        Err(e) => return error_page(Some(&session), &e.into()),
    };
    let page = ListPage {
        layout: Layout::new(Some(&session), "Schedules", "schedules"),
        schedules: rows(&all, state.clock.now()),
        admin: session.caller.is_admin(),
    };
    render(StatusCode::OK, &page)
}

/// `t` in the schedule's zone, for people: `Mon 7 Dec 09:00`.
fn local(tz: &TimeZone, t: Timestamp) -> String {
    t.to_zoned(tz.clone())
        .strftime("%a %-d %b %H:%M")
        .to_string()
}

/// One shift drawn on a week: where it starts and how wide it is, in percent.
struct Bar {
    left: String,
    width: String,
    who: String,
    when: String,
    /// One of eight colours, the same for the same person.
    tone: u8,
}

struct WeekRow {
    name: String,
    bars: Vec<Bar>,
}

struct ShiftRow {
    who: String,
    from: String,
    to: String,
    source: String,
}

/// A week of a schedule, Monday to Sunday in its time zone.
struct Week {
    label: String,
    previous: String,
    next: String,
    days: Vec<String>,
    rows: Vec<WeekRow>,
    /// Where now is on the week, in percent, if it is in it.
    now: Option<String>,
    shifts: Vec<ShiftRow>,
}

fn tone(who: &Handle) -> u8 {
    (who.as_str()
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 8) as u8
}

impl Week {
    fn new(schedule: &Schedule, monday: Date, now: Timestamp) -> Result<Week, AppError> {
        let tz = schedule.time_zone().zone();
        let start_of = |d: Date| {
            d.to_zoned(tz.clone())
                .map(|z| z.timestamp())
                .map_err(|_| AppError::invalid("week", "that week cannot be shown"))
        };
        let sunday = monday
            .checked_add(6.days())
            .map_err(|_| AppError::invalid("week", "that week cannot be shown"))?;
        let after = sunday
            .tomorrow()
            .map_err(|_| AppError::invalid("week", "that week cannot be shown"))?;
        let (from, to) = (start_of(monday)?, start_of(after)?);
        let span = to.duration_since(from).as_secs_f64();
        let percent = |t: Timestamp| from.duration_until(t).as_secs_f64() / span * 100.0;
        let bar = |s: &Shift| Bar {
            left: format!("{:.3}", percent(s.start)),
            width: format!("{:.3}", percent(s.end) - percent(s.start)),
            who: s.user.to_string(),
            when: format!("{}: {} – {}", s.user, local(tz, s.start), local(tz, s.end)),
            tone: tone(&s.user),
        };
        let mut rows: Vec<WeekRow> = schedule
            .layers()
            .iter()
            .map(|l| WeekRow {
                name: l.name.clone(),
                bars: l.shifts(tz, from, to).iter().map(bar).collect(),
            })
            .collect();
        let covered: Vec<Shift> = schedule
            .overrides()
            .iter()
            .filter(|o| o.start < to && o.end > from)
            .map(|o| Shift {
                user: o.user.clone(),
                start: o.start.max(from),
                end: o.end.min(to),
                source: ShiftSource::Override { index: 0 },
            })
            .collect();
        if !covered.is_empty() {
            rows.push(WeekRow {
                name: "Overrides".into(),
                bars: covered.iter().map(bar).collect(),
            });
        }
        let fin = schedule.shifts(from, to);
        rows.push(WeekRow {
            name: "Final schedule".into(),
            bars: fin.iter().map(bar).collect(),
        });
        let shifts = fin
            .iter()
            .map(|s| ShiftRow {
                who: s.user.to_string(),
                from: local(tz, s.start),
                to: local(tz, s.end),
                source: match &s.source {
                    ShiftSource::Layer { name, .. } => name.clone(),
                    ShiftSource::Override { .. } => "override".into(),
                },
            })
            .collect();
        let days = (0..7)
            .filter_map(|i| monday.checked_add(i.days()).ok())
            .map(|d| d.strftime("%a %-d").to_string())
            .collect();
        let week_link = |d: Result<Date, jiff::Error>| {
            d.map(|d| format!("?week={d}"))
                .unwrap_or_else(|_| "?".into())
        };
        Ok(Week {
            label: format!(
                "{} – {} ({})",
                monday.strftime("%-d %b"),
                sunday.strftime("%-d %b %Y"),
                schedule.time_zone().name()
            ),
            previous: week_link(monday.checked_sub(7.days())),
            next: week_link(monday.checked_add(7.days())),
            days,
            rows,
            now: (from <= now && now < to).then(|| format!("{:.3}", percent(now))),
            shifts,
        })
    }
}

struct LayerInfo {
    name: String,
    participants: String,
    shift: String,
    start: String,
    restrictions: Vec<String>,
}

struct OverrideRow {
    index: usize,
    who: String,
    from: String,
    to: String,
    /// The override as stored, so that removing it removes this one and no other.
    user: String,
    start: String,
    end: String,
    past: bool,
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct SchedulePage {
    layout: Layout,
    name: String,
    path: String,
    time_zone: String,
    on_call: Option<String>,
    week: Week,
    layers: Vec<LayerInfo>,
    overrides: Vec<OverrideRow>,
    admin: bool,
    cover: CoverForm,
    error: Placed,
}

#[derive(Debug, Default, Deserialize)]
pub struct WeekQuery {
    #[serde(default)]
    week: Option<String>,
}

/// `GET /schedules/{name}`: the week containing `?week=DATE`, this week by default.
pub async fn show(
    State(state): State<AppState>,
    Web(session): Web,
    Path(name): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Response {
    schedule_page(&state, &session, &name, q.week.as_deref(), None).await
}

async fn schedule_page(
    state: &AppState,
    session: &WebSession,
    name: &str,
    week: Option<&str>,
    refused: Option<(StatusCode, CoverForm, Placed)>,
) -> Response {
    match build(state, session, name, week, refused).await {
        Ok((status, page)) => render(status, &page),
        Err(e) => error_page(Some(session), &e),
    }
}

fn shift_text(s: ShiftLength) -> String {
    match s {
        ShiftLength::Hours(n) => format!("{n} hours"),
        ShiftLength::Days(1) => "1 day".into(),
        ShiftLength::Days(n) => format!("{n} days"),
        ShiftLength::Weeks(1) => "1 week".into(),
        ShiftLength::Weeks(n) => format!("{n} weeks"),
    }
}

pub(super) fn restriction_text(r: &Restriction) -> String {
    let days: Vec<&str> = r.days.iter().map(|d| d.as_str()).collect();
    format!("{} {}-{}", days.join(" "), r.start, r.end)
}

async fn build(
    state: &AppState,
    session: &WebSession,
    name: &str,
    week: Option<&str>,
    refused: Option<(StatusCode, CoverForm, Placed)>,
) -> Result<(StatusCode, SchedulePage), AppError> {
    let schedule = state.store.schedule(name).await?;
    let tz = schedule.time_zone().zone();
    let now = state.clock.now();
    let day = match week.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => w.parse::<Date>().map_err(|_| {
            AppError::invalid(
                "week",
                format!("'{w}' is not a date; write it as 2026-12-07"),
            )
        })?,
        None => now.to_zoned(tz.clone()).date(),
    };
    let monday = day
        .checked_sub(i64::from(day.weekday().to_monday_zero_offset()).days())
        .map_err(|_| AppError::invalid("week", "that week cannot be shown"))?;
    let week = Week::new(&schedule, monday, now)?;
    let layers = schedule
        .layers()
        .iter()
        .map(|l| LayerInfo {
            name: l.name.clone(),
            participants: l
                .participants
                .iter()
                .map(Handle::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            shift: shift_text(l.shift),
            start: l.start.strftime("%Y-%m-%d %H:%M").to_string(),
            restrictions: l.restrictions.iter().map(restriction_text).collect(),
        })
        .collect();
    let overrides = schedule
        .overrides()
        .iter()
        .enumerate()
        .map(|(index, o)| OverrideRow {
            index,
            who: o.user.to_string(),
            from: local(tz, o.start),
            to: local(tz, o.end),
            user: o.user.to_string(),
            start: o.start.to_string(),
            end: o.end.to_string(),
            past: o.end <= now,
        })
        .collect();
    let (status, cover, error) = match refused {
        Some((status, cover, error)) => (status, cover, error),
        None => (StatusCode::OK, CoverForm::default(), Placed::default()),
    };
    Ok((
        status,
        SchedulePage {
            layout: Layout::new(Some(session), schedule.name(), "schedules"),
            name: schedule.name().to_owned(),
            path: path_of(schedule.name()),
            time_zone: schedule.time_zone().name().to_owned(),
            on_call: schedule.on_call_at(now).map(|h| h.to_string()),
            week,
            layers,
            overrides,
            admin: session.caller.is_admin(),
            cover,
            error,
        },
    ))
}

/// The override form: who covers, from when to when, in the schedule's time zone.
#[derive(Debug, Default, Deserialize)]
pub struct CoverForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
}

/// A wall-clock time from a form (`2026-12-07T09:00`) in zone `tz`.
fn wall_clock(tz: &TimeZone, field: &str, text: &str) -> Result<Timestamp, AppError> {
    let text = text.trim();
    let civil: DateTime = text.parse().map_err(|_| {
        AppError::invalid(
            field,
            format!("'{text}' is not a date and time; write it as 2026-12-07T09:00"),
        )
    })?;
    tz.to_timestamp(civil).map_err(|_| {
        AppError::invalid(
            field,
            format!("{text} cannot be placed in this schedule's time zone"),
        )
    })
}

impl CoverForm {
    fn cover(&self, tz: &TimeZone) -> Result<Override, AppError> {
        let user = Handle::parse(self.user.trim())
            .map_err(|e| AppError::invalid("overrides.user", e.to_string()))?;
        Ok(Override {
            user,
            start: wall_clock(tz, "overrides.start", &self.start)?,
            end: wall_clock(tz, "overrides.end", &self.end)?,
        })
    }
}

/// `POST /schedules/{name}/overrides`: someone covers a stretch of time.
pub async fn add_override(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, form): Posted<CoverForm>,
) -> Response {
    let result = match state.store.schedule(&name).await {
        Ok(s) => match form.cover(s.time_zone().zone()) {
            Ok(cover) => schedules::add_override(&state, &session.caller, &name, cover).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(s) => Redirect::to(&path_of(s.name())).into_response(),
        Err(e) if e.errors.is_empty() => error_page(Some(&session), &e),
        Err(e) => {
            // The domain names the fields `overrides.X`; the form's are plain.
            let placed = Placed {
                index: None,
                field: e.errors[0]
                    .field
                    .trim_start_matches("overrides.")
                    .to_owned(),
                message: e.errors[0].message.clone(),
            };
            let refused = (status_of(e.kind), form, placed);
            schedule_page(&state, &session, &name, None, Some(refused)).await
        }
    }
}

/// The override a remove button names, as it was when the page was drawn.
#[derive(Debug, Deserialize)]
pub struct RemoveOverride {
    user: String,
    start: String,
    end: String,
}

/// `POST /schedules/{name}/overrides/{index}/remove`.
pub async fn remove_override(
    State(state): State<AppState>,
    Path((name, index)): Path<(String, String)>,
    Posted(session, form): Posted<RemoveOverride>,
) -> Response {
    let expected = (|| {
        Some(Override {
            user: Handle::parse(&form.user).ok()?,
            start: form.start.parse().ok()?,
            end: form.end.parse().ok()?,
        })
    })();
    let result = match (index.parse::<usize>(), expected) {
        (Ok(index), Some(expected)) => {
            schedules::remove_override(&state, &session.caller, &name, index, &expected).await
        }
        _ => Err(AppError::invalid(
            "override",
            "the form does not name an override; reload the page",
        )),
    };
    match result {
        Ok(s) => Redirect::to(&path_of(s.name())).into_response(),
        Err(e) => error_page(Some(&session), &e),
    }
}

/// `GET /schedules/{name}/calendar.ics`: the feed, for a signed-in browser.
pub async fn calendar(
    State(state): State<AppState>,
    Web(session): Web,
    Path(name): Path<String>,
) -> Response {
    match schedules::schedule_calendar(&state, &session.caller, &name).await {
        Ok(body) => (
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => error_page(Some(&session), &e),
    }
}

/// `POST /schedules/{name}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, _): Posted<NoFields>,
) -> Response {
    match schedules::delete(&state, &session.caller, &name).await {
        Ok(()) => Redirect::to("/schedules").into_response(),
        Err(e) => error_page(Some(&session), &e),
    }
}
