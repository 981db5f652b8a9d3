//! One layer of a schedule: a rotation of participants with a fixed shift length, and
//! the arithmetic that finds shift `k` without walking through shifts `0..k`.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use super::restriction::{self, Restriction};
use super::{Shift, ShiftSource};
use crate::{DomainError, Handle};

/// How long one person's shift lasts before the next participant takes over.
///
/// `Hours` is a stopwatch: every shift lasts exactly that many elapsed hours from the
/// first handoff instant, whatever the wall clock does. `Days` and `Weeks` are a
/// calendar: every handoff happens at the layer's wall-clock start time, so a shift that
/// spans a DST change lasts 23 or 25 hours (or 23.5 / 24.5 where DST moves 30 minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShiftLength {
    Hours(u32),
    Days(u32),
    Weeks(u32),
}

impl ShiftLength {
    /// The longest shifts a schedule accepts: a (leap) year, whichever unit is used.
    pub const MAX_HOURS: u32 = 366 * 24;
    pub const MAX_DAYS: u32 = 366;
    pub const MAX_WEEKS: u32 = 52;

    pub(super) fn check(self) -> Result<(), String> {
        let (n, max, unit) = match self {
            Self::Hours(n) => (n, Self::MAX_HOURS, "hours"),
            Self::Days(n) => (n, Self::MAX_DAYS, "days"),
            Self::Weeks(n) => (n, Self::MAX_WEEKS, "weeks"),
        };
        if n == 0 || n > max {
            return Err(format!(
                "a shift of {n} {unit} is not possible; use 1 to {max} {unit}"
            ));
        }
        Ok(())
    }
}

/// A rotation: `participants` take turns, in order and then from the first again, each
/// for one `shift`. The first shift starts at `start`, a wall-clock time in the schedule's
/// time zone; before it the layer has nobody. With `restrictions`, the rotation runs
/// exactly as without them but the layer has nobody outside the restricted windows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Shown in shift tables and calendars, e.g. "Primary".
    pub name: String,
    /// Who takes turns, in order; a handle may appear more than once.
    pub participants: Vec<Handle>,
    pub shift: ShiftLength,
    /// The wall-clock start of the first shift, e.g. `2026-03-02T09:00:00`. For `days` and
    /// `weeks` every later handoff is at this same wall-clock time.
    #[schema(value_type = String, example = "2026-03-02T09:00:00")]
    pub start: DateTime,
    /// If any are given, the layer is on call only inside them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restrictions: Vec<Restriction>,
}

impl Layer {
    /// Who this layer puts on call at `at`, if anyone: nobody before the first shift,
    /// outside the restrictions, or if the layer breaks a rule that
    /// [`super::Schedule::new`] checks (no participants, a zero shift length).
    pub fn on_call_at(&self, tz: &TimeZone, at: Timestamp) -> Option<&Handle> {
        let rotation = Rotation::new(self, tz)?;
        let k = rotation.index_at(at)?;
        if !self.restrictions.is_empty() && !restriction::any_contains(&self.restrictions, tz, at) {
            return None;
        }
        self.participant(k)
    }

    /// This layer's shifts that overlap `[from, to)`, clipped to it, in time order. One
    /// entry per rotation shift (split further by restrictions); consecutive shifts of the
    /// same person are not merged, so the participant order is visible. The source names
    /// layer index 0, as a layer does not know its place; [`super::Schedule::shifts`]
    /// numbers layers properly.
    pub fn shifts(&self, tz: &TimeZone, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        self.shifts_as(0, tz, from, to)
    }

    pub(super) fn shifts_as(
        &self,
        index: usize,
        tz: &TimeZone,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<Shift> {
        let source = ShiftSource::Layer {
            index,
            name: self.name.clone(),
        };
        let shifts = self.rotation_shifts(tz, from, to, &source);
        if self.restrictions.is_empty() {
            return shifts;
        }
        let windows = restriction::windows(&self.restrictions, tz, from, to);
        super::timeline::intersect(shifts, &windows)
    }

    fn rotation_shifts(
        &self,
        tz: &TimeZone,
        from: Timestamp,
        to: Timestamp,
        source: &ShiftSource,
    ) -> Vec<Shift> {
        let mut shifts = Vec::new();
        let Some(rotation) = Rotation::new(self, tz) else {
            return shifts;
        };
        let mut start = from.max(rotation.first);
        if start >= to {
            return shifts;
        }
        let Some(mut k) = rotation.index_at(start) else {
            return shifts;
        };
        loop {
            // A handoff beyond the end of jiff's range never comes: the shift runs on.
            let end = rotation.boundary(k + 1).unwrap_or(Timestamp::MAX);
            if end > start {
                if let Some(user) = self.participant(k) {
                    shifts.push(Shift {
                        user: user.clone(),
                        start,
                        end: end.min(to),
                        source: source.clone(),
                    });
                }
                start = end;
            }
            if end >= to {
                return shifts;
            }
            k += 1;
        }
    }

    fn participant(&self, k: i64) -> Option<&Handle> {
        let len = i64::try_from(self.participants.len()).ok()?;
        if len == 0 {
            return None;
        }
        self.participants
            .get(usize::try_from(k.rem_euclid(len)).ok()?)
    }
}

/// Where a layer's handoffs fall, resolved against one time zone. Shift `k` (from 0)
/// runs from `boundary(k)` to `boundary(k + 1)`.
struct Rotation<'a> {
    tz: &'a TimeZone,
    clock: Clock,
    /// The instant the first shift starts.
    first: Timestamp,
}

