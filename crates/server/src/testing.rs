//! What the crate's unit tests share: a state over a fresh SQLite store.

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_domain::service::Service;

use crate::infra::state::AppState;

/// A fresh SQLite store, the state over it and one service, "api", with the
/// default rules (per-alert grouping).
pub(crate) async fn state_with_service() -> (
    klaxon_store::testing::TempSqlite,
    std::sync::Arc<dyn klaxon_store::Store>,
    AppState,
    Service,
) {
    let db = klaxon_store::testing::TempSqlite::new();
    let store = klaxon_store::open(&db.url).await.unwrap();
    let state = AppState::new(
        store.clone(),
        klaxon_domain::policy::Policy::builtin(),
        std::sync::Arc::new(crate::infra::clock::SystemClock),
        None,
        crate::infra::channels::Channels::default(),
        None,
        None,
    );
    let new = klaxon_domain::service::NewService {
        name: klaxon_domain::service::ServiceName::parse("api").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: Default::default(),
    };
    let (name, fields) = new.validated().unwrap();
    let key = klaxon_store::NewKey {
        key: format!("{:032x}", 1),
        signing_secret: "s".into(),
    };
    let service = store
        .create_service(&name, &fields, &key, jiff::Timestamp::now())
        .await
        .unwrap();
    (db, store, state, service)
}

pub(crate) fn trigger(key: &str) -> AlertEvent {
    let mut e = AlertEvent::new(AlertAction::Trigger, AlertSeverity::Critical);
    e.dedup_key = Some(key.into());
    e
}
