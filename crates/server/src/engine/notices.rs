//! The `status-notice` jobs: work out what subscribers are told (from the page as it is
//! built now, so it reads as the page does) and queue one `subscriber-delivery` job per
//! confirmed subscriber the notice reaches, written in one transaction with this job's
//! end. A notice reaches nobody twice: each delivery job has a key per notice and
//! subscriber.

use klaxon_domain::incident::Incident;
use klaxon_domain::status::notices::{self, ComponentChange};
use klaxon_domain::status::subscribers::reaches;
use klaxon_domain::status::{
    may_publish, Notice, NoticeSource, Public, PublicView, Subscriber, SubscriberDelivery,
    SubscriberKind, SubscriberMessage,
};
use klaxon_store::{Job, StoreError};

use crate::app::status_page::{build, public_id};
use crate::engine::job::Ran;
use crate::infra::state::AppState;

/// Works out the notices of `source` and plans their deliveries.
pub(crate) async fn fan_out(
    state: &AppState,
    job: &Job,
    source: &NoticeSource,
) -> Result<Ran, StoreError> {
    let notices = match source {
        NoticeSource::Notice(notice) => vec![notice.clone()],
        NoticeSource::Update { seq } => update_notice(state, job, *seq).await?,
        NoticeSource::Components { at, components } => {
            component_notices(state, *at, components).await?
        }
    };
    if notices.is_empty() {
        return Ok(Ran::done());
    }
    let subscribers = state.store.subscribers().await?;
    let components = state.store.components().await?;
    let now = state.clock.now();
    let mut ran = Ran::done();
    for notice in &notices {
        // Mail tells of incidents and maintenance; component changes go to webhooks.
        let told = |s: &&Subscriber| {
            s.confirmed()
                && (notice.kind.mailed() || s.kind == SubscriberKind::Webhook)
                && reaches(s.components.as_deref(), &notice.components, &components)
        };
        for s in subscribers.iter().filter(told) {
            ran.jobs.push(
                SubscriberDelivery {
                    subscriber: s.id,
                    message: SubscriberMessage::Notice(Box::new(notice.clone())),
                }
                .planned(&notice.key, now),
            );
        }
    }
    tracing::info!(
        notices = notices.len(),
        deliveries = ran.jobs.len(),
        "status notice queued for its subscribers"
    );
    Ok(ran)
}

/// The page as it is now, and its secret.
async fn page(state: &AppState) -> Result<(PublicView, String), StoreError> {
    let (view, _) = build(state).await?;
    let secret = crate::app::subscribers::page_secret(state).await?;
    Ok((view, secret))
}

/// The notice of the customer update at `seq` of the job's incident; none if the
/// incident may not be told of (restricted, a drill) or left the page.
async fn update_notice(state: &AppState, job: &Job, seq: i64) -> Result<Vec<Notice>, StoreError> {
    let Some(n) = job.incident else {
        return Ok(vec![]);
    };
    let incident: Incident = state.store.incident(n).await?;
    // Checked again: a change since the job was written may have restricted it.
    if !may_publish(&incident) {
        return Ok(vec![]);
    }
    let (view, secret) = page(state).await?;
    let notice = notices::incident_notice(
        &view,
        &public_id(&secret, Public::Incident(n)),
        &public_id(&secret, Public::Update(n, seq)),
    );
    Ok(notice.into_iter().collect())
}

/// One notice per component whose status changed at `at`, from its history.
async fn component_notices(
    state: &AppState,
    at: jiff::Timestamp,
    components: &[klaxon_domain::ComponentId],
) -> Result<Vec<Notice>, StoreError> {
    let since = at
        .checked_sub(jiff::SignedDuration::from_millis(1))
        .unwrap_or(at);
    let periods = state.store.component_periods(since).await?;
    let (view, secret) = page(state).await?;
    Ok(components
        .iter()
        .filter_map(|&c| {
            notices::component_notice(
                &view,
                &ComponentChange {
                    component: c,
                    id: public_id(&secret, Public::ComponentUpdate(c, at)),
                    old: notices::status_at(&periods, c, at, true),
                    new: notices::status_at(&periods, c, at, false),
                    at,
                },
            )
        })
        .collect())
}