enum Clock {
    /// Handoffs every `step` nanoseconds of elapsed time after `first`.
    Elapsed { step: i128 },
    /// Handoffs every `days` calendar days at `start`'s wall-clock time.
    Civil { start: DateTime, days: i64 },
}

/// How far the estimate of a shift index from civil dates may be off. In real zones it
/// is at most one; the bound only keeps a corrupt zone from looping for long.
const MAX_CORRECTION: usize = 8;

impl<'a> Rotation<'a> {
    fn new(layer: &Layer, tz: &'a TimeZone) -> Option<Self> {
        if layer.participants.is_empty() {
            return None;
        }
        let clock = match layer.shift {
            ShiftLength::Hours(n) if n > 0 => Clock::Elapsed {
                step: i128::from(n) * 3_600_000_000_000,
            },
            ShiftLength::Days(n) if n > 0 => Clock::Civil {
                start: layer.start,
                days: i64::from(n),
            },
            ShiftLength::Weeks(n) if n > 0 => Clock::Civil {
                start: layer.start,
                days: i64::from(n) * 7,
            },
            _ => return None,
        };
        let first = tz.to_timestamp(layer.start).ok()?;
        Some(Self { tz, clock, first })
    }

    /// The instant shift `k` starts, or `None` if it lies outside jiff's range.
    fn boundary(&self, k: i64) -> Option<Timestamp> {
        match self.clock {
            Clock::Elapsed { step } => {
                let nanos = self.first.as_nanosecond() + i128::from(k).checked_mul(step)?;
                Timestamp::from_nanosecond(nanos).ok()
            }
            Clock::Civil { start, days } => {
                let span = Span::new().try_days(k.checked_mul(days)?).ok()?;
                self.tz.to_timestamp(start.checked_add(span).ok()?).ok()
            }
        }
    }

    /// The index of the shift that contains `at`, or `None` before the first shift.
    fn index_at(&self, at: Timestamp) -> Option<i64> {
        if at < self.first {
            return None;
        }
        match self.clock {
            Clock::Elapsed { step } => {
                let elapsed = at.as_nanosecond() - self.first.as_nanosecond();
                i64::try_from(elapsed / step).ok()
            }
            Clock::Civil { start, days } => {
                let local = self.tz.to_datetime(at).date();
                let elapsed = i64::from(start.date().until(local).ok()?.get_days());
                // The estimate is right to within a shift: it ignores the time of day.
                let mut k = elapsed.div_euclid(days).max(0);
                for _ in 0..MAX_CORRECTION {
                    match self.boundary(k) {
                        Some(b) if b > at && k > 0 => k -= 1,
                        _ => break,
                    }
                }
                for _ in 0..MAX_CORRECTION {
                    match self.boundary(k + 1) {
                        Some(b) if b <= at => k += 1,
                        _ => break,
                    }
                }
                Some(k)
            }
        }
    }
}

/// Checks one layer; `position` counts from 0 and appears in messages as `layers[i]`.
pub(super) fn check(layer: &Layer, position: usize, tz: &TimeZone) -> Result<Layer, DomainError> {
    let name = layer.name.trim();
    let label = format!("layers[{position}]");
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "layers.name",
            format!("{label}: give the layer a name of 1 to 100 characters, e.g. Primary"),
        ));
    }
    let label = format!("{label} ({name})");
    if layer.participants.is_empty() {
        return Err(DomainError::invalid(
            "layers.participants",
            format!("{label}: nobody would be on call; add at least one participant handle"),
        ));
    }
    if layer.participants.len() > 500 {
        return Err(DomainError::invalid(
            "layers.participants",
            format!("{label}: at most 500 participants per layer"),
        ));
    }
    layer
        .shift
        .check()
        .map_err(|m| DomainError::invalid("layers.shift", format!("{label}: {m}")))?;
    if tz.to_timestamp(layer.start).is_err() {
        return Err(DomainError::invalid(
            "layers.start",
            format!(
                "{label}: {} cannot be placed in this time zone; pick a start between the years 1 and 9998",
                layer.start
            ),
        ));
    }
    for (i, r) in layer.restrictions.iter().enumerate() {
        r.check().map_err(|(field, m)| {
            DomainError::invalid(field, format!("{label}.restrictions[{i}]: {m}"))
        })?;
    }
    Ok(Layer {
        name: name.to_owned(),
        ..layer.clone()
    })
}
