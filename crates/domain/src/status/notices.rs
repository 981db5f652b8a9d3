//! Notices to status-page subscribers: what is told, to whom, and in which words.
//!
//! A [`Notice`] is one thing subscribers are told (a customer update of an incident, a
//! component's status change, a maintenance's news): a subject and a body for e-mail,
//! the Statuspage-shaped object webhooks receive, and the components it is about. It
//! reaches subscribers in two durable steps, both engine jobs: a `status-notice` job,
//! written in the same transaction as the change it tells of, works the notice out and
//! queues one `subscriber-delivery` job per subscriber it reaches; each of those sends
//! one mail or one webhook, with retries.
//!
//! Restricted incidents and drills never make a notice; nor do internal updates.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::incidents::{may_publish, StatusPageChange};
use super::{statuspage, ComponentPeriod, ComponentStatus, PeriodChange, PublicView};
use crate::incident::{EventKind, Incident, TimelineEvent, UpdateAudience};
use crate::paging::{JobPayload, PlannedJob};
use crate::{ComponentId, SubscriberId};

/// What a notice is about; it decides who is told and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A customer update of an incident on the page.
    Incident,
    /// A component's status changed.
    Component,
    /// News of a scheduled maintenance: announced, a reminder, started, completed.
    Maintenance,
}

impl NoticeKind {
    /// Whether e-mail subscribers get it. Component changes alone go to webhooks only,
    /// as on Statuspage: mail tells of incidents and maintenance, which say the same in
    /// words.
    pub fn mailed(self) -> bool {
        !matches!(self, Self::Component)
    }

    /// The `X-Klaxon-Event` of its webhook deliveries.
    pub fn event(self) -> &'static str {
        match self {
            Self::Incident => "incident.update",
            Self::Component => "component.update",
            Self::Maintenance => "maintenance.update",
        }
    }
}

/// The page as a webhook delivery describes it (Statuspage's `page` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticePage {
    pub id: String,
    pub status_indicator: String,
    pub status_description: String,
}

impl NoticePage {
    pub fn of(view: &PublicView) -> NoticePage {
        NoticePage {
            id: view.page.id.clone(),
            status_indicator: view.status.indicator.as_str().to_owned(),
            status_description: view.status.description.clone(),
        }
    }
}

/// One thing subscribers are told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    /// Names the notice: the same key is delivered once per subscriber however often it
    /// is queued (`maintenance/7/reminder`, say).
    pub key: String,
    /// The mail's subject: `[Acme Status] API errors - Identified`.
    pub subject: String,
    /// The mail's plain text, without the unsubscribe footer (each mail adds its own).
    pub body: String,
    /// The components (or groups) it is about; none: the whole page, every subscriber.
    pub components: Vec<ComponentId>,
    /// Where to read more, e.g. the incident's page.
    pub link: Option<String>,
    /// What webhooks receive beside `meta` and `page`, in Statuspage's shape:
    /// `{"incident": {…}}`, or `{"component_update": {…}, "component": {…}}`.
    pub webhook: Map<String, Value>,
    /// The page's banner when the notice was made; filled in when it is queued, if the
    /// caller left it out.
    #[serde(default)]
    pub page: Option<NoticePage>,
}

/// What a `status-notice` job works out into notices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeSource {
    /// The customer update at `seq` on the job's incident.
    Update { seq: i64 },
    /// The components whose status may have changed at `at` (the job's incident, or a
    /// status set by hand): one notice per component whose status did change.
    Components {
        at: Timestamp,
        components: Vec<ComponentId>,
    },
    /// A notice its maker wrote whole (scheduled maintenance).
    Notice(Notice),
}

impl NoticeSource {
    /// The `status-notice` job that tells subscribers of it, due at `run_at`.
    pub fn planned(self, run_at: Timestamp) -> PlannedJob {
        let key = match &self {
            Self::Update { seq } => format!("update/{seq}"),
            Self::Components { at, components } => {
                let ids: Vec<String> = components.iter().map(|c| c.0.to_string()).collect();
                format!("components/{}/{}", at.as_millisecond(), ids.join(","))
            }
            Self::Notice(n) => format!("notice/{}", n.key),
        };
        JobPayload::StatusNotice(self).planned(key, run_at)
    }
}

