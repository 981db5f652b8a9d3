//! On-call schedules: who is on call at an instant, and the shifts over a time range.
//!
//! A [`Schedule`] has a time zone, ordered [`Layer`]s (rotations) and [`Override`]s.
//! The rules, which the property tests in this module check:
//!
//! - **Wall-clock times** (a layer's `start`, a restriction's `start` and `end`) are in
//!   the schedule's time zone. A time that does not exist (the hour skipped when clocks
//!   spring forward) or happens twice (clocks fall back) is placed the way jiff's
//!   `compatible` disambiguation does, like RFC 5545 and `java.time`: a skipped time is
//!   moved forward by the length of the gap (02:30 becomes 03:30), a repeated time
//!   means its first occurrence (the one before the clocks went back).
//! - **Shift lengths.** `days` and `weeks` hand off at the layer's wall-clock start time
//!   on every handoff day, so across a DST change a daily shift lasts 23 or 25 hours.
//!   `hours` are elapsed time from the first handoff instant: a 12-hour rotation that
//!   hands off at 08:00 and 20:00 hands off at 09:00 and 21:00 after clocks spring
//!   forward. Participants take turns in order and start over; the same handle may appear
//!   more than once.
//! - **Before its start** a layer has nobody on call.
//! - **Restrictions** mask a layer: the rotation runs as if they were not there, and the
//!   layer has nobody outside them. A window belongs to the day it opens on.
//! - **Layers are ordered**: wherever a later layer has someone, it overrides the earlier
//!   ones (PagerDuty's rule); where it has nobody, the earlier layers show through.
//! - **Overrides** beat every layer. Where overrides overlap, the later one in the list
//!   (the one created later) wins.
//! - **Edges**: a shift contains its start and not its end. A handoff that would fall
//!   beyond jiff's range (after the year 9999) never happens; the shift before it runs
//!   on to [`jiff::Timestamp::MAX`].
//!
//! Nothing here reads the clock or panics on a schedule that passed [`Schedule::new`].

mod layer;
mod restriction;
mod timeline;

pub mod ical;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod validation_tests;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use layer::{Layer, ShiftLength};
pub use restriction::Restriction;

use crate::policy::TimeZoneName;
use crate::{DomainError, Handle};

/// A schedule as a client sends it; [`Schedule::new`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    /// 1 to 100 characters, e.g. "Payments on call".
    pub name: String,
    /// An IANA time zone name such as `Europe/Berlin`.
    pub time_zone: String,
    /// Lowest priority first: each layer overrides the ones before it.
    #[serde(default)]
    pub layers: Vec<Layer>,
    /// In the order they were created: each overrides the ones before it.
    #[serde(default)]
    pub overrides: Vec<Override>,
}

/// A checked schedule. Built only by [`Schedule::new`] (also when deserialised), so its
/// time zone is known and every layer and override obeys the rules it checks. A schedule
/// may have no layers: then only overrides put anyone on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "NewSchedule")]
pub struct Schedule {
    name: String,
    #[schema(value_type = String, example = "Europe/Berlin")]
    time_zone: TimeZoneName,
    layers: Vec<Layer>,
    overrides: Vec<Override>,
}

/// Someone covers `[start, end)`, whoever the layers say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub user: Handle,
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
}

/// One person on call from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Shift {
    pub user: Handle,
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
    pub source: ShiftSource,
}

/// What put a person on call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShiftSource {
    /// The layer at `index` (from 0, lowest priority first), named `name`.
    Layer { index: usize, name: String },
    /// The override at `index` in the schedule's list.
    Override { index: usize },
}

impl TryFrom<NewSchedule> for Schedule {
    type Error = DomainError;

    fn try_from(input: NewSchedule) -> Result<Self, DomainError> {
        Self::new(input)
    }
}

impl From<Schedule> for NewSchedule {
    /// The input that builds this schedule again, e.g. to add an override and recheck.
    fn from(s: Schedule) -> Self {
        Self {
            name: s.name,
            time_zone: s.time_zone.name().to_owned(),
            layers: s.layers,
            overrides: s.overrides,
        }
    }
}

impl Schedule {
    /// Checks `input` and builds the schedule. Errors name the field (`layers.shift`) and
    /// say in the message which layer or override (`layers[1] (Secondary)`) and how to
    /// fix it.
    pub fn new(input: NewSchedule) -> Result<Self, DomainError> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "give the schedule a name of 1 to 100 characters, e.g. Payments on call",
            ));
        }
        let time_zone = TimeZoneName::parse(input.time_zone.trim())
            .map_err(|m| DomainError::invalid("time_zone", m))?;
        let layers = input
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| layer::check(l, i, time_zone.zone()))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, o) in input.overrides.iter().enumerate() {
            if o.end <= o.start {
                return Err(DomainError::invalid(
                    "overrides.end",
                    format!(
                        "overrides[{i}] ({}): ends at {} which is not after its start {}; the end must be later than the start",
                        o.user, o.end, o.start
                    ),
                ));
            }
        }
        Ok(Self {
            name: name.to_owned(),
            time_zone,
            layers,
            overrides: input.overrides,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn time_zone(&self) -> &TimeZoneName {
        &self.time_zone
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// Who is on call at `at`: the latest override covering it, else the latest layer
    /// with someone, else nobody.
    pub fn on_call_at(&self, at: Timestamp) -> Option<Handle> {
        if let Some(o) = self
            .overrides
            .iter()
            .rev()
            .find(|o| o.start <= at && at < o.end)
        {
            return Some(o.user.clone());
        }
        let tz = self.time_zone.zone();
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.on_call_at(tz, at))
            .cloned()
    }

    /// The final schedule over `[from, to)`: who is on call when, clipped to the range,
    /// sorted, never overlapping, with gaps where nobody is. Adjacent shifts of the same
    /// person from the same source are joined. Empty if `from >= to`.
    ///
    /// The work grows with the window, not with how long ago a rotation started (shift
    /// indices are computed, not counted); a year of hourly shifts is about 9,000 rows, so
    /// callers should bound the window they accept.
    pub fn shifts(&self, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        if from >= to {
            return Vec::new();
        }
        let tz = self.time_zone.zone();
        let mut combined = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            combined = timeline::overlay(combined, layer.shifts_as(i, tz, from, to));
        }
        let mut covered = Vec::new();
        for (i, o) in self.overrides.iter().enumerate() {
            let (start, end) = (o.start.max(from), o.end.min(to));
            if start < end {
                let shift = Shift {
                    user: o.user.clone(),
                    start,
                    end,
                    source: ShiftSource::Override { index: i },
                };
                covered = timeline::overlay(covered, vec![shift]);
            }
        }
        timeline::merge_adjacent(timeline::overlay(combined, covered))
    }

    /// The shifts of [`Schedule::shifts`] that belong to `user`, for a personal feed.
    pub fn shifts_for(&self, user: &Handle, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let mut shifts = self.shifts(from, to);
        shifts.retain(|s| &s.user == user);
        shifts
    }
}
