//! What a batch of jobs reads: services, escalation policies, schedules, people's contact
//! methods and notification rules, teams' subscribers, and the jobs' incidents. Ten thousand escalation steps
//! due at once page through a handful of policies and people; each is read once per batch
//! of claimed jobs instead of once per job. A batch lives for one claim, so a change made
//! meanwhile is seen by the next claim, within a second. Incidents are read together
//! when the claim is made, and every job of the claim that names one gets that copy: the
//! jobs of a claim run at once, so a read of its own would be no more up to date than
//! the claim's, and whatever a job writes is checked against the incident's version
//! (a job that finds it moved reads it afresh and tries again). The
//! timeline events the claim's announcements name are read together too; they never
//! change once written.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use klaxon_domain::incident::{Incident, TimelineEvent};
use klaxon_domain::paging::{ContactMethod, EscalationPolicy, NotificationRule};
use klaxon_domain::schedule::Schedule;
use klaxon_domain::service::{Service, ServiceName};
use klaxon_domain::{Handle, IncidentNumber};
use klaxon_store::{Store, StoreError};
use tokio::sync::OnceCell;

/// Answers by key, each loaded at most once while the memo lives (a failed load is not
/// kept: the next caller tries again). Concurrent callers of one key share one load.
struct Memo<K, V>(Mutex<HashMap<K, Arc<OnceCell<V>>>>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    async fn get<F>(&self, key: K, load: F) -> Result<V, StoreError>
    where
        F: AsyncFnOnce() -> Result<V, StoreError>,
    {
        let cell = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_try_init(async || load().await).await.cloned()
    }
}

