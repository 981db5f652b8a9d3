//! The public view in the shapes of Atlassian Statuspage's public API v2, field by
//! field: every key always present (`null`, never left out; a component's `components`
//! is the one key that only group rows carry, as on Statuspage), the same enum strings,
//! times as `2026-05-01T12:05:00.000Z`, at most [`LIMIT`] incidents.

use jiff::Timestamp;
use serde::Serialize;

use super::view::{
    ChangedComponent, PublicComponent, PublicIncident, PublicMaintenance, PublicView,
};

/// The most incidents (and maintenances) a list answers with.
pub const LIMIT: usize = 50;

/// A time as Statuspage writes it: UTC with milliseconds.
pub fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub indicator: &'static str,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub position: i64,
    pub description: Option<String>,
    pub showcase: bool,
    pub start_date: Option<String>,
    pub group_id: Option<String>,
    pub page_id: String,
    pub group: bool,
    pub only_show_if_degraded: bool,
    /// A group's components; only group rows have it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AffectedComponent {
    pub code: String,
    pub name: String,
    pub old_status: &'static str,
    pub new_status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentUpdate {
    pub id: String,
    pub incident_id: String,
    pub status: &'static str,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    pub display_at: String,
    pub affected_components: Option<Vec<AffectedComponent>>,
    pub deliver_notifications: bool,
    pub custom_tweet: Option<String>,
    pub tweet_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub impact: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    pub started_at: String,
    pub shortlink: String,
    pub page_id: String,
    pub incident_updates: Vec<IncidentUpdate>,
    pub components: Vec<Component>,
    pub postmortem_body: Option<String>,
    pub postmortem_body_last_updated_at: Option<String>,
}

/// A scheduled maintenance: the fields of an incident (`impact` is `maintenance`, the
/// statuses `scheduled | in_progress | verifying | completed`) and its window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Maintenance {
    #[serde(flatten)]
    pub incident: Incident,
    pub scheduled_for: String,
    pub scheduled_until: String,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub page: Page,
    pub components: Vec<Component>,
    pub incidents: Vec<Incident>,
    pub scheduled_maintenances: Vec<Maintenance>,
    pub status: Status,
}

/// `status.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusAnswer {
    pub page: Page,
    pub status: Status,
}

/// `components.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Components {
    pub page: Page,
    pub components: Vec<Component>,
}

/// `incidents.json` and `incidents/unresolved.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incidents {
    pub page: Page,
    pub incidents: Vec<Incident>,
}

/// `scheduled-maintenances.json`, `…/upcoming.json` and `…/active.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Maintenances {
    pub page: Page,
    pub scheduled_maintenances: Vec<Maintenance>,
}

fn page(v: &PublicView) -> Page {
    Page {
        id: v.page.id.clone(),
        name: v.page.name.clone(),
        url: v.page.url.clone(),
        time_zone: v.page.time_zone.to_owned(),
        updated_at: time(v.page.updated_at),
    }
}

fn status(v: &PublicView) -> Status {
    Status {
        indicator: v.status.indicator.as_str(),
        description: v.status.description.clone(),
    }
}

fn component(v: &PublicView, c: &PublicComponent) -> Component {
    let k = &c.component;
    Component {
        id: c.id.clone(),
        name: k.name.clone(),
        status: k.status.as_str(),
        created_at: time(k.created_at),
        updated_at: time(k.updated_at),
        position: k.position,
        description: k.description.clone(),
        showcase: k.showcase,
        start_date: k.start_date.map(|d| d.to_string()),
        group_id: c.group_id.clone(),
        page_id: v.page.id.clone(),
        group: k.group,
        only_show_if_degraded: k.only_show_if_degraded,
        components: k.group.then(|| c.children.clone()),
    }
}

fn affected(list: &[ChangedComponent]) -> Vec<AffectedComponent> {
    list.iter()
        .map(|c| AffectedComponent {
            code: c.id.clone(),
            name: c.name.clone(),
            old_status: c.old.as_str(),
            new_status: c.new.as_str(),
        })
        .collect()
}

