//! Drill scores on a table of responses, and as properties over random ones.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::incident::UpdateAudience::{Customer, Internal};
use crate::{IncidentNumber, Severity};

fn at(minutes: i64) -> Timestamp {
    // A Monday: business hours matter only for SEV4's next-business-day target.
    "2026-11-02T10:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(minutes)
}

/// A SEV2 drill declared at minute 0.
fn drill(severity: u8) -> IncidentFacts {
    IncidentFacts {
        number: IncidentNumber(7),
        title: "Drill: the API is down".into(),
        severity: Severity::new(i64::from(severity)).unwrap(),
        service: Some("api".into()),
        declared_at: at(0),
        acknowledged_at: None,
        mitigated_at: None,
        resolved_at: None,
        customer_facing: false,
        drill: true,
        ended_without_resolution: false,
        response_missed: false,
        updates: vec![],
        dedup_keys: vec![],
        roles: vec![],
    }
}

/// A SEV2 drill that did everything the built-in policy asks: acknowledged at 5
/// minutes, every role taken, an internal update every 20 minutes (and a customer one
/// every 40), mitigated at 25 and resolved at 50.
fn exemplary() -> IncidentFacts {
    let mut f = drill(2);
    f.customer_facing = true;
    f.acknowledged_at = Some(at(5));
    f.roles = Role::ALL.iter().map(|r| (at(6), *r)).collect();
    f.updates = vec![(at(20), Internal), (at(40), Internal), (at(40), Customer)];
    f.mitigated_at = Some(at(25));
    f.resolved_at = Some(at(50));
    f
}

fn met(score: &DrillScore) -> Vec<(CriterionKind, bool)> {
    score.criteria.iter().map(|c| (c.kind, c.met)).collect()
}

use CriterionKind::*;

#[test]
fn each_target_missed_is_one_criterion_missed() {
    let policy = Policy::builtin();
    let now = at(600);
    type Change = fn(&mut IncidentFacts);
    let table: [(&str, Change, [bool; 5]); 7] = [
        ("all kept", |_| {}, [true; 5]),
        (
            "acknowledged 20 minutes in",
            |f| f.acknowledged_at = Some(at(20)),
            [false, true, true, true, true],
        ),
        (
            "never acknowledged",
            |f| f.acknowledged_at = None,
            [false, true, true, true, true],
        ),
        (
            "no scribe",
            |f| f.roles.retain(|(_, r)| *r != Role::Scribe),
            [true, false, true, true, true],
        ),
        (
            "the scribe only after the resolution",
            |f| {
                f.roles.retain(|(_, r)| *r != Role::Scribe);
                f.roles.push((at(55), Role::Scribe));
            },
            [true, false, true, true, true],
        ),
        (
            "a 35-minute silence inside",
            |f| f.updates = vec![(at(35), Internal), (at(40), Customer)],
            [true, true, false, true, true],
        ),
        (
            "mitigated 45 minutes in",
            |f| f.mitigated_at = Some(at(45)),
            [true, true, true, true, false],
        ),
    ];
    let kinds = [
        Acknowledged,
        Roles,
        InternalUpdates,
        CustomerUpdates,
        Mitigated,
    ];
    for (name, change, expected) in table {
        let mut f = exemplary();
        change(&mut f);
        let score = drill_score(&f, &policy, now);
        let want: Vec<_> = kinds.into_iter().zip(expected).collect();
        assert_eq!(met(&score), want, "{name}");
        let misses = expected.iter().filter(|m| !**m).count();
        assert_eq!((score.met, score.total), (5 - misses, 5), "{name}");
    }
}

#[test]
fn the_score_names_what_was_expected_and_what_happened() {
    let mut f = exemplary();
    f.acknowledged_at = Some(at(20));
    f.roles
        .retain(|(_, r)| matches!(r, Role::Commander | Role::Investigator));
    f.mitigated_at = None;
    let score = drill_score(&f, &Policy::builtin(), at(600));
    let ack = &score.criteria[0];
    assert_eq!(ack.expected, "within 15 minutes");
    assert_eq!(ack.actual, "after 20 minutes");
    assert_eq!(
        (ack.expected_seconds, ack.actual_seconds),
        (Some(900), Some(1200))
    );
    let roles = &score.criteria[1];
    assert_eq!(
        roles.expected,
        "commander, investigator, communicator, scribe"
    );
    assert_eq!(
        roles.actual,
        "commander, investigator (missing communicator, scribe)"
    );
    let updates = &score.criteria[2];
    assert_eq!(
        (updates.expected.as_str(), updates.actual.as_str()),
        ("every 30 minutes", "longest gap 20 minutes")
    );
    // Resolved without going through mitigation: the resolution stopped the impact.
    let mitigated = &score.criteria[4];
    assert_eq!(
        (mitigated.expected.as_str(), mitigated.actual.as_str()),
        ("within 30 minutes", "after 50 minutes")
    );
    assert_eq!(score.fraction(), "2 of 5");
}

