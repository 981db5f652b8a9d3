//! Uptime: how much of each day a component was up, from its status history.
//!
//! The formula (the page's documentation repeats it): a day's downtime is the time spent
//! in `major_outage` plus 30 % of the time spent in `partial_outage`; degraded
//! performance and maintenance count as up. Uptime is `1 − downtime / counted time`,
//! where counted time is the part of the day after counting started (the component's
//! start date) and before now. Where periods overlap (two incidents, or an incident and
//! a status set by hand), the worst status counts.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use super::ComponentStatus;

/// The share of partial-outage time that counts as down.
pub const PARTIAL_WEIGHT: f64 = 0.3;

/// How many days the uptime bar shows.
pub const UPTIME_DAYS: usize = 90;

/// A stretch of time with one status: from an incident, or set by hand. `end` is `None`
/// while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub status: ComponentStatus,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
}

/// A stretch of one component's history as it is kept: set by hand (`incident` is
/// `None`) or by an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentPeriod {
    pub component: crate::ComponentId,
    pub incident: Option<crate::IncidentNumber>,
    pub period: Period,
}

/// One day of a component's history, in milliseconds per status (the precision times
/// are kept at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub date: Date,
    /// Milliseconds of the day that count: after counting started and before now.
    pub counted: i64,
    pub major: i64,
    pub partial: i64,
    pub degraded: i64,
    pub maintenance: i64,
    /// The worst status the day saw (operational on a quiet day).
    pub worst: ComponentStatus,
}

impl Day {
    /// Milliseconds that count as down: all of a major outage, 30 % of a partial one.
    pub fn downtime(&self) -> f64 {
        self.major as f64 + PARTIAL_WEIGHT * self.partial as f64
    }

    /// The share of the day that was up, 0.0 to 1.0; `None` for a day that does not
    /// count (before counting started, or still to come).
    pub fn uptime(&self) -> Option<f64> {
        (self.counted > 0).then(|| 1.0 - self.downtime() / self.counted as f64)
    }

    /// Whole minutes down and partially down, for people.
    pub fn minutes(&self) -> (i64, i64) {
        (self.major / 60_000, self.partial / 60_000)
    }
}

/// The uptime over `days`, 0.0 to 1.0; `None` if none counts.
pub fn overall(days: &[Day]) -> Option<f64> {
    let counted: i64 = days.iter().map(|d| d.counted).sum();
    let down: f64 = days.iter().map(Day::downtime).sum();
    (counted > 0).then(|| 1.0 - down / counted as f64)
}

/// The `count` days (UTC) ending with the day of `now`, oldest first, from `periods`.
/// Time before `counts_from` and after `now` does not count.
pub fn daily(periods: &[Period], count: usize, counts_from: Timestamp, now: Timestamp) -> Vec<Day> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut days = Vec::with_capacity(count);
    for back in (0..count as i64).rev() {
        let Ok(date) = today.checked_sub(back.days()) else {
            continue;
        };
        days.push(day(periods, date, counts_from, now));
    }
    days
}

/// The start of `date` in UTC.
fn midnight(date: Date) -> Timestamp {
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MIN)
}

fn day(periods: &[Period], date: Date, counts_from: Timestamp, now: Timestamp) -> Day {
    let start = midnight(date).max(counts_from);
    let end = date
        .tomorrow()
        .map(midnight)
        .unwrap_or(Timestamp::MAX)
        .min(now);
    let mut out = Day {
        date,
        counted: 0,
        major: 0,
        partial: 0,
        degraded: 0,
        maintenance: 0,
        worst: ComponentStatus::Operational,
    };
    if end <= start {
        return out;
    }
    out.counted = end.duration_since(start).as_millis() as i64;
    // The window cut at every period's start and end; each piece has one worst status.
    let mut cuts = vec![start, end];
    for p in periods {
        for t in [Some(p.start), p.end].into_iter().flatten() {
            if start < t && t < end {
                cuts.push(t);
            }
        }
    }
    cuts.sort();
    cuts.dedup();
    for piece in cuts.windows(2) {
        let (a, b) = (piece[0], piece[1]);
        let status = ComponentStatus::worst(
            periods
                .iter()
                .filter(|p| p.start <= a && p.end.is_none_or(|e| e > a))
                .map(|p| p.status),
        );
        let secs = b.duration_since(a).as_millis() as i64;
        match status {
            ComponentStatus::MajorOutage => out.major += secs,
            ComponentStatus::PartialOutage => out.partial += secs,
            ComponentStatus::DegradedPerformance => out.degraded += secs,
            ComponentStatus::UnderMaintenance => out.maintenance += secs,
            ComponentStatus::Operational => {}
        }
        if status.rank() > out.worst.rank() {
            out.worst = status;
        }
    }
    out
}

/// When a component's uptime starts counting: its start date (midnight UTC) if it has
/// one, else when it was created.
pub fn counts_from(start_date: Option<Date>, created_at: Timestamp) -> Timestamp {
    match start_date {
        Some(d) => midnight(d),
        None => created_at,
    }
}

