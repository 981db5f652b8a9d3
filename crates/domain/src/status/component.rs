//! Components: what customers see on the status page ("API", "Dashboard"), in at most
//! one level of groups, each linked to the services whose incidents affect it.

use std::fmt;

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::service::ServiceName;
use crate::{ComponentId, DomainError};

/// A component's health as customers read it, in Statuspage's words.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    #[default]
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
    UnderMaintenance,
}

impl ComponentStatus {
    pub const ALL: [ComponentStatus; 5] = [
        Self::Operational,
        Self::DegradedPerformance,
        Self::PartialOutage,
        Self::MajorOutage,
        Self::UnderMaintenance,
    ];

    /// The name on the wire: `partial_outage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::DegradedPerformance => "degraded_performance",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
            Self::UnderMaintenance => "under_maintenance",
        }
    }

    /// The words a page shows: "Partial outage".
    pub fn label(self) -> &'static str {
        match self {
            Self::Operational => "Operational",
            Self::DegradedPerformance => "Degraded performance",
            Self::PartialOutage => "Partial outage",
            Self::MajorOutage => "Major outage",
            Self::UnderMaintenance => "Under maintenance",
        }
    }

    /// How bad it is, for "the worst wins": operational, under maintenance, degraded
    /// performance, partial outage, major outage. Maintenance is planned, so any outage
    /// outranks it.
    pub fn rank(self) -> u8 {
        match self {
            Self::Operational => 0,
            Self::UnderMaintenance => 1,
            Self::DegradedPerformance => 2,
            Self::PartialOutage => 3,
            Self::MajorOutage => 4,
        }
    }

    /// The worst of `statuses`; operational when there are none.
    pub fn worst(statuses: impl IntoIterator<Item = ComponentStatus>) -> ComponentStatus {
        statuses
            .into_iter()
            .max_by_key(|s| s.rank())
            .unwrap_or(Self::Operational)
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == t)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!(
                        "'{text}' is not a component status; use operational, degraded_performance, partial_outage, major_outage or under_maintenance"
                    ),
                )
            })
    }
}

impl fmt::Display for ComponentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A component, or a group of components, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Component {
    pub id: ComponentId,
    pub name: String,
    pub description: Option<String>,
    /// Its place among its siblings (the top level, or its group), from 1.
    pub position: i64,
    /// Whether this is a group: it holds components and takes their worst status.
    pub group: bool,
    /// The group it belongs to, if any. Groups nest one level: a group has none.
    pub group_id: Option<ComponentId>,
    /// The services whose customer-facing incidents affect it.
    pub services: Vec<ServiceName>,
    /// Shown on the public page only while it is not operational.
    pub only_show_if_degraded: bool,
    /// Whether the public page shows its 90-day uptime bar.
    pub showcase: bool,
    /// The day uptime counting starts; its creation day if not set.
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Date>,
    /// The status set by hand: operational unless someone set another.
    pub manual_status: ComponentStatus,
    /// What the page shows now: the worst of the status set by hand and those that open
    /// incidents give it; for a group, the worst of its components'.
    pub status: ComponentStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// The longest component name, in characters.
pub const MAX_NAME: usize = 100;
/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 1_000;
/// The most services one component links.
pub const MAX_SERVICES: usize = 50;
/// The most components (groups included) a page holds.
pub const MAX_COMPONENTS: usize = 200;

/// A request to create a component or a group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComponent {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Create a group instead of a component. Fixed once created.
    #[serde(default)]
    pub group: bool,
    /// The group to put it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<ComponentId>,
    /// Its place among its siblings; after the last one if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(default)]
    pub services: Vec<ServiceName>,
    #[serde(default)]
    pub only_show_if_degraded: bool,
    /// Show the uptime bar; by default components do and groups do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub showcase: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Date>,
}

