//! The application layer: load an incident the caller may see, let the domain decide,
//! store the events with their projection in one transaction. A concurrent change makes
//! the store refuse the write; the command is then decided again on fresh state.

use axum::http::StatusCode;
use klaxon_domain::alert::Alert;
use klaxon_domain::api::{IncidentPage, IncidentQuery};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{
    self, Command, Context, DeclareInput, Incident, IncidentView, TimelineEvent,
};
use klaxon_domain::service::ServiceName;
use klaxon_domain::time::parse_instant_or_ago;
use klaxon_domain::{Handle, IncidentNumber};
use klaxon_store::{Change, IncidentFilter, StoreError};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// How often a command is decided again after losing a race with a writer in another
/// replica (writers in this process queue on [`crate::locks::KeyedLocks`]).
const ATTEMPTS: usize = 5;

impl AppState {
    fn context(&self, caller: &Caller) -> Context<'_> {
        Context {
            actor: caller.user.handle.clone(),
            source: caller.source,
            now: self.clock.now(),
            policy: &self.policy,
            link_base: self.public_url.clone(),
        }
    }

    fn view(&self, incident: Incident) -> IncidentView {
        IncidentView::new(incident, &self.policy, self.clock.now())
    }

    /// The incident, if the caller may see it. A restricted incident the caller may not
    /// see answers exactly like one that does not exist.
    pub async fn visible_incident(
        &self,
        caller: &Caller,
        number: IncidentNumber,
    ) -> Result<Incident, ApiError> {
        let missing = || ApiError::not_found(format!("there is no incident {number}"));
        let incident = match self.store.incident(number).await {
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

    /// The alert, if the caller may see it: an alert of a restricted incident the
    /// caller may not see answers exactly like one that does not exist.
    pub async fn visible_alert(&self, caller: &Caller, id: i64) -> Result<Alert, ApiError> {
        let missing =
            || ApiError::not_found(format!("there is no alert {id}; see `klaxon alert list`"));
        let alert = match self.store.alert(id).await {
            Ok(a) => a,
            Err(StoreError::NotFound(_)) => return Err(missing()),
            Err(e) => return Err(e.into()),
        };
        match alert.incident {
            Some(n) => match self.visible_incident(caller, n).await {
                Ok(_) => Ok(alert),
                Err(e) if e.status == StatusCode::NOT_FOUND => Err(missing()),
                Err(e) => Err(e),
            },
            None => Ok(alert),
        }
    }

    /// Refuses handles that name nobody, as a field error.
    async fn existing_user(&self, field: &str, handle: &Handle) -> Result<(), ApiError> {
        match self.store.user(handle).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound(_)) => Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                field,
                format!("there is no user '{handle}'; see `klaxon user list`"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Refuses a service name that names no service, as a field error.
    async fn existing_service(&self, name: &str) -> Result<(), ApiError> {
        let missing = || {
            ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "service",
                format!("there is no service '{name}'; see `klaxon service list`"),
            )
        };
        let name = ServiceName::parse(name).map_err(|_| missing())?;
        match self.store.service(&name).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound(_)) => Err(missing()),
            Err(e) => Err(e.into()),
        }
    }

    #[tracing::instrument(skip_all, fields(actor = %caller.user.handle))]
    pub async fn declare(
        &self,
        caller: &Caller,
        input: DeclareInput,
    ) -> Result<IncidentView, ApiError> {
        caller.require(Scope::Responder)?;
        if let Some(commander) = &input.commander {
            self.existing_user("commander", commander).await?;
        }
        if let Some(service) = &input.service {
            self.existing_service(service).await?;
        }
        let ctx = self.context(caller);
        let events = incident::declare(&input, &ctx)?;
        let declared_at = events.first().map_or(ctx.now, |e| e.effective_at());
        let slug = incident::slug_base(&input.title, declared_at, self.policy.time_zone.zone());
        let incident = self.store.declare(&slug, &events).await?;
        self.engine_wake.notify_one();
        tracing::info!(
            number = incident.number.0,
            severity = incident.severity.level(),
            "incident declared"
        );
        Ok(self.view(incident))
    }

    /// Runs one command against one incident.
    #[tracing::instrument(skip_all, fields(number = number.0, actor = %caller.user.handle))]
    pub async fn act(
        &self,
        caller: &Caller,
        number: IncidentNumber,
        command: Command,
    ) -> Result<IncidentView, ApiError> {
        caller.require(Scope::Responder)?;
        if let Command::Assign { user, .. } = &command {
            self.existing_user("user", user).await?;
        }
        let _held = self.incident_locks.lock(&[number.0]).await;
        let mut tries = 1;
        loop {
            match self.try_act(caller, number, &command).await {
                Err(Attempt::Raced) if tries < ATTEMPTS => tries += 1,
                result => return result.map_err(Attempt::into_error),
            }
        }
    }

    /// One attempt at [`AppState::act`]: read, decide, write.
    async fn try_act(
        &self,
        caller: &Caller,
        number: IncidentNumber,
        command: &Command,
    ) -> Result<IncidentView, Attempt> {
        let incident = self.visible_incident(caller, number).await?;
        let events = incident::decide(&incident, command, &self.context(caller))?;
        let (projected, change) = project(incident, events);
        self.store.commit(&[change]).await?;
        self.engine_wake.notify_one();
        Ok(self.view(projected))
    }

    /// Merges `number` into `into`; answers with the target.
    #[tracing::instrument(skip_all, fields(number = number.0, into = into.0))]
    pub async fn merge(
        &self,
        caller: &Caller,
        number: IncidentNumber,
        into: IncidentNumber,
    ) -> Result<IncidentView, ApiError> {
        caller.require(Scope::Responder)?;
        let _held = self.incident_locks.lock(&[number.0, into.0]).await;
        let mut tries = 1;
        loop {
            match self.try_merge(caller, number, into).await {
                Err(Attempt::Raced) if tries < ATTEMPTS => tries += 1,
                result => return result.map_err(Attempt::into_error),
            }
        }
    }

    /// One attempt at [`AppState::merge`]: read both, decide, write both.
    async fn try_merge(
        &self,
        caller: &Caller,
        number: IncidentNumber,
        into: IncidentNumber,
    ) -> Result<IncidentView, Attempt> {
        let source = self.visible_incident(caller, number).await?;
        let target = self.visible_incident(caller, into).await.map_err(|_| {
            ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "into",
                format!("there is no incident {into}"),
            )
        })?;
        let (out, absorbed) = incident::merge(&source, &target, &self.context(caller))?;
        let (_, source_change) = project(source, out);
        let (target, target_change) = project(target, absorbed);
        self.store.commit(&[source_change, target_change]).await?;
        Ok(self.view(target))
    }

    pub async fn show(
        &self,
        caller: &Caller,
        number: IncidentNumber,
    ) -> Result<IncidentView, ApiError> {
        let incident = self.visible_incident(caller, number).await?;
        let timeline = self.store.timeline(number).await?;
        let changes = match incident.service.as_deref().map(ServiceName::parse) {
            Some(Ok(service)) => {
                let (from, to) = IncidentView::recent_changes_window(&incident);
                self.store.changes(&service, from, to, 20).await?
            }
            _ => Vec::new(),
        };
        Ok(self
            .view(incident)
            .with_timeline(timeline)
            .with_recent_changes(changes))
    }

    pub async fn list(
        &self,
        caller: &Caller,
        query: IncidentQuery,
    ) -> Result<IncidentPage, ApiError> {
        let limit = query.limit()?;
        let since = match &query.since {
            Some(text) => Some(parse_instant_or_ago("since", text, self.clock.now())?),
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
        let incidents = self.store.incidents(&filter).await?;
        let next_before = (incidents.len() == limit as usize)
            .then(|| incidents.last().map(|i| i.number))
            .flatten();
        let incidents = incidents.into_iter().map(|i| self.view(i)).collect();
        Ok(IncidentPage {
            incidents,
            next_before,
        })
    }
}

/// Why one attempt at a command failed: it lost a race with another writer (decide
/// again on fresh state), or anything else (answer with it).
enum Attempt {
    Raced,
    Failed(ApiError),
}

impl From<ApiError> for Attempt {
    fn from(e: ApiError) -> Self {
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
    fn into_error(self) -> ApiError {
        match self {
            Attempt::Failed(e) => e,
            Attempt::Raced => ApiError::new(
                StatusCode::CONFLICT,
                "the incident kept changing while this request was handled; try again",
            ),
        }
    }
}

/// Applies new events to an incident: the new projection and the change to store.
fn project(incident: Incident, events: Vec<TimelineEvent>) -> (Incident, Change) {
    let change = Change::new(&incident, events);
    (change.incident.clone(), change)
}
