//! Escalation: page the step a job names and schedule the next one; after an
//! acknowledgement, page again from the first step when the incident is not mitigated
//! within the policy's timeout.

use std::sync::Arc;

use jiff::SignedDuration;
use klaxon_domain::incident::{EventKind, Incident, Status};
use klaxon_domain::paging;
use klaxon_store::{Job, StoreError};

use crate::app::lookups::Lookups;
use crate::app::paging::{pages_for, who_is_paged};
use crate::engine::job::Ran;
use crate::infra::state::AppState;

/// Pages the step the job names and schedules the next one.
pub(crate) async fn escalate(
    state: &AppState,
    job: &Job,
    at: &paging::EscalateJob,
    lookups: &Lookups,
) -> Result<Ran, StoreError> {
    let Some(n) = job.incident else {
        return Ok(Ran::done());
    };
    let incident = lookups.incident(n).await?;
    if !at.still_pages(incident.status) {
        return Ok(Ran::done());
    }
    let policy = match escalation_policy_of(&incident, lookups).await? {
        Policy::Found(policy) => policy,
        // A service without a policy: the timeline says nobody was paged. An
        // incident without a (known) service has nobody to page by design.
        Policy::Missing(service) => {
            let mut ran = Ran::seen(incident);
            if at.round == 0 && at.step == 0 {
                ran.notes.push(nobody_to_page(&service));
            }
            return Ok(ran);
        }
        Policy::NoService => return Ok(Ran::done()),
    };
    let position = paging::Position {
        round: at.round,
        step: at.step as usize,
    };
    let Some(step) = policy.step(position) else {
        return Ok(Ran::done());
    };
    let now = state.clock.now();
    let users = who_is_paged(lookups, &step.targets, now).await?;
    let urgency = state.policy.severity(incident.severity).paging;
    let mut ran = Ran::seen(incident);
    for user in &users {
        ran.jobs
            .extend(pages_for(lookups, user, urgency, at, None, now).await?);
    }
    ran.events.push(EventKind::Paged {
        round: at.round,
        step: at.step,
        users: users.iter().map(|u| u.to_string()).collect(),
        urgency: urgency.as_str().to_owned(),
    });
    if let Some((next, minutes)) = policy.after(position) {
        let next = paging::EscalateJob {
            generation: at.generation.clone(),
            round: next.round,
            step: next.step as u32,
        };
        ran.jobs
            .push(next.planned(now + SignedDuration::from_mins(i64::from(minutes))));
    }
    Ok(ran)
}

async fn escalation_policy_of(
    incident: &Incident,
    lookups: &Lookups,
) -> Result<Policy, StoreError> {
    let Some(name) = incident
        .service
        .as_deref()
        .and_then(|s| klaxon_domain::service::ServiceName::parse(s).ok())
    else {
        return Ok(Policy::NoService);
    };
    let Some(service) = lookups.service(&name).await? else {
        return Ok(Policy::NoService);
    };
    let Some(policy) = &service.rules.escalation_policy else {
        return Ok(Policy::Missing(name.to_string()));
    };
    match lookups.policy(policy).await? {
        Some(p) => Ok(Policy::Found(p)),
        None => Ok(Policy::Missing(name.to_string())),
    }
}

/// After an acknowledgement: with a policy that has a timeout, waits for it; if the
/// incident is still only acknowledged then, pages again from the first step.
pub(crate) async fn ack_timeout(
    state: &AppState,
    job: &Job,
    timeout: &paging::AckTimeout,
    lookups: &Lookups,
) -> Result<Ran, StoreError> {
    let Some(n) = job.incident else {
        return Ok(Ran::done());
    };
    let incident = lookups.incident(n).await?;
    if incident.status != Status::Acknowledged {
        return Ok(Ran::done());
    }
    let Policy::Found(policy) = escalation_policy_of(&incident, lookups).await? else {
        return Ok(Ran::done());
    };
    let Some(minutes) = policy.ack_timeout_minutes else {
        return Ok(Ran::done());
    };
    let seq = timeout.acknowledged_seq;
    let mut ran = Ran::done();
    if !timeout.due {
        let acked = incident.acknowledged_at.unwrap_or(job.run_at);
        ran.jobs
            .push(paging::ack_timeout_check(seq, acked, minutes));
        return Ok(ran);
    }
    ran.notes.push(format!(
        "Acknowledged but not mitigated within {minutes} minutes: paging again from the first step."
    ));
    let again = paging::EscalateJob::after_ack_timeout(seq);
    ran.jobs.push(again.planned(state.clock.now()));
    Ok(ran)
}

/// The escalation policy an incident pages by.
enum Policy {
    Found(Arc<paging::EscalationPolicy>),
    /// The incident's service has none (or names one that is gone).
    Missing(String),
    /// The incident has no service Klaxon knows.
    NoService,
}

fn nobody_to_page(service: &str) -> String {
    format!(
        "Nobody was paged: service {service} has no escalation policy \
         (klaxon service update {service} --escalation-policy NAME)."
    )
}