/// A change to a component: fields left out stay as they are; `null` clears the ones
/// that may be empty (`description`, `group_id`, `start_date`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<ComponentId>)]
    pub group_id: Option<Option<ComponentId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// Replaces the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<ServiceName>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_show_if_degraded: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub showcase: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Option<Date>>,
    /// Sets the status by hand (components only; a group takes its components' worst).
    /// `operational` ends a status set by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ComponentStatus>,
}

/// A field that is present, even as `null`: `Some(None)`; absent fields stay `None`
/// through `#[serde(default)]`.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The fields of a component that people edit, validated on their own; how they fit
/// with the other components is [`check_placement`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentFields {
    pub name: String,
    pub description: Option<String>,
    pub group: bool,
    pub group_id: Option<ComponentId>,
    /// `None`: after the last of its siblings (the store's to work out).
    pub position: Option<i64>,
    pub services: Vec<ServiceName>,
    pub only_show_if_degraded: bool,
    pub showcase: bool,
    pub start_date: Option<Date>,
}

impl NewComponent {
    pub fn validated(self) -> Result<ComponentFields, DomainError> {
        ComponentFields {
            name: self.name,
            description: self.description,
            group: self.group,
            group_id: self.group_id,
            position: self.position,
            services: self.services,
            only_show_if_degraded: self.only_show_if_degraded,
            showcase: self.showcase.unwrap_or(!self.group),
            start_date: self.start_date,
        }
        .validated()
    }
}

impl ComponentUpdate {
    /// `current` with this update applied, validated. The status is not a field: see
    /// [`check_manual_status`].
    pub fn apply_to(&self, current: &Component) -> Result<ComponentFields, DomainError> {
        let moved = self.group_id.is_some_and(|g| g != current.group_id);
        ComponentFields {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| current.description.clone()),
            group: current.group,
            group_id: self.group_id.unwrap_or(current.group_id),
            // Moved to another group without a place: after the last one there.
            position: self.position.or((!moved).then_some(current.position)),
            services: self
                .services
                .clone()
                .unwrap_or_else(|| current.services.clone()),
            only_show_if_degraded: self
                .only_show_if_degraded
                .unwrap_or(current.only_show_if_degraded),
            showcase: self.showcase.unwrap_or(current.showcase),
            start_date: self.start_date.unwrap_or(current.start_date),
        }
        .validated()
    }
}

impl ComponentFields {
    fn validated(self) -> Result<ComponentFields, DomainError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(DomainError::invalid(
                "name",
                format!("name the component in 1 to {MAX_NAME} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "a name is one line without control characters",
            ));
        }
        let description = self
            .description
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            return Err(DomainError::invalid(
                "description",
                format!("is longer than {MAX_DESCRIPTION} characters"),
            ));
        }
        if let Some(p) = self.position {
            if !(1..=10_000).contains(&p) {
                return Err(DomainError::invalid(
                    "position",
                    "a position is a whole number from 1 to 10000",
                ));
            }
        }
        let mut services = self.services;
        services.sort();
        services.dedup();
        if services.len() > MAX_SERVICES {
            return Err(DomainError::invalid(
                "services",
                format!("at most {MAX_SERVICES} services"),
            ));
        }
        if self.group {
            if self.group_id.is_some() {
                return Err(DomainError::invalid(
                    "group_id",
                    "a group cannot be inside another group: groups nest one level",
                ));
            }
            if !services.is_empty() {
                return Err(DomainError::invalid(
                    "services",
                    "a group takes its components' status; link services to its components",
                ));
            }
        }
        Ok(ComponentFields {
            name,
            description,
            services,
            ..self
        })
    }
}