/// One scheduled maintenance in Statuspage's shape (as in `scheduled-maintenances.json`).
pub fn maintenance(v: &PublicView, m: &PublicMaintenance) -> Maintenance {
    Maintenance {
        incident: Incident {
            id: m.id.clone(),
            name: m.name.clone(),
            status: m.status.as_str(),
            impact: super::Impact::Maintenance.as_str(),
            created_at: time(m.created_at),
            updated_at: time(m.updated_at),
            monitoring_at: None,
            resolved_at: m.resolved_at.map(time),
            started_at: time(m.started_at),
            shortlink: m.shortlink.clone(),
            page_id: v.page.id.clone(),
            incident_updates: m
                .updates
                .iter()
                .map(|u| IncidentUpdate {
                    id: u.id.clone(),
                    incident_id: m.id.clone(),
                    status: u.status.as_str(),
                    body: u.body.clone(),
                    created_at: time(u.at),
                    updated_at: time(u.at),
                    display_at: time(u.at),
                    affected_components: u.affected.as_deref().map(affected),
                    deliver_notifications: true,
                    custom_tweet: None,
                    tweet_id: None,
                })
                .collect(),
            components: m
                .components
                .iter()
                .filter_map(|id| v.component(id))
                .map(|c| component(v, c))
                .collect(),
            postmortem_body: None,
            postmortem_body_last_updated_at: None,
        },
        scheduled_for: time(m.scheduled_for),
        scheduled_until: time(m.scheduled_until),
    }
}

/// One incident in Statuspage's shape (as in `incidents.json`).
pub fn incident(v: &PublicView, i: &PublicIncident) -> Incident {
    Incident {
        id: i.id.clone(),
        name: i.name.clone(),
        status: i.status.as_str(),
        impact: i.impact.as_str(),
        created_at: time(i.created_at),
        updated_at: time(i.updated_at),
        monitoring_at: i.monitoring_at.map(time),
        resolved_at: i.resolved_at.map(time),
        started_at: time(i.started_at),
        shortlink: i.shortlink.clone(),
        page_id: v.page.id.clone(),
        incident_updates: i
            .updates
            .iter()
            .map(|u| IncidentUpdate {
                id: u.id.clone(),
                incident_id: i.id.clone(),
                status: u.status.as_str(),
                body: u.body.clone(),
                created_at: time(u.at),
                updated_at: time(u.at),
                display_at: time(u.at),
                affected_components: u.affected.as_deref().map(affected),
                deliver_notifications: true,
                custom_tweet: None,
                tweet_id: None,
            })
            .collect(),
        components: i
            .components
            .iter()
            .filter_map(|id| v.component(id))
            .map(|c| component(v, c))
            .collect(),
        postmortem_body: None,
        postmortem_body_last_updated_at: None,
    }
}

fn components(v: &PublicView) -> Vec<Component> {
    v.components.iter().map(|c| component(v, c)).collect()
}

pub fn summary(v: &PublicView) -> Summary {
    Summary {
        page: page(v),
        components: components(v),
        incidents: v.unresolved().map(|i| incident(v, i)).collect(),
        scheduled_maintenances: v
            .maintenances
            .iter()
            .filter(|m| m.upcoming() || m.active())
            .map(|m| maintenance(v, m))
            .collect(),
        status: status(v),
    }
}

pub fn status_answer(v: &PublicView) -> StatusAnswer {
    StatusAnswer {
        page: page(v),
        status: status(v),
    }
}

pub fn components_answer(v: &PublicView) -> Components {
    Components {
        page: page(v),
        components: components(v),
    }
}

/// The [`LIMIT`] most recent incidents, resolved or not.
pub fn incidents(v: &PublicView) -> Incidents {
    Incidents {
        page: page(v),
        incidents: v
            .incidents
            .iter()
            .take(LIMIT)
            .map(|i| incident(v, i))
            .collect(),
    }
}

/// The incidents still investigating, identified or monitoring.
pub fn unresolved(v: &PublicView) -> Incidents {
    Incidents {
        page: page(v),
        incidents: v.unresolved().take(LIMIT).map(|i| incident(v, i)).collect(),
    }
}

/// The [`LIMIT`] latest maintenances, in every state (cancelled ones are never shown).
pub fn maintenances(v: &PublicView) -> Maintenances {
    maintenance_list(v, |_| true)
}

/// The maintenances not started yet.
pub fn upcoming(v: &PublicView) -> Maintenances {
    maintenance_list(v, PublicMaintenance::upcoming)
}

/// The maintenances in progress or verifying.
pub fn active(v: &PublicView) -> Maintenances {
    maintenance_list(v, PublicMaintenance::active)
}

fn maintenance_list(v: &PublicView, keep: fn(&PublicMaintenance) -> bool) -> Maintenances {
    Maintenances {
        page: page(v),
        scheduled_maintenances: v
            .maintenances
            .iter()
            .filter(|m| keep(m))
            .take(LIMIT)
            .map(|m| maintenance(v, m))
            .collect(),
    }
}
