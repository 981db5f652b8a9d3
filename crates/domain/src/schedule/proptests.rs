//! Property tests: random rotations in zones with odd DST rules, query windows that
//! straddle transitions, and an independent oracle for who should be on call.

use jiff::civil::{time, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Span, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::policy::{Day, TimeOfDay};

const ZONES: [&str; 9] = [
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Asia/Kolkata",
    "UTC",
];
const PEOPLE: [&str; 4] = ["alice", "bob", "carol", "dave"];
const Y2020: i64 = 1_577_836_800;
const Y2030: i64 = 1_893_456_000;

/// An instant in 2020–2030: either uniform, or within three hours of the zone's next
/// DST transition so that starts land in gaps and folds often.
#[derive(Debug, Clone, Copy)]
struct Moment {
    second: i64,
    near_transition: bool,
    nudge_minutes: i64,
}

fn moment() -> impl Strategy<Value = Moment> {
    (Y2020..Y2030, any::<bool>(), -180i64..=180).prop_map(
        |(second, near_transition, nudge_minutes)| Moment {
            second,
            near_transition,
            nudge_minutes,
        },
    )
}

impl Moment {
    fn instant(self, tz: &TimeZone) -> Timestamp {
        let base = Timestamp::from_second(self.second).unwrap();
        if !self.near_transition {
            return base;
        }
        let next = tz.following(base).next().map_or(base, |t| t.timestamp());
        next + SignedDuration::from_mins(self.nudge_minutes)
    }

    /// A wall-clock time near the transition, which may not exist or exist twice.
    fn wall(self, tz: &TimeZone) -> DateTime {
        let base = Timestamp::from_second(self.second).unwrap();
        let at = if self.near_transition {
            tz.following(base).next().map_or(base, |t| t.timestamp())
        } else {
            base
        };
        let wall = tz.to_datetime(at);
        let wall = wall.with().second(0).subsec_nanosecond(0).build().unwrap();
        wall.checked_add(Span::new().minutes(self.nudge_minutes))
            .unwrap()
    }
}

fn shift_length() -> impl Strategy<Value = ShiftLength> {
    prop_oneof![
        (1u32..=48).prop_map(ShiftLength::Hours),
        (1u32..=14).prop_map(ShiftLength::Days),
        (1u32..=4).prop_map(ShiftLength::Weeks),
    ]
}

fn participants() -> impl Strategy<Value = Vec<Handle>> {
    prop::collection::vec(0..PEOPLE.len(), 1..=6).prop_map(|ix| {
        ix.into_iter()
            .map(|i| Handle::parse(PEOPLE[i]).unwrap())
            .collect()
    })
}

fn restriction() -> impl Strategy<Value = Restriction> {
    let minute = (0i8..24, prop_oneof![Just(0i8), Just(30), 0i8..60]);
    (1u8..128, minute.clone(), minute)
        .prop_filter("start must differ from end", |(_, a, b)| a != b)
        .prop_map(|(mask, (h1, m1), (h2, m2))| {
            let all = [
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
            ];
            Restriction {
                days: (0..7)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| Day(all[i]))
                    .collect(),
                start: TimeOfDay(time(h1, m1, 0, 0)),
                end: TimeOfDay(time(h2, m2, 0, 0)),
            }
        })
}

#[derive(Debug, Clone)]
struct Case {
    zone: &'static str,
    layer: Layer,
    start: Moment,
    from: Moment,
    /// The query window's length in hours (up to 60 days).
    hours: i64,
    probes: Vec<i64>,
}

fn case(restricted: bool) -> impl Strategy<Value = Case> {
    let restrictions = if restricted {
        prop::collection::vec(restriction(), 1..=2).boxed()
    } else {
        Just(vec![]).boxed()
    };
    (
        prop::sample::select(&ZONES[..]),
        (participants(), shift_length(), restrictions),
        moment(),
        moment(),
        1i64..=24 * 60,
        prop::collection::vec(0i64..1_000_000, 8),
    )
        .prop_map(
            |(zone, (participants, shift, restrictions), start, from, hours, probes)| Case {
                zone,
                layer: Layer {
                    name: "L".into(),
                    participants,
                    shift,
                    start: DateTime::default(),
                    restrictions,
                },
                start,
                from,
                hours,
                probes,
            },
        )
}

impl Case {
    /// The zone, the layer with its start placed, and the query window.
    fn resolve(&self) -> (TimeZone, Layer, Timestamp, Timestamp) {
        let tz = TimeZone::get(self.zone).unwrap();
        let mut layer = self.layer.clone();
        layer.start = self.start.wall(&tz);
        let from = self.from.instant(&tz);
        (
            tz,
            layer,
            from,
            from + SignedDuration::from_hours(self.hours),
        )
    }
}

