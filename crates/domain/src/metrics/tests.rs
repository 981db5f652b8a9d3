//! The report checked on examples, and against brute-force computations over random
//! incident histories.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::incident::UpdateAudience::{Customer, Internal};

fn at(minutes: i64) -> Timestamp {
    "2026-11-02T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(minutes)
}

fn facts(number: i64, severity: u8, declared: i64) -> IncidentFacts {
    IncidentFacts {
        number: IncidentNumber(number),
        title: format!("incident {number}"),
        severity: Severity::new(i64::from(severity)).unwrap(),
        service: Some("api".into()),
        declared_at: at(declared),
        acknowledged_at: None,
        mitigated_at: None,
        resolved_at: None,
        customer_facing: false,
        drill: false,
        ended_without_resolution: false,
        response_missed: false,
        updates: vec![],
        dedup_keys: vec![],
        roles: vec![],
    }
}

fn policy() -> Policy {
    Policy::builtin()
}

#[test]
fn a_late_acknowledgement_is_a_missed_target_and_the_times_are_from_the_declaration() {
    let mut late = facts(1, 2, 0);
    late.acknowledged_at = Some(at(40));
    late.response_missed = true;
    late.mitigated_at = Some(at(70));
    late.resolved_at = Some(at(130));
    let mut quick = facts(2, 2, 600);
    quick.acknowledged_at = Some(at(605));
    quick.resolved_at = Some(at(660));
    let mut drill = facts(3, 1, 700);
    drill.drill = true;
    let mut declined = facts(4, 3, 800);
    declined.ended_without_resolution = true;
    let r = report(
        &[late, quick, drill, declined],
        &policy(),
        at(0),
        at(10_000),
    );
    assert_eq!((r.count, r.drills), (2, 1));
    let sev2 = &r.by_severity[1];
    assert_eq!(
        (sev2.count, sev2.response_target),
        (2, Kept { kept: 1, of: 2 })
    );
    assert_eq!(r.time_to_acknowledge.median_seconds, Some(300));
    assert_eq!(r.time_to_acknowledge.p90_seconds, Some(2400));
    assert_eq!(r.time_to_mitigate.samples, 1);
    assert_eq!(r.time_to_resolve.median_seconds, Some(3600));
    let count = |name: &str, count| Count {
        name: name.into(),
        count,
    };
    assert_eq!(r.by_service, vec![count("api", 2)]);
    assert_eq!(r.by_week, vec![count("2026-W45", 2)]);
}

#[test]
fn updates_keep_the_cadence_only_without_a_long_gap() {
    // The built-in SEV2 cadence: internal every 30 minutes.
    let every = policy()
        .severity(Severity::new(2).unwrap())
        .internal_update_every
        .unwrap()
        .0;
    assert_eq!(every, SignedDuration::from_mins(30));
    let mut kept = facts(1, 2, 0);
    kept.updates = vec![(at(20), Internal), (at(50), Internal), (at(45), Customer)];
    kept.resolved_at = Some(at(75));
    let mut gap = facts(2, 2, 0);
    gap.updates = vec![(at(20), Internal), (at(51), Internal)];
    gap.resolved_at = Some(at(60));
    let r = report(&[kept, gap], &policy(), at(0), at(1000));
    assert_eq!(r.internal_updates, Kept { kept: 1, of: 2 });
    assert_eq!(r.customer_updates, Kept { kept: 0, of: 0 });
}

