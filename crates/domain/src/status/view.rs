//! The public view: everything the status page, its JSON and its feeds show, built in
//! one go from what the store holds. The server keeps the latest one in memory and
//! renders every public answer from it, so a request never reads the database.

use std::collections::HashMap;

use jiff::Timestamp;

use super::incidents::{public_timeline, published, PublicStatus};
use super::maintenance::{self, MaintenanceStatus, ScheduledMaintenance};
use super::rollup::{effective, page_status, Impact, PageStatus};
use super::uptime::{self, Day, UPTIME_DAYS};
use super::{Component, ComponentPeriod, ComponentStatus};
use crate::incident::{Incident, TimelineEvent};
use crate::policy::Policy;
use crate::{ComponentId, IncidentNumber, ScheduledMaintenanceId};

/// What a public id stands for. Public ids are opaque: the server derives them from a
/// secret, so that incident numbers (which would count restricted incidents too) never
/// show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Public {
    Page,
    Component(ComponentId),
    Incident(IncidentNumber),
    /// An update: the incident and the update's place on its timeline.
    Update(IncidentNumber, i64),
    Maintenance(ScheduledMaintenanceId),
    /// A maintenance's update, by its place among them.
    MaintenanceUpdate(ScheduledMaintenanceId, i64),
    /// A component's status change, told to subscribers: the component and when.
    ComponentUpdate(ComponentId, Timestamp),
}

/// What the view is built from.
pub struct Sources<'a> {
    /// The page's name, and the URL it is reached at (links are made under it).
    pub name: &'a str,
    pub url: &'a str,
    pub components: &'a [Component],
    /// Every stretch of history that ends within the uptime window, or lasts.
    pub periods: &'a [ComponentPeriod],
    /// Candidate incidents, newest first; those not [`published`] are left out.
    pub incidents: &'a [Incident],
    /// The incidents' events the page reads, in order per incident.
    pub events: &'a [(IncidentNumber, TimelineEvent)],
    /// Scheduled maintenances (cancelled ones are left out).
    pub maintenances: &'a [ScheduledMaintenance],
    pub policy: &'a Policy,
    pub now: Timestamp,
    /// The public id of each thing.
    pub ids: &'a dyn Fn(Public) -> String,
}

/// The page's own description (Statuspage's `page` object).
#[derive(Debug, Clone, PartialEq)]
pub struct PageInfo {
    pub id: String,
    pub name: String,
    pub url: String,
    /// The page's days are UTC days.
    pub time_zone: &'static str,
    /// When anything the page shows last changed.
    pub updated_at: Timestamp,
}

/// A component or group as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicComponent {
    pub id: String,
    /// With its effective status.
    pub component: Component,
    pub group_id: Option<String>,
    /// A group's components, in page order.
    pub children: Vec<String>,
    /// The last [`UPTIME_DAYS`] days, oldest first, if the component is showcased.
    pub days: Vec<Day>,
    pub uptime: Option<f64>,
}

impl PublicComponent {
    /// Whether the page lists it: `only_show_if_degraded` ones only while they are not
    /// operational.
    pub fn shown(&self) -> bool {
        !self.component.only_show_if_degraded
            || self.component.status != ComponentStatus::Operational
    }
}

/// A component whose status an update changed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedComponent {
    pub id: String,
    pub name: String,
    pub old: ComponentStatus,
    pub new: ComponentStatus,
}

/// An update as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicUpdateView {
    pub id: String,
    pub status: PublicStatus,
    /// The feed's label: the status's, or "Update" when the status did not change.
    pub label: &'static str,
    pub body: String,
    pub at: Timestamp,
    pub affected: Option<Vec<ChangedComponent>>,
}

/// An incident as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicIncident {
    pub id: String,
    pub name: String,
    pub status: PublicStatus,
    pub impact: Impact,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub monitoring_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub started_at: Timestamp,
    pub shortlink: String,
    /// Newest first.
    pub updates: Vec<PublicUpdateView>,
    /// The components it names that still exist, by public id.
    pub components: Vec<String>,
}

impl PublicIncident {
    pub fn unresolved(&self) -> bool {
        !self.status.is_final()
    }
}

