//! Shifts as an iCalendar feed (RFC 5545), so people can subscribe to their on-call time
//! in any calendar application.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::{Shift, ShiftSource};

/// RFC 5545 limits a content line to 75 octets, line break excluded.
const MAX_LINE: usize = 75;

/// The earliest instant a `YYYYMMDDTHHMMSSZ` value can show: 0001-01-01T00:00:00Z.
const EARLIEST_SECOND: i64 = -62_135_596_800;

/// Renders `shifts` as one VCALENDAR named `calendar_name`, one VEVENT per shift.
///
/// Times are written in UTC and truncated to the second; a shift that is shorter than a
/// second once truncated is left out, and an instant before the year 1 is shown as
/// 0001-01-01. Each event's UID is made of the shift's start, end, person and source
/// plus `@uid_domain`, so rendering the same shift again gives the same UID; if one feed
/// holds the same shift twice (say from two schedules), the repeat gets a `-2` suffix.
/// `now` is the DTSTAMP. Lines end in CRLF and are folded at 75 octets.
pub fn render(calendar_name: &str, shifts: &[Shift], uid_domain: &str, now: Timestamp) -> String {
    let mut out = String::new();
    let mut line = |text: &str| push_folded(&mut out, text);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Klaxon//On-call schedule//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("NAME:{}", escape_text(calendar_name)));
    line(&format!("X-WR-CALNAME:{}", escape_text(calendar_name)));
    let stamp = utc(now);
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for shift in shifts {
        let (start, end) = (utc(shift.start), utc(shift.end));
        if start >= end {
            continue;
        }
        let mut uid = format!("{start}-{end}-{}-{}", shift.user, source_key(&shift.source));
        let count = seen.entry(uid.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            let _ = write!(uid, "-{count}");
        }
        line("BEGIN:VEVENT");
        line(&format!(
            "UID:{}",
            escape_text(&format!("{uid}@{uid_domain}"))
        ));
        line(&format!("DTSTAMP:{stamp}"));
        line(&format!("DTSTART:{start}"));
        line(&format!("DTEND:{end}"));
        line(&format!("SUMMARY:{}", escape_text(&summary(shift))));
        // On-call time should not make a person look busy to meeting planners.
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// "On call: alice (Primary)" or "On call: alice (override)".
pub fn summary(shift: &Shift) -> String {
    match &shift.source {
        ShiftSource::Layer { name, .. } => format!("On call: {} ({name})", shift.user),
        ShiftSource::Override { .. } => format!("On call: {} (override)", shift.user),
    }
}

fn source_key(source: &ShiftSource) -> String {
    match source {
        ShiftSource::Layer { index, .. } => format!("layer{index}"),
        ShiftSource::Override { index } => format!("override{index}"),
    }
}

/// An instant in the UTC form of DATE-TIME, e.g. `20261126T101500Z`. The format sorts
/// like the instants it shows, which `render` relies on to drop empty events.
fn utc(t: Timestamp) -> String {
    let second = t.as_second().max(EARLIEST_SECOND);
    let t = Timestamp::from_second(second).unwrap_or(t);
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so no physical line exceeds 75 octets: each
/// continuation starts with a space, and multi-byte characters are never split.
fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > MAX_LINE {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use jiff::civil::DateTime;
    use jiff::tz::TimeZone;

    use super::*;
    use crate::schedule::{Layer, NewSchedule, Override, Schedule, ShiftLength};
    use crate::Handle;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// One VEVENT as read back: its properties, unfolded and unescaped.
    #[derive(Debug, Default)]
    struct Event {
        uid: String,
        stamp: String,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        summary: String,
    }

    /// Just enough of RFC 5545 to read back what `render` writes, checking the framing on
    /// the way: CRLF everywhere, no physical line over 75 octets.
    fn parse(feed: &str) -> (Vec<(String, String)>, Vec<Event>) {
        assert!(feed.ends_with("\r\n"));
        let mut lines: Vec<String> = Vec::new();
        for physical in feed.trim_end_matches("\r\n").split("\r\n") {
            assert!(
                !physical.contains('\n') && !physical.contains('\r'),
                "bare line break in {physical:?}"
            );
            assert!(
                physical.len() <= MAX_LINE,
                "{} octets: {physical:?}",
                physical.len()
            );
            match physical.strip_prefix(' ') {
                Some(rest) => lines
                    .last_mut()
                    .expect("a fold must continue a line")
                    .push_str(rest),
                None => lines.push(physical.to_owned()),
            }
        }
        let mut properties = Vec::new();
        let mut events = Vec::new();
        for line in lines {
            let (name, value) = line.split_once(':').expect("NAME:value");
            let value = unescape(value);
            match name {
                "BEGIN" if value == "VEVENT" => events.push(Event::default()),
                "END" | "BEGIN" => properties.push((name.to_owned(), value)),
                _ => match events.last_mut() {
                    None => properties.push((name.to_owned(), value)),
                    Some(e) => match name {
                        "UID" => e.uid = value,
                        "DTSTAMP" => e.stamp = value,
                        "DTSTART" => e.start = Some(utc_value(&value)),
                        "DTEND" => e.end = Some(utc_value(&value)),
                        "SUMMARY" => e.summary = value,
                        _ => {}
                    },
                },
            }
        }
        (properties, events)
    }

    fn utc_value(value: &str) -> Timestamp {
        let civil = value.strip_suffix('Z').expect("UTC form ends in Z");
        let dt = DateTime::strptime("%Y%m%dT%H%M%S", civil).unwrap();
        TimeZone::UTC.to_timestamp(dt).unwrap()
    }

    fn unescape(value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            match (c, c == '\\') {
                (_, true) => match chars.next() {
                    Some('n' | 'N') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => panic!("dangling backslash in {value:?}"),
                },
                (c, false) => out.push(c),
            }
        }
        out
    }

    fn sample_schedule() -> Schedule {
        let alice = Handle::parse("alice").unwrap();
        Schedule::new(NewSchedule {
            name: "Payments".into(),
            time_zone: "America/New_York".into(),
            layers: vec![Layer {
                name: "Primary, EU; \"night\"".into(),
                participants: ["alice", "bob", "carol"]
                    .map(|h| Handle::parse(h).unwrap())
                    .to_vec(),
                shift: ShiftLength::Days(1),
                start: "2026-03-01T09:00".parse().unwrap(),
                restrictions: vec![],
            }],
            overrides: vec![Override {
                user: alice,
                start: at("2026-03-08T20:00Z"),
                end: at("2026-03-09T02:00Z"),
            }],
        })
        .unwrap()
    }

    #[test]
    fn a_feed_reads_back_as_the_same_shifts() {
        let shifts = sample_schedule().shifts(at("2026-03-01T00:00Z"), at("2026-04-01T00:00Z"));
        assert!(shifts.len() > 30);
        let feed = render(
            "Payments on call",
            &shifts,
            "klaxon.example",
            at("2026-02-27T12:00Z"),
        );
        let (properties, events) = parse(&feed);
        let get = |n: &str| {
            properties
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            properties.first().map(|(k, v)| (k.as_str(), v.as_str())),
            Some(("BEGIN", "VCALENDAR"))
        );
        assert_eq!(
            properties.last().map(|(k, v)| (k.as_str(), v.as_str())),
            Some(("END", "VCALENDAR"))
        );
        assert_eq!(get("VERSION"), Some("2.0"));
        assert_eq!(get("CALSCALE"), Some("GREGORIAN"));
        assert!(get("PRODID").is_some_and(|p| p.contains("Klaxon")));
        assert_eq!(get("X-WR-CALNAME"), Some("Payments on call"));
        let read: Vec<_> = events
            .iter()
            .map(|e| (e.start.unwrap(), e.end.unwrap(), e.summary.clone()))
            .collect();
        let expected: Vec<_> = shifts
            .iter()
            .map(|s| (s.start, s.end, summary(s)))
            .collect();
        assert_eq!(read, expected);
        assert!(events.iter().all(|e| e.stamp == "20260227T120000Z"));
        assert!(read
            .iter()
            .any(|(_, _, s)| s == "On call: alice (override)"));
        assert!(read
            .iter()
            .any(|(_, _, s)| s == "On call: bob (Primary, EU; \"night\")"));
        assert!(feed.contains("SUMMARY:On call: bob (Primary\\, EU\\; \"night\")"));
    }

    #[test]
    fn uids_are_unique_and_stable_across_renders() {
        let shifts = sample_schedule().shifts(at("2026-03-01T00:00Z"), at("2026-03-15T00:00Z"));
        let uids = |now: &str| -> Vec<String> {
            parse(&render("x", &shifts, "klaxon.example", at(now)))
                .1
                .into_iter()
                .map(|e| e.uid)
                .collect()
        };
        let first = uids("2026-03-01T00:00Z");
        assert_eq!(first, uids("2026-03-10T00:00Z"));
        let mut unique = first.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), first.len());
        assert!(first.iter().all(|u| u.ends_with("@klaxon.example")));
        // The same shift twice in one feed (two schedules, say) still gets two UIDs.
        let doubled = [shifts[0].clone(), shifts[0].clone()];
        let events = parse(&render("x", &doubled, "k", at("2026-03-01T00:00Z"))).1;
        assert_ne!(events[0].uid, events[1].uid);
    }

    #[test]
    fn long_and_unusual_text_is_folded_and_escaped() {
        let name = format!(
            "Équipe d'astreinte 🚨 {}; a,b\\c\nnext line",
            "ü".repeat(60)
        );
        let feed = render(&name, &[], "klaxon.example", at("2026-03-01T00:00Z"));
        let (properties, events) = parse(&feed);
        assert!(events.is_empty());
        let read = properties
            .iter()
            .find(|(k, _)| k == "NAME")
            .map(|(_, v)| v.clone());
        assert_eq!(read.as_deref(), Some(name.as_str()));
        assert!(feed.lines().count() > 5, "expected folded lines");
        assert_eq!(escape_text("a;b,c\\d\r\ne\rf"), "a\\;b\\,c\\\\d\\ne\\nf");
    }

    #[test]
    fn sub_second_and_extreme_shifts_do_not_break_the_feed() {
        let shift = |start: Timestamp, end: Timestamp| Shift {
            user: Handle::parse("alice").unwrap(),
            start,
            end,
            source: ShiftSource::Override { index: 0 },
        };
        let t = at("2026-03-01T00:00:00.2Z");
        let shifts = [
            shift(t, at("2026-03-01T00:00:00.7Z")),
            shift(Timestamp::MIN, Timestamp::MAX),
        ];
        let events = parse(&render("x", &shifts, "k", t)).1;
        assert_eq!(events.len(), 1, "the sub-second shift is left out");
        assert_eq!(events[0].start, Some(at("0001-01-01T00:00:00Z")));
        assert_eq!(
            events[0].end.unwrap().as_second(),
            Timestamp::MAX.as_second()
        );
    }
}
