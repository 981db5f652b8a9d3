//! Times as people type them on the command line: an RFC 3339 instant, a wall-clock
//! `HH:MM` in UTC, or an amount of time ago (`10m`, `2h`, `1h 30m ago`).

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Parses `text` relative to the current time; for clap's `value_parser`.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    parse_time_at(text, Timestamp::now())
}

/// Parses `text` relative to `now`:
/// - `2026-11-26T10:15:00Z` (any RFC 3339 instant),
/// - `10:15` — today in UTC, or yesterday if today's 10:15 is still ahead (so that
///   "impact started at 23:50" typed just after midnight means last night),
/// - `10m`, `2h`, `1h 30m`, `2 days`, optionally followed by `ago`.
pub fn parse_time_at(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Ok(instant) = t.parse::<Timestamp>() {
        return Ok(instant);
    }
    if let Some(clock) = parse_clock(t) {
        return Ok(clock_time(clock, now));
    }
    let amount = t.strip_suffix("ago").unwrap_or(t).trim();
    if let Ok(ago) = klaxon_domain::time::parse_duration("time", amount) {
        if let Ok(at) = now.checked_sub(ago) {
            return Ok(at);
        }
    }
    Err(format!(
        "'{text}' is not a time; use RFC 3339 (2026-11-26T10:15:00Z), HH:MM in UTC (10:15), or an amount ago (10m, 2h)"
    ))
}

/// `H:MM` or `HH:MM`, 00:00 to 23:59.
fn parse_clock(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

fn clock_time(clock: Time, now: Timestamp) -> Timestamp {
    let today = now.to_zoned(TimeZone::UTC).date();
    let at = |date: jiff::civil::Date| {
        date.to_datetime(clock)
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(now)
    };
    let candidate = at(today);
    // A minute's grace: "10:15" typed at 10:14:30 still means today.
    if candidate > now + SignedDuration::from_secs(60) {
        today.yesterday().map(at).unwrap_or(candidate)
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-26T12:00:00Z".parse().unwrap()
    }

    fn parse(text: &str) -> Result<String, String> {
        parse_time_at(text, now()).map(|t| t.to_string())
    }

    #[test]
    fn accepts_rfc3339_instants_with_any_offset() {
        assert_eq!(
            parse("2026-11-26T10:15:00Z").unwrap(),
            "2026-11-26T10:15:00Z"
        );
        assert_eq!(
            parse("2026-11-26T11:15:00+01:00").unwrap(),
            "2026-11-26T10:15:00Z"
        );
        assert_eq!(
            parse("2026-11-26T10:15:30.250Z").unwrap(),
            "2026-11-26T10:15:30.25Z"
        );
    }

    #[test]
    fn reads_clock_times_as_today_in_utc() {
        assert_eq!(parse("10:15").unwrap(), "2026-11-26T10:15:00Z");
        assert_eq!(parse("9:05").unwrap(), "2026-11-26T09:05:00Z");
        assert_eq!(parse("00:00").unwrap(), "2026-11-26T00:00:00Z");
        assert_eq!(parse("12:01").unwrap(), "2026-11-26T12:01:00Z");
    }

    #[test]
    fn clock_times_still_ahead_mean_yesterday() {
        assert_eq!(parse("23:50").unwrap(), "2026-11-25T23:50:00Z");
        assert_eq!(parse("12:02").unwrap(), "2026-11-25T12:02:00Z");
    }

    #[test]
    fn reads_amounts_ago() {
        assert_eq!(parse("10m").unwrap(), "2026-11-26T11:50:00Z");
        assert_eq!(parse("2h").unwrap(), "2026-11-26T10:00:00Z");
        assert_eq!(parse("1h 30m").unwrap(), "2026-11-26T10:30:00Z");
        assert_eq!(parse("45s ago").unwrap(), "2026-11-26T11:59:15Z");
        assert_eq!(parse(" 2 days ").unwrap(), "2026-11-24T12:00:00Z");
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            "",
            "soon",
            "24:00",
            "10:5",
            "10:60",
            "1015",
            "-5m",
            "0m",
            "2026-11-26",
            "10:15:00:00",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("is not a time"), "{bad}: {err}");
        }
    }
}