/// A maintenance's update as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicMaintenanceUpdate {
    pub id: String,
    pub status: MaintenanceStatus,
    /// The feed's label: the status's, or "Update" when the status did not change.
    pub label: &'static str,
    pub body: String,
    pub at: Timestamp,
    /// The components the update moved in or out of maintenance (the start, the
    /// completion); `None` for the others.
    pub affected: Option<Vec<ChangedComponent>>,
}

/// A scheduled maintenance as the page shows it (never a cancelled one).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicMaintenance {
    pub id: String,
    pub name: String,
    pub status: MaintenanceStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When it started, or is to start.
    pub started_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub scheduled_for: Timestamp,
    pub scheduled_until: Timestamp,
    pub shortlink: String,
    /// Newest first.
    pub updates: Vec<PublicMaintenanceUpdate>,
    /// The components it names that still exist, by public id.
    pub components: Vec<String>,
}

impl PublicMaintenance {
    /// Scheduled, not started yet.
    pub fn upcoming(&self) -> bool {
        self.status == MaintenanceStatus::Scheduled
    }

    /// In progress or verifying.
    pub fn active(&self) -> bool {
        self.status.is_active()
    }
}

/// Everything the public page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicView {
    pub page: PageInfo,
    pub status: PageStatus,
    /// Flat, in page order: each group followed by its components.
    pub components: Vec<PublicComponent>,
    /// Newest first.
    pub incidents: Vec<PublicIncident>,
    /// Latest window first.
    pub maintenances: Vec<PublicMaintenance>,
}

/// The path of an incident's public page, below the page's URL.
pub fn incident_path(id: &str) -> String {
    format!("/status/incidents/{id}")
}

/// The path of a maintenance's public page, below the page's URL.
pub fn maintenance_path(id: &str) -> String {
    format!("/status/maintenances/{id}")
}

impl PublicView {
    /// A page with nothing on it yet: before the first build.
    pub fn empty(name: &str, url: &str, now: Timestamp) -> PublicView {
        PublicView {
            page: PageInfo {
                id: String::new(),
                name: name.to_owned(),
                url: url.to_owned(),
                time_zone: "Etc/UTC",
                updated_at: now,
            },
            status: page_status([], []),
            components: Vec::new(),
            incidents: Vec::new(),
            maintenances: Vec::new(),
        }
    }