/// Checks that `fields` fit among `all` the components there are (`id`: the one being
/// changed, if any): its group exists and is a group, and a component that is a group's
/// target is not moved into one.
pub fn check_placement(
    id: Option<ComponentId>,
    fields: &ComponentFields,
    all: &[Component],
) -> Result<(), DomainError> {
    if id.is_none() && all.len() >= MAX_COMPONENTS {
        return Err(DomainError::conflict(format!(
            "a status page holds at most {MAX_COMPONENTS} components and groups"
        )));
    }
    if let Some(gid) = fields.group_id {
        if Some(gid) == id {
            return Err(DomainError::invalid(
                "group_id",
                "a component cannot be its own group",
            ));
        }
        match all.iter().find(|c| c.id == gid) {
            None => {
                return Err(DomainError::invalid(
                    "group_id",
                    format!("there is no component group {gid}; see `klaxon component list`"),
                ))
            }
            Some(c) if !c.group => {
                return Err(DomainError::invalid(
                    "group_id",
                    format!(
                        "'{}' is a component, not a group; create a group with --group",
                        c.name
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks that the status of `component` may be set by hand: groups take theirs from
/// their components.
pub fn check_manual_status(component: &Component) -> Result<(), DomainError> {
    if component.group {
        return Err(DomainError::invalid(
            "status",
            format!(
                "'{}' is a group: its status is the worst of its components'; set theirs",
                component.name
            ),
        ));
    }
    Ok(())
}

/// Checks that `component` may be deleted: a group only once it is empty.
pub fn check_delete(component: &Component, all: &[Component]) -> Result<(), DomainError> {
    let children: Vec<&str> = all
        .iter()
        .filter(|c| c.group_id == Some(component.id))
        .map(|c| c.name.as_str())
        .collect();
    if !children.is_empty() {
        return Err(DomainError::conflict(format!(
            "group '{}' still holds {}; move or delete them first",
            component.name,
            children.join(", ")
        )));
    }
    Ok(())
}

/// The components in page order: top-level items by position (then name), each group
/// followed by its components in theirs.
pub fn page_order(all: &[Component]) -> Vec<&Component> {
    let key = |c: &&Component| (c.position, c.name.to_lowercase(), c.id);
    let mut top: Vec<&Component> = all
        .iter()
        .filter(|c| c.group_id.is_none() || !all.iter().any(|g| Some(g.id) == c.group_id))
        .collect();
    top.sort_by_key(key);
    let mut out = Vec::with_capacity(all.len());
    for item in top {
        out.push(item);
        if item.group {
            let mut children: Vec<&Component> =
                all.iter().filter(|c| c.group_id == Some(item.id)).collect();
            children.sort_by_key(key);
            out.extend(children);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn at() -> Timestamp {
        "2026-11-26T10:00:00Z".parse().unwrap()
    }

    pub(crate) fn component(id: i64, name: &str, group: bool, group_id: Option<i64>) -> Component {
        Component {
            id: ComponentId(id),
            name: name.into(),
            description: None,
            position: id,
            group,
            group_id: group_id.map(ComponentId),
            services: vec![],
            only_show_if_degraded: false,
            showcase: !group,
            start_date: None,
            manual_status: ComponentStatus::Operational,
            status: ComponentStatus::Operational,
            created_at: at(),
            updated_at: at(),
        }
    }

    #[test]
    fn statuses_rank_outages_above_maintenance() {
        use ComponentStatus::*;
        assert_eq!(ComponentStatus::worst([]), Operational);
        assert_eq!(
            ComponentStatus::worst([UnderMaintenance, DegradedPerformance]),
            DegradedPerformance
        );
        assert_eq!(
            ComponentStatus::worst([PartialOutage, MajorOutage, Operational]),
            MajorOutage
        );
        assert_eq!(
            ComponentStatus::worst([Operational, UnderMaintenance]),
            UnderMaintenance
        );
        for s in ComponentStatus::ALL {
            assert_eq!(ComponentStatus::parse(s.as_str()).unwrap(), s);
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(json, s.as_str());
        }
        assert_eq!(
            ComponentStatus::parse("partial-outage").unwrap(),
            PartialOutage
        );
        assert!(ComponentStatus::parse("down").is_err());
    }

    #[test]
    fn fields_are_trimmed_and_checked() {
        let new = |name: &str| NewComponent {
            name: name.into(),
            description: Some("  ".into()),
            ..NewComponent::default()
        };
        let f = new("  API ").validated().unwrap();
        assert_eq!(f.name, "API");
        assert_eq!(f.description, None);
        assert!(f.showcase);
        assert!(new("").validated().is_err());
        assert!(new(&"x".repeat(101)).validated().is_err());
        assert!(new("a\nb").validated().is_err());
        let group = NewComponent {
            name: "Core".into(),
            group: true,
            ..NewComponent::default()
        };
        assert!(!group.clone().validated().unwrap().showcase);
        let nested = NewComponent {
            group_id: Some(ComponentId(1)),
            ..group.clone()
        };
        assert_eq!(
            nested.validated().unwrap_err(),
            DomainError::invalid(
                "group_id",
                "a group cannot be inside another group: groups nest one level"
            )
        );
        let linked = NewComponent {
            services: vec![ServiceName::parse("api").unwrap()],
            ..group
        };
        assert!(matches!(
            linked.validated(),
            Err(DomainError::Invalid {
                field: "services",
                ..
            })
        ));
        let bad_position = NewComponent {
            position: Some(0),
            ..new("API")
        };
        assert!(bad_position.validated().is_err());
    }

    #[test]
    fn a_component_goes_into_a_group_that_exists() {
        let all = vec![
            component(1, "Core", true, None),
            component(2, "API", false, Some(1)),
        ];
        let into = |g: i64| ComponentFields {
            group_id: Some(ComponentId(g)),
            ..NewComponent {
                name: "Web".into(),
                ..NewComponent::default()
            }
            .validated()
            .unwrap()
        };
        assert!(check_placement(None, &into(1), &all).is_ok());
        let e = check_placement(None, &into(2), &all).unwrap_err();
        assert!(
            e.to_string().contains("'API' is a component, not a group"),
            "{e}"
        );
        let e = check_placement(None, &into(9), &all).unwrap_err();
        assert!(
            e.to_string().contains("there is no component group 9"),
            "{e}"
        );
        assert!(check_placement(Some(ComponentId(1)), &into(1), &all).is_err());
    }

    #[test]
    fn groups_take_no_status_by_hand_and_are_deleted_empty() {
        let all = vec![
            component(1, "Core", true, None),
            component(2, "API", false, Some(1)),
        ];
        assert!(check_manual_status(&all[0]).is_err());
        assert!(check_manual_status(&all[1]).is_ok());
        let e = check_delete(&all[0], &all).unwrap_err();
        assert!(e.to_string().contains("still holds API"), "{e}");
        assert!(check_delete(&all[1], &all).is_ok());
    }

    #[test]
    fn an_update_keeps_what_it_leaves_out_and_clears_with_null() {
        let mut c = component(2, "API", false, Some(1));
        c.description = Some("REST".into());
        let u: ComponentUpdate =
            serde_json::from_str(r#"{"description": null, "showcase": false}"#).unwrap();
        let f = u.apply_to(&c).unwrap();
        assert_eq!(f.description, None);
        assert_eq!(f.group_id, Some(ComponentId(1)));
        assert_eq!(f.position, Some(2));
        assert!(!f.showcase);
        let u: ComponentUpdate = serde_json::from_str(r#"{"group_id": null}"#).unwrap();
        let f = u.apply_to(&c).unwrap();
        assert_eq!((f.group_id, f.position), (None, None));
        let u: ComponentUpdate = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(u.apply_to(&c).unwrap().description.as_deref(), Some("REST"));
    }

    #[test]
    fn the_page_lists_each_group_before_its_components() {
        let mut all = vec![
            component(3, "Web", false, Some(1)),
            component(1, "Core", true, None),
            component(4, "Billing", false, None),
            component(2, "API", false, Some(1)),
        ];
        all[0].position = 1;
        all[3].position = 2;
        all[2].position = 1;
        all[1].position = 2;
        let names: Vec<&str> = page_order(&all).iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Billing", "Core", "Web", "API"]);
    }
}