#[test]
fn an_incident_recurs_the_latest_earlier_one_within_thirty_days() {
    let mut a = facts(1, 3, 0);
    a.title = "API 502s on host 10.0.3.7".into();
    let mut b = facts(2, 3, 60 * 24 * 10);
    b.title = "API 502s on host 10.0.4.1".into();
    let mut c = facts(3, 3, 60 * 24 * 45);
    c.title = "API 502s on host 10.0.9.9".into();
    let mut d = facts(4, 3, 60 * 24 * 46);
    d.service = Some("web".into());
    d.dedup_keys = vec!["disk-full-db1".into()];
    let mut e = facts(5, 3, 60 * 24 * 47);
    e.service = None;
    e.dedup_keys = vec!["disk-full-db1".into()];
    let r = report(&[a, b, c, d, e], &policy(), at(0), at(60 * 24 * 60));
    let found: Vec<(i64, i64, &str)> = r
        .recurring
        .iter()
        .map(|x| (x.number, x.recurs, x.because.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![(2, 1, "same title"), (5, 4, "alert disk-full-db1")]
    );
}

#[test]
fn titles_are_compared_without_numbers_and_ids() {
    assert_eq!(title_shape("API 502s on host 10.0.3.7!"), "api on host");
    assert_eq!(title_shape("Disk full on db-1"), "disk full on db");
}

// Brute force, written the plain way, for the property tests.

fn brute_rank(samples: &[i64], q: f64) -> Option<i64> {
    // The smallest sample with at least q of all samples at or below it.
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.iter().copied().find(|&v| {
        let at_or_below = samples.iter().filter(|&&x| x <= v).count();
        at_or_below as f64 >= q * samples.len() as f64
    })
}

fn brute_cadence(
    f: &IncidentFacts,
    audience: UpdateAudience,
    every: SignedDuration,
    until: Timestamp,
) -> bool {
    // Walk the life of the incident minute by minute.
    let end = f.resolved_at.unwrap_or(until);
    let mut t = f.declared_at;
    while t <= end {
        let last = f
            .updates
            .iter()
            .filter(|(u, a)| *a == audience && *u <= t)
            .map(|(u, _)| *u)
            .max()
            .unwrap_or(f.declared_at)
            .max(f.declared_at);
        if t.duration_since(last) > every {
            return false;
        }
        t += SignedDuration::from_mins(1);
    }
    true
}

fn brute_recurs(all: &[&IncidentFacts], f: &IncidentFacts) -> Option<i64> {
    all.iter()
        .filter(|e| (e.declared_at, e.number) < (f.declared_at, f.number))
        .filter(|e| f.declared_at.duration_since(e.declared_at) <= RECURRENCE_WINDOW)
        .filter(|e| {
            let same_title = f.service.is_some()
                && e.service == f.service
                && !title_shape(&f.title).is_empty()
                && title_shape(&e.title) == title_shape(&f.title);
            let shared_key = f.dedup_keys.iter().any(|k| e.dedup_keys.contains(k));
            same_title || shared_key
        })
        .max_by_key(|e| (e.declared_at, e.number))
        .map(|e| e.number.0)
}

fn arbitrary_facts() -> impl Strategy<Value = IncidentFacts> {
    (
        (
            1i64..1000,
            1u8..=4,
            0i64..(60 * 24 * 90),
            prop::option::of(0usize..3),
        ),
        (
            prop::option::of(0i64..300),
            prop::option::of(0i64..600),
            prop::option::of(0i64..900),
        ),
        (
            any::<bool>(),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.1),
            any::<bool>(),
        ),
        prop::collection::vec((0i64..900, any::<bool>()), 0..6),
        (0usize..4, prop::collection::vec(0usize..4, 0..3)),
    )
        .prop_map(
            |(
                (n, sev, declared, service),
                (ack, mit, res),
                (customer, drill, ended, missed),
                updates,
                (title, keys),
            )| {
                let d = at(declared);
                let mut updates: Vec<(Timestamp, UpdateAudience)> = updates
                    .into_iter()
                    .map(|(m, c)| {
                        (
                            d + SignedDuration::from_mins(m),
                            if c { Customer } else { Internal },
                        )
                    })
                    .collect();
                updates.sort_by_key(|(t, _)| *t);
                IncidentFacts {
                    number: IncidentNumber(n),
                    title: [
                        "API 502s on host 10.0.0.1",
                        "API 502s on host 10.0.0.2",
                        "Disk full",
                        "Checkout slow",
                    ][title]
                        .into(),
                    severity: Severity::new(i64::from(sev)).unwrap(),
                    service: service.map(|s| ["api", "web", "db"][s].to_owned()),
                    declared_at: d,
                    acknowledged_at: ack.map(|m| d + SignedDuration::from_mins(m)),
                    mitigated_at: mit.map(|m| d + SignedDuration::from_mins(m)),
                    resolved_at: res.map(|m| d + SignedDuration::from_mins(m)),
                    customer_facing: customer,
                    drill,
                    ended_without_resolution: ended,
                    response_missed: missed && ack.is_some(),
                    updates,
                    dedup_keys: keys.into_iter().map(|k| format!("key-{k}")).collect(),
                    roles: vec![],
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_report_agrees_with_brute_force(all in prop::collection::vec(arbitrary_facts(), 0..40)) {
        let policy = policy();
        let (since, until) = (at(60 * 24 * 10), at(60 * 24 * 80));
        let r = report(&all, &policy, since, until);
        let counted: Vec<&IncidentFacts> = all
            .iter()
            .filter(|f| since <= f.declared_at && f.declared_at < until && !f.drill && !f.ended_without_resolution)
            .collect();
        prop_assert_eq!(r.count, counted.len());
        let drills = all
            .iter()
            .filter(|f| since <= f.declared_at && f.declared_at < until && f.drill)
            .count();
        prop_assert_eq!((r.drills, r.drill_scores.len()), (drills, drills));
        prop_assert_eq!(r.by_severity.iter().map(|s| s.count).sum::<usize>(), counted.len());
        prop_assert_eq!(r.by_week.iter().map(|w| w.count).sum::<usize>(), counted.len());

        let acks: Vec<i64> = counted
            .iter()
            .filter_map(|f| f.acknowledged_at.map(|a| a.duration_since(f.declared_at).as_secs()))
            .collect();
        prop_assert_eq!(r.time_to_acknowledge.median_seconds, brute_rank(&acks, 0.5));
        prop_assert_eq!(r.time_to_acknowledge.p90_seconds, brute_rank(&acks, 0.9));

        for s in Severity::ALL {
            let of: Vec<&&IncidentFacts> = counted
                .iter()
                .filter(|f| f.severity == s && (f.acknowledged_at.is_some() || policy.response_deadline(f.severity, f.declared_at) <= until))
                .collect();
            let kept = of.iter().filter(|f| f.acknowledged_at.is_some() && !f.response_missed).count();
            prop_assert_eq!(r.by_severity[usize::from(s.level()) - 1].response_target, Kept { kept, of: of.len() });
        }

        let mut internal = Kept::default();
        for f in &counted {
            if let Some(every) = policy.severity(f.severity).internal_update_every {
                internal.of += 1;
                internal.kept += usize::from(brute_cadence(f, Internal, every.0, until));
            }
        }
        prop_assert_eq!(r.internal_updates, internal);

        for f in &counted {
            let found = r.recurring.iter().find(|x| x.number == f.number.0 && x.title == f.title);
            let expected = brute_recurs(&counted, f);
            // Numbers may repeat in random histories; compare only unambiguous ones.
            if counted.iter().filter(|g| g.number == f.number).count() == 1 {
                prop_assert_eq!(found.map(|x| x.recurs), expected, "incident {}", f.number.0);
            }
        }
    }
}
