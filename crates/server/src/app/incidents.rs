//! The application layer: load an incident the caller may see, let the domain decide,
//! store the events with their projection in one transaction. A concurrent change makes
//! the store refuse the write; the command is then decided again on fresh state.

use klaxon_domain::api::{IncidentPage, IncidentQuery};
use klaxon_domain::auth::{Scope, User};
use klaxon_domain::incident::{
    self, Command, Context, DeclareInput, Incident, IncidentView, TimelineEvent,
};
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{AffectedComponent, ComponentChoice};
use klaxon_domain::time::parse_instant_or_ago;
use klaxon_domain::{Handle, IncidentNumber, Severity};
use klaxon_store::{Change, Declaration, IncidentFilter, StoreError};

use crate::app::auth::Caller;
use crate::app::components;
use crate::app::error::{AppError, ErrorKind};
use crate::app::status_page;
use crate::infra::state::AppState;

/// How often a command is decided again after losing a race with a writer in another
/// replica (writers in this process queue on [`crate::infra::locks::KeyedLocks`]).
const ATTEMPTS: usize = 5;

fn context<'a>(state: &'a AppState, caller: &Caller) -> Context<'a> {
    Context {
        actor: caller.user.handle.clone(),
        source: caller.source,
        now: state.clock.now(),
        policy: &state.policy,
        link_base: state.public_url.clone(),
    }
}

fn view(state: &AppState, incident: Incident) -> IncidentView {
    IncidentView::new(incident, &state.policy, state.clock.now())
}

