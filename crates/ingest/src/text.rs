//! Small text helpers every format shares: bounded strings, timestamps, headers and
//! form bodies.

use http::HeaderMap;
use jiff::{civil::DateTime, tz::TimeZone, Timestamp};
use serde_json::{Map, Value};

use crate::IngestError;

/// `text` cut to at most `max` characters, ending in `…` when it was cut. For formats
/// whose senders cannot be told to send less (a 4xx would lose the alert).
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A value quoted for an error message, shortened so a huge field cannot make a huge
/// answer.
pub(crate) fn quoted(text: &str) -> String {
    format!("{:?}", truncate(text, 64))
}

/// An ISO 8601 / RFC 3339 time. Accepts `Z`, `+00:00` and `+0000` offsets, a space
/// instead of `T`, and no offset at all (taken as UTC, which is what every sender
/// that omits it means). `None` when it is not a time.
pub(crate) fn timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil = text.parse::<DateTime>().ok()?;
    civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// Like [`timestamp`], but Go's zero time (`0001-01-01T00:00:00Z`, which Alertmanager
/// sends for "not ended") counts as no time.
pub(crate) fn timestamp_not_zero(text: &str) -> Option<Timestamp> {
    // 0001-01-01T00:00:00Z in Unix seconds.
    const GO_ZERO_TIME: i64 = -62_135_596_800;
    timestamp(text).filter(|ts| ts.as_second() > GO_ZERO_TIME)
}

/// A Unix time in seconds (with a fraction) or in milliseconds, whichever the size
/// says: values above 10^11 are milliseconds (10^11 seconds is the year 5138).
pub(crate) fn unix_time(value: f64) -> Option<Timestamp> {
    if !value.is_finite() {
        return None;
    }
    let millis = if value.abs() > 1e11 {
        value
    } else {
        value * 1000.0
    };
    if millis.abs() > 1e15 {
        return None;
    }
    Timestamp::from_millisecond(millis as i64).ok()
}

/// A header's value as text; `None` when absent or not visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Whether the Content-Type says `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    header(headers, "content-type").is_some_and(|ct| {
        ct.split(';').next().is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    })
}

/// A form body or query string as a JSON object of strings; a name given more than
/// once becomes an array of its values, in order.
pub(crate) fn form_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, IngestError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| IngestError::new(format!("{what} is not form-encoded: {e}")))?;
    let mut out = Map::new();
    for (name, value) in pairs {
        match out.get_mut(&name) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(first) => {
                let first = first.take();
                out.insert(name, Value::Array(vec![first, Value::String(value)]));
            }
            None => {
                out.insert(name, Value::String(value));
            }
        }
    }
    Ok(out)
}

/// A dedup key of at most [`MAX_DEDUP_KEY`] characters for formats that cannot be told
/// to send a shorter one (an Alertmanager `groupKey` grows with its labels): a longer
/// key keeps its first 180 characters and adds `#` and the SHA-256 of the whole, so it
/// stays stable and distinct.
///
/// [`MAX_DEDUP_KEY`]: klaxon_domain::alert::MAX_DEDUP_KEY
pub(crate) fn dedup_key(key: &str) -> String {
    use sha2::{Digest, Sha256};
    if key.chars().count() <= klaxon_domain::alert::MAX_DEDUP_KEY {
        return key.to_owned();
    }
    let head: String = key.chars().take(180).collect();
    format!("{head}#{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for building links.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_short_text_and_marks_cut_text() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("éééé", 3).chars().count(), 3);
        assert_eq!(truncate("abc", 0), "…");
    }

    #[test]
    fn timestamps_in_every_offset_spelling() {
        let want: Timestamp = "2015-07-17T08:42:58.315Z".parse().unwrap();
        for text in [
            "2015-07-17T08:42:58.315+0000",
            "2015-07-17T08:42:58.315Z",
            "2015-07-17T08:42:58.315+00:00",
            "2015-07-17 08:42:58.315Z",
            "2015-07-17T08:42:58.315",
        ] {
            assert_eq!(timestamp(text), Some(want), "{text}");
        }
        assert_eq!(timestamp("yesterday"), None);
        assert_eq!(timestamp_not_zero("0001-01-01T00:00:00Z"), None);
        assert!(timestamp_not_zero("2020-08-08T14:32:08.326990857Z").is_some());
    }

    #[test]
    fn long_dedup_keys_are_shortened_stably() {
        assert_eq!(dedup_key("short"), "short");
        let long = "k".repeat(300);
        let other = format!("{}x", "k".repeat(299));
        assert_eq!(dedup_key(&long).chars().count(), 245);
        assert_eq!(dedup_key(&long), dedup_key(&long));
        assert_ne!(dedup_key(&long), dedup_key(&other));
    }

    #[test]
    fn unix_times_in_seconds_or_milliseconds() {
        let want = Timestamp::from_millisecond(1_566_248_777_677).unwrap();
        assert_eq!(unix_time(1_566_248_777.677), Some(want));
        assert_eq!(unix_time(1_566_248_777_677.0), Some(want));
        assert_eq!(unix_time(f64::NAN), None);
        assert_eq!(unix_time(1e300), None);
    }
}
