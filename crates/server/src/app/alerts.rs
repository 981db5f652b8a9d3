//! The application layer for alerts: find the open alert an event names, let the domain
//! decide what the event does and which incident a new alert opens or joins, and store
//! alert and incident together. Events that acknowledge or resolve an alert, and new
//! alerts of a service that groups them, are handled one service at a time in this
//! process, so a storm cannot open two incidents where the grouping says one, and "all
//! alerts resolved" is judged on a settled count. Repeats, the bulk of any storm, and new
//! alerts that each open their own incident (`per-alert`) run in parallel and share
//! commits.

use jiff::SignedDuration;
use klaxon_domain::alert::{self, Alert, AlertDecision, AlertEvent, IncidentPlan};
use klaxon_domain::incident::{self, Command, Context, Source, Status};
use klaxon_domain::service::{Grouping, Service};
use klaxon_domain::{AlertId, DomainError, Handle};
use klaxon_store::{
    AlertChange, AlertOpening, AlertUpdate, Change, Declaration, IncidentWrite, NewAlert,
    StoreError,
};

use crate::app::auth::{random_hex, Caller};
use crate::app::error::{AppError, ErrorKind};
use crate::app::incidents;
use crate::infra::state::AppState;

/// What became of one alert event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// The event's dedup key, made up if a trigger had none.
    pub dedup_key: String,
    /// The alert it opened or changed; `None` when it changed nothing.
    pub alert_id: Option<AlertId>,
}

/// How often a new alert is written again after losing a race with another replica.
const ATTEMPTS: usize = 3;

/// What the caller read moments before applying an event (the inbox worker, once per
/// pass), so that a storm of new alerts does not read it again for each. Only the first
/// attempt trusts it: an alert that appeared meanwhile makes the store's unique index
/// refuse the opening, and the retry reads everything afresh.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Known {
    /// No open alert had the event's service and dedup key.
    pub no_open_alert: bool,
    /// Whether the service was in a maintenance window.
    pub in_maintenance: Option<bool>,
}

/// A person who acknowledges or resolves an alert by hand, and from where: what the
/// alert's incident does because of it is credited to them, not to Klaxon.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub handle: Handle,
    pub source: Source,
}

/// The context of changes made because of an alert event: by `by` when a person
/// sent it, otherwise by Klaxon itself because the monitoring tool said so.
fn alert_context<'a>(state: &'a AppState, by: Option<&Person>) -> Context<'a> {
    let (actor, source) = match by {
        Some(person) => (person.handle.clone(), person.source),
        None => (
            Handle::parse("klaxon").expect("a valid handle"),
            Source::Alert,
        ),
    };
    Context {
        actor,
        source,
        now: state.clock.now(),
        policy: &state.policy,
        link_base: state.public_url.clone(),
    }
}

/// Applies one alert event to `service` at once, without the inbox (for people and
/// Klaxon's own monitors), as `by` (or Klaxon). Committed when this returns.
#[tracing::instrument(skip_all, fields(service = %service.name))]
pub(crate) async fn ingest_alert(
    state: &AppState,
    service: &Service,
    mut event: AlertEvent,
    by: Option<&Person>,
) -> Result<Ingested, StoreError> {
    let key = event
        .dedup_key
        .get_or_insert_with(|| random_hex(16))
        .clone();
    let arrival = Arrival {
        service,
        key: &key,
        event: &event,
        received_at: state.clock.now(),
        inbox: None,
        by,
    };
    let alert_id = apply_event(state, arrival, Known::default()).await?;
    Ok(Ingested {
        dedup_key: key,
        alert_id,
    })
}

/// One alert event to apply.
#[derive(Clone, Copy)]
pub(crate) struct Arrival<'a> {
    pub service: &'a Service,
    /// The alert's dedup key.
    pub key: &'a str,
    pub event: &'a AlertEvent,
    pub received_at: jiff::Timestamp,
    /// The inbox entry the event is consumed from, if it came through the inbox.
    pub inbox: Option<i64>,
    /// Who sent it: changes to the alert's incident are made as this person, or by
    /// Klaxon when `None`.
    pub by: Option<&'a Person>,
}

/// Applies one event, consuming its inbox entry with it if it has one; the alert it
/// opened or changed. The alert's times (first and last seen, acknowledged, resolved)
/// are the events' times of receipt, so that triggers counted in bulk later compare
/// fairly with the one that opened it. Retries when another writer got there first,
/// reading afresh what `known` said.
pub(crate) async fn apply_event(
    state: &AppState,
    arrival: Arrival<'_>,
    known: Known,
) -> Result<Option<AlertId>, StoreError> {
    let mut tries = 1;
    let mut known = known;
    loop {
        match try_apply(state, arrival, known).await {
            Err(StoreError::Stale(_)) if tries < ATTEMPTS => {
                tries += 1;
                known = Known::default();
            }
            other => return other,
        }
    }
}

