//! Post-incident reviews: read one the caller may see (a restricted incident's review
//! answers like one that does not exist), open one, change it, list action items
//! across incidents. Like incident commands: load, let the domain decide, store the
//! change whole, and decide again on fresh state if another writer came first.

use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{self, Context, Incident};
use klaxon_domain::review::api::{ActionQuery, ReviewSettings};
use klaxon_domain::review::{
    self, ActionItemPatch, ActionItemRef, ListedAction, OpenReview, ReviewChange, ReviewCommand,
    ReviewRecord, ReviewView,
};
use klaxon_domain::Handle;
use klaxon_domain::IncidentNumber;
use klaxon_store::{ActionFilter, Change, ReviewWrite, StoreError};

use crate::app::auth::Caller;
use crate::app::error::{AppError, ErrorKind};
use crate::app::incidents::{existing_user, visible_incident};
use crate::app::status_page;
use crate::infra::state::AppState;

/// How often a change is decided again after losing a race with another writer.
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

fn no_review(n: IncidentNumber) -> AppError {
    AppError::not_found(format!(
        "incident {n} has no post-incident review yet; open one with `klaxon review open {}`",
        n.0
    ))
}

/// The review of incident `n` as readers see it, if the caller may see the incident.
pub async fn show(
    state: &AppState,
    caller: &Caller,
    n: IncidentNumber,
) -> Result<ReviewView, AppError> {
    let incident = visible_incident(state, caller, n).await?;
    let record = state.store.review(n).await?.ok_or_else(|| no_review(n))?;
    view(state, &incident, record).await
}

async fn view(
    state: &AppState,
    incident: &Incident,
    record: ReviewRecord,
) -> Result<ReviewView, AppError> {
    let n = incident.number;
    let events = state.store.timeline(n).await?;
    let history = state.store.review_history(n).await?;
    Ok(ReviewView::new(
        record,
        incident,
        &events,
        history,
        &state.policy,
        state.clock.now(),
    ))
}

/// Opens the review of incident `n` by hand.
#[tracing::instrument(skip_all, fields(number = n.0, actor = %caller.user.handle))]
pub async fn open(
    state: &AppState,
    caller: &Caller,
    n: IncidentNumber,
    input: OpenReview,
) -> Result<ReviewView, AppError> {
    caller.require(Scope::Responder)?;
    let _held = state.incident_locks.lock(&[n.0]).await;
    let mut tries = 1;
    loop {
        let incident = visible_incident(state, caller, n).await?;
        if let Some(owner) = &input.owner {
            may_own(state, &incident, "owner", owner).await?;
        }
        let events = state.store.timeline(n).await?;
        let ctx = context(state, caller);
        let change = review::open(&incident, &events, &input, &ctx)?;
        match write(state, &incident, change, &ctx).await {
            Err(StoreError::Stale(_)) if tries < ATTEMPTS => tries += 1,
            Err(StoreError::Duplicate { .. }) => {
                return Err(AppError::conflict(format!(
                    "incident {n} has a post-incident review already (/incidents/{}/review)",
                    n.0
                )))
            }
            Err(e) => return Err(e.into()),
            Ok(record) => return view(state, &incident, record).await,
        }
    }
}

/// Applies `commands` to the review of incident `n`, in order, as one change.
#[tracing::instrument(skip_all, fields(number = n.0, actor = %caller.user.handle))]
pub async fn act(
    state: &AppState,
    caller: &Caller,
    n: IncidentNumber,
    commands: &[ReviewCommand],
) -> Result<ReviewView, AppError> {
    caller.require(Scope::Responder)?;
    let _held = state.incident_locks.lock(&[n.0]).await;
    let mut tries = 1;
    loop {
        let incident = visible_incident(state, caller, n).await?;
        for command in commands {
            for (field, who) in people_named(command) {
                may_own(state, &incident, field, who).await?;
            }
        }
        let record = state.store.review(n).await?.ok_or_else(|| no_review(n))?;
        let ctx = context(state, caller);
        let mut change: Option<ReviewChange> = None;
        for command in commands {
            let from = change.as_ref().map_or(&record, |c| &c.record);
            let next = review::decide(from, &incident, command, &ctx)?;
            change = Some(match change {
                Some(c) => c.then(next),
                None => next,
            });
        }
        let Some(change) = change else {
            return view(state, &incident, record).await;
        };
        match write(state, &incident, change, &ctx).await {
            Err(StoreError::Stale(_)) if tries < ATTEMPTS => tries += 1,
            Err(e) => return Err(e.into()),
            Ok(record) => return view(state, &incident, record).await,
        }
    }
}

/// The commands that a review's settings ask for.
pub fn settings(s: ReviewSettings) -> Vec<ReviewCommand> {
    let mut out = vec![];
    if let Some(owner) = s.owner {
        out.push(ReviewCommand::SetOwner(owner));
    }
    if let Some(at) = s.due_at {
        out.push(ReviewCommand::SetDue(at));
    }
    out
}

