//! On-call schedules: created, replaced and removed whole by admins, checked by the
//! domain and against the people who exist; overrides added and removed one at a time.

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::Target;
use klaxon_domain::schedule::{ical, NewSchedule, Override, Schedule, Shift};
use klaxon_domain::Handle;

use crate::app::auth::Caller;
use crate::app::error::AppError;
use crate::app::links;
use crate::infra::state::AppState;

/// A schedule from a person, checked by the domain and against the users that exist; a
/// missing participant is named with its layer, like the domain's own errors.
async fn checked(state: &AppState, new: NewSchedule) -> Result<Schedule, AppError> {
    let schedule = Schedule::new(new)?;
    let known: Vec<Handle> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| u.handle)
        .collect();
    let hint = "create it with `klaxon user create` first";
    for (i, layer) in schedule.layers().iter().enumerate() {
        if let Some(missing) = layer.participants.iter().find(|p| !known.contains(p)) {
            return Err(AppError::invalid(
                "layers.participants",
                format!(
                    "layers[{i}] ({}): there is no user '{missing}'; {hint}",
                    layer.name
                ),
            ));
        }
    }
    for (i, o) in schedule.overrides().iter().enumerate() {
        if !known.contains(&o.user) {
            return Err(AppError::invalid(
                "overrides.user",
                format!("overrides[{i}]: there is no user '{}'; {hint}", o.user),
            ));
        }
    }
    Ok(schedule)
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: NewSchedule,
) -> Result<Schedule, AppError> {
    caller.require(Scope::Admin)?;
    let schedule = checked(state, new).await?;
    state
        .store
        .create_schedule(&schedule, state.clock.now())
        .await?;
    Ok(schedule)
}

/// Replaces the schedule `name` (which may rename it).
pub async fn replace(
    state: &AppState,
    caller: &Caller,
    name: &str,
    new: NewSchedule,
) -> Result<Schedule, AppError> {
    caller.require(Scope::Admin)?;
    let schedule = checked(state, new).await?;
    state.store.update_schedule(name, &schedule).await?;
    Ok(schedule)
}

/// Removes the schedule `name`, unless an escalation policy pages it.
pub async fn delete(state: &AppState, caller: &Caller, name: &str) -> Result<(), AppError> {
    caller.require(Scope::Admin)?;
    let paging: Vec<String> = state
        .store
        .policies()
        .await?
        .into_iter()
        .filter(|p| {
            p.steps
                .iter()
                .flat_map(|s| s.targets.iter())
                .any(|t| matches!(t, Target::Schedule(s) if s == name))
        })
        .map(|p| p.name)
        .collect();
    if !paging.is_empty() {
        return Err(AppError::conflict(format!(
            "escalation policies {} page schedule '{name}'; change them first",
            paging.join(", ")
        )));
    }
    Ok(state.store.delete_schedule(name).await?)
}

/// Adds an override to the end of the schedule's list, where it beats every other.
pub async fn add_override(
    state: &AppState,
    caller: &Caller,
    name: &str,
    cover: Override,
) -> Result<Schedule, AppError> {
    caller.require(Scope::Admin)?;
    let mut new = NewSchedule::from(state.store.schedule(name).await?);
    new.overrides.push(cover);
    replace(state, caller, name, new).await
}

/// Removes the override at `index` of the schedule's list, if it is still `expected`
/// (another change may have moved it).
pub async fn remove_override(
    state: &AppState,
    caller: &Caller,
    name: &str,
    index: usize,
    expected: &Override,
) -> Result<Schedule, AppError> {
    caller.require(Scope::Admin)?;
    let mut new = NewSchedule::from(state.store.schedule(name).await?);
    if new.overrides.get(index) != Some(expected) {
        return Err(AppError::conflict(
            "the schedule's overrides changed since this page was drawn; nothing was removed; reload the page",
        ));
    }
    new.overrides.remove(index);
    replace(state, caller, name, new).await
}

/// Replaces the schedule's name, time zone and layers, keeping its overrides (those of
/// `new` are ignored).
pub async fn replace_layers(
    state: &AppState,
    caller: &Caller,
    name: &str,
    mut new: NewSchedule,
) -> Result<Schedule, AppError> {
    caller.require(Scope::Admin)?;
    new.overrides = state.store.schedule(name).await?.overrides().to_vec();
    replace(state, caller, name, new).await
}

/// The window a calendar feed covers: a month back, three months ahead.
fn feed_window(now: Timestamp) -> (Timestamp, Timestamp) {
    (
        now - SignedDuration::from_hours(24 * 30),
        now + SignedDuration::from_hours(24 * 90),
    )
}

fn calendar(state: &AppState, name: &str, shifts: &[Shift]) -> String {
    let host = links::public_base(state)
        .split("://")
        .nth(1)
        .unwrap_or("klaxon")
        .split(['/', ':'])
        .next()
        .unwrap_or("klaxon")
        .to_owned();
    ical::render(name, shifts, &host, state.clock.now())
}

/// The schedule's shifts from a month back to three months ahead, as iCalendar.
pub async fn schedule_calendar(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<String, AppError> {
    caller.require(Scope::Viewer)?;
    let schedule = state.store.schedule(name).await?;
    let (from, to) = feed_window(state.clock.now());
    Ok(calendar(state, schedule.name(), &schedule.shifts(from, to)))
}

/// One person's shifts on every schedule, as iCalendar.
pub async fn user_calendar(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
) -> Result<String, AppError> {
    caller.require(Scope::Viewer)?;
    state.store.user(handle).await?;
    let (from, to) = feed_window(state.clock.now());
    let mut shifts = vec![];
    for schedule in state.store.schedules().await? {
        shifts.extend(schedule.shifts_for(handle, from, to));
    }
    shifts.sort_by_key(|s| s.start);
    Ok(calendar(state, &format!("{handle} on call"), &shifts))
}