/// What one `subscriber-delivery` job sends to one subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriberDelivery {
    pub subscriber: SubscriberId,
    pub message: SubscriberMessage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriberMessage {
    /// The mail with the link that confirms an e-mail subscription.
    Confirm,
    /// A notice.
    Notice(Box<Notice>),
}

impl SubscriberDelivery {
    /// The job, once per `key` and subscriber.
    pub fn planned(self, key: &str, run_at: Timestamp) -> PlannedJob {
        let key = format!("{key}/{}", self.subscriber.0);
        JobPayload::SubscriberDelivery(self).planned(key, run_at)
    }
}

/// The `status-notice` jobs an incident change calls for: one per customer update, and
/// one per moment at which the change starts or ends a component's status stretch.
/// None for restricted incidents and drills.
pub fn notice_jobs(
    events: &[TimelineEvent],
    after: &Incident,
    change: &StatusPageChange,
) -> Vec<PlannedJob> {
    if !may_publish(after) {
        return Vec::new();
    }
    let run_at = events
        .iter()
        .map(|e| e.recorded_at)
        .max()
        .unwrap_or(after.updated_at);
    let mut jobs: Vec<PlannedJob> = events
        .iter()
        .filter(|e| {
            matches!(
                &e.kind,
                EventKind::StatusUpdated {
                    audience: UpdateAudience::Customer,
                    ..
                }
            )
        })
        .map(|e| NoticeSource::Update { seq: e.seq }.planned(e.recorded_at))
        .collect();
    let mut moments: BTreeMap<Timestamp, Vec<ComponentId>> = BTreeMap::new();
    for p in &change.periods {
        let (PeriodChange::Start { component, at, .. } | PeriodChange::End { component, at }) = *p;
        moments.entry(at).or_default().push(component);
    }
    for (at, mut components) in moments {
        components.sort_unstable();
        components.dedup();
        jobs.push(NoticeSource::Components { at, components }.planned(run_at));
    }
    jobs
}

/// A component's status at `t` from its history (the worst stretch that lasts then),
/// or, with `before`, just before `t`.
pub fn status_at(
    periods: &[ComponentPeriod],
    component: ComponentId,
    t: Timestamp,
    before: bool,
) -> ComponentStatus {
    ComponentStatus::worst(
        periods
            .iter()
            .filter(|p| p.component == component)
            .filter(|p| {
                let (start, end) = (p.period.start, p.period.end);
                if before {
                    start < t && end.is_none_or(|e| e >= t)
                } else {
                    start <= t && end.is_none_or(|e| e > t)
                }
            })
            .map(|p| p.period.status),
    )
}

/// A time for people: `Nov 26, 10:15 UTC`.
fn when(t: Timestamp) -> String {
    t.strftime("%b %d, %H:%M UTC").to_string()
}

