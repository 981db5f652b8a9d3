//! People and how they are reached: their contact methods, notification rules, team
//! subscriptions and shifts. Everyone sees who is who; a person's paging settings are
//! read by that person and admins, and changed by that person (a responder or admin)
//! and admins. Viewers change nothing. (Phone numbers are verified in `phones`.)

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::auth::{Scope, User};
use klaxon_domain::paging::api::Subscription;
use klaxon_domain::paging::{
    ContactKind, ContactMethod, Delivery, JobPayload, NewContactMethod, NewNotificationRule,
    NotificationRule,
};
use klaxon_domain::schedule::Shift;
use klaxon_domain::{ContactMethodId, Handle, NotificationRuleId};

use crate::app::auth::Caller;
use crate::app::error::{AppError, ErrorKind};
use crate::infra::state::AppState;

/// Refuses unless the caller may read `handle`'s paging settings: their own, or
/// anyone's for an admin.
pub fn readable(caller: &Caller, handle: &Handle) -> Result<(), AppError> {
    if caller.user.handle != *handle {
        caller.require(Scope::Admin).map_err(|_| {
            AppError::forbidden(format!(
                "only {handle} and admins may see or change how {handle} is reached"
            ))
        })?;
    }
    caller.require(Scope::Viewer)
}

/// Refuses unless the caller may change `handle`'s paging settings: their own as a
/// responder, or anyone's as an admin.
pub fn manageable(caller: &Caller, handle: &Handle) -> Result<(), AppError> {
    readable(caller, handle)?;
    caller.require(Scope::Responder).map_err(|_| {
        AppError::forbidden(format!(
            "token '{}' has scope viewer, which changes nothing; ask an admin, or use a responder token",
            caller.token.name
        ))
    })
}

/// Every person, by handle.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<User>, AppError> {
    caller.require(Scope::Viewer)?;
    Ok(state.store.users().await?)
}

/// The person `handle`.
pub async fn person(state: &AppState, caller: &Caller, handle: &Handle) -> Result<User, AppError> {
    caller.require(Scope::Viewer)?;
    Ok(state.store.user(handle).await?)
}

/// `handle`'s contact methods, if the caller may read them.
pub async fn contact_methods(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
) -> Result<Vec<ContactMethod>, AppError> {
    readable(caller, handle)?;
    state.store.user(handle).await?;
    Ok(state.store.contact_methods(handle).await?)
}

/// Adds a contact method to `handle`: its address checked (a webhook's URL must be one
/// Klaxon may call).
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, user = %handle))]
pub async fn add_contact_method(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    method: NewContactMethod,
) -> Result<ContactMethod, AppError> {
    manageable(caller, handle)?;
    let method = method.validated()?;
    if method.kind == ContactKind::Webhook {
        state
            .channels
            .outbound
            .check_url(&method.address)
            .await
            .map_err(|e| AppError::invalid("address", e))?;
    }
    Ok(state
        .store
        .add_contact_method(handle, &method, state.clock.now())
        .await?)
}

/// Removes contact method `id` of `handle`.
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, user = %handle))]
pub async fn remove_contact_method(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    id: ContactMethodId,
) -> Result<(), AppError> {
    manageable(caller, handle)?;
    Ok(state.store.remove_contact_method(handle, id).await?)
}

/// Queues a test message to contact method `id` of `handle`; an e-mail, Slack or
/// webhook method is verified once it is delivered. At most one a minute per method
/// and five an hour per person.
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, user = %handle))]
pub async fn send_test(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    id: ContactMethodId,
) -> Result<(), AppError> {
    manageable(caller, handle)?;
    let method = state.store.contact_method(id).await?;
    if method.user != *handle {
        return Err(AppError::not_found(format!(
            "{handle} has no contact method {}",
            method.id
        )));
    }
    state
        .test_limits
        .check(handle, method.id)
        .map_err(|refused| AppError::new(ErrorKind::TooMany, refused))?;
    let now = state.clock.now();
    let test = Delivery {
        user: handle.to_string(),
        contact_method: method.id,
        message: None,
        from: None,
    };
    let job = JobPayload::Notify(test)
        .planned(format!("test/{}/{}", method.id, now.as_millisecond()), now);
    state.store.add_jobs(None, &[job], now).await?;
    state.engine_wake.notify_one();
    Ok(())
}

/// `handle`'s notification rules, if the caller may read them.
pub async fn notification_rules(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
) -> Result<Vec<NotificationRule>, AppError> {
    readable(caller, handle)?;
    state.store.user(handle).await?;
    Ok(state.store.notification_rules(handle).await?)
}

/// Adds a notification rule to `handle`.
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, user = %handle))]
pub async fn add_notification_rule(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    rule: NewNotificationRule,
) -> Result<NotificationRule, AppError> {
    manageable(caller, handle)?;
    let rule = rule.validated()?;
    Ok(state.store.add_notification_rule(handle, &rule).await?)
}

/// Removes notification rule `id` of `handle`.
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, user = %handle))]
pub async fn remove_notification_rule(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    id: NotificationRuleId,
) -> Result<(), AppError> {
    manageable(caller, handle)?;
    Ok(state.store.remove_notification_rule(handle, id).await?)
}

/// Subscribes a person to a team's stakeholder messages.
pub async fn subscribe(
    state: &AppState,
    caller: &Caller,
    new: Subscription,
) -> Result<Subscription, AppError> {
    let new = new.validated()?;
    manageable(caller, &new.user)?;
    state.store.subscribe(&new.team, &new.user).await?;
    Ok(new)
}

/// Ends `handle`'s subscription to `team`.
pub async fn unsubscribe(
    state: &AppState,
    caller: &Caller,
    team: &str,
    handle: &Handle,
) -> Result<(), AppError> {
    manageable(caller, handle)?;
    Ok(state.store.unsubscribe(team, handle).await?)
}

/// `handle`'s shifts on every schedule that end after now and start within `days`,
/// soonest first, each with its schedule's name.
pub async fn upcoming_shifts(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    days: i64,
) -> Result<Vec<(String, Shift)>, AppError> {
    caller.require(Scope::Viewer)?;
    let from: Timestamp = state.clock.now();
    let to = from + SignedDuration::from_hours(24 * days);
    let mut shifts = vec![];
    for schedule in state.store.schedules().await? {
        let name = schedule.name().to_owned();
        shifts.extend(
            schedule
                .shifts_for(handle, from, to)
                .into_iter()
                .map(|s| (name.clone(), s)),
        );
    }
    shifts.sort_by_key(|(_, s)| s.start);
    Ok(shifts)
}
