//! Restrictions: the wall-clock windows in which a layer is on call at all, such as
//! weekdays 09:00–17:00.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::policy::{Day, TimeOfDay};

/// A window that opens at `start` on each of `days` and closes at the next `end`: on the
/// same day if `end` is later than `start`, otherwise on the following day (so
/// `fri 22:00–06:00` runs into Saturday morning). Both ends are wall-clock times in the
/// schedule's time zone, resolved like every other wall-clock time in a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    /// The days a window opens on: `mon` to `sun`.
    #[schema(value_type = Vec<String>, example = json!(["mon", "tue", "wed", "thu", "fri"]))]
    pub days: Vec<Day>,
    /// `HH:MM`, e.g. `09:00`.
    #[schema(value_type = String, example = "09:00")]
    pub start: TimeOfDay,
    /// `HH:MM`, e.g. `17:00`; earlier than `start` means the window crosses midnight.
    #[schema(value_type = String, example = "17:00")]
    pub end: TimeOfDay,
}

impl Restriction {
    /// Weekdays 09:00–17:00, the usual business-hours restriction.
    pub fn business_hours() -> Self {
        use jiff::civil::{time, Weekday::*};
        Self {
            days: [Monday, Tuesday, Wednesday, Thursday, Friday]
                .into_iter()
                .map(Day)
                .collect(),
            start: TimeOfDay(time(9, 0, 0, 0)),
            end: TimeOfDay(time(17, 0, 0, 0)),
        }
    }

    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        if self.days.is_empty() {
            return Err((
                "layers.restrictions.days",
                "the window never opens; list the days it applies to, e.g. [\"mon\", \"fri\"]"
                    .to_owned(),
            ));
        }
        if self.start == self.end {
            return Err((
                "layers.restrictions.end",
                "start and end are the same time, so the window is empty; to be on call all day, leave out the restriction".to_owned(),
            ));
        }
        Ok(())
    }

    /// The window that opens on `day`, if `day` is one of this restriction's days and
    /// both ends can be placed on the time line.
    fn window_opening_on(&self, day: Date, tz: &TimeZone) -> Option<(Timestamp, Timestamp)> {
        if !self.days.iter().any(|d| d.0 == day.weekday()) {
            return None;
        }
        let start = tz.to_timestamp(day.to_datetime(self.start.0)).ok()?;
        let end_day = if self.end < self.start {
            day.tomorrow().ok()?
        } else {
            day
        };
        let end = tz.to_timestamp(end_day.to_datetime(self.end.0)).ok()?;
        (start < end).then_some((start, end))
    }
}

/// Whether `at` lies inside a window of any of `restrictions`.
pub(super) fn any_contains(restrictions: &[Restriction], tz: &TimeZone, at: Timestamp) -> bool {
    let day = tz.to_datetime(at).date();
    // A window is shorter than a day of wall-clock time, so one containing `at` opened on
    // `at`'s local date or the day before; the day after only matters if a zone's offset
    // jumps back by more than the window's length, which no real zone does.
    let candidates = [day.yesterday().ok(), Some(day), day.tomorrow().ok()];
    restrictions.iter().any(|r| {
        candidates
            .iter()
            .flatten()
            .filter_map(|d| r.window_opening_on(*d, tz))
            .any(|(start, end)| start <= at && at < end)
    })
}

/// The union of all windows of `restrictions` that overlap `[from, to)`, clipped to it,
/// sorted and with overlapping or touching windows joined.
pub(super) fn windows(
    restrictions: &[Restriction],
    tz: &TimeZone,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let mut found = Vec::new();
    if from >= to {
        return found;
    }
    let first = tz.to_datetime(from).date();
    let first = first.yesterday().unwrap_or(first);
    let last = tz.to_datetime(to).date();
    let last = last.tomorrow().unwrap_or(last);
    let mut day = first;
    while day <= last {
        for r in restrictions {
            if let Some((start, end)) = r.window_opening_on(day, tz) {
                if start < to && end > from {
                    found.push((start.max(from), end.min(to)));
                }
            }
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    found.sort();
    let mut joined: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(found.len());
    for (start, end) in found {
        match joined.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => joined.push((start, end)),
        }
    }
    joined
}
