//! Building the public status page's view from the store and keeping this replica's
//! copy fresh: at once after a change made here, when the store's page version moves
//! (a change made by another replica, or by the engine), and every minute so that the
//! uptime bars move with the clock. A build that fails leaves the last view in place,
//! marked as failing: the page keeps answering and says since when it could not refresh.

use std::sync::Arc;

use jiff::SignedDuration;
use klaxon_domain::status::{Public, PublicView, Sources};
use klaxon_store::StoreError;
use sha2::{Digest, Sha256};

use crate::infra::state::AppState;
use crate::infra::status_page::PageSnapshot;

/// How far back the uptime bars look: 90 days, and a day to spare.
const UPTIME_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 91);
/// How far back the incident history goes.
const HISTORY_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 366);
/// The most incidents the history holds.
const HISTORY_LIMIT: u32 = 1_000;
/// A view older than this is rebuilt even if nothing changed: today's bar grows.
const REBUILD_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// A public id: 12 lower-case base-36 characters derived from the page's secret and
/// what it names, so that it is stable, opaque, and never shows an incident number.
pub fn public_id(secret: &str, what: Public) -> String {
    let tag = match what {
        Public::Page => "page".to_owned(),
        Public::Component(id) => format!("component/{}", id.0),
        Public::Incident(n) => format!("incident/{}", n.0),
        Public::Update(n, seq) => format!("update/{}/{seq}", n.0),
        Public::Maintenance(id) => format!("maintenance/{}", id.0),
        Public::MaintenanceUpdate(id, seq) => format!("maintenance-update/{}/{seq}", id.0),
        Public::ComponentUpdate(c, at) => {
            format!("component-update/{}/{}", c.0, at.as_millisecond())
        }
    };
    let digest = Sha256::new()
        .chain_update(secret.as_bytes())
        .chain_update(b"\0")
        .chain_update(tag.as_bytes())
        .finalize();
    let mut n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let mut out = [b'0'; 12];
    for slot in out.iter_mut().rev() {
        *slot = b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads what the page shows and builds the view: a handful of reads, whatever the
/// number of incidents.
pub(crate) async fn build(state: &AppState) -> Result<(PublicView, i64), StoreError> {
    let store = &state.store;
    let (secret, version) = store.status_page().await?;
    let now = state.clock.now();
    let components = store.components().await?;
    let periods = store
        .component_periods(now.saturating_sub(UPTIME_WINDOW).unwrap_or(now))
        .await?;
    let incidents = store
        .public_incidents(
            now.saturating_sub(HISTORY_WINDOW).unwrap_or(now),
            HISTORY_LIMIT,
        )
        .await?;
    let numbers: Vec<_> = incidents.iter().map(|i| i.number).collect();
    let events = store.public_events(&numbers).await?;
    let maintenances = store
        .scheduled_maintenances(
            now.saturating_sub(HISTORY_WINDOW).unwrap_or(now),
            HISTORY_LIMIT,
        )
        .await?;
    let url = state.status_config.base_url(state.public_url.as_deref());
    let ids = |what| public_id(&secret, what);
    let view = PublicView::build(&Sources {
        name: &state.status_config.name,
        url: &url,
        components: &components,
        periods: &periods,
        incidents: &incidents,
        events: &events,
        maintenances: &maintenances,
        policy: &state.policy,
        now,
        ids: &ids,
    });
    Ok((view, version))
}

/// Rebuilds the view now. A failure is logged and marked on the current view, which
/// stays: a change that was made is not undone because the page could not show it yet.
pub async fn refresh(state: &AppState) {
    let _turn = state.status_page.rebuilding.lock().await;
    rebuild(state).await;
}

async fn rebuild(state: &AppState) {
    let now = state.clock.now();
    match build(state).await {
        Ok((view, version)) => {
            let previous = state.status_page.get();
            if previous.failing_since.is_some() {
                tracing::info!("the status page is refreshed again");
            }
            state
                .status_page
                .set(PageSnapshot::new(Arc::new(view), version, now));
        }
        Err(e) => {
            let previous = state.status_page.get();
            // Already marked: the answers rendered with the notice stay as they are.
            if previous.failing_since.is_some() {
                return;
            }
            tracing::warn!(error = %e, "the status page cannot be refreshed; it keeps showing the last view");
            let mut kept =
                PageSnapshot::new(previous.view.clone(), previous.version, previous.built_at);
            kept.failing_since = Some(now);
            state.status_page.set(kept);
        }
    }
}

/// Rebuilds the view if the store's page version moved, the last build failed, or the
/// view is older than a minute. One cheap read otherwise.
pub async fn refresh_if_stale(state: &AppState) {
    let _turn = state.status_page.rebuilding.lock().await;
    let current = state.status_page.get();
    let old = state.clock.now().duration_since(current.built_at) >= REBUILD_EVERY;
    let moved = match state.store.status_page_version().await {
        Ok(version) => version != current.version,
        Err(_) => true,
    };
    if old || moved || current.failing_since.is_some() {
        rebuild(state).await;
    }
}

/// Keeps this replica's view fresh until the server stops.
pub async fn run(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stopping.wait_for(|&s| s) => return,
            _ = tokio::time::sleep(state.status_config.poll_interval) => {}
        }
        refresh_if_stale(&state).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use klaxon_domain::{ComponentId, IncidentNumber};

    #[test]
    fn public_ids_are_opaque_stable_and_distinct() {
        let a = public_id("s3cret", Public::Incident(IncidentNumber(42)));
        assert_eq!(a.len(), 12);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        assert_eq!(a, public_id("s3cret", Public::Incident(IncidentNumber(42))));
        assert_ne!(a, public_id("other", Public::Incident(IncidentNumber(42))));
        assert_ne!(a, public_id("s3cret", Public::Incident(IncidentNumber(43))));
        assert_ne!(a, public_id("s3cret", Public::Component(ComponentId(42))));
    }
}