/// The people a command names, who must exist, with the field that names them.
fn people_named(command: &ReviewCommand) -> Vec<(&'static str, &Handle)> {
    match command {
        ReviewCommand::SetOwner(h) => vec![("owner", h)],
        ReviewCommand::AddAction(new) => vec![("owner", &new.owner)],
        ReviewCommand::UpdateAction { patch, .. } => {
            patch.owner.iter().map(|h| ("owner", h)).collect()
        }
        _ => vec![],
    }
}

/// Refuses an owner who does not exist, or who may not see `incident`: a restricted
/// incident's review and action items belong only to its participants and admins.
async fn may_own(
    state: &AppState,
    incident: &Incident,
    field: &str,
    who: &Handle,
) -> Result<(), AppError> {
    let user = existing_user(state, field, who).await?;
    if user.role == Scope::Admin || incident.visible_to(who.as_str()) {
        return Ok(());
    }
    let n = incident.number.0;
    Err(AppError::invalid(
        field,
        format!(
            "{who} may not see restricted incident #{n}, so cannot own its review or action \
             items; only its participants and admins may. Give them a role on it first \
             (`klaxon incident assign {n} investigator {who}`)"
        ),
    ))
}

/// Stores a change with its events on the incident's timeline; the record it leaves.
pub(crate) async fn write(
    state: &AppState,
    incident: &Incident,
    change: ReviewChange,
    ctx: &Context<'_>,
) -> Result<ReviewRecord, StoreError> {
    let events = incident::record(incident, change.timeline.clone(), ctx)
        .map_err(|e| StoreError::Other(format!("a review event was refused: {e}")))?;
    let incident_change =
        (!events.is_empty()).then(|| Change::new(incident, events, &state.outlets));
    // A published review puts a postmortem on the status page.
    let on_the_page = incident_change
        .as_ref()
        .is_some_and(|c| c.status_page.touched);
    let record = change.record.clone();
    state
        .store
        .write_review(ReviewWrite {
            change,
            incident: incident_change,
        })
        .await?;
    state.engine_wake.notify_one();
    if on_the_page {
        status_page::refresh(state).await;
    }
    Ok(record)
}

/// Adds an action item to the review of incident `n`.
pub async fn add_action(
    state: &AppState,
    caller: &Caller,
    n: IncidentNumber,
    new: review::NewActionItem,
) -> Result<ListedAction, AppError> {
    let view = act(state, caller, n, &[ReviewCommand::AddAction(new)]).await?;
    let item = view
        .action_items
        .iter()
        .max_by_key(|i| i.number)
        .cloned()
        .ok_or_else(|| AppError::new(ErrorKind::Internal, "an added item is missing"))?;
    Ok(ListedAction::new(
        item,
        view.incident.title,
        state.clock.now(),
    ))
}

/// One action item, if the caller may see its incident.
pub async fn action(
    state: &AppState,
    caller: &Caller,
    r: ActionItemRef,
) -> Result<ListedAction, AppError> {
    let missing = || AppError::not_found(format!("there is no action item {r}"));
    let incident = visible_incident(state, caller, r.incident)
        .await
        .map_err(|_| missing())?;
    let record = state.store.review(r.incident).await?.ok_or_else(missing)?;
    let item = record
        .items
        .into_iter()
        .find(|i| i.number == r.number)
        .ok_or_else(missing)?;
    Ok(ListedAction::new(item, incident.title, state.clock.now()))
}

/// Changes an action item.
pub async fn update_action(
    state: &AppState,
    caller: &Caller,
    r: ActionItemRef,
    patch: ActionItemPatch,
) -> Result<ListedAction, AppError> {
    action(state, caller, r).await?;
    let command = ReviewCommand::UpdateAction {
        number: r.number,
        patch,
    };
    act(state, caller, r.incident, &[command]).await?;
    action(state, caller, r).await
}

/// Action items across the incidents the caller may see, by deadline.
pub async fn actions(
    state: &AppState,
    caller: &Caller,
    query: ActionQuery,
) -> Result<Vec<ListedAction>, AppError> {
    let now = state.clock.now();
    let limit = query.limit()?;
    let owner = match (query.mine.unwrap_or(false), query.owner) {
        (true, Some(_)) => {
            return Err(AppError::invalid(
                "mine",
                "ask for your own items or someone else's, not both",
            ))
        }
        (true, None) => Some(caller.user.handle.clone()),
        (false, owner) => owner,
    };
    let overdue = query.overdue.unwrap_or(false);
    let filter = ActionFilter {
        owner,
        incident: query.incident,
        pending: overdue || query.pending.unwrap_or(false),
        due_before: overdue.then_some(now),
        viewer: caller.viewer(),
        limit,
    };
    let rows = state.store.action_items(&filter).await?;
    Ok(rows
        .into_iter()
        .map(|(item, title)| ListedAction::new(item, title, now))
        .collect())
}
