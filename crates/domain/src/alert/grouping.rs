//! How a new alert relates to incidents: opens one, joins one, or stays an alert only.
//! The store finds the candidate incident for the service's grouping; [`plan`] decides.

use super::{AlertEvent, AlertSeverity};
use crate::service::{AlertRules, Grouping};
use crate::{IncidentNumber, Severity};

/// What a new alert does about incidents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentPlan {
    /// Recorded as an alert, no incident (its severity maps to none, or maintenance).
    AlertOnly,
    /// Opens a new incident of this severity.
    Declare(Severity),
    /// Joins this open incident.
    Join(IncidentNumber),
}

/// The value alerts are grouped on under `by-field` grouping: the named label, falling
/// back to the event's `component`, `group` or `class` of that name. `None` under the
/// other groupings, or when the alert lacks the field (it then opens its own incident).
pub fn group_key(rules: &AlertRules, event: &AlertEvent) -> Option<String> {
    let Grouping::ByField { field } = &rules.grouping else {
        return None;
    };
    let named = match field.as_str() {
        "component" => event.component.clone(),
        "group" => event.group.clone(),
        "class" => event.class.clone(),
        "source" => event.source.clone(),
        _ => None,
    };
    event
        .labels
        .get(field)
        .cloned()
        .or(named)
        .filter(|v| !v.is_empty())
}

/// Decides what a new alert of `severity` does, given the open incident its service's
/// grouping would join (`candidate`, found by the store) and whether the service is in
/// a maintenance window.
pub fn plan(
    rules: &AlertRules,
    severity: AlertSeverity,
    in_maintenance: bool,
    candidate: Option<IncidentNumber>,
) -> IncidentPlan {
    let Some(incident_severity) = rules.severities.incident_severity(severity) else {
        return IncidentPlan::AlertOnly;
    };
    if in_maintenance {
        return IncidentPlan::AlertOnly;
    }
    match (&rules.grouping, candidate) {
        (Grouping::PerAlert, _) | (_, None) => IncidentPlan::Declare(incident_severity),
        (_, Some(n)) => IncidentPlan::Join(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertAction;

    #[test]
    fn plans_follow_severity_maintenance_and_grouping() {
        let per_alert = AlertRules::default();
        let window = AlertRules {
            grouping: Grouping::TimeWindow { minutes: 10 },
            ..Default::default()
        };
        let n = Some(IncidentNumber(7));
        assert_eq!(
            plan(&per_alert, AlertSeverity::Critical, false, n),
            IncidentPlan::Declare(Severity::new(2).unwrap())
        );
        assert_eq!(
            plan(&per_alert, AlertSeverity::Info, false, None),
            IncidentPlan::AlertOnly
        );
        assert_eq!(
            plan(&per_alert, AlertSeverity::Critical, true, None),
            IncidentPlan::AlertOnly
        );
        assert_eq!(
            plan(&window, AlertSeverity::Error, false, n),
            IncidentPlan::Join(IncidentNumber(7))
        );
        assert_eq!(
            plan(&window, AlertSeverity::Error, false, None),
            IncidentPlan::Declare(Severity::new(3).unwrap())
        );
    }

    #[test]
    fn by_field_groups_on_the_label() {
        let rules = AlertRules {
            grouping: Grouping::ByField {
                field: "cluster".into(),
            },
            ..Default::default()
        };
        let mut event = AlertEvent::new(AlertAction::Trigger, AlertSeverity::Critical);
        assert_eq!(group_key(&rules, &event), None);
        event.labels.insert("cluster".into(), "eu-1".into());
        assert_eq!(group_key(&rules, &event).as_deref(), Some("eu-1"));
        assert_eq!(group_key(&AlertRules::default(), &event), None);
    }
}