/// `None` for a thing that is not there (deleted, or never made), other errors as they are.
fn found<T>(result: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The reads of one batch of jobs, each done once.
pub(crate) struct Lookups {
    store: Arc<dyn Store>,
    services: Memo<ServiceName, Option<Arc<Service>>>,
    policies: Memo<String, Option<Arc<EscalationPolicy>>>,
    schedules: Memo<String, Option<Arc<Schedule>>>,
    methods: Memo<Handle, Arc<Vec<ContactMethod>>>,
    rules: Memo<Handle, Arc<Vec<NotificationRule>>>,
    subscriptions: Memo<(), Arc<Vec<(String, Handle)>>>,
    incidents: Mutex<HashMap<IncidentNumber, Incident>>,
    events: Mutex<HashMap<(IncidentNumber, i64), TimelineEvent>>,
}

impl Lookups {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            services: Memo::default(),
            policies: Memo::default(),
            schedules: Memo::default(),
            methods: Memo::default(),
            rules: Memo::default(),
            subscriptions: Memo::default(),
            incidents: Mutex::default(),
            events: Mutex::default(),
        }
    }

    /// Reads the timeline events `wanted` (incident, seq) in one go, for
    /// [`Lookups::timeline_event`].
    pub(crate) async fn read_timeline_events(
        &self,
        wanted: &[(IncidentNumber, i64)],
    ) -> Result<(), StoreError> {
        let read = self.store.timeline_events(wanted).await?;
        let mut held = self.events.lock().unwrap_or_else(|e| e.into_inner());
        held.extend(read.into_iter().map(|(n, e)| ((n, e.seq), e)));
        Ok(())
    }

    /// Event `seq` of incident `n`'s timeline, if there is one: read with the claim,
    /// else now.
    pub(crate) async fn timeline_event(
        &self,
        n: IncidentNumber,
        seq: i64,
    ) -> Result<Option<TimelineEvent>, StoreError> {
        let held = self
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(n, seq))
            .cloned();
        match held {
            Some(event) => Ok(Some(event)),
            None => Ok(self
                .store
                .timeline(n)
                .await?
                .into_iter()
                .find(|e| e.seq == seq)),
        }
    }

    /// Reads `numbers` in one go, for [`Lookups::incident`] to hand out.
    pub(crate) async fn read_incidents(
        &self,
        numbers: &[IncidentNumber],
    ) -> Result<(), StoreError> {
        let read = self.store.incidents_by_number(numbers).await?;
        let mut held = self.incidents.lock().unwrap_or_else(|e| e.into_inner());
        held.extend(read.into_iter().map(|i| (i.number, i)));
        Ok(())
    }

    /// Incident `n`: the copy read with the claim, else (read together failed, or the
    /// incident is new since) read now.
    pub(crate) async fn incident(&self, n: IncidentNumber) -> Result<Incident, StoreError> {
        let held = self
            .incidents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&n)
            .cloned();
        match held {
            Some(incident) => Ok(incident),
            None => self.store.incident(n).await,
        }
    }

    pub(crate) async fn service(
        &self,
        name: &ServiceName,
    ) -> Result<Option<Arc<Service>>, StoreError> {
        self.services
            .get(name.clone(), async || {
                Ok(found(self.store.service(name).await)?.map(Arc::new))
            })
            .await
    }

    pub(crate) async fn policy(
        &self,
        name: &str,
    ) -> Result<Option<Arc<EscalationPolicy>>, StoreError> {
        self.policies
            .get(name.to_owned(), async || {
                Ok(found(self.store.policy(name).await)?.map(Arc::new))
            })
            .await
    }

    pub(crate) async fn schedule(&self, name: &str) -> Result<Option<Arc<Schedule>>, StoreError> {
        self.schedules
            .get(name.to_owned(), async || {
                Ok(found(self.store.schedule(name).await)?.map(Arc::new))
            })
            .await
    }

    pub(crate) async fn contact_methods(
        &self,
        user: &Handle,
    ) -> Result<Arc<Vec<ContactMethod>>, StoreError> {
        self.methods
            .get(user.clone(), async || {
                Ok(Arc::new(self.store.contact_methods(user).await?))
            })
            .await
    }

    pub(crate) async fn notification_rules(
        &self,
        user: &Handle,
    ) -> Result<Arc<Vec<NotificationRule>>, StoreError> {
        self.rules
            .get(user.clone(), async || {
                Ok(Arc::new(self.store.notification_rules(user).await?))
            })
            .await
    }

    /// Who subscribes to which team's news, as (team, person).
    pub(crate) async fn subscriptions(&self) -> Result<Arc<Vec<(String, Handle)>>, StoreError> {
        self.subscriptions
            .get((), async || Ok(Arc::new(self.store.subscriptions().await?)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::app::alerts;
    use crate::testing::{state_with_service, trigger};

    use super::*;

    fn title(event: &TimelineEvent) -> &str {
        match &event.kind {
            klaxon_domain::incident::EventKind::Declared { title, .. } => title,
            other => panic!("expected the declaration, got {other:?}"),
        }
    }

    /// Each incident's events come from the claim's read by (incident, seq); an event
    /// not read with the claim is read when asked for, and one that does not exist is
    /// none.
    #[tokio::test]
    async fn timeline_events_are_handed_out_by_incident_and_seq() {
        let (_db, store, state, service) = state_with_service().await;
        for key in ["disk", "cpu"] {
            let mut event = trigger(key);
            event.summary = Some(format!("{key} alert"));
            alerts::ingest_alert(&state, &service, event, None)
                .await
                .unwrap();
        }
        let (disk, cpu) = (IncidentNumber(1), IncidentNumber(2));
        let lookups = Lookups::new(store.clone());
        lookups
            .read_timeline_events(&[(disk, 1), (cpu, 1)])
            .await
            .unwrap();
        let first = |n| {
            let lookups = &lookups;
            async move { lookups.timeline_event(n, 1).await.unwrap().unwrap() }
        };
        assert_eq!(title(&first(disk).await), "disk alert");
        assert_eq!(title(&first(cpu).await), "cpu alert");
        let later = lookups.timeline_event(disk, 2).await.unwrap().unwrap();
        assert_eq!(later, store.timeline(disk).await.unwrap()[1]);
        assert!(lookups.timeline_event(disk, 999).await.unwrap().is_none());
    }
}
