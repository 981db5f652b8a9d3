//! Set operations on time lines: lists of shifts sorted by start, none overlapping and
//! none empty. Each runs in one pass over its inputs, so a year of hourly shifts in
//! several layers stays cheap.

use jiff::Timestamp;

use super::Shift;

/// The parts of `shifts` that lie inside `windows` (sorted, disjoint intervals).
pub(super) fn intersect(shifts: Vec<Shift>, windows: &[(Timestamp, Timestamp)]) -> Vec<Shift> {
    let mut out = Vec::new();
    let mut w = 0;
    for shift in shifts {
        while w < windows.len() && windows[w].1 <= shift.start {
            w += 1;
        }
        let mut i = w;
        while i < windows.len() && windows[i].0 < shift.end {
            let start = shift.start.max(windows[i].0);
            let end = shift.end.min(windows[i].1);
            if start < end {
                out.push(Shift {
                    start,
                    end,
                    ..shift.clone()
                });
            }
            i += 1;
        }
    }
    out
}

/// `top` laid over `base`: wherever `top` has a shift it wins, elsewhere `base` shows.
pub(super) fn overlay(base: Vec<Shift>, top: Vec<Shift>) -> Vec<Shift> {
    if top.is_empty() {
        return base;
    }
    let mut out = Vec::with_capacity(base.len() + top.len());
    let mut t = 0;
    for shift in base {
        while t < top.len() && top[t].end <= shift.start {
            t += 1;
        }
        let mut uncovered = shift.start;
        let mut i = t;
        while i < top.len() && top[i].start < shift.end {
            if top[i].start > uncovered {
                out.push(Shift {
                    start: uncovered,
                    end: top[i].start,
                    ..shift.clone()
                });
            }
            uncovered = uncovered.max(top[i].end);
            i += 1;
        }
        if uncovered < shift.end {
            out.push(Shift {
                start: uncovered,
                ..shift
            });
        }
    }
    out.extend(top);
    out.sort_by_key(|s| s.start);
    out
}

/// Joins shifts that follow each other without a gap when they have the same person and
/// the same source.
pub(super) fn merge_adjacent(shifts: Vec<Shift>) -> Vec<Shift> {
    let mut out: Vec<Shift> = Vec::with_capacity(shifts.len());
    for shift in shifts {
        match out.last_mut() {
            Some(last)
                if last.end == shift.start
                    && last.user == shift.user
                    && last.source == shift.source =>
            {
                last.end = shift.end;
            }
            _ => out.push(shift),
        }
    }
    out
}