    /// Builds the view from `s`.
    pub fn build(s: &Sources) -> PublicView {
        let now = s.now;
        let maintenances: Vec<&ScheduledMaintenance> = s
            .maintenances
            .iter()
            .filter(|m| m.status != MaintenanceStatus::Cancelled)
            .collect();
        // Open incidents and active maintenances; the worst wins, so an incident that
        // gives a component under maintenance worse shows.
        let open: Vec<(ComponentId, ComponentStatus)> = s
            .periods
            .iter()
            .filter(|p| p.incident.is_some() && p.period.end.is_none())
            .map(|p| (p.component, p.period.status))
            .chain(maintenance::impacts(s.maintenances))
            .collect();
        let components = effective(s.components, &open);
        // Maintenance, as stretches of history: from its start to its completion.
        let maintained: Vec<(ComponentId, uptime::Period)> = maintenances
            .iter()
            .filter_map(|m| m.started_at.map(|start| (m, start)))
            .flat_map(|(m, start)| {
                m.components.iter().map(move |c| {
                    (
                        *c,
                        uptime::Period {
                            status: ComponentStatus::UnderMaintenance,
                            start,
                            end: m.completed_at,
                        },
                    )
                })
            })
            .collect();
        let by_id: HashMap<ComponentId, &Component> =
            components.iter().map(|c| (c.id, c)).collect();
        let public_id = |id: ComponentId| (s.ids)(Public::Component(id));

        let mut out_components = Vec::with_capacity(components.len());
        for c in super::page_order(&components) {
            let concerns = |component: ComponentId| {
                component == c.id
                    || (c.group
                        && by_id
                            .get(&component)
                            .is_some_and(|k| k.group_id == Some(c.id)))
            };
            let own: Vec<uptime::Period> = s
                .periods
                .iter()
                .filter(|p| concerns(p.component))
                .map(|p| p.period)
                .chain(
                    maintained
                        .iter()
                        .filter(|(k, _)| concerns(*k))
                        .map(|(_, p)| *p),
                )
                .collect();
            let days = if c.showcase {
                uptime::daily(
                    &own,
                    UPTIME_DAYS,
                    uptime::counts_from(c.start_date, c.created_at),
                    now,
                )
            } else {
                Vec::new()
            };
            let children = if c.group {
                super::page_order(&components)
                    .into_iter()
                    .filter(|k| k.group_id == Some(c.id))
                    .map(|k| public_id(k.id))
                    .collect()
            } else {
                Vec::new()
            };
            // A status change is a change of the component, as Statuspage counts it.
            let mut component = c.clone();
            component.updated_at = own
                .iter()
                .flat_map(|p| [Some(p.start), p.end])
                .flatten()
                .filter(|t| *t <= now)
                .fold(c.updated_at, Timestamp::max);
            out_components.push(PublicComponent {
                id: public_id(c.id),
                group_id: c.group_id.filter(|g| by_id.contains_key(g)).map(public_id),
                children,
                uptime: uptime::overall(&days),
                days,
                component,
            });
        }

        let mut incidents = Vec::new();
        for i in s.incidents.iter().filter(|i| published(i)) {
            let events: Vec<TimelineEvent> = s
                .events
                .iter()
                .filter(|(n, _)| *n == i.number)
                .map(|(_, e)| e.clone())
                .collect();
            incidents.push(incident(s, i, &events, &by_id));
        }
        incidents.sort_by_key(|i| std::cmp::Reverse(i.created_at));
        let mut out_maintenances: Vec<PublicMaintenance> = maintenances
            .iter()
            .map(|m| public_maintenance(s, m, &by_id))
            .collect();
        out_maintenances.sort_by_key(|m| std::cmp::Reverse((m.scheduled_for, m.created_at)));

        let status = page_status(
            components.iter().filter(|c| !c.group).map(|c| c.status),
            incidents
                .iter()
                .filter(|i| i.unresolved())
                .map(|i| i.impact),
        );
        let updated_at = components
            .iter()
            .map(|c| c.updated_at)
            .chain(incidents.iter().map(|i| i.updated_at))
            .chain(out_maintenances.iter().map(|m| m.updated_at))
            .chain(
                s.periods
                    .iter()
                    .flat_map(|p| [Some(p.period.start), p.period.end])
                    .flatten(),
            )
            .filter(|t| *t <= now)
            .max()
            .unwrap_or(now);
        PublicView {
            page: PageInfo {
                id: (s.ids)(Public::Page),
                name: s.name.to_owned(),
                url: s.url.to_owned(),
                time_zone: "Etc/UTC",
                updated_at,
            },
            status,
            components: out_components,
            incidents,
            maintenances: out_maintenances,
        }
    }

    /// The unresolved incidents, newest first.
    pub fn unresolved(&self) -> impl Iterator<Item = &PublicIncident> {
        self.incidents.iter().filter(|i| i.unresolved())
    }

    pub fn component(&self, id: &str) -> Option<&PublicComponent> {
        self.components.iter().find(|c| c.id == id)
    }

    pub fn incident(&self, id: &str) -> Option<&PublicIncident> {
        self.incidents.iter().find(|i| i.id == id)
    }

    pub fn maintenance(&self, id: &str) -> Option<&PublicMaintenance> {
        self.maintenances.iter().find(|m| m.id == id)
    }

    /// Maintenances not started yet, latest window first.
    pub fn upcoming(&self) -> impl Iterator<Item = &PublicMaintenance> {
        self.maintenances.iter().filter(|m| m.upcoming())
    }

    /// Maintenances in progress or verifying, latest window first.
    pub fn active(&self) -> impl Iterator<Item = &PublicMaintenance> {
        self.maintenances.iter().filter(|m| m.active())
    }
}