/// The incident, if the caller may see it. A restricted incident the caller may not
/// see answers exactly like one that does not exist.
pub async fn visible_incident(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
) -> Result<Incident, AppError> {
    let missing = || AppError::not_found(format!("there is no incident {number}"));
    let incident = match state.store.incident(number).await {
        Ok(i) => i,
        Err(StoreError::NotFound(_)) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    if caller.is_admin() || incident.visible_to(caller.user.handle.as_str()) {
        Ok(incident)
    } else {
        Err(missing())
    }
}

/// Refuses handles that name nobody, as a field error; the user they name otherwise.
pub(crate) async fn existing_user(
    state: &AppState,
    field: &str,
    handle: &Handle,
) -> Result<User, AppError> {
    match state.store.user(handle).await {
        Ok(user) => Ok(user),
        Err(StoreError::NotFound(_)) => Err(AppError::field(
            ErrorKind::Invalid,
            field,
            format!("there is no user '{handle}'; see `klaxon user list`"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Refuses a service name that names no service, as a field error.
async fn existing_service(state: &AppState, name: &str) -> Result<(), AppError> {
    let missing = || {
        AppError::field(
            ErrorKind::Invalid,
            "service",
            format!("there is no service '{name}'; see `klaxon service list`"),
        )
    };
    let name = ServiceName::parse(name).map_err(|_| missing())?;
    match state.store.service(&name).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

#[tracing::instrument(skip_all, fields(actor = %caller.user.handle))]
pub async fn declare(
    state: &AppState,
    caller: &Caller,
    input: DeclareInput,
) -> Result<IncidentView, AppError> {
    caller.require(Scope::Responder)?;
    if let Some(commander) = &input.commander {
        existing_user(state, "commander", commander).await?;
    }
    if let Some(service) = &input.service {
        existing_service(state, service).await?;
    }
    let components = declared_components(state, &input).await?;
    let ctx = context(state, caller);
    let events = incident::declare_with_components(&input, components, &ctx)?;
    let declared_at = events.first().map_or(ctx.now, |e| e.effective_at());
    let slug = incident::slug_base(&input.title, declared_at, state.policy.time_zone.zone());
    let declaration = Declaration::new(slug, events, &state.outlets)
        .ok_or_else(|| AppError::new(ErrorKind::Internal, "a declaration made no incident"))?;
    let on_the_page = declaration.status_page.touched;
    let incident = state.store.declare(declaration).await?;
    state.engine_wake.notify_one();
    if on_the_page {
        status_page::refresh(state).await;
    }
    tracing::info!(
        number = incident.number.0,
        severity = incident.severity.level(),
        "incident declared"
    );
    Ok(view(state, incident))
}

/// The status-page components a declaration names: those it lists (resolved, with the
/// policy's suggested status where none is given), or, for a customer-facing incident
/// of a service that lists none, the components linked to that service.
async fn declared_components(
    state: &AppState,
    input: &DeclareInput,
) -> Result<Vec<AffectedComponent>, AppError> {
    // The severity triage would choose; a declaration without either is refused later.
    let severity = input
        .severity
        .or_else(|| {
            input
                .triage
                .as_ref()
                .and_then(|a| state.policy.triage(a).ok())
        })
        .unwrap_or(state.policy.triage.otherwise);
    match (&input.components, &input.service) {
        (Some(choices), _) => components::resolve(state, choices, severity).await,
        (None, Some(service)) if input.customer_facing && !input.restricted => {
            components::suggested(state, service, severity).await
        }
        (None, _) => Ok(Vec::new()),
    }
}

/// Names the status-page components incident `number` affects (replacing those named
/// before): each must exist and not be a group; a status left out is the one the policy
/// suggests for the incident's severity.
pub async fn set_components(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
    choices: &[ComponentChoice],
) -> Result<IncidentView, AppError> {
    caller.require(Scope::Responder)?;
    let incident = visible_incident(state, caller, number).await?;
    let components = components::resolve(state, choices, incident.severity).await?;
    act(state, caller, number, Command::SetComponents { components }).await
}

/// Runs one command against one incident.
#[tracing::instrument(skip_all, fields(number = number.0, actor = %caller.user.handle))]
pub async fn act(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
    command: Command,
) -> Result<IncidentView, AppError> {
    caller.require(Scope::Responder)?;
    if let Command::Assign { user, .. } = &command {
        existing_user(state, "user", user).await?;
    }
    let _held = state.incident_locks.lock(&[number.0]).await;
    let mut tries = 1;
    loop {
        match try_act(state, caller, number, &command).await {
            Err(Attempt::Raced) if tries < ATTEMPTS => tries += 1,
            result => return result.map_err(Attempt::into_error),
        }
    }
}

/// What `command` would record on the incident now, without recording it: a status
/// update's rendered message before it is posted.
pub async fn preview(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
    command: &Command,
) -> Result<Vec<TimelineEvent>, AppError> {
    caller.require(Scope::Responder)?;
    let incident = visible_incident(state, caller, number).await?;
    Ok(incident::decide(
        &incident,
        command,
        &context(state, caller),
    )?)
}

/// The incident's timeline events after `seq`, if the caller may see it.
pub async fn events_after(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
    seq: i64,
) -> Result<(Incident, Vec<TimelineEvent>), AppError> {
    let incident = visible_incident(state, caller, number).await?;
    if incident.version <= seq {
        return Ok((incident, Vec::new()));
    }
    let events = state.store.timeline_after(number, seq).await?;
    Ok((incident, events))
}

/// One attempt at [`act`]: read, decide, write.
async fn try_act(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
    command: &Command,
) -> Result<IncidentView, Attempt> {
    let incident = visible_incident(state, caller, number).await?;
    // Only a close that the life cycle allows waits for the review.
    if matches!(command, Command::Close) && incident.status == incident::Status::Resolved {
        let review = state.store.review(number).await?.map(|r| r.review);
        klaxon_domain::review::may_close(&incident, &state.policy, review.as_ref())?;
    }
    let events = incident::decide(&incident, command, &context(state, caller))?;
    let (projected, change) = project(state, incident, events);
    let on_the_page = change.status_page.touched;
    state.store.commit(&[change]).await?;
    state.engine_wake.notify_one();
    if on_the_page {
        status_page::refresh(state).await;
    }
    Ok(view(state, projected))
}

/// Merges `number` into `into`; answers with the target.
#[tracing::instrument(skip_all, fields(number = number.0, into = into.0))]
pub async fn merge(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
    into: IncidentNumber,
) -> Result<IncidentView, AppError> {
    caller.require(Scope::Responder)?;
    let _held = state.incident_locks.lock(&[number.0, into.0]).await;
    let mut tries = 1;
    loop {
        match try_merge(state, caller, number, into).await {
            Err(Attempt::Raced) if tries < ATTEMPTS => tries += 1,
            result => return result.map_err(Attempt::into_error),
        }
    }
}

/// One attempt at [`merge`]: read both, decide, write both.
async fn try_merge(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
    into: IncidentNumber,
) -> Result<IncidentView, Attempt> {
    let source = visible_incident(state, caller, number).await?;
    let target = visible_incident(state, caller, into).await.map_err(|_| {
        AppError::field(
            ErrorKind::Invalid,
            "into",
            format!("there is no incident {into}"),
        )
    })?;
    let (out, absorbed) = incident::merge(&source, &target, &context(state, caller))?;
    let (_, source_change) = project(state, source, out);
    let (target, target_change) = project(state, target, absorbed);
    let on_the_page = source_change.status_page.touched || target_change.status_page.touched;
    state.store.commit(&[source_change, target_change]).await?;
    if on_the_page {
        status_page::refresh(state).await;
    }
    Ok(view(state, target))
}

/// The incident with its whole timeline and its service's recent changes.
pub async fn show(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
) -> Result<IncidentView, AppError> {
    let incident = visible_incident(state, caller, number).await?;
    let timeline = state.store.timeline(number).await?;
    let changes = recent_changes(state, &incident).await?;
    Ok(view(state, incident)
        .with_timeline(timeline)
        .with_recent_changes(changes))
}

/// One page of a timeline, newest first.
#[derive(Debug)]
pub struct TimelinePage {
    pub events: Vec<TimelineEvent>,
    /// Where the next older page starts (its `before`), if there are older events.
    pub older: Option<i64>,
}

/// The incident as [`show`] answers it, but with one page of its timeline instead of
/// the whole (in the page, not the view): at most `limit` events before event `before`,
/// newest first. The header needs no timeline (durations and roles are in the
/// projection), so the incident's page costs the same at five events or five thousand.
pub async fn show_page(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
    before: Option<i64>,
    limit: u32,
) -> Result<(IncidentView, TimelinePage), AppError> {
    let incident = visible_incident(state, caller, number).await?;
    // One more than the page, to know whether older events exist.
    let mut events = state
        .store
        .timeline_page(number, before, limit.saturating_add(1))
        .await?;
    let older = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| e.seq)
    } else {
        None
    };
    let changes = recent_changes(state, &incident).await?;
    let view = view(state, incident).with_recent_changes(changes);
    Ok((view, TimelinePage { events, older }))
}

/// The changes to the incident's service that count as recent for it.
async fn recent_changes(
    state: &AppState,
    incident: &Incident,
) -> Result<Vec<klaxon_domain::alert::StoredChange>, AppError> {
    Ok(match incident.service.as_deref().map(ServiceName::parse) {
        Some(Ok(service)) => {
            let (from, to) = IncidentView::recent_changes_window(incident);
            state.store.changes(&service, from, to, 20).await?
        }
        _ => Vec::new(),
    })
}

/// Up to `limit` of the incidents `query` selects, the worst severity first (newest
/// first within one): a read per severity from SEV1 on, so that a board of many open
/// incidents never leaves out an old SEV1 for newer SEV4s. The flag says whether some
/// were left out.
pub async fn worst_first(
    state: &AppState,
    caller: &Caller,
    query: IncidentQuery,
    limit: u32,
) -> Result<(Vec<IncidentView>, bool), AppError> {
    let severities = match query.severity {
        Some(s) => vec![s],
        None => Severity::ALL.to_vec(),
    };
    let mut found: Vec<IncidentView> = Vec::new();
    let mut more = false;
    for severity in severities {
        let left = limit.saturating_sub(found.len() as u32);
        let one = IncidentQuery {
            severity: Some(severity),
            limit: Some(left.max(1)),
            ..query.clone()
        };
        let page = list(state, caller, one).await?;
        if left == 0 {
            more |= !page.incidents.is_empty();
        } else {
            more |= page.next_before.is_some();
            found.extend(page.incidents);
        }
    }
    Ok((found, more))
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    query: IncidentQuery,
) -> Result<IncidentPage, AppError> {
    let limit = query.limit()?;
    let since = match &query.since {
        Some(text) => Some(parse_instant_or_ago("since", text, state.clock.now())?),
        None => None,
    };
    let filter = IncidentFilter {
        status: query.status,
        severity: query.severity,
        service: query.service,
        open: query.open,
        since,
        before: query.before,
        limit,
        viewer: caller.viewer(),
    };
    let incidents = state.store.incidents(&filter).await?;
    let next_before = (incidents.len() == limit as usize)
        .then(|| incidents.last().map(|i| i.number))
        .flatten();
    let incidents = incidents.into_iter().map(|i| view(state, i)).collect();
    Ok(IncidentPage {
        incidents,
        next_before,
    })
}

/// Why one attempt at a command failed: it lost a race with another writer (decide
/// again on fresh state), or anything else (answer with it).
enum Attempt {
    Raced,
    Failed(AppError),
}

impl From<AppError> for Attempt {
    fn from(e: AppError) -> Self {
        Attempt::Failed(e)
    }
}

impl From<klaxon_domain::DomainError> for Attempt {
    fn from(e: klaxon_domain::DomainError) -> Self {
        Attempt::Failed(e.into())
    }
}

/// The store refuses a write that lost a race with `Stale`.
impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Stale(_) => Attempt::Raced,
            other => Attempt::Failed(other.into()),
        }
    }
}

impl Attempt {
    fn into_error(self) -> AppError {
        match self {
            Attempt::Failed(e) => e,
            Attempt::Raced => AppError::new(
                ErrorKind::Conflict,
                "the incident kept changing while this request was handled; try again",
            ),
        }
    }
}

/// Applies new events to an incident: the new projection and the change to store.
fn project(state: &AppState, incident: Incident, events: Vec<TimelineEvent>) -> (Incident, Change) {
    let change = Change::new(&incident, events, &state.outlets);
    (change.incident.clone(), change)
}

/// The alerts that opened or joined incident `number`, newest first, if the caller may
/// see it.
pub async fn alerts_of(
    state: &AppState,
    caller: &Caller,
    number: IncidentNumber,
) -> Result<Vec<klaxon_domain::alert::Alert>, AppError> {
    visible_incident(state, caller, number).await?;
    let filter = klaxon_store::AlertFilter {
        incident: Some(number),
        limit: 50,
        ..Default::default()
    };
    Ok(state.store.alerts(&filter).await?)
}

/// How many open incidents each service has that the caller may see, counting the
/// newest [`IncidentQuery::MAX_LIMIT`]; and whether more are open than were counted.
pub async fn open_by_service(
    state: &AppState,
    caller: &Caller,
) -> Result<(std::collections::BTreeMap<String, usize>, bool), AppError> {
    let query = IncidentQuery {
        open: Some(true),
        limit: Some(IncidentQuery::MAX_LIMIT),
        ..Default::default()
    };
    let page = list(state, caller, query).await?;
    let mut counts = std::collections::BTreeMap::new();
    for v in &page.incidents {
        if let Some(service) = &v.incident.service {
            *counts.entry(service.clone()).or_insert(0) += 1;
        }
    }
    Ok((counts, page.next_before.is_some()))
}
