//! The form that creates or edits a schedule, layer by layer: its fields as typed, read
//! into a schedule the way the domain names its fields, and its pages.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use klaxon_domain::policy::{Day, TimeOfDay};
use klaxon_domain::schedule::{Layer, NewSchedule, Override, Restriction, Schedule, ShiftLength};
use klaxon_domain::Handle;

use super::schedules::{path_of, restriction_text};
use crate::app::error::AppError;
use crate::app::schedules;
use crate::app::sessions::WebSession;
use crate::http::error::status_of;
use crate::http::web::form::{Fields, Placed};
use crate::http::web::page::{error_page, render, Layout};
use crate::http::web::session::{Posted, Web};
use crate::infra::state::AppState;

/// The most layers one form carries.
const MAX_LAYERS: usize = 50;

/// One layer of the schedule form, as typed.
#[derive(Debug, Default, Clone)]
struct LayerForm {
    name: String,
    participants: String,
    shift_count: String,
    shift_unit: String,
    start: String,
    restrictions: String,
}

/// The schedule form, as typed.
#[derive(Debug, Default)]
struct ScheduleForm {
    name: String,
    time_zone: String,
    layers: Vec<LayerForm>,
}

impl ScheduleForm {
    fn blank(now: Timestamp) -> ScheduleForm {
        let monday = now
            .to_zoned(TimeZone::UTC)
            .date()
            .checked_add(7.days())
            .unwrap_or_default();
        let monday = monday
            .checked_sub(i64::from(monday.weekday().to_monday_zero_offset()).days())
            .unwrap_or(monday);
        ScheduleForm {
            name: String::new(),
            time_zone: "UTC".into(),
            layers: vec![LayerForm {
                name: "Primary".into(),
                shift_count: "1".into(),
                shift_unit: "weeks".into(),
                start: format!("{monday}T09:00"),
                ..LayerForm::default()
            }],
        }
    }

    fn of(schedule: &Schedule) -> ScheduleForm {
        ScheduleForm {
            name: schedule.name().to_owned(),
            time_zone: schedule.time_zone().name().to_owned(),
            layers: schedule
                .layers()
                .iter()
                .map(|l| {
                    let (n, unit) = match l.shift {
                        ShiftLength::Hours(n) => (n, "hours"),
                        ShiftLength::Days(n) => (n, "days"),
                        ShiftLength::Weeks(n) => (n, "weeks"),
                    };
                    LayerForm {
                        name: l.name.clone(),
                        participants: l
                            .participants
                            .iter()
                            .map(Handle::as_str)
                            .collect::<Vec<_>>()
                            .join(", "),
                        shift_count: n.to_string(),
                        shift_unit: unit.into(),
                        start: l.start.strftime("%Y-%m-%dT%H:%M").to_string(),
                        restrictions: l
                            .restrictions
                            .iter()
                            .map(restriction_text)
                            .collect::<Vec<_>>()
                            .join("\n"),
                    }
                })
                .collect(),
        }
    }

    /// The form as posted: layers marked for removal left out, one more blank layer if
    /// asked for.
    fn posted(f: &Fields) -> ScheduleForm {
        let mut layers: Vec<LayerForm> = (0..f.groups("layers", MAX_LAYERS))
            .filter(|&i| f.of("layers", i, "remove").is_empty())
            .map(|i| LayerForm {
                name: f.of("layers", i, "name").to_owned(),
                participants: f.of("layers", i, "participants").to_owned(),
                shift_count: f.of("layers", i, "shift_count").to_owned(),
                shift_unit: f.of("layers", i, "shift_unit").to_owned(),
                start: f.of("layers", i, "start").to_owned(),
                restrictions: f.of("layers", i, "restrictions").to_owned(),
            })
            .collect();
        if f.has("add_layer") && layers.len() < MAX_LAYERS {
            let start = layers.last().map(|l| l.start.clone()).unwrap_or_default();
            layers.push(LayerForm {
                shift_count: "1".into(),
                shift_unit: "weeks".into(),
                start,
                ..LayerForm::default()
            });
        }
        ScheduleForm {
            name: f.get("name").to_owned(),
            time_zone: f.get("time_zone").to_owned(),
            layers,
        }
    }

