//! Policy as code: the runbook's rules as data. One TOML file (`klaxon.toml`) holds the
//! severities, the triage tree, the runbook table, message templates and phase
//! checklists; [`Policy::builtin`] mirrors the reference runbook.

mod hours;
mod parse;
mod values;

use serde::{Deserialize, Serialize};

pub use parse::PolicyError;
pub use values::{Cadence, Day, ResponseTarget, TimeOfDay, TimeZoneName};

use crate::incident::Role;
use crate::{DomainError, Severity};

/// The built-in policy, as TOML. `klaxon policy default` prints it.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default.toml");

/// The policy in force. Built only by [`Policy::from_toml`] (or deserialised from the
/// server's JSON), so every severity 1–4 is present exactly once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub time_zone: TimeZoneName,
    pub incident_channel: String,
    pub business_hours: BusinessHours,
    pub severities: Vec<SeverityPolicy>,
    pub triage: Triage,
    #[serde(default)]
    pub runbooks: Vec<RunbookEntry>,
    pub templates: Templates,
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// What leaves Klaxon of a restricted incident beyond its participants.
    #[serde(default)]
    pub restricted: RestrictedPolicy,
    /// The public status page's timing: the reminder before scheduled maintenance.
    #[serde(default)]
    pub status_page: StatusPagePolicy,
    /// When post-incident reviews and their action items are reminded and due.
    #[serde(default)]
    pub reviews: ReviewRules,
}

/// The clock of post-incident reviews (a severity's [`Review`] says whether one is
/// required and how long after resolution it is due) and of their action items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRules {
    /// The owner of a review or an action item is reminded this long before it is due
    /// (and again when it is due).
    #[serde(default = "ReviewRules::default_remind_before")]
    pub remind_before: Cadence,
    /// Overdue this long, the severity's stakeholder teams are told as well.
    #[serde(default = "ReviewRules::default_escalate_after")]
    pub escalate_after: Cadence,
    /// A short-term action item is due this long after it is added.
    #[serde(default = "ReviewRules::default_short_term")]
    pub short_term: Cadence,
    /// A long-term action item is due this long after it is added.
    #[serde(default = "ReviewRules::default_long_term")]
    pub long_term: Cadence,
}

impl ReviewRules {
    fn default_remind_before() -> Cadence {
        Cadence(jiff::SignedDuration::from_hours(24))
    }
    fn default_escalate_after() -> Cadence {
        Cadence(jiff::SignedDuration::from_hours(24))
    }
    fn default_short_term() -> Cadence {
        Cadence(jiff::SignedDuration::from_hours(7 * 24))
    }
    fn default_long_term() -> Cadence {
        Cadence(jiff::SignedDuration::from_hours(30 * 24))
    }
}

impl Default for ReviewRules {
    fn default() -> Self {
        Self {
            remind_before: Self::default_remind_before(),
            escalate_after: Self::default_escalate_after(),
            short_term: Self::default_short_term(),
            long_term: Self::default_long_term(),
        }
    }
}

/// The public status page's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPagePolicy {
    /// Subscribers are reminded of a scheduled maintenance this long before it starts.
    #[serde(default = "StatusPagePolicy::default_maintenance_reminder")]
    pub maintenance_reminder: Cadence,
}

impl StatusPagePolicy {
    fn default_maintenance_reminder() -> Cadence {
        Cadence(jiff::SignedDuration::from_hours(1))
    }
}

impl Default for StatusPagePolicy {
    fn default() -> Self {
        Self {
            maintenance_reminder: Self::default_maintenance_reminder(),
        }
    }
}

/// What outlets others read receive of restricted incidents. Shared chat rooms (Teams,
/// Mattermost, the Slack incident channel) never receive anything of them; the event
/// webhook receives their events only when the policy says so.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictedPolicy {
    /// Publish restricted incidents' events to the event webhook (for a receiver the
    /// security team owns, such as a SIEM). Off by default: nothing is published.
    #[serde(default)]
    pub publish_events: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub days: Vec<Day>,
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

