//! Escalation policies: created, replaced and removed by admins, checked by the domain
//! and against the people and schedules that exist; one in use by a service stays.

use klaxon_domain::auth::Scope;
use klaxon_domain::paging::{EscalationPolicy, NewEscalationPolicy, Target};
use klaxon_domain::Handle;

use crate::app::auth::Caller;
use crate::app::error::AppError;
use crate::infra::state::AppState;

/// A policy from a person, checked by the domain and against the users and schedules
/// that exist.
async fn checked(
    state: &AppState,
    new: NewEscalationPolicy,
) -> Result<NewEscalationPolicy, AppError> {
    let policy = new.validated()?;
    let users: Vec<Handle> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| u.handle)
        .collect();
    let schedules: Vec<String> = state
        .store
        .schedules()
        .await?
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    for (i, step) in policy.steps.iter().enumerate() {
        for target in &step.targets {
            let missing = match target {
                Target::User(h) if !users.contains(h) => format!("there is no user '{h}'"),
                Target::Schedule(s) if !schedules.contains(s) => {
                    format!("there is no schedule '{s}'; see `klaxon schedule list`")
                }
                _ => continue,
            };
            return Err(AppError::invalid(
                "steps.targets",
                format!("steps[{i}]: {missing}"),
            ));
        }
    }
    Ok(policy)
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: NewEscalationPolicy,
) -> Result<EscalationPolicy, AppError> {
    caller.require(Scope::Admin)?;
    let policy = checked(state, new).await?;
    Ok(state
        .store
        .create_policy(&policy, state.clock.now())
        .await?)
}

/// Replaces the policy `name` (which may rename it).
pub async fn replace(
    state: &AppState,
    caller: &Caller,
    name: &str,
    new: NewEscalationPolicy,
) -> Result<EscalationPolicy, AppError> {
    caller.require(Scope::Admin)?;
    let policy = checked(state, new).await?;
    Ok(state.store.update_policy(name, &policy).await?)
}

/// The names of the services that page through the policy `name`.
pub async fn used_by(state: &AppState, name: &str) -> Result<Vec<String>, AppError> {
    Ok(state
        .store
        .services()
        .await?
        .into_iter()
        .filter(|s| s.rules.escalation_policy.as_deref() == Some(name))
        .map(|s| s.name.to_string())
        .collect())
}

/// Removes the policy `name`, unless a service still uses it.
pub async fn delete(state: &AppState, caller: &Caller, name: &str) -> Result<(), AppError> {
    caller.require(Scope::Admin)?;
    let users = used_by(state, name).await?;
    if !users.is_empty() {
        return Err(AppError::conflict(format!(
            "services {} use escalation policy '{name}'; give them another first",
            users.join(", ")
        )));
    }
    Ok(state.store.delete_policy(name).await?)
}
