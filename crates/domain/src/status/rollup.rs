//! Rolling statuses up: a component's from its status set by hand and its open
//! incidents', a group's from its components', and the page's overall banner.
//!
//! A component no incident affects is operational, unless someone set another status by
//! hand. Where several apply (two incidents, an incident and a status set by hand), the
//! worst wins ([`ComponentStatus::rank`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Component, ComponentStatus};
use crate::ComponentId;

/// Every component with its effective `status` filled in: its status set by hand and
/// those `impacts` (from open incidents) give it, the worst of them; a group, the worst
/// of its components'.
pub fn effective(
    components: &[Component],
    impacts: &[(ComponentId, ComponentStatus)],
) -> Vec<Component> {
    let mut from_incidents: HashMap<ComponentId, ComponentStatus> = HashMap::new();
    for (id, status) in impacts {
        let slot = from_incidents.entry(*id).or_default();
        *slot = ComponentStatus::worst([*slot, *status]);
    }
    let mut out: Vec<Component> = components
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.status = if c.group {
                ComponentStatus::Operational
            } else {
                ComponentStatus::worst([
                    c.manual_status,
                    from_incidents.get(&c.id).copied().unwrap_or_default(),
                ])
            };
            c
        })
        .collect();
    let children: Vec<(ComponentId, ComponentStatus)> = out
        .iter()
        .filter_map(|c| c.group_id.map(|g| (g, c.status)))
        .collect();
    for group in out.iter_mut().filter(|c| c.group) {
        group.status = ComponentStatus::worst(
            children
                .iter()
                .filter(|(g, _)| *g == group.id)
                .map(|(_, s)| *s),
        );
    }
    out
}

/// An incident's impact, in Statuspage's words.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    #[default]
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

impl Impact {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
            Self::Maintenance => "maintenance",
        }
    }

    /// The impact of a component status: a major outage is critical, a partial outage
    /// major, degraded performance minor; maintenance and operational are none.
    pub fn of(status: ComponentStatus) -> Impact {
        match status {
            ComponentStatus::MajorOutage => Self::Critical,
            ComponentStatus::PartialOutage => Self::Major,
            ComponentStatus::DegradedPerformance => Self::Minor,
            ComponentStatus::UnderMaintenance | ComponentStatus::Operational => Self::None,
        }
    }

    fn rank(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Maintenance => 1,
            Self::Minor => 2,
            Self::Major => 3,
            Self::Critical => 4,
        }
    }
}

/// The page's overall banner: Statuspage's `status` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PageStatus {
    pub indicator: Impact,
    pub description: String,
}

/// The banner for a page whose components stand at `statuses` and whose unresolved
/// incidents have `impacts`: the worst of the two, in the words Statuspage pages use
/// ("All Systems Operational", "Minor Service Outage", "Partial System Outage", "Major
/// System Outage"; "Service Under Maintenance" when maintenance is all there is).
pub fn page_status(
    statuses: impl IntoIterator<Item = ComponentStatus>,
    impacts: impl IntoIterator<Item = Impact>,
) -> PageStatus {
    let statuses: Vec<ComponentStatus> = statuses.into_iter().collect();
    let worst = impacts
        .into_iter()
        .chain(statuses.iter().map(|s| Impact::of(*s)))
        .max_by_key(|i| i.rank())
        .unwrap_or_default();
    let indicator = match worst {
        Impact::None if statuses.contains(&ComponentStatus::UnderMaintenance) => {
            Impact::Maintenance
        }
        other => other,
    };
    let description = match indicator {
        Impact::None => "All Systems Operational",
        Impact::Minor => "Minor Service Outage",
        Impact::Major => "Partial System Outage",
        Impact::Critical => "Major System Outage",
        Impact::Maintenance => "Service Under Maintenance",
    };
    PageStatus {
        indicator,
        description: description.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::component::tests::component;
    use proptest::prelude::*;
    use ComponentStatus::*;

    #[test]
    fn the_worst_of_hand_and_incidents_wins_and_groups_take_their_worst() {
        let mut all = vec![
            component(1, "Core", true, None),
            component(2, "API", false, Some(1)),
            component(3, "Web", false, Some(1)),
            component(4, "Billing", false, None),
        ];
        all[2].manual_status = UnderMaintenance;
        let impacts = [
            (ComponentId(2), DegradedPerformance),
            (ComponentId(2), PartialOutage),
            (ComponentId(3), DegradedPerformance),
        ];
        let out = effective(&all, &impacts);
        let status = |id: i64| out.iter().find(|c| c.id.0 == id).unwrap().status;
        assert_eq!(status(2), PartialOutage);
        assert_eq!(status(3), DegradedPerformance);
        assert_eq!(status(1), PartialOutage);
        assert_eq!(status(4), Operational);
        let quiet = effective(&all, &[]);
        assert_eq!(quiet[2].status, UnderMaintenance);
        assert_eq!(quiet[0].status, UnderMaintenance);
    }

    #[test]
    fn the_banner_names_the_worst() {
        let banner =
            |s: &[ComponentStatus], i: &[Impact]| page_status(s.iter().copied(), i.iter().copied());
        assert_eq!(
            banner(&[Operational, Operational], &[]).description,
            "All Systems Operational"
        );
        assert_eq!(
            banner(&[Operational, PartialOutage], &[]).indicator,
            Impact::Major
        );
        assert_eq!(
            banner(&[DegradedPerformance, MajorOutage], &[]).description,
            "Major System Outage"
        );
        assert_eq!(
            banner(&[UnderMaintenance], &[]).indicator,
            Impact::Maintenance
        );
        assert_eq!(
            banner(&[UnderMaintenance, DegradedPerformance], &[]).indicator,
            Impact::Minor
        );
        assert_eq!(
            banner(&[Operational], &[Impact::Major]).indicator,
            Impact::Major
        );
        assert_eq!(banner(&[], &[]).indicator, Impact::None);
    }

    proptest! {
        /// Whatever the mix, a component's status is one of the statuses it was given
        /// (or operational), and never better than any of them.
        #[test]
        fn a_component_is_never_better_than_what_affects_it(
            manual in 0..5usize,
            given in proptest::collection::vec(0..5usize, 0..6),
        ) {
            let mut c = component(1, "API", false, None);
            c.manual_status = ComponentStatus::ALL[manual];
            let impacts: Vec<_> = given.iter().map(|i| (ComponentId(1), ComponentStatus::ALL[*i])).collect();
            let out = effective(&[c.clone()], &impacts)[0].status;
            prop_assert!(out.rank() >= c.manual_status.rank());
            for (_, s) in &impacts {
                prop_assert!(out.rank() >= s.rank());
            }
            prop_assert!(out == c.manual_status || impacts.iter().any(|(_, s)| *s == out));
        }
    }
}