/// The periods of several components as one history in which, at every moment, the
/// worst of theirs counts: a group's uptime bar.
pub fn merged<'a>(histories: impl IntoIterator<Item = &'a [Period]>) -> Vec<Period> {
    histories.into_iter().flatten().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;
    use proptest::prelude::*;

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn period(status: ComponentStatus, start: &str, end: Option<&str>) -> Period {
        Period {
            status,
            start: t(start),
            end: end.map(t),
        }
    }

    #[test]
    fn a_partial_outage_counts_at_thirty_percent() {
        let now = t("2026-11-27T00:00:00Z");
        let periods = [period(
            ComponentStatus::PartialOutage,
            "2026-11-26T10:00:00Z",
            Some("2026-11-26T11:40:00Z"),
        )];
        let days = daily(&periods, 2, t("2026-01-01T00:00:00Z"), now);
        let d = days.iter().find(|d| d.date.day() == 26).unwrap();
        assert_eq!(d.partial, 100 * 60_000);
        assert_eq!(d.minutes(), (0, 100));
        assert_eq!(d.worst, ComponentStatus::PartialOutage);
        // 100 minutes at 30 % is 30 minutes down out of 1440.
        let expected = 1.0 - 30.0 / 1440.0;
        assert!((d.uptime().unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn major_outage_counts_fully_and_degraded_and_maintenance_not_at_all() {
        let now = t("2026-11-27T00:00:00Z");
        let periods = [
            period(
                ComponentStatus::MajorOutage,
                "2026-11-26T00:00:00Z",
                Some("2026-11-26T01:00:00Z"),
            ),
            period(
                ComponentStatus::DegradedPerformance,
                "2026-11-26T02:00:00Z",
                Some("2026-11-26T05:00:00Z"),
            ),
            period(
                ComponentStatus::UnderMaintenance,
                "2026-11-26T06:00:00Z",
                Some("2026-11-26T08:00:00Z"),
            ),
        ];
        let d = daily(&periods, 2, t("2026-01-01T00:00:00Z"), now)[0];
        assert_eq!(d.date.day(), 26);
        assert_eq!(
            (d.major, d.degraded, d.maintenance),
            (3_600_000, 3 * 3_600_000, 2 * 3_600_000)
        );
        assert!((d.uptime().unwrap() - (1.0 - 60.0 / 1440.0)).abs() < 1e-12);
    }

    #[test]
    fn overlapping_periods_count_the_worst_once() {
        let now = t("2026-11-27T00:00:00Z");
        let periods = [
            period(
                ComponentStatus::PartialOutage,
                "2026-11-26T10:00:00Z",
                Some("2026-11-26T12:00:00Z"),
            ),
            period(
                ComponentStatus::MajorOutage,
                "2026-11-26T11:00:00Z",
                Some("2026-11-26T11:30:00Z"),
            ),
        ];
        let d = daily(&periods, 2, t("2026-01-01T00:00:00Z"), now)[0];
        assert_eq!((d.major, d.partial), (30 * 60_000, 90 * 60_000));
        assert_eq!(d.worst, ComponentStatus::MajorOutage);
    }

    #[test]
    fn time_before_counting_and_after_now_does_not_count() {
        let now = t("2026-11-26T12:00:00Z");
        let periods = [period(
            ComponentStatus::MajorOutage,
            "2026-11-26T11:00:00Z",
            None,
        )];
        let days = daily(&periods, 3, t("2026-11-25T06:00:00Z"), now);
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].uptime(), None, "before the component existed");
        assert_eq!(days[1].counted, 18 * 3_600_000);
        assert_eq!(days[2].counted, 12 * 3_600_000);
        assert_eq!(days[2].major, 3_600_000);
        let total = overall(&days).unwrap();
        assert!((total - (1.0 - 3600.0 / (30.0 * 3600.0))).abs() < 1e-12);
        assert_eq!(
            counts_from(Some("2026-11-25".parse().unwrap()), now),
            t("2026-11-25T00:00:00Z")
        );
    }

    /// Minute by minute, the way a person would count it.
    fn brute_force(periods: &[Period], from: Timestamp, minutes: i64) -> (i64, i64, i64, i64) {
        let mut totals = (0, 0, 0, 0);
        for m in 0..minutes {
            let at = from + SignedDuration::from_mins(m);
            let status = ComponentStatus::worst(
                periods
                    .iter()
                    .filter(|p| p.start <= at && p.end.is_none_or(|e| e > at))
                    .map(|p| p.status),
            );
            match status {
                ComponentStatus::MajorOutage => totals.0 += 60_000,
                ComponentStatus::PartialOutage => totals.1 += 60_000,
                ComponentStatus::DegradedPerformance => totals.2 += 60_000,
                ComponentStatus::UnderMaintenance => totals.3 += 60_000,
                ComponentStatus::Operational => {}
            }
        }
        totals
    }

    fn arb_period(start: Timestamp) -> impl Strategy<Value = Period> {
        let minutes: i64 = 3 * 24 * 60;
        (0..5usize, 0..minutes, proptest::option::of(1..minutes)).prop_map(
            move |(status, from, length)| Period {
                status: ComponentStatus::ALL[status],
                start: start + SignedDuration::from_mins(from),
                end: length.map(|l| start + SignedDuration::from_mins(from + l)),
            },
        )
    }

    proptest! {
        #[test]
        fn days_add_up_to_the_minute_by_minute_count(
            periods in proptest::collection::vec(arb_period(t("2026-11-24T00:00:00Z")), 0..6),
            now_minute in 1i64..(3 * 24 * 60),
        ) {
            let from = t("2026-11-24T00:00:00Z");
            let now = from + SignedDuration::from_mins(now_minute);
            let days = daily(&periods, 3, from, now);
            let sum = |f: fn(&Day) -> i64| days.iter().map(f).sum::<i64>();
            let expected = brute_force(&periods, from, now_minute);
            prop_assert_eq!(
                (sum(|d| d.major), sum(|d| d.partial), sum(|d| d.degraded), sum(|d| d.maintenance)),
                expected
            );
            prop_assert_eq!(sum(|d| d.counted), now_minute * 60_000);
            let up = overall(&days).unwrap();
            let by_hand = 1.0 - (expected.0 as f64 + 0.3 * expected.1 as f64) / (now_minute * 60_000) as f64;
            prop_assert!((up - by_hand).abs() < 1e-9);
            prop_assert!((0.0..=1.0).contains(&up));
        }
    }
}
