//! Update cadence: when an incident's next status update is due and none has come, the
//! communicator (or, without one, the commander) is reminded in the incident's room and
//! by their contact methods, and the missed update goes on the timeline. Reminders repeat
//! every cadence until an update is posted or the incident is resolved.
//!
//! Internal updates have a reminder job per due time, planned when the last one is
//! announced. Customer updates (customer-facing incidents only) have one job per
//! incident, which waits for whenever the next one falls due: it is planned by any
//! change while none is live (see [`paging::plan`]).

use jiff::Timestamp;
use klaxon_domain::incident::{EventKind, Incident, IncidentView, UpdateAudience};
use klaxon_domain::paging::{self, Announcement, JobPayload, PlannedJob, Reminder};
use klaxon_domain::Handle;
use klaxon_store::{Job, JobOutcome, StoreError};

use crate::app::paging::pages_for;
use crate::engine::job::Ran;
use crate::infra::state::AppState;

/// The reminder job for `incident`'s next internal update, if its severity has a
/// cadence and it is open.
pub(crate) fn reminder_for(state: &AppState, incident: &Incident) -> Option<PlannedJob> {
    let due =
        IncidentView::new(incident.clone(), &state.policy, state.clock.now()).next_update_due_at?;
    Some(reminder(due))
}

/// Runs a reminder: still due and open, it reminds and plans the next one.
pub(crate) async fn remind(
    state: &AppState,
    job: &Job,
    reminder: &Reminder,
) -> Result<Ran, StoreError> {
    let Some(n) = job.incident else {
        return Ok(Ran::done());
    };
    let incident = state.store.incident(n).await?;
    let now = state.clock.now();
    let view = IncidentView::new(incident.clone(), &state.policy, now);
    let rules = state.policy.severity(incident.severity);
    let (due, cadence) = match reminder.audience {
        UpdateAudience::Internal => (view.next_update_due_at, rules.internal_update_every),
        UpdateAudience::Customer => (
            view.next_customer_update_due_at.filter(|_| !incident.drill),
            rules.customer_update_every,
        ),
    };
    let Some(due) = due else {
        return Ok(Ran::done());
    };
    let mut ran = Ran::done();
    match reminder.audience {
        // An update came after this reminder was planned; its own reminder is queued.
        UpdateAudience::Internal if due > job.run_at => return Ok(ran),
        UpdateAudience::Customer if due > now => {
            ran.outcome = waiting_until(due);
            return Ok(ran);
        }
        _ => {}
    }
    let people: Vec<Handle> = incident
        .roles
        .communicator
        .clone()
        .or_else(|| incident.roles.commander.clone())
        .into_iter()
        .collect();
    let message = match reminder.audience {
        UpdateAudience::Internal => format!(
            "Update due for {}: the next internal status update was due at {due}. Post one with `klaxon incident update {} --kind update`.",
            incident.number, incident.number.0
        ),
        UpdateAudience::Customer => format!(
            "Customer update due for {}: customers were due to hear from us at {due}. Post one with `klaxon incident update {} --kind update --audience customer`.",
            incident.number, incident.number.0
        ),
    };
    let generation = match reminder.audience {
        UpdateAudience::Internal => format!("remind-{}", due.as_millisecond()),
        UpdateAudience::Customer => format!("remind-customer-{}", now.as_millisecond()),
    };
    let lookups = crate::app::lookups::Lookups::new(state.store.clone());
    for person in &people {
        let key = paging::EscalateJob {
            generation: generation.clone(),
            round: 0,
            step: 0,
        };
        let from_klaxon = Some((message.as_str(), "klaxon"));
        ran.jobs.extend(
            pages_for(
                &lookups,
                person,
                paging::Urgency::Low,
                &key,
                from_klaxon,
                now,
            )
            .await?,
        );
    }
    if let Some(room) = state.store.room(n).await? {
        let post = Announcement::Reminder {
            reminder: message.clone(),
            channel: Some(room.channel),
            thread_ts: room.thread_ts,
        };
        ran.jobs
            .push(JobPayload::Announce(post).planned(generation.clone(), now));
    }
    ran.events.push(EventKind::UpdateMissed {
        due_at: due,
        reminded: people.iter().map(|p| p.to_string()).collect(),
        audience: reminder.audience,
    });
    if let Some(next) = cadence.and_then(|c| now.checked_add(c.0).ok()) {
        match reminder.audience {
            UpdateAudience::Internal => ran.jobs.push(self::reminder(next)),
            // The customer reminder is the same job, run again a cadence later (unless
            // an update comes first; it then waits for that update's due time).
            UpdateAudience::Customer => ran.outcome = waiting_until(next),
        }
    }
    Ok(ran)
}

fn waiting_until(at: Timestamp) -> JobOutcome {
    JobOutcome::Wait {
        at,
        reason: format!("the next customer update is due at {at}"),
    }
}

fn reminder(due: Timestamp) -> PlannedJob {
    JobPayload::Remind(paging::Reminder {
        due_at: due,
        audience: UpdateAudience::Internal,
    })
    .planned(due.as_millisecond().to_string(), due)
}