/// Who should be on call: shift `k` starts at `boundary(k)`, computed from scratch, and
/// `k` is found by binary search rather than by the code under test's arithmetic.
fn oracle<'a>(layer: &'a Layer, tz: &TimeZone, at: Timestamp) -> Option<&'a Handle> {
    let boundary = |k: i64| -> Timestamp {
        match layer.shift {
            ShiftLength::Hours(n) => {
                tz.to_timestamp(layer.start).unwrap() + SignedDuration::from_hours(k * i64::from(n))
            }
            ShiftLength::Days(n) | ShiftLength::Weeks(n) => {
                let days = if matches!(layer.shift, ShiftLength::Weeks(_)) {
                    7
                } else {
                    1
                };
                let dt = layer.start + Span::new().days(k * i64::from(n) * days);
                tz.to_timestamp(dt).unwrap()
            }
        }
    };
    if at < boundary(0) {
        return None;
    }
    // Enough shifts to pass the end of 2030 from a start in 2020, and no more: jiff
    // panics on arithmetic past the year 9999.
    let hi = match layer.shift {
        ShiftLength::Hours(n) => 100_000 / i64::from(n),
        ShiftLength::Days(n) => 5_000 / i64::from(n),
        ShiftLength::Weeks(n) => 5_000 / (7 * i64::from(n)),
    };
    let (mut lo, mut hi) = (0i64, hi + 2);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if boundary(mid) <= at {
            lo = mid
        } else {
            hi = mid
        }
    }
    layer
        .participants
        .get(usize::try_from(lo).unwrap() % layer.participants.len())
}

fn inside_restrictions(layer: &Layer, tz: &TimeZone, at: Timestamp) -> bool {
    let today = tz.to_datetime(at).date();
    layer.restrictions.iter().any(|r| {
        (-2..=1).any(|offset| {
            let day = today + Span::new().days(offset);
            if !r.days.iter().any(|d| d.0 == day.weekday()) {
                return false;
            }
            let end_day = if r.end < r.start {
                day.tomorrow().unwrap()
            } else {
                day
            };
            let open = tz.to_timestamp(day.to_datetime(r.start.0)).unwrap();
            let close = tz.to_timestamp(end_day.to_datetime(r.end.0)).unwrap();
            open <= at && at < close
        })
    })
}

fn who_in(shifts: &[Shift], at: Timestamp) -> Option<&Handle> {
    shifts
        .iter()
        .find(|s| s.start <= at && at < s.end)
        .map(|s| &s.user)
}

/// Instants worth asking about: every shift edge, just before each, and random probes.
fn probe_points(
    shifts: &[Shift],
    from: Timestamp,
    to: Timestamp,
    probes: &[i64],
) -> Vec<Timestamp> {
    let span = to.as_second() - from.as_second();
    let mut points: Vec<Timestamp> = probes
        .iter()
        .map(|p| from + SignedDuration::from_secs(p % span.max(1)))
        .collect();
    for s in shifts.iter().take(50) {
        points.extend([s.start, s.end - SignedDuration::from_nanos(1)]);
        if s.end < to {
            points.push(s.end);
        }
    }
    points
}

