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
        line(&format!("UID:{uid}@{uid_domain}"));
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
