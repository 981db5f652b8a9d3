//! Instants and durations as Klaxon keeps them: UTC, millisecond precision.

use jiff::{SignedDuration, Timestamp};

use crate::DomainError;

/// Truncates an instant to whole milliseconds, the precision the store keeps, so that a
/// value survives a round trip through the database unchanged.
pub fn to_millis_precision(t: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond()).expect("a valid timestamp stays valid")
}

/// The instant for a count of unix milliseconds.
pub fn from_unix_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Parses a duration as people write it: `5m`, `1h 30m`, `48h`, `2 days` or ISO 8601.
pub fn parse_duration(field: &'static str, text: &str) -> Result<SignedDuration, DomainError> {
    let parsed: Result<SignedDuration, _> = text.trim().parse();
    let span = parsed.or_else(|_| {
        // Friendly spans with calendar units ("2 days") are parsed as a Span, then taken
        // as 24-hour days: a policy cadence is a stopwatch, not a calendar.
        let span: jiff::Span = text.trim().parse().map_err(|_| ())?;
        span.to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|_| ())
    });
    match span {
        Ok(d) if d.is_positive() => Ok(d),
        _ => Err(DomainError::invalid(
            field,
            format!("'{text}' is not a positive duration; write it like 5m, 1h, 48h or 2 days"),
        )),
    }
}

/// Formats a duration the way the runbook's messages do: `45 minutes`, `2 h 5 min`.
pub fn human_duration(seconds: i64) -> String {
    let minutes = (seconds + 30) / 60;
    match minutes {
        m if m < 1 => format!("{seconds} seconds"),
        1 => "1 minute".to_owned(),
        m if m < 120 => format!("{m} minutes"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} days {} h", m / (24 * 60), (m % (24 * 60)) / 60),
    }
}

/// Formats a duration compactly for policy text: `5m`, `1h`, `48h`.
pub fn compact_duration(d: SignedDuration) -> String {
    let secs = d.as_secs();
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Parses an instant given as RFC 3339 (`2026-11-26T10:15:00Z`) or as an amount of time
/// before `now` (`24h`, `7 days`).
pub fn parse_instant_or_ago(
    field: &'static str,
    text: &str,
    now: Timestamp,
) -> Result<Timestamp, DomainError> {
    if let Ok(t) = text.trim().parse::<Timestamp>() {
        return Ok(to_millis_precision(t));
    }
    match parse_duration(field, text) {
        Ok(ago) => Ok(to_millis_precision(now.saturating_sub(ago).unwrap_or(now))),
        Err(_) => Err(DomainError::invalid(
            field,
            format!("'{text}' is neither an instant (2026-11-26T10:15:00Z) nor a time ago (24h, 7 days)"),
        )),
    }
}

/// Parses an instant a person typed into a form: RFC 3339 (`2026-11-26T10:15:00Z`), or a
/// date and time without an offset (`2026-11-26 10:15`, or `2026-11-26T10:15` as a
/// browser's `datetime-local` field sends it), which is read as UTC.
pub fn parse_utc_instant(field: &'static str, text: &str) -> Result<Timestamp, DomainError> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(to_millis_precision(t));
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|civil| civil.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| to_millis_precision(zoned.timestamp()))
        .ok_or_else(|| {
            DomainError::invalid(
                field,
                format!("'{text}' is not a time; write it like 2026-11-26 10:15 (UTC)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_friendly_durations() {
        assert_eq!(parse_duration("x", "5m").unwrap().as_secs(), 300);
        assert_eq!(parse_duration("x", "1h 30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("x", "2 days").unwrap().as_secs(), 172_800);
        assert!(parse_duration("x", "soon").is_err());
        assert!(parse_duration("x", "0m").is_err());
    }

    #[test]
    fn instants_typed_into_forms_are_utc() {
        let at: Timestamp = "2026-11-26T10:15:00Z".parse().unwrap();
        for text in [
            "2026-11-26T10:15:00Z",
            "2026-11-26 10:15",
            "2026-11-26T10:15",
            " 2026-11-26T11:15+01:00 ",
        ] {
            assert_eq!(parse_utc_instant("x", text).unwrap(), at, "{text}");
        }
        let e = parse_utc_instant("ends_at", "tomorrow").unwrap_err();
        assert!(e.to_string().contains("'tomorrow' is not a time"), "{e}");
    }

    #[test]
    fn humanises_like_the_runbook() {
        assert_eq!(human_duration(18 * 60), "18 minutes");
        assert_eq!(human_duration(45 * 60 + 10), "45 minutes");
        assert_eq!(human_duration(3 * 3600 + 5 * 60), "3 h 5 min");
        assert_eq!(compact_duration(SignedDuration::from_mins(90)), "90m");
    }
}