fn check_sorted_and_disjoint(shifts: &[Shift]) -> Result<(), TestCaseError> {
    for s in shifts {
        prop_assert!(s.start < s.end, "empty shift {s:?}");
    }
    for pair in shifts.windows(2) {
        prop_assert!(pair[0].end <= pair[1].start, "overlap: {pair:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn an_unrestricted_layer_always_has_exactly_one_person(c in case(false)) {
        let (tz, layer, from, to) = c.resolve();
        let first = tz.to_timestamp(layer.start).unwrap();
        let shifts = layer.shifts(&tz, from, to);
        if to <= first {
            prop_assert!(shifts.is_empty());
            return Ok(());
        }
        // Contiguous from the later of `from` and the first handoff up to `to`.
        prop_assert_eq!(shifts[0].start, from.max(first));
        prop_assert_eq!(shifts.last().unwrap().end, to);
        for pair in shifts.windows(2) {
            prop_assert_eq!(pair[0].end, pair[1].start);
        }
        check_sorted_and_disjoint(&shifts)?;
        // The participant order cycles from wherever the window starts.
        let len = layer.participants.len();
        let cycles = (0..len).any(|p| {
            shifts.iter().enumerate().all(|(i, s)| s.user == layer.participants[(p + i) % len])
        });
        prop_assert!(cycles, "order broken: {:?}", shifts.iter().map(|s| s.user.as_str()).collect::<Vec<_>>());
        // Handoffs: whole elapsed hours, or the wall-clock start time where it exists.
        for s in &shifts[..shifts.len() - 1] {
            let handoff = s.end;
            match layer.shift {
                ShiftLength::Hours(n) => {
                    let elapsed = handoff.duration_since(first).as_secs();
                    prop_assert_eq!(elapsed % (3600 * i64::from(n)), 0);
                    if s.start > from {
                        prop_assert_eq!(handoff.duration_since(s.start), SignedDuration::from_hours(n.into()));
                    }
                }
                ShiftLength::Days(_) | ShiftLength::Weeks(_) => {
                    let wall = tz.to_datetime(handoff);
                    let intended = wall.date().to_datetime(layer.start.time());
                    if wall.time() != layer.start.time() {
                        let gap = matches!(tz.to_ambiguous_timestamp(intended).offset(), AmbiguousOffset::Gap { .. });
                        prop_assert!(gap, "handoff at {wall}, wanted {}", layer.start.time());
                    }
                    prop_assert_eq!(handoff, tz.to_timestamp(intended).unwrap());
                }
            }
        }
        for t in probe_points(&shifts, from, to, &c.probes) {
            let expected = if t < first { None } else { oracle(&layer, &tz, t) };
            prop_assert_eq!(layer.on_call_at(&tz, t), expected, "at {}", t);
            prop_assert_eq!(who_in(&shifts, t), expected, "shifts at {}", t);
        }
    }

    #[test]
    fn a_restricted_layer_has_someone_only_inside_its_windows(c in case(true)) {
        let (tz, layer, from, to) = c.resolve();
        let shifts = layer.shifts(&tz, from, to);
        check_sorted_and_disjoint(&shifts)?;
        let unrestricted = Layer { restrictions: vec![], ..layer.clone() };
        for t in probe_points(&shifts, from, to, &c.probes) {
            let expected = if inside_restrictions(&layer, &tz, t) { oracle(&layer, &tz, t) } else { None };
            prop_assert_eq!(layer.on_call_at(&tz, t), expected, "at {}", t);
            prop_assert_eq!(who_in(&shifts, t), expected, "shifts at {}", t);
            if expected.is_some() {
                prop_assert_eq!(unrestricted.on_call_at(&tz, t), expected);
            }
        }
    }

    #[test]
    fn the_final_schedule_has_no_overlaps_and_overrides_win(
        cases in prop::collection::vec(any::<bool>().prop_flat_map(case), 1..=3),
        overrides in prop::collection::vec((0i64..24 * 60 * 60, 1i64..48 * 60, 0..PEOPLE.len()), 0..=4),
    ) {
        let (tz, _, from, to) = cases[0].resolve();
        let layers: Vec<Layer> = cases.iter().map(|c| {
            let mut layer = c.layer.clone();
            layer.start = c.start.wall(&tz);
            layer
        }).collect();
        let overrides: Vec<Override> = overrides.iter().map(|&(offset, minutes, who)| {
            let start = from + SignedDuration::from_mins(offset % (cases[0].hours * 60));
            Override {
                user: Handle::parse(PEOPLE[who]).unwrap(),
                start,
                end: start + SignedDuration::from_mins(minutes),
            }
        }).collect();
        let schedule = Schedule::new(NewSchedule {
            name: "P".into(),
            time_zone: cases[0].zone.into(),
            layers: layers.clone(),
            overrides: overrides.clone(),
        }).unwrap();
        let shifts = schedule.shifts(from, to);
        check_sorted_and_disjoint(&shifts)?;
        for pair in shifts.windows(2) {
            let joinable = pair[0].end == pair[1].start && pair[0].user == pair[1].user && pair[0].source == pair[1].source;
            prop_assert!(!joinable, "not merged: {pair:?}");
        }
        for s in &shifts {
            prop_assert!(from <= s.start && s.end <= to);
        }
        for t in probe_points(&shifts, from, to, &cases[0].probes) {
            let by_override = overrides.iter().rev().find(|o| o.start <= t && t < o.end).map(|o| &o.user);
            let by_layer = layers.iter().rev().find_map(|l| l.on_call_at(&tz, t));
            let expected = by_override.or(by_layer).cloned();
            prop_assert_eq!(schedule.on_call_at(t), expected.clone(), "at {}", t);
            prop_assert_eq!(who_in(&shifts, t).cloned(), expected, "shifts at {}", t);
        }
    }
}
