//! Clock maths over the policy: when a response is due.

use jiff::civil::Date;
use jiff::Timestamp;

use super::{Policy, ResponseTarget};
use crate::Severity;

impl Policy {
    /// The instant by which an incident of `severity` declared at `declared_at` must be
    /// acknowledged.
    pub fn response_deadline(&self, severity: Severity, declared_at: Timestamp) -> Timestamp {
        match self.severity(severity).response_target {
            ResponseTarget::Within(c) => declared_at.saturating_add(c.0).unwrap_or(declared_at),
            ResponseTarget::NextBusinessDay => self.end_of_next_business_day(declared_at),
        }
    }

    /// `after` of business hours later than `from`: the time counts only on business
    /// days between the policy's start and end of business, in its time zone.
    pub fn add_business_time(&self, from: Timestamp, after: jiff::SignedDuration) -> Timestamp {
        let tz = self.time_zone.zone();
        let hours = &self.business_hours;
        let mut left = after;
        let mut at = from;
        // Validation guarantees a business day each week: ten years of days is plenty.
        for _ in 0..3660 {
            let date: Date = at.to_zoned(tz.clone()).date();
            let open_day = hours.days.iter().any(|d| d.0 == date.weekday());
            let edge = |t: jiff::civil::Time| {
                date.to_datetime(t)
                    .to_zoned(tz.clone())
                    .map(|z| z.timestamp())
                    .unwrap_or(at)
            };
            let (start, end) = (edge(hours.start.0), edge(hours.end.0));
            if open_day && at < end {
                let from_here = at.max(start);
                let open = end.duration_since(from_here);
                if left <= open {
                    return from_here.checked_add(left).unwrap_or(from_here);
                }
                left -= open;
            }
            at = date
                .tomorrow()
                .ok()
                .and_then(|d| d.to_zoned(tz.clone()).ok())
                .map_or(end, |z| z.timestamp());
        }
        at
    }

    /// The close of business hours on the first business day after the day (in the
    /// policy's time zone) that contains `at`.
    pub fn end_of_next_business_day(&self, at: Timestamp) -> Timestamp {
        let tz = self.time_zone.zone();
        let hours = &self.business_hours;
        let mut date: Date = at.to_zoned(tz.clone()).date();
        // Validation guarantees at least one business day, so a week always finds one.
        for _ in 0..8 {
            date = date.tomorrow().unwrap_or(date);
            if hours.days.iter().any(|d| d.0 == date.weekday()) {
                break;
            }
        }
        date.to_datetime(hours.end.0)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn timed_targets_add_to_declaration() {
        let p = Policy::builtin();
        let declared = at("2026-11-26T10:00:00Z");
        assert_eq!(
            p.response_deadline(Severity::new(1).unwrap(), declared),
            at("2026-11-26T10:05:00Z")
        );
        assert_eq!(
            p.response_deadline(Severity::new(2).unwrap(), declared),
            at("2026-11-26T10:15:00Z")
        );
        assert_eq!(
            p.response_deadline(Severity::new(3).unwrap(), declared),
            at("2026-11-26T11:00:00Z")
        );
    }

    #[test]
    fn next_business_day_skips_the_weekend() {
        let p = Policy::builtin();
        let sev4 = Severity::new(4).unwrap();
        // Thursday -> Friday 17:00; Friday evening -> Monday 17:00; Saturday -> Monday.
        assert_eq!(
            p.response_deadline(sev4, at("2026-11-26T10:00:00Z")),
            at("2026-11-27T17:00:00Z")
        );
        assert_eq!(
            p.response_deadline(sev4, at("2026-11-27T20:00:00Z")),
            at("2026-11-30T17:00:00Z")
        );
        assert_eq!(
            p.response_deadline(sev4, at("2026-11-28T09:00:00Z")),
            at("2026-11-30T17:00:00Z")
        );
    }

    #[test]
    fn business_time_counts_only_business_hours() {
        let p = Policy::builtin();
        let hours = |h| jiff::SignedDuration::from_hours(h);
        // Friday 16:00: one hour on Friday, eight on Monday, seven on Tuesday.
        assert_eq!(
            p.add_business_time(at("2026-11-27T16:00:00Z"), hours(16)),
            at("2026-12-01T16:00:00Z")
        );
        // Saturday starts on Monday morning; within a day it is plain addition.
        assert_eq!(
            p.add_business_time(at("2026-11-28T12:00:00Z"), hours(2)),
            at("2026-11-30T11:00:00Z")
        );
        assert_eq!(
            p.add_business_time(at("2026-11-26T10:00:00Z"), hours(3)),
            at("2026-11-26T13:00:00Z")
        );
        // Thursday 20:00, after hours: a whole working day is Friday's.
        assert_eq!(
            p.add_business_time(at("2026-11-26T20:00:00Z"), hours(8)),
            at("2026-11-27T17:00:00Z")
        );
    }

    #[test]
    fn business_hours_follow_the_policy_time_zone() {
        let source = super::super::DEFAULT_POLICY_TOML
            .replace("time_zone = \"UTC\"", "time_zone = \"America/New_York\"");
        let p = Policy::from_toml(&source).unwrap();
        // Thursday 23:00 UTC is Thursday 18:00 in New York: due Friday 17:00 EST = 22:00 UTC.
        let due = p.response_deadline(Severity::new(4).unwrap(), at("2026-11-26T23:00:00Z"));
        assert_eq!(due, at("2026-11-27T22:00:00Z"));
    }
}
