//! Counting an open alert's repeats: how many triggers came, the newest time one was
//! received, and the last summary given. Repeats commute: counted in any grouping and
//! order, the alert ends up with the same count, the newest time and the summary that
//! came with it, which lets the store count a trigger on arrival while older ones still
//! wait in the inbox. The store's statements apply [`count_repeats`]; its tests check
//! them against this function.

use jiff::Timestamp;

/// The repeats of one open alert among some triggers, in the order they arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatTally<'a> {
    /// How many triggers.
    pub n: i64,
    /// The newest time one was received.
    pub last_at: Timestamp,
    /// The summary of the last trigger that gave one.
    pub summary: Option<&'a str>,
}

impl<'a> RepeatTally<'a> {
    /// The tally of one trigger, received at `at` with `summary`.
    pub fn one(at: Timestamp, summary: Option<&'a str>) -> Self {
        Self {
            n: 1,
            last_at: at,
            summary,
        }
    }

    /// Counts a trigger that arrived after those counted so far.
    pub fn add(&mut self, at: Timestamp, summary: Option<&'a str>) {
        self.n += 1;
        self.last_at = self.last_at.max(at);
        if summary.is_some() {
            self.summary = summary;
        }
    }

    /// The tally of `triggers` (time received, summary), in arrival order; `None` for
    /// none.
    pub fn of(triggers: impl IntoIterator<Item = (Timestamp, Option<&'a str>)>) -> Option<Self> {
        let mut tally: Option<Self> = None;
        for (at, summary) in triggers {
            match &mut tally {
                Some(t) => t.add(at, summary),
                None => tally = Some(Self::one(at, summary)),
            }
        }
        tally
    }
}

/// What repeats change on an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatState {
    pub repeat_count: i64,
    pub last_seen_at: Timestamp,
    pub summary: String,
}

/// `alert` once `tally` is counted on it: the count grows by the tally's; the alert is
/// last seen at the later of its own time and the tally's; and the tally's summary, if
/// it gave one, replaces the alert's unless the alert was seen later than the tally's
/// newest trigger (a summary from an older sighting never overwrites a newer one).
pub fn count_repeats(alert: &RepeatState, tally: &RepeatTally<'_>) -> RepeatState {
    let newer = tally.last_at >= alert.last_seen_at;
    RepeatState {
        repeat_count: alert.repeat_count + tally.n,
        last_seen_at: alert.last_seen_at.max(tally.last_at),
        summary: match (newer, tally.summary) {
            (true, Some(summary)) => summary.to_owned(),
            _ => alert.summary.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn alert(count: i64, seen: i64, summary: &str) -> RepeatState {
        RepeatState {
            repeat_count: count,
            last_seen_at: at(seen),
            summary: summary.into(),
        }
    }

    #[test]
    fn a_tally_counts_keeps_the_newest_time_and_the_last_summary_given() {
        let tally = RepeatTally::of([
            (at(5), Some("disk 90%")),
            (at(9), Some("disk 95%")),
            (at(7), None),
        ])
        .unwrap();
        assert_eq!(
            tally,
            RepeatTally {
                n: 3,
                last_at: at(9),
                summary: Some("disk 95%"),
            }
        );
        assert_eq!(RepeatTally::of([]), None);
    }

    #[test]
    fn counting_adds_and_a_newer_tally_brings_its_summary() {
        let tally = RepeatTally::of([(at(10), Some("disk 99%"))]).unwrap();
        assert_eq!(
            count_repeats(&alert(2, 4, "disk 90%"), &tally),
            alert(3, 10, "disk 99%")
        );
        let silent = RepeatTally::of([(at(10), None)]).unwrap();
        assert_eq!(
            count_repeats(&alert(2, 4, "disk 90%"), &silent),
            alert(3, 10, "disk 90%")
        );
    }

    #[test]
    fn an_older_tally_counts_without_its_summary() {
        let old = RepeatTally::of([(at(3), Some("disk 80%"))]).unwrap();
        assert_eq!(
            count_repeats(&alert(2, 4, "disk 90%"), &old),
            alert(3, 4, "disk 90%")
        );
    }

    #[test]
    fn repeats_commute() {
        let start = alert(1, 0, "first");
        let early = RepeatTally::of([(at(2), Some("b")), (at(1), Some("a"))]).unwrap();
        let late = RepeatTally::of([(at(5), Some("c"))]).unwrap();
        let one_way = count_repeats(&count_repeats(&start, &early), &late);
        let other_way = count_repeats(&count_repeats(&start, &late), &early);
        assert_eq!(one_way, other_way);
        assert_eq!(one_way, alert(4, 5, "c"));
    }
}