/// The notice of update `update` (a public id) of incident `incident`, as the view shows
/// it; `None` if the view has neither (the incident left the page).
pub fn incident_notice(v: &PublicView, incident: &str, update: &str) -> Option<Notice> {
    let i = v.incident(incident)?;
    let u = i.updates.iter().find(|u| u.id == update)?;
    let mut components: Vec<ComponentId> = i
        .components
        .iter()
        .chain(u.affected.iter().flatten().map(|c| &c.id))
        .filter_map(|id| v.component(id))
        .map(|c| c.component.id)
        .collect();
    components.sort_unstable();
    components.dedup();
    let mut body = format!(
        "{}\n\n{} - {}\n\nPosted {}.\n",
        i.name,
        u.status.label(),
        u.body,
        when(u.at)
    );
    match &u.affected {
        Some(changed) if !changed.is_empty() => {
            body.push_str("\nComponents:\n");
            for c in changed {
                body.push_str(&format!(
                    "  {}: {} (was {})\n",
                    c.name,
                    c.new.label(),
                    c.old.label()
                ));
            }
        }
        _ => {
            let names: Vec<&str> = i
                .components
                .iter()
                .filter_map(|id| v.component(id))
                .map(|c| c.component.name.as_str())
                .collect();
            if !names.is_empty() {
                body.push_str(&format!("\nAffects: {}\n", names.join(", ")));
            }
        }
    }
    body.push_str(&format!("\nFollow this incident: {}\n", i.shortlink));
    let mut webhook = Map::new();
    webhook.insert(
        "incident".into(),
        serde_json::to_value(statuspage::incident(v, i)).expect("plain data serialises"),
    );
    Some(Notice {
        kind: NoticeKind::Incident,
        key: format!("incident/{}/{}", i.id, u.id),
        subject: format!("[{} Status] {} - {}", v.page.name, i.name, u.status.label()),
        body,
        components,
        link: Some(i.shortlink.clone()),
        webhook,
        page: Some(NoticePage::of(v)),
    })
}

/// The reminder that maintenance `id` (a public id) is about to start, as the view shows
/// it; `None` if the view does not show it as upcoming (cancelled or started meanwhile).
/// Its key names the start it reminds of, so a rescheduled maintenance reminds again.
pub fn maintenance_reminder(v: &PublicView, id: &str) -> Option<Notice> {
    let m = v.maintenances.iter().find(|m| m.id == id && m.upcoming())?;
    let affected: Vec<&super::PublicComponent> =
        m.components.iter().filter_map(|c| v.component(c)).collect();
    let mut body = format!(
        "{}\n\nScheduled maintenance from {} to {}.\n",
        m.name,
        when(m.scheduled_for),
        when(m.scheduled_until)
    );
    if let Some(latest) = m.updates.first() {
        body.push_str(&format!("\n{}\n", latest.body));
    }
    if !affected.is_empty() {
        let names: Vec<&str> = affected.iter().map(|c| c.component.name.as_str()).collect();
        body.push_str(&format!("\nAffects: {}\n", names.join(", ")));
    }
    body.push_str(&format!("\nDetails: {}\n", m.shortlink));
    let mut webhook = Map::new();
    webhook.insert(
        "incident".into(),
        serde_json::to_value(statuspage::maintenance(v, m)).expect("plain data serialises"),
    );
    Some(Notice {
        kind: NoticeKind::Maintenance,
        key: format!(
            "maintenance/{}/reminder/{}",
            m.id,
            m.scheduled_for.as_millisecond()
        ),
        subject: format!(
            "[{} Status] Reminder: {} starts {}",
            v.page.name,
            m.name,
            when(m.scheduled_for)
        ),
        body,
        components: affected.iter().map(|c| c.component.id).collect(),
        link: Some(m.shortlink.clone()),
        webhook,
        page: Some(NoticePage::of(v)),
    })
}

/// A component's status change as subscribers are told of it: `id` is the change's
/// public id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentChange {
    pub component: ComponentId,
    pub id: String,
    pub old: ComponentStatus,
    pub new: ComponentStatus,
    pub at: Timestamp,
}

/// The notice of a component's status change; `None` for a component the view does not
/// have (deleted meanwhile) or a change that is none.
pub fn component_notice(v: &PublicView, change: &ComponentChange) -> Option<Notice> {
    if change.old == change.new {
        return None;
    }
    let c = v
        .components
        .iter()
        .find(|c| c.component.id == change.component)?;
    let name = &c.component.name;
    let at = statuspage::time(change.at);
    let mut webhook = Map::new();
    webhook.insert(
        "component_update".into(),
        json!({
            "created_at": at,
            "new_status": change.new.as_str(),
            "old_status": change.old.as_str(),
            "id": change.id,
            "component_id": c.id,
        }),
    );
    webhook.insert(
        "component".into(),
        json!({
            "created_at": statuspage::time(c.component.created_at),
            "id": c.id,
            "name": name,
            "status": change.new.as_str(),
        }),
    );
    Some(Notice {
        kind: NoticeKind::Component,
        key: format!("component/{}", change.id),
        subject: format!("[{} Status] {name}: {}", v.page.name, change.new.label()),
        body: format!(
            "{name} is {} (was {}) since {}.\n",
            change.new.label(),
            change.old.label(),
            when(change.at)
        ),
        components: vec![change.component],
        link: Some(format!("{}/status", v.page.url.trim_end_matches('/'))),
        webhook,
        page: Some(NoticePage::of(v)),
    })
}

