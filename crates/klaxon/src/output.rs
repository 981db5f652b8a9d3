//! How the CLI prints: pretty JSON for machines, tables and a little colour for people.
//! Colour is used only when stdout is a terminal and `NO_COLOR` is not set.

use std::io::IsTerminal;
use std::sync::OnceLock;

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table};
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

/// A borderless table with upper-case headers. On a terminal whose width is known
/// (`COLUMNS`), long cells wrap to fit it; otherwise lines are as long as they need.
pub fn table<I, S>(headers: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut t = Table::new();
    t.load_preset(presets::NOTHING).set_header(headers);
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok());
    if let Some(width) = width.filter(|_| std::io::stdout().is_terminal()) {
        t.set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic);
    }
    t
}

/// Keeps these columns from wrapping: short values, and painted ones, whose escape
/// codes must not be cut.
pub fn unwrapped(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

/// Prints a table, trimming the padding the table leaves at the end of each line.
pub fn print_table(t: &Table) {
    print_painted(t, &[]);
}

/// Chooses the paint for a word in a table column, if it gets one.
pub type Pick = fn(&str) -> Option<Paint>;

/// Prints a table, painting the values of some columns: for each header named, the word
/// that starts under it on each line gets the paint `pick` chooses for it, if any.
/// Painting after layout keeps escape codes out of the table's width sums; the columns
/// must be kept from wrapping ([`unwrapped`]) and have only ASCII to their left.
pub fn print_painted(t: &Table, columns: &[(&str, Pick)]) {
    let text = t.to_string();
    let mut lines = text.lines();
    let Some(header) = lines.next() else { return };
    println!("{}", header.trim_end());
    let offsets: Vec<(usize, Pick)> = columns
        .iter()
        .filter(|_| colour())
        .filter_map(|(name, pick)| Some((column_offset(header, name)?, *pick)))
        .collect();
    for line in lines {
        println!("{}", paint_line(line.trim_end(), &offsets));
    }
}

/// Where the header `name` starts, as a whole word.
fn column_offset(header: &str, name: &str) -> Option<usize> {
    header.match_indices(name).map(|(i, _)| i).find(|&i| {
        let before = header[..i].chars().next_back().is_none_or(|c| c == ' ');
        let after = header[i + name.len()..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ');
        before && after
    })
}

fn paint_line(line: &str, offsets: &[(usize, Pick)]) -> String {
    let mut out = line.to_owned();
    // Right to left, so that earlier offsets stay valid as codes are inserted.
    let mut sorted = offsets.to_vec();
    sorted.sort_by_key(|(o, _)| std::cmp::Reverse(*o));
    for (offset, pick) in sorted {
        if !out.is_char_boundary(offset) || offset >= out.len() {
            continue;
        }
        let word_len = out[offset..].find(' ').unwrap_or(out.len() - offset);
        let word = &out[offset..offset + word_len];
        if let Some(paint) = pick(word) {
            let painted = paint.paint(word);
            out.replace_range(offset..offset + word_len, &painted);
        }
    }
    out
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
    fn painting_finds_columns_by_their_header() {
        let header = " #  SEV   STATUS     TITLE";
        assert_eq!(column_offset(header, "SEV"), Some(4));
        assert_eq!(column_offset(header, "STATUS"), Some(10));
        assert_eq!(column_offset(header, "TIT"), None);
        let red = |w: &str| (w == "SEV1").then_some(Paint::Red);
        let offsets: Vec<(usize, Pick)> = vec![(4, red)];
        let painted = paint_line(" 1  SEV1  triggered  API down", &offsets);
        assert!(painted.starts_with(" 1  "), "{painted}");
        assert!(painted.ends_with("  triggered  API down"), "{painted}");
        assert_eq!(paint_line(" 2  SEV2  open", &offsets), " 2  SEV2  open");
    }

    #[test]
    fn one_line_cuts_long_and_multi_line_text() {
        assert_eq!(one_line("short", 10), "short");
        assert_eq!(one_line("0123456789abc", 10), "012345678…");
        assert_eq!(one_line("first\nsecond", 10), "first …");
    }
}