async fn try_apply(
    state: &AppState,
    arrival: Arrival<'_>,
    known: Known,
) -> Result<Option<AlertId>, StoreError> {
    let Arrival {
        service,
        key,
        event,
        received_at,
        inbox,
        by,
    } = arrival;
    // A trigger for a key known to have no open alert opens one without a read;
    // other events read, since they change nothing when wrongly thought absent.
    let mut open = match known.no_open_alert && alert::repeats_open_alert(event) {
        true => None,
        false => state.store.open_alert(service.id, key).await?,
    };
    let mut decision = alert::decide(open.as_ref(), event);
    let _held = match decision {
        AlertDecision::Repeat | AlertDecision::Ignore(_) => None,
        // A new alert that opens its own incident decides nothing about any other
        // alert; two openings of one dedup key meet the store's unique index, and the
        // loser retries as a repeat. Storms of new alerts then share commits too.
        AlertDecision::Open if service.rules.grouping == Grouping::PerAlert => None,
        _ => {
            let held = state.service_locks.lock(&[service.id]).await;
            // Read again under the lock: whatever happened while waiting counts.
            open = state.store.open_alert(service.id, key).await?;
            decision = alert::decide(open.as_ref(), event);
            Some(held)
        }
    };
    let update = match (decision, &open) {
        (AlertDecision::Open, _) => {
            return open_alert(
                state,
                service,
                key,
                event,
                received_at,
                inbox,
                known.in_maintenance,
            )
            .await
        }
        (AlertDecision::Repeat, Some(a)) => (a.id, AlertUpdate::Repeat),
        (AlertDecision::Acknowledge, Some(a)) => (a.id, AlertUpdate::Acknowledge),
        (AlertDecision::Resolve, Some(a)) => (a.id, AlertUpdate::Resolve),
        (AlertDecision::Ignore(why), _) => {
            tracing::debug!(key, why, "alert event changes nothing");
            return discard(state, inbox).await;
        }
        (_, None) => return discard(state, inbox).await,
    };
    let incident = match (&open, update.1) {
        (Some(a), AlertUpdate::Acknowledge) => acknowledge_incident_of(state, a, by).await?,
        (Some(a), AlertUpdate::Resolve) => after_last_alert(state, service, a, by).await?,
        _ => None,
    };
    let change = AlertChange {
        id: update.0,
        update: update.1,
        event: event.clone(),
        at: received_at,
        incident,
        inbox,
    };
    state.store.update_alert(change).await?;
    Ok(Some(update.0))
}

/// An event that changes nothing leaves the inbox all the same.
async fn discard(state: &AppState, inbox: Option<i64>) -> Result<Option<AlertId>, StoreError> {
    if let Some(id) = inbox {
        state.store.discard_inbox(&[id]).await?;
    }
    Ok(None)
}

/// Acknowledging an alert acknowledges its incident, if nobody has yet.
async fn acknowledge_incident_of(
    state: &AppState,
    alert: &Alert,
    by: Option<&Person>,
) -> Result<Option<Change>, StoreError> {
    let Some(n) = alert.incident else {
        return Ok(None);
    };
    let incident = state.store.incident(n).await?;
    if incident.status != Status::Triggered {
        return Ok(None);
    }
    let events = incident::decide(
        &incident,
        &Command::Acknowledge { at: None },
        &alert_context(state, by),
    )
    .map_err(domain)?;
    Ok(Some(Change::new(&incident, events, &state.outlets)))
}

/// When `alert` is the last open alert of its incident, resolving it says so on the
/// timeline, and resolves the incident where the service asks for that.
async fn after_last_alert(
    state: &AppState,
    service: &Service,
    alert: &Alert,
    by: Option<&Person>,
) -> Result<Option<Change>, StoreError> {
    let Some(n) = alert.incident else {
        return Ok(None);
    };
    let incident = state.store.incident(n).await?;
    if !incident.status.is_open() || state.store.open_alert_count(n).await? > 1 {
        return Ok(None);
    }
    let ctx = alert_context(state, by);
    let note = Command::Note {
        text: "All alerts of this incident have resolved.".into(),
        at: None,
    };
    let mut events = incident::decide(&incident, &note, &ctx).map_err(domain)?;
    if service.rules.auto_resolve {
        let mut projected = incident.clone();
        events.iter().for_each(|e| projected.apply(e));
        let resolve = Command::Resolve {
            root_cause: None,
            fix: None,
            at: None,
        };
        events.extend(incident::decide(&projected, &resolve, &ctx).map_err(domain)?);
    }
    Ok(Some(Change::new(&incident, events, &state.outlets)))
}

