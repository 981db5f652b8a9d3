//! Acting without a login: the single-use acknowledge and resolve links sent with pages,
//! and acting on an incident as the person a link, a key press or an SMS reply stands
//! for, with that person's role.

use jiff::SignedDuration;
use klaxon_domain::auth::{check_may_act, TokenInfo, User};
use klaxon_domain::incident::{Command, Source};
use klaxon_domain::paging::ContactMethod;
use klaxon_domain::IncidentNumber;
use klaxon_store::{ActionLink, StoreError};

use crate::app::auth::{random_hex, Caller};
use crate::app::error::AppError;
use crate::app::incidents;
use crate::infra::state::AppState;

/// A new single-use link, sent to `method`; the token is returned once and stored
/// only as a hash.
pub(crate) async fn create_link(
    state: &AppState,
    incident: klaxon_domain::IncidentNumber,
    action: &str,
    method: &ContactMethod,
) -> Result<String, StoreError> {
    let token = random_hex(24);
    let link = ActionLink {
        incident,
        action: action.to_owned(),
        handle: method.user.clone(),
        contact_method: Some(method.id),
        expires_at: state.clock.now() + LINK_LIFETIME,
    };
    state
        .store
        .create_link(&crate::app::auth::hash_token(&token), &link)
        .await?;
    Ok(token)
}

/// Where people reach this server: the configured public URL.
pub(crate) fn public_base(state: &AppState) -> String {
    state
        .public_url
        .clone()
        .unwrap_or_else(|| "http://localhost:8080".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// How long acknowledge and resolve links work.
const LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(24);

/// Acknowledges or resolves incident `n` as `user`, with the user's role; a sentence
/// for the person, or why nothing changed.
pub(crate) async fn act_for(
    state: &AppState,
    user: User,
    n: IncidentNumber,
    action: &str,
    source: Source,
) -> Result<String, AppError> {
    check_may_act(user.role).map_err(AppError::forbidden)?;
    let token = TokenInfo {
        id: klaxon_domain::TokenId(0),
        name: "action link".into(),
        scope: user.role,
        user: user.handle.clone(),
        created_at: user.created_at,
        revoked_at: None,
    };
    let caller = Caller::new(user, token, source);
    let (command, done) = match action {
        "resolve" => (
            Command::Resolve {
                root_cause: None,
                fix: None,
                at: None,
            },
            "resolved",
        ),
        _ => (Command::Acknowledge { at: None }, "acknowledged"),
    };
    incidents::act(state, &caller, n, command).await?;
    Ok(format!("Incident {n} {done}"))
}
