//! Who is paged and how: the people an escalation step's targets stand for, the
//! deliveries a person's notification rules call for, and paging someone directly.

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::paging::api::ServiceOnCall;
use klaxon_domain::paging::{self, Delivery, JobPayload, PlannedJob};
use klaxon_domain::service::Service;
use klaxon_domain::Handle;
use klaxon_store::StoreError;

use crate::app::lookups::Lookups;
use crate::infra::state::AppState;

/// The people `targets` stand for at `now`, each once: the users named, and whoever
/// is on call on the schedules named (a schedule that is gone names nobody).
pub(crate) async fn who_is_paged(
    lookups: &Lookups,
    targets: &[paging::Target],
    now: Timestamp,
) -> Result<Vec<Handle>, StoreError> {
    let mut users: Vec<Handle> = vec![];
    for target in targets {
        let user = match target {
            paging::Target::User(h) => Some(h.clone()),
            paging::Target::Schedule(name) => lookups
                .schedule(name)
                .await?
                .and_then(|schedule| schedule.on_call_at(now)),
        };
        if let Some(user) = user.filter(|u| !users.contains(u)) {
            users.push(user);
        }
    }
    Ok(users)
}

/// A page job per delivery that reaches `user` at this urgency ([`paging::deliveries`]:
/// their rules, or without any every suitable contact method at once).
/// With `message` (a text, and who it is from), they deliver that message instead of
/// the incident's page.
pub(crate) async fn pages_for(
    lookups: &Lookups,
    user: &Handle,
    urgency: paging::Urgency,
    at: &paging::EscalateJob,
    message: Option<(&str, &str)>,
    now: Timestamp,
) -> Result<Vec<PlannedJob>, StoreError> {
    let methods = lookups.contact_methods(user).await?;
    let rules = lookups.notification_rules(user).await?;
    let chosen = paging::deliveries(&methods, &rules, urgency);
    Ok(chosen
        .into_iter()
        .map(|(method, delay)| {
            let to = Delivery {
                user: user.to_string(),
                contact_method: method,
                message: message.map(|(text, _)| text.to_owned()),
                from: message.map(|(_, from)| from.to_owned()),
            };
            let payload = match message {
                None => JobPayload::Page(to),
                Some(_) => JobPayload::Notify(to),
            };
            payload.planned(
                format!(
                    "{}/{}/{}/{user}/{method}/{delay}",
                    at.generation, at.round, at.step
                ),
                now + SignedDuration::from_mins(i64::from(delay)),
            )
        })
        .collect())
}

/// Pages `user` now about `message`, from `by`: a delivery per high-urgency rule (or
/// per contact method, without rules), each at its rule's delay. How many.
pub async fn page_directly(
    state: &AppState,
    user: &Handle,
    message: &str,
    by: &Handle,
) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let direct = paging::EscalateJob {
        generation: format!("direct-{}", now.as_millisecond()),
        round: 0,
        step: 0,
    };
    let jobs: Vec<PlannedJob> = pages_for(
        &Lookups::new(state.store.clone()),
        user,
        paging::Urgency::High,
        &direct,
        Some((message, by.as_str())),
        now,
    )
    .await?;
    state.store.add_jobs(None, &jobs, now).await?;
    state.engine_wake.notify_one();
    Ok(jobs.len())
}

/// Who the first step of each service's escalation policy pages now, per service.
pub async fn on_call_now(state: &AppState) -> Result<Vec<ServiceOnCall>, StoreError> {
    let now = state.clock.now();
    let mut answer = vec![];
    let lookups = Lookups::new(state.store.clone());
    for service in state.store.services().await? {
        answer.push(on_call_at(&lookups, &service, now).await?);
    }
    Ok(answer)
}

/// Who the first step of `service`'s escalation policy pages now.
pub async fn service_on_call(
    state: &AppState,
    service: &Service,
) -> Result<ServiceOnCall, StoreError> {
    let lookups = Lookups::new(state.store.clone());
    on_call_at(&lookups, service, state.clock.now()).await
}

async fn on_call_at(
    lookups: &Lookups,
    service: &Service,
    now: Timestamp,
) -> Result<ServiceOnCall, StoreError> {
    let mut on_call = vec![];
    if let Some(name) = &service.rules.escalation_policy {
        // Services share policies: a page of many services reads each once.
        if let Ok(Some(policy)) = lookups.policy(name).await {
            let first = policy
                .steps
                .first()
                .map(|s| s.targets.as_slice())
                .unwrap_or_default();
            on_call = who_is_paged(lookups, first, now)
                .await?
                .iter()
                .map(|u| u.to_string())
                .collect();
        }
    }
    Ok(ServiceOnCall {
        service: service.name.to_string(),
        escalation_policy: service.rules.escalation_policy.clone(),
        on_call,
    })
}
