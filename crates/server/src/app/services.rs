//! Services as the edges look them up.

use std::sync::Arc;

use crate::infra::state::AppState;

/// The service an integration key belongs to (revoked keys belong to none),
/// through the cache.
pub async fn service_by_key(
    state: &AppState,
    key: &str,
) -> Result<Option<Arc<klaxon_domain::service::Service>>, klaxon_store::StoreError> {
    if let Some(found) = state.services.get(key) {
        return Ok(Some(found));
    }
    let found = state.store.service_by_key(key).await?.map(Arc::new);
    if let Some(service) = &found {
        state.services.insert(key.to_owned(), service.clone());
    }
    Ok(found)
}