/// The JSON body a webhook subscriber receives for `notice`: Statuspage's `meta` (the
/// subscriber's own unsubscribe link, and where the format is documented), `page`, and
/// the notice's own object.
pub fn webhook_body(notice: &Notice, unsubscribe: &str, documentation: &str) -> Value {
    let mut body = Map::new();
    body.insert(
        "meta".into(),
        json!({ "unsubscribe": unsubscribe, "documentation": documentation }),
    );
    body.insert(
        "page".into(),
        serde_json::to_value(&notice.page).expect("plain data serialises"),
    );
    for (k, v) in &notice.webhook {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

/// The text of a notice's mail: its body and a footer that says why it came and how to
/// stop it.
pub fn mail_text(notice: &Notice, page_name: &str, unsubscribe: &str) -> String {
    format!(
        "{}\n-- \nYou receive this because you subscribed to {page_name} Status updates.\nUnsubscribe: {unsubscribe}\n",
        notice.body
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Period;
    use ComponentStatus::*;

    fn t(s: &str) -> Timestamp {
        format!("2026-11-26T{s}:00Z").parse().unwrap()
    }

    fn period(c: i64, status: ComponentStatus, start: &str, end: Option<&str>) -> ComponentPeriod {
        ComponentPeriod {
            component: ComponentId(c),
            incident: None,
            period: Period {
                status,
                start: t(start),
                end: end.map(t),
            },
        }
    }

    #[test]
    fn a_status_before_and_at_a_moment_comes_from_the_history() {
        let periods = [
            period(1, PartialOutage, "10:00", Some("10:30")),
            period(1, DegradedPerformance, "10:20", None),
            period(2, MajorOutage, "10:00", None),
        ];
        let c = ComponentId(1);
        assert_eq!(status_at(&periods, c, t("10:00"), true), Operational);
        assert_eq!(status_at(&periods, c, t("10:00"), false), PartialOutage);
        assert_eq!(status_at(&periods, c, t("10:30"), true), PartialOutage);
        assert_eq!(
            status_at(&periods, c, t("10:30"), false),
            DegradedPerformance
        );
        assert_eq!(
            status_at(&periods, ComponentId(3), t("10:30"), false),
            Operational
        );
    }

    #[test]
    fn webhook_bodies_carry_meta_page_and_the_object() {
        let notice = Notice {
            kind: NoticeKind::Component,
            key: "k".into(),
            subject: "s".into(),
            body: "b".into(),
            components: vec![],
            link: None,
            webhook: [("component".to_owned(), json!({"id": "x"}))]
                .into_iter()
                .collect(),
            page: Some(NoticePage {
                id: "p".into(),
                status_indicator: "major".into(),
                status_description: "Partial System Outage".into(),
            }),
        };
        let body = webhook_body(&notice, "https://u", "https://d");
        assert_eq!(body["meta"]["unsubscribe"], "https://u");
        assert_eq!(body["page"]["status_indicator"], "major");
        assert_eq!(body["component"]["id"], "x");
        assert!(!NoticeKind::Component.mailed());
        assert!(NoticeKind::Maintenance.mailed());
        let text = mail_text(&notice, "Acme", "https://u");
        assert!(text.starts_with("b\n-- \n"));
        assert!(text.contains("Unsubscribe: https://u"));
    }
}
