//! How the CLI prints: pretty JSON for machines, tables and a little colour for people.
//! Colour is used only when stdout is a terminal and `NO_COLOR` is not set.

use std::io::IsTerminal;
use std::sync::OnceLock;

use comfy_table::{presets, ContentArrangement, Table};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use klaxon_domain::incident::Status;
use klaxon_domain::Severity;
use serde::Serialize;

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Whether stdout takes colour.
pub fn colour() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
}

/// A text style. Every style's escape code has the same length, so that a table column
/// whose cells are all painted (header included) still lines up: the table measures the
/// invisible bytes, but the same number in every cell.
#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Bold,
    Red,
    Yellow,
    Green,
    Cyan,
    Dim,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Bold => "\x1b[1;39m",
            Paint::Red => "\x1b[1;31m",
            Paint::Yellow => "\x1b[0;33m",
            Paint::Green => "\x1b[0;32m",
            Paint::Cyan => "\x1b[0;36m",
            Paint::Dim => "\x1b[0;90m",
        }
    }

    /// `text` in this style, if stdout takes colour.
    pub fn paint(self, text: impl std::fmt::Display) -> String {
        if colour() {
            format!("{}{text}\x1b[0m", self.code())
        } else {
            text.to_string()
        }
    }
}

pub fn severity_paint(s: Severity) -> Paint {
    match s.level() {
        1 => Paint::Red,
        2 => Paint::Yellow,
        3 => Paint::Cyan,
        _ => Paint::Dim,
    }
}

pub fn status_paint(s: Status) -> Paint {
    match s {
        Status::Triggered => Paint::Red,
        Status::Acknowledged => Paint::Yellow,
        Status::Mitigated => Paint::Cyan,
        Status::Resolved | Status::Closed => Paint::Green,
        Status::Declined | Status::Merged => Paint::Dim,
    }
}

/// A borderless table with upper-case headers, wrapped to the terminal's width when
/// printing to one (`COLUMNS`, else 120 columns).
pub fn table<I, S>(headers: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut t = Table::new();
    t.load_preset(presets::NOTHING).set_header(headers);
    if std::io::stdout().is_terminal() {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(120);
        t.set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic);
    }
    t
}

/// Prints a table, trimming the padding the table leaves at the end of each line.
pub fn print_table(t: &Table) {
    for line in t.to_string().lines() {
        println!("{}", line.trim_end());
    }
}

/// An instant for people: `2026-11-26 10:15:02 UTC`.
pub fn when(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC)
        .strftime("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

/// An instant with how long ago it was: `2026-11-26 10:15:02 UTC (5 minutes ago)`.
pub fn when_relative(t: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(t).as_secs();
    let relative = if secs >= 0 {
        format!("{} ago", klaxon_domain::time::human_duration(secs))
    } else {
        format!("in {}", klaxon_domain::time::human_duration(-secs))
    };
    format!("{} ({relative})", when(t))
}

/// A count of seconds for people: `18 minutes`, `2 h 5 min`.
pub fn duration(secs: i64) -> String {
    klaxon_domain::time::human_duration(secs)
}

/// Text cut to `max` characters on one line, for table cells.
pub fn one_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    let more = text.lines().nth(1).is_some();
    match line.char_indices().nth(max.saturating_sub(1)) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None if more => format!("{line} …"),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_paint_code_has_the_same_length() {
        let all = [
            Paint::Bold,
            Paint::Red,
            Paint::Yellow,
            Paint::Green,
            Paint::Cyan,
            Paint::Dim,
        ];
        assert!(all
            .iter()
            .all(|p| p.code().len() == Paint::Bold.code().len()));
    }

    #[test]
    fn one_line_cuts_long_and_multi_line_text() {
        assert_eq!(one_line("short", 10), "short");
        assert_eq!(one_line("0123456789abc", 10), "012345678…");
        assert_eq!(one_line("first\nsecond", 10), "first …");
    }
}