/// A new alert: decides its incident (declare, join or none) and stores both.
/// `in_maintenance`: the service's maintenance state if the caller just read it.
async fn open_alert(
    state: &AppState,
    service: &Service,
    key: &str,
    event: &AlertEvent,
    received_at: jiff::Timestamp,
    inbox: Option<i64>,
    in_maintenance: Option<bool>,
) -> Result<Option<AlertId>, StoreError> {
    let rules = &service.rules;
    let group_key = alert::group_key(rules, event);
    let since = match rules.grouping {
        Grouping::TimeWindow { minutes } => state
            .clock
            .now()
            .checked_sub(SignedDuration::from_mins(i64::from(minutes)))
            .ok(),
        _ => None,
    };
    let candidate = match rules.grouping {
        Grouping::PerAlert => None,
        _ => {
            state
                .store
                .grouping_candidate(service, group_key.as_deref(), since)
                .await?
        }
    };
    let ctx = alert_context(state, None);
    let in_maintenance = match in_maintenance {
        Some(known) => known,
        None => {
            state
                .store
                .in_maintenance(service.id, state.clock.now())
                .await?
        }
    };
    let write = match alert::plan(rules, event.severity, in_maintenance, candidate) {
        IncidentPlan::AlertOnly => IncidentWrite::None,
        IncidentPlan::Join(n) => {
            let incident = state.store.incident(n).await?;
            let attach = Command::AttachAlert {
                dedup_key: key.to_owned(),
                summary: event.summary.clone().unwrap_or_else(|| key.to_owned()),
                severity: event.severity,
            };
            let events = incident::decide(&incident, &attach, &ctx).map_err(domain)?;
            IncidentWrite::Join(Box::new(Change::new(&incident, events, &state.outlets)))
        }
        IncidentPlan::Declare(severity) => {
            let events =
                incident::declare_from_alert(service.name.as_str(), event, key, severity, &ctx)
                    .map_err(domain)?;
            let slug_base = incident::slug_base(
                &events_title(&events),
                ctx.now,
                state.policy.time_zone.zone(),
            );
            let declaration = Declaration::new(slug_base, events, &state.outlets)
                .ok_or_else(|| StoreError::Other("a declaration made no incident".into()))?;
            IncidentWrite::Declare(Box::new(declaration))
        }
    };
    let new = NewAlert {
        service_id: service.id,
        dedup_key: key.to_owned(),
        event: event.clone(),
        group_key,
        received_at,
    };
    let opening = AlertOpening {
        alert: new,
        incident: write,
        inbox,
    };
    let (id, incident) = state.store.open_new_alert(opening).await?;
    tracing::info!(
        alert = id.0,
        incident = incident.map(|i| i.number.0),
        "alert opened"
    );
    Ok(Some(id))
}

/// The title of the declaration among `events`.
fn events_title(events: &[incident::TimelineEvent]) -> String {
    events
        .iter()
        .find_map(|e| match &e.kind {
            incident::EventKind::Declared { title, .. } => Some(title.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// A domain refusal while handling an alert is Klaxon's fault, not the sender's: parsers
/// guarantee valid events, and a join target that closed meanwhile is a lost race.
fn domain(e: DomainError) -> StoreError {
    match e {
        DomainError::Conflict(m) => StoreError::Stale(m),
        other => StoreError::Other(format!("an alert broke an incident rule: {other}")),
    }
}

/// The alert, if the caller may see it: an alert of a restricted incident the
/// caller may not see answers exactly like one that does not exist.
pub async fn visible_alert(
    state: &AppState,
    caller: &Caller,
    id: AlertId,
) -> Result<Alert, AppError> {
    let missing =
        || AppError::not_found(format!("there is no alert {id}; see `klaxon alert list`"));
    let alert = match state.store.alert(id).await {
        Ok(a) => a,
        Err(StoreError::NotFound(_)) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    match alert.incident {
        Some(n) => match incidents::visible_incident(state, caller, n).await {
            Ok(_) => Ok(alert),
            Err(e) if e.kind == ErrorKind::NotFound => Err(missing()),
            Err(e) => Err(e),
        },
        None => Ok(alert),
    }
}

/// The newest alerts still triggered that no incident holds (their service opens none,
/// or a responder has yet to act), at most `limit`.
pub async fn recent_without_incident(
    state: &AppState,
    caller: &Caller,
    limit: u32,
) -> Result<Vec<Alert>, AppError> {
    let filter = klaxon_store::AlertFilter {
        status: Some(klaxon_domain::alert::AlertStatus::Triggered),
        limit: limit * 5,
        viewer: caller.viewer(),
        ..Default::default()
    };
    let mut alerts = state.store.alerts(&filter).await?;
    alerts.retain(|a| a.incident.is_none());
    alerts.truncate(limit as usize);
    Ok(alerts)
}

/// The newest alerts of service `service`, at most `limit`, without those of restricted
/// incidents the caller may not see.
pub async fn recent_of_service(
    state: &AppState,
    caller: &Caller,
    service: klaxon_domain::ServiceId,
    limit: u32,
) -> Result<Vec<Alert>, AppError> {
    caller.require(klaxon_domain::auth::Scope::Viewer)?;
    let filter = klaxon_store::AlertFilter {
        service_id: Some(service),
        limit,
        viewer: caller.viewer(),
        ..Default::default()
    };
    Ok(state.store.alerts(&filter).await?)
}