/// Everything the runbook says about one severity level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityPolicy {
    pub level: Severity,
    pub name: String,
    pub definition: String,
    #[serde(default)]
    pub examples: Vec<String>,
    /// How soon the incident must be acknowledged.
    pub response_target: ResponseTarget,
    /// How often the responders post an internal status update, if at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_update_every: Option<Cadence>,
    /// How often customers hear from us on a customer-facing incident, if at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_update_every: Option<Cadence>,
    #[serde(default)]
    pub required_roles: Vec<Role>,
    /// How soon after the declaration the incident should be mitigated (or resolved):
    /// what a drill is scored against. See [`SeverityPolicy::mitigate_within`] for the
    /// default when the policy names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigate_within: Option<Cadence>,
    /// A dedicated channel per incident, or a thread in the incident channel.
    pub channel: ChannelMode,
    /// How hard to wake people: `high` may call by phone, `low` only chat and e-mail.
    pub paging: Urgency,
    /// Whether a ticket is opened in the tracker for the incident.
    #[serde(default)]
    pub create_ticket: bool,
    /// The status-page status suggested for the components a customer-facing incident
    /// of this severity affects; see [`SeverityPolicy::component_status`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_status: Option<crate::status::ComponentStatus>,
    /// Teams to notify when an incident of this severity is declared.
    #[serde(default)]
    pub notify: Vec<Stakeholder>,
    pub review: Review,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelMode {
    Dedicated,
    Thread,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    High,
    Low,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Low => "low",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::High, Self::Low]
            .into_iter()
            .find(|u| u.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stakeholder {
    pub team: String,
    #[serde(default)]
    pub when: NotifyWhen,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyWhen {
    #[default]
    Always,
    CustomerFacing,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub required: bool,
    /// How long after resolution the review is due; required when `required` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Cadence>,
    /// Count `due` in business hours only (the policy's `business_hours`): `due = "16h"`
    /// is two working days.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub business_hours: bool,
}

/// The severity decision tree, as an ordered list: the first "yes" decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triage {
    pub questions: Vec<TriageQuestion>,
    /// The severity when every answer is "no".
    pub otherwise: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageQuestion {
    pub ask: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookEntry {
    pub symptom: String,
    pub runbook: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    pub internal: TemplateSet,
    pub customer: TemplateSet,
}

/// One template per kind of status update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSet {
    pub detected: String,
    pub update: String,
    pub mitigated: String,
    pub resolved: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub name: String,
    #[serde(default)]
    pub window: String,
    #[serde(default)]
    pub goal: String,
    #[serde(default)]
    pub checklist: Vec<String>,
}

impl SeverityPolicy {
    /// The status suggested for the components an incident of this severity affects:
    /// the policy's `component_status`, or by default a major outage for SEV1, a partial
    /// outage for SEV2 and degraded performance for SEV3 and SEV4.
    pub fn component_status(&self) -> crate::status::ComponentStatus {
        use crate::status::ComponentStatus::*;
        self.component_status.unwrap_or(match self.level.level() {
            1 => MajorOutage,
            2 => PartialOutage,
            _ => DegradedPerformance,
        })
    }

    /// How soon after the declaration an incident of this severity should be mitigated:
    /// the policy's `mitigate_within`, or by default 30 minutes for SEV1 and SEV2 (the
    /// end of the runbook's "Response & Mitigation" phase), 4 hours for SEV3 and 7 days
    /// for SEV4.
    pub fn mitigate_within(&self) -> Cadence {
        self.mitigate_within.unwrap_or_else(|| {
            let hours = match self.level.level() {
                1 | 2 => return Cadence(jiff::SignedDuration::from_mins(30)),
                3 => 4,
                _ => 7 * 24,
            };
            Cadence(jiff::SignedDuration::from_hours(hours))
        })
    }

    /// The teams told about an incident of this severity: those the policy names
    /// always, and those it names for customer-facing incidents when this one is.
    pub fn stakeholder_teams(&self, customer_facing: bool) -> Vec<&str> {
        self.notify
            .iter()
            .filter(|s| s.when == NotifyWhen::Always || customer_facing)
            .map(|s| s.team.as_str())
            .collect()
    }
}

impl Policy {
    /// The built-in policy that mirrors the reference runbook.
    pub fn builtin() -> Policy {
        Policy::from_toml(DEFAULT_POLICY_TOML).expect("the built-in policy is valid")
    }

    /// Parses and validates a policy file. Errors carry the line and column.
    pub fn from_toml(source: &str) -> Result<Policy, Vec<PolicyError>> {
        parse::parse(source)
    }

    /// The rules for one severity. Every level has one: validation guarantees it.
    pub fn severity(&self, level: Severity) -> &SeverityPolicy {
        self.severities
            .iter()
            .find(|s| s.level == level)
            .expect("validated policies define every severity")
    }

    /// Walks the decision tree with the given answers, in question order. Answers past
    /// the first "yes" are ignored; too few answers is an error.
    pub fn triage(&self, answers: &[bool]) -> Result<Severity, DomainError> {
        for (i, question) in self.triage.questions.iter().enumerate() {
            match answers.get(i) {
                Some(true) => return Ok(question.severity),
                Some(false) => continue,
                None => {
                    return Err(DomainError::invalid(
                        "triage",
                        format!(
                        "{} answers given but the decision tree needs an answer to question {}: {}",
                        answers.len(),
                        i + 1,
                        question.ask
                    ),
                    ))
                }
            }
        }
        if answers.len() > self.triage.questions.len() {
            return Err(DomainError::invalid(
                "triage",
                format!(
                    "{} answers given but the decision tree has {} questions",
                    answers.len(),
                    self.triage.questions.len()
                ),
            ));
        }
        Ok(self.triage.otherwise)
    }

    /// The TOML text of this policy.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a policy always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stakeholders_follow_severity_and_customer_impact() {
        let p = Policy::builtin();
        let sev = |n| p.severity(Severity::new(n).unwrap());
        assert_eq!(sev(2).stakeholder_teams(false), ["engineering"]);
        assert_eq!(
            sev(2).stakeholder_teams(true),
            ["engineering", "customer-success"]
        );
        assert_eq!(
            sev(1).stakeholder_teams(false),
            ["engineering", "management"]
        );
        assert!(sev(3).stakeholder_teams(true).is_empty());
    }

    #[test]
    fn the_builtin_policy_mirrors_the_runbook() {
        let p = Policy::builtin();
        let sev = |n: i64| p.severity(Severity::new(n).unwrap());
        assert_eq!(sev(1).response_target.to_string(), "5m");
        assert_eq!(sev(2).response_target.to_string(), "15m");
        assert_eq!(sev(3).response_target.to_string(), "1h");
        assert_eq!(sev(4).response_target, ResponseTarget::NextBusinessDay);
        assert_eq!(sev(1).internal_update_every.unwrap().to_string(), "15m");
        assert_eq!(sev(2).customer_update_every.unwrap().to_string(), "1h");
        assert_eq!(sev(1).required_roles.len(), 4);
        assert_eq!(sev(2).channel, ChannelMode::Dedicated);
        assert_eq!(sev(3).channel, ChannelMode::Thread);
        assert!(sev(1).notify.iter().any(|s| s.team == "management"));
        assert!(!sev(2).notify.iter().any(|s| s.team == "management"));
        assert_eq!(sev(2).review.due.unwrap().to_string(), "48h");
        assert_eq!(p.runbooks.len(), 5);
        assert_eq!(p.phases.len(), 4);
        use crate::status::ComponentStatus::*;
        assert_eq!(sev(1).component_status(), MajorOutage);
        assert_eq!(sev(2).component_status(), PartialOutage);
        assert_eq!(sev(3).component_status(), DegradedPerformance);
        assert_eq!(sev(4).component_status(), DegradedPerformance);
    }

    #[test]
    fn a_policy_without_component_statuses_suggests_the_defaults() {
        let bare: String = DEFAULT_POLICY_TOML
            .lines()
            .filter(|l| !l.starts_with("component_status"))
            .collect::<Vec<_>>()
            .join("\n");
        let p = Policy::from_toml(&bare).unwrap();
        let sev = |n: i64| p.severity(Severity::new(n).unwrap());
        assert_eq!(sev(1).component_status, None);
        assert_eq!(
            sev(1).component_status(),
            crate::status::ComponentStatus::MajorOutage
        );
        let changed = DEFAULT_POLICY_TOML.replacen(
            "component_status = \"partial_outage\"",
            "component_status = \"major_outage\"",
            1,
        );
        let p = Policy::from_toml(&changed).unwrap();
        assert_eq!(
            p.severity(Severity::new(2).unwrap()).component_status(),
            crate::status::ComponentStatus::MajorOutage
        );
        let bad = DEFAULT_POLICY_TOML.replacen(
            "component_status = \"partial_outage\"",
            "component_status = \"down\"",
            1,
        );
        assert!(Policy::from_toml(&bad).is_err());
    }

    #[test]
    fn a_policy_survives_toml_and_json_round_trips() {
        let p = Policy::builtin();
        assert_eq!(Policy::from_toml(&p.to_toml()).unwrap(), p);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), p);
    }

    #[test]
    fn value_errors_point_at_the_value() {
        let bad = DEFAULT_POLICY_TOML.replacen(
            "response_target = \"15m\"",
            "response_target = \"soon\"",
            1,
        );
        let errors = Policy::from_toml(&bad).unwrap_err();
        let line = DEFAULT_POLICY_TOML
            .lines()
            .position(|l| l == "response_target = \"15m\"")
            .unwrap()
            + 1;
        assert_eq!(errors[0].line, line, "{:?}", errors);
        assert!(
            errors[0]
                .message
                .contains("'soon' is not a response target"),
            "{:?}",
            errors
        );
    }

    #[test]
    fn rule_errors_point_at_the_rule() {
        let bad = DEFAULT_POLICY_TOML.replacen("level = 3", "level = 2", 1);
        let errors = Policy::from_toml(&bad).unwrap_err();
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages.contains(&"severity 3 is not defined; define levels 1, 2, 3 and 4 once each"),
            "{messages:?}"
        );
        let twice = errors
            .iter()
            .find(|e| e.message == "severity 2 is defined twice")
            .unwrap();
        let line = bad
            .lines()
            .enumerate()
            .filter(|(_, l)| *l == "level = 2")
            .nth(1)
            .unwrap()
            .0
            + 1;
        assert_eq!((twice.line, twice.column), (line, 9));

        let bad = DEFAULT_POLICY_TOML.replacen("Impact: {impact}", "Impact: {impakt}", 1);
        let errors = Policy::from_toml(&bad).unwrap_err();
        assert!(
            errors[0]
                .message
                .starts_with("unknown placeholder {impakt}"),
            "{errors:?}"
        );

        let unknown = format!("{DEFAULT_POLICY_TOML}\nsurprise = 1\n");
        let errors = Policy::from_toml(&unknown).unwrap_err();
        assert!(
            errors[0].message.contains("unknown field `surprise`"),
            "{errors:?}"
        );
    }
}