    /// What the form asks for, or the first field that cannot be read, named the way the
    /// domain names its fields so it lands next to the same input.
    fn input(&self, overrides: Vec<Override>) -> Result<NewSchedule, AppError> {
        let layers = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| l.layer(i))
            .collect::<Result<_, _>>()?;
        Ok(NewSchedule {
            name: self.name.clone(),
            time_zone: self.time_zone.trim().to_owned(),
            layers,
            overrides,
        })
    }
}

impl LayerForm {
    fn layer(&self, i: usize) -> Result<Layer, AppError> {
        let name = self.name.trim();
        let label = if name.is_empty() {
            format!("layers[{i}]")
        } else {
            format!("layers[{i}] ({name})")
        };
        let participants = self
            .participants
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(|p| {
                Handle::parse(p)
                    .map_err(|e| AppError::invalid("layers.participants", format!("{label}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let count = self.shift_count.trim();
        let n: u32 = count.parse().map_err(|_| {
            AppError::invalid(
                "layers.shift",
                format!("{label}: '{count}' is not a whole number"),
            )
        })?;
        let shift = match self.shift_unit.as_str() {
            "hours" => ShiftLength::Hours(n),
            "days" => ShiftLength::Days(n),
            "weeks" => ShiftLength::Weeks(n),
            other => {
                return Err(AppError::invalid(
                    "layers.shift",
                    format!("{label}: '{other}' is not hours, days or weeks"),
                ))
            }
        };
        let start_text = self.start.trim();
        let start: DateTime = start_text.parse().map_err(|_| {
            AppError::invalid(
                "layers.start",
                format!(
                    "{label}: '{start_text}' is not a date and time; write it as 2026-03-02T09:00"
                ),
            )
        })?;
        let restrictions = self
            .restrictions
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(j, line)| {
                restriction(line).map_err(|m| {
                    AppError::invalid(
                        "layers.restrictions",
                        format!("{label}.restrictions[{j}]: {m}"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Layer {
            name: self.name.clone(),
            participants,
            shift,
            start,
            restrictions,
        })
    }
}

/// A restriction written as days and a window: `mon tue wed thu fri 09:00-17:00`.
fn restriction(line: &str) -> Result<Restriction, String> {
    let usage = "write the days and the window, e.g. mon tue wed thu fri 09:00-17:00";
    let words: Vec<&str> = line
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let Some((window, days)) = words.split_last() else {
        return Err(usage.into());
    };
    let Some((start, end)) = window.split_once(['-', '–']) else {
        return Err(format!("'{window}' is not a window; {usage}"));
    };
    let days = days
        .iter()
        .map(|d| Day::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Restriction {
        days,
        start: TimeOfDay::parse(start)?,
        end: TimeOfDay::parse(end)?,
    })
}

#[derive(Template)]
#[template(path = "schedule_form.html")]
struct FormPage {
    layout: Layout,
    /// Where the form posts: `/schedules` or the schedule's own path.
    action: String,
    /// The schedule being edited, if any.
    editing: Option<String>,
    form: ScheduleForm,
    error: Placed,
}

fn form_page(
    status: StatusCode,
    session: &WebSession,
    editing: Option<&str>,
    form: ScheduleForm,
    error: Placed,
) -> Response {
    let title = match editing {
        Some(name) => format!("Edit {name}"),
        None => "New schedule".into(),
    };
    let page = FormPage {
        layout: Layout::new(Some(session), title, "schedules"),
        action: editing.map_or_else(|| "/schedules".into(), path_of),
        editing: editing.map(str::to_owned),
        form,
        error,
    };
    render(status, &page)
}

fn placed(e: &AppError) -> Placed {
    Placed::new(e, "layers", &["name", "time_zone"])
}

/// `GET /schedules/new` (admins).
pub async fn new_form(State(state): State<AppState>, Web(session): Web) -> Response {
    if let Err(e) = session.caller.require(klaxon_domain::auth::Scope::Admin) {
        return error_page(Some(&session), &e);
    }
    let form = ScheduleForm::blank(state.clock.now());
    form_page(StatusCode::OK, &session, None, form, Placed::default())
}

/// `GET /schedules/{name}/edit` (admins).
pub async fn edit_form(
    State(state): State<AppState>,
    Web(session): Web,
    Path(name): Path<String>,
) -> Response {
    if let Err(e) = session.caller.require(klaxon_domain::auth::Scope::Admin) {
        return error_page(Some(&session), &e);
    }
    match state.store.schedule(&name).await {
        Ok(s) => form_page(
            StatusCode::OK,
            &session,
            Some(&name),
            ScheduleForm::of(&s),
            Placed::default(),
        ),
        Err(e) => error_page(Some(&session), &e.into()),
    }
}

/// `POST /schedules`: creates a schedule, or draws the form again with one more layer.
pub async fn create(
    State(state): State<AppState>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    save(&state, session, None, Fields(fields)).await
}

/// `POST /schedules/{name}`: saves the schedule's layers (its overrides stay), or draws
/// the form again with one more layer.
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Posted(session, fields): Posted<Vec<(String, String)>>,
) -> Response {
    save(&state, session, Some(name), Fields(fields)).await
}

async fn save(
    state: &AppState,
    session: WebSession,
    editing: Option<String>,
    fields: Fields,
) -> Response {
    if let Err(e) = session.caller.require(klaxon_domain::auth::Scope::Admin) {
        return error_page(Some(&session), &e);
    }
    let form = ScheduleForm::posted(&fields);
    if fields.has("add_layer") {
        return form_page(
            StatusCode::OK,
            &session,
            editing.as_deref(),
            form,
            Placed::default(),
        );
    }
    let saved = match form.input(Vec::new()) {
        Ok(new) => match &editing {
            Some(name) => schedules::replace_layers(state, &session.caller, name, new).await,
            None => schedules::create(state, &session.caller, new).await,
        },
        Err(e) => Err(e),
    };
    match saved {
        Ok(s) => Redirect::to(&path_of(s.name())).into_response(),
        Err(e) if e.errors.is_empty() && e.kind == crate::app::error::ErrorKind::NotFound => {
            error_page(Some(&session), &e)
        }
        Err(e) => form_page(
            status_of(e.kind),
            &session,
            editing.as_deref(),
            form,
            placed(&e),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restriction_reads_as_days_and_a_window() {
        let r = restriction("mon tue, wed 09:00-17:30").unwrap();
        assert_eq!(r.days.len(), 3);
        assert_eq!(restriction_text(&r), "mon tue wed 09:00-17:30");
        assert!(restriction("mon").unwrap_err().contains("is not a window"));
        assert!(restriction("funday 09:00-17:00")
            .unwrap_err()
            .contains("not a day"));
        assert!(restriction("mon 9-17").unwrap_err().contains("HH:MM"));
    }

    #[test]
    fn a_layer_that_cannot_be_read_names_its_field_and_place() {
        let l = LayerForm {
            name: "Night".into(),
            participants: "alice, bob".into(),
            shift_count: "twelve".into(),
            shift_unit: "hours".into(),
            start: "2026-03-02T09:00".into(),
            restrictions: String::new(),
        };
        let e = l.layer(2).unwrap_err();
        let p = placed(&e);
        assert_eq!(
            p.in_group(&2, "shift"),
            Some("layers[2] (Night): 'twelve' is not a whole number")
        );
        let ok = LayerForm {
            shift_count: "12".into(),
            ..l
        };
        let layer = ok.layer(0).unwrap();
        assert_eq!(layer.shift, ShiftLength::Hours(12));
        assert_eq!(layer.participants.len(), 2);
    }
}
