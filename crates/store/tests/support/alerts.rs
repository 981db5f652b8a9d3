//! Alerts for the store tests: a fixed time, a service and accepted events.
#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use jiff::Timestamp;
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_domain::service::{NewService, ServiceName};
use klaxon_domain::ServiceId;
use klaxon_store::{InboxEntry, NewKey, Store};

pub fn now() -> Timestamp {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

/// Creates service `api` with the default rules; its id.
pub async fn service(store: &Arc<dyn Store>) -> ServiceId {
    let new = NewService {
        name: ServiceName::parse("api").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: Default::default(),
    };
    let (name, fields) = new.validated().unwrap();
    let key = NewKey {
        key: format!("{:032x}", 1),
        signing_secret: "s".into(),
    };
    store
        .create_service(&name, &fields, &key, now())
        .await
        .unwrap()
        .id
}

/// A `key is down` event accepted now.
pub fn entry(service_id: ServiceId, key: &str, action: AlertAction) -> InboxEntry {
    let mut event = AlertEvent::new(action, AlertSeverity::Error);
    event.summary = Some(format!("{key} is down"));
    InboxEntry {
        service_id,
        dedup_key: key.into(),
        received_at: now(),
        event,
    }
}