fn public_maintenance(
    s: &Sources,
    m: &ScheduledMaintenance,
    components: &HashMap<ComponentId, &Component>,
) -> PublicMaintenance {
    let id = (s.ids)(Public::Maintenance(m.id));
    let named: Vec<&Component> = m
        .components
        .iter()
        .filter_map(|c| components.get(c).copied())
        .collect();
    let changed = |old: ComponentStatus, new: ComponentStatus| {
        named
            .iter()
            .map(|c| ChangedComponent {
                id: (s.ids)(Public::Component(c.id)),
                name: c.name.clone(),
                old,
                new,
            })
            .collect::<Vec<_>>()
    };
    let mut updates = Vec::with_capacity(m.updates.len());
    let mut previous: Option<MaintenanceStatus> = None;
    for u in &m.updates {
        let label = if previous == Some(u.status) {
            "Update"
        } else {
            u.status.label()
        };
        let affected = match (previous, u.status) {
            (Some(MaintenanceStatus::Scheduled), MaintenanceStatus::InProgress) => Some(changed(
                ComponentStatus::Operational,
                ComponentStatus::UnderMaintenance,
            )),
            (Some(p), MaintenanceStatus::Completed) if p != MaintenanceStatus::Completed => {
                Some(changed(
                    ComponentStatus::UnderMaintenance,
                    ComponentStatus::Operational,
                ))
            }
            _ => None,
        };
        previous = Some(u.status);
        updates.push(PublicMaintenanceUpdate {
            id: (s.ids)(Public::MaintenanceUpdate(m.id, u.seq)),
            status: u.status,
            label,
            body: u.body.clone(),
            at: u.at,
            affected,
        });
    }
    updates.reverse();
    PublicMaintenance {
        shortlink: format!("{}{}", s.url.trim_end_matches('/'), maintenance_path(&id)),
        id,
        name: m.name.clone(),
        status: m.status,
        created_at: m.created_at,
        updated_at: m.updated_at,
        started_at: m.started_at.unwrap_or(m.scheduled_for),
        resolved_at: m.completed_at,
        scheduled_for: m.scheduled_for,
        scheduled_until: m.scheduled_until,
        updates,
        components: named
            .iter()
            .map(|c| (s.ids)(Public::Component(c.id)))
            .collect(),
    }
}

fn incident(
    s: &Sources,
    i: &Incident,
    events: &[TimelineEvent],
    components: &HashMap<ComponentId, &Component>,
) -> PublicIncident {
    let timeline = public_timeline(events);
    let id = (s.ids)(Public::Incident(i.number));
    let mut updates = Vec::with_capacity(timeline.updates.len());
    let mut previous: Option<PublicStatus> = None;
    for u in &timeline.updates {
        let label = if previous == Some(u.status) {
            "Update"
        } else {
            u.status.label()
        };
        previous = Some(u.status);
        updates.push(PublicUpdateView {
            id: (s.ids)(Public::Update(i.number, u.seq)),
            status: u.status,
            label,
            body: u.body.clone(),
            at: u.at,
            affected: u.affected.as_ref().map(|changes| {
                changes
                    .iter()
                    .filter(|c| components.contains_key(&c.component))
                    .map(|c| ChangedComponent {
                        id: (s.ids)(Public::Component(c.component)),
                        name: components
                            .get(&c.component)
                            .map_or_else(|| c.name.clone(), |k| k.name.clone()),
                        old: c.old,
                        new: c.new,
                    })
                    .collect()
            }),
        });
    }
    updates.reverse();
    let over = !i.status.is_open();
    let status = match updates.first() {
        Some(u) if over && u.status == PublicStatus::Postmortem => PublicStatus::Postmortem,
        _ if over => PublicStatus::Resolved,
        // Reopened after its postmortem, until the next customer update says more.
        Some(u) if u.status != PublicStatus::Postmortem => u.status,
        _ => PublicStatus::Investigating,
    };
    let worst = ComponentStatus::worst(i.components.iter().map(|c| c.status));
    let impact = if i.components.is_empty() {
        Impact::of(s.policy.severity(i.severity).component_status())
    } else {
        Impact::of(worst)
    };
    let resolved_at = if over {
        i.resolved_at.or(i.ended_at).or(timeline.changed_at)
    } else {
        None
    };
    let created_at = i.declared_at;
    let updated_at = [Some(created_at), timeline.changed_at, resolved_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created_at);
    PublicIncident {
        shortlink: format!("{}{}", s.url.trim_end_matches('/'), incident_path(&id)),
        id,
        name: i.title.clone(),
        status,
        impact,
        created_at,
        updated_at,
        monitoring_at: timeline.monitoring_at,
        resolved_at,
        started_at: i.impact_started_at(),
        updates,
        components: i
            .components
            .iter()
            .filter(|c| components.contains_key(&c.component))
            .map(|c| (s.ids)(Public::Component(c.component)))
            .collect(),
    }
}