#[test]
fn a_sev3_drill_counts_only_the_targets_its_policy_sets() {
    // SEV3 in the built-in policy: a response target of an hour, mitigation within
    // four, no required roles and no update cadence.
    let mut f = drill(3);
    f.customer_facing = true;
    f.acknowledged_at = Some(at(30));
    f.resolved_at = Some(at(300));
    let score = drill_score(&f, &Policy::builtin(), at(600));
    assert_eq!(
        met(&score),
        [(Acknowledged, true), (Mitigated, false)],
        "{score:#?}"
    );
    let sev4 = drill_score(&drill(4), &Policy::builtin(), at(600));
    assert!(
        sev4.criteria[0]
            .expected
            .starts_with("by the end of the next business day (2026-11-03 17:00 UTC)"),
        "{:?}",
        sev4.criteria[0]
    );
}

#[test]
fn a_policy_without_mitigate_within_uses_the_runbooks_defaults() {
    let mut policy = Policy::builtin();
    for s in &mut policy.severities {
        s.mitigate_within = None;
    }
    let minutes = |level| {
        policy
            .severity(Severity::new(level).unwrap())
            .mitigate_within()
            .0
            .as_mins()
    };
    assert_eq!(
        [minutes(1), minutes(2), minutes(3), minutes(4)],
        [30, 30, 240, 7 * 24 * 60]
    );
    assert_eq!(policy.to_toml(), {
        let mut p = Policy::builtin();
        p.severities
            .iter_mut()
            .for_each(|s| s.mitigate_within = None);
        p.to_toml()
    });
    let builtin = Policy::builtin();
    for level in 1..=4 {
        let s = builtin.severity(Severity::new(level).unwrap());
        assert_eq!(
            s.mitigate_within,
            Some(s.mitigate_within()),
            "the built-in policy writes the defaults out"
        );
    }
}

fn arbitrary_drill() -> impl Strategy<Value = IncidentFacts> {
    (
        1u8..=4,
        any::<bool>(),
        proptest::option::of(0i64..120),
        proptest::option::of(0i64..180),
        proptest::option::of(0i64..240),
        prop::collection::vec((0i64..300, 0usize..4), 0..6),
        prop::collection::vec((0i64..300, any::<bool>()), 0..10),
    )
        .prop_map(|(sev, customer, ack, mit, res, roles, updates)| {
            let mut f = drill(sev);
            f.customer_facing = customer;
            f.acknowledged_at = ack.map(at);
            f.mitigated_at = mit.map(at);
            f.resolved_at = res.map(at);
            f.roles = roles
                .into_iter()
                .map(|(m, r)| (at(m), Role::ALL[r]))
                .collect();
            f.roles.sort_by_key(|(t, _)| *t);
            f.updates = updates
                .into_iter()
                .map(|(m, c)| (at(m), if c { Customer } else { Internal }))
                .collect();
            f.updates.sort_by_key(|(t, _)| *t);
            f
        })
}

/// The longest silence of `audience`, minute by minute.
fn brute_gap(f: &IncidentFacts, audience: UpdateAudience, now: Timestamp) -> SignedDuration {
    let end = f.resolved_at.unwrap_or(now);
    let mut times: Vec<Timestamp> = vec![f.declared_at];
    times.extend(
        f.updates
            .iter()
            .filter(|(t, a)| *a == audience && *t <= end)
            .map(|(t, _)| *t),
    );
    times.push(end);
    times.sort();
    times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .max()
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_score_counts_what_the_policy_sets_and_agrees_with_brute_force(f in arbitrary_drill()) {
        let policy = Policy::builtin();
        let now = at(400);
        let sev = policy.severity(f.severity);
        let score = drill_score(&f, &policy, now);

        let expected_total = 2
            + usize::from(!sev.required_roles.is_empty())
            + usize::from(sev.internal_update_every.is_some())
            + usize::from(f.customer_facing && sev.customer_update_every.is_some());
        prop_assert_eq!(score.total, expected_total);
        prop_assert_eq!(score.total, score.criteria.len());
        prop_assert_eq!(score.met, score.criteria.iter().filter(|c| c.met).count());

        let end = f.resolved_at.unwrap_or(now);
        for c in &score.criteria {
            let brute = match c.kind {
                Acknowledged => f
                    .acknowledged_at
                    .is_some_and(|t| t <= policy.response_deadline(f.severity, f.declared_at)),
                Roles => sev
                    .required_roles
                    .iter()
                    .all(|r| f.roles.iter().any(|(t, held)| held == r && *t <= end)),
                InternalUpdates => {
                    brute_gap(&f, Internal, now) <= sev.internal_update_every.unwrap().0
                }
                CustomerUpdates => {
                    brute_gap(&f, Customer, now) <= sev.customer_update_every.unwrap().0
                }
                Mitigated => f
                    .mitigated_at
                    .or(f.resolved_at)
                    .is_some_and(|t| t.duration_since(f.declared_at) <= sev.mitigate_within().0),
            };
            prop_assert_eq!(c.met, brute, "{:?}", c);
        }
    }

    /// Acknowledging sooner never lowers a drill's score.
    #[test]
    fn acknowledging_sooner_never_lowers_the_score(f in arbitrary_drill(), sooner in 0i64..120) {
        let policy = Policy::builtin();
        let Some(ack) = f.acknowledged_at else { return Ok(()) };
        let mut earlier = f.clone();
        earlier.acknowledged_at = Some(ack.min(at(sooner)));
        let now = at(400);
        prop_assert!(drill_score(&earlier, &policy, now).met >= drill_score(&f, &policy, now).met);
    }
}
