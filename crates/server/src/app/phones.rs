//! Verifying phone numbers: a code sent to an SMS or voice contact method (by SMS, or by
//! a call that reads it) and entered back. The domain's `paging::verify` decides; this
//! draws the code, keeps only its salted hash, sends it through the Twilio channels and
//! records the outcome. The owner of the method (responder or admin) or an admin may do it.

use klaxon_domain::auth::Scope;
use klaxon_domain::paging::api::CodeSent;
use klaxon_domain::paging::verify::{self, Code, SentCode, VerifyError};
use klaxon_domain::paging::ContactMethod;
use klaxon_domain::{ContactMethodId, Handle};
use klaxon_notify::Message;
use klaxon_store::StoreError;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::app::auth::{random_hex, Caller};
use crate::app::error::{AppError, ErrorKind};
use crate::infra::state::AppState;

/// Sends a new code to contact method `id` of `handle`.
#[tracing::instrument(skip_all, fields(user = %handle, method = id.0))]
pub async fn send_code(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    id: ContactMethodId,
) -> Result<CodeSent, AppError> {
    let method = verifiable(state, caller, handle, id).await?;
    let holder = state.store.number_verified_by(&method.address).await?;
    verify::check_send(&method, holder.as_ref())?;
    let now = state.clock.now();
    let code = Code::from_number(rand::rng().random_range(0..1_000_000));
    let sent = SentCode::new(hash_code(&code), now);
    let cutoff = verify::resend_cutoff(now);
    if let Some(earlier) = state.store.save_contact_code(id, &sent, cutoff).await? {
        return Err(verify::too_soon(&method, &earlier).into());
    }
    if let Err(error) = deliver_code(state, &method, &code, now).await {
        // Not sent: forget it, so that another may be asked for at once.
        state.store.drop_contact_code(id).await?;
        tracing::warn!(error, "verification code not sent");
        return Err(AppError::new(
            ErrorKind::Unavailable,
            format!(
                "the code could not be sent to {}: {error}. Nothing was changed; try again",
                method.address
            ),
        ));
    }
    tracing::info!(kind = method.kind.as_str(), "verification code sent");
    Ok(CodeSent {
        contact_method: id,
        address: method.address,
        expires_at: sent.expires_at(),
        resend_at: sent.resend_at(),
    })
}

/// Checks a code given back for contact method `id` of `handle`; the method, verified.
#[tracing::instrument(skip_all, fields(user = %handle, method = id.0))]
pub async fn confirm_code(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    id: ContactMethodId,
    code: &str,
) -> Result<ContactMethod, AppError> {
    let method = verifiable(state, caller, handle, id).await?;
    if !method.kind.verified_by_code() {
        return Err(VerifyError::NotAPhone {
            id,
            kind: method.kind,
        }
        .into());
    }
    let code = Code::parse(code)?;
    // The try is counted before the code is compared, so guesses sent at once each
    // use up one of the tries.
    let sent = match method.verified_at {
        Some(_) => None,
        None => state.store.try_contact_code(id).await?,
    };
    let matches = sent.as_ref().is_some_and(|s| code_matches(&s.hash, &code));
    verify::check_code(&method, sent.as_ref(), matches, state.clock.now())?;
    match state.store.verify_number(id, state.clock.now()).await {
        Ok(verified) => {
            tracing::info!(kind = verified.kind.as_str(), "number verified");
            Ok(verified)
        }
        Err(StoreError::Duplicate { .. }) => Err(VerifyError::TakenByAnother {
            number: method.address,
        }
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// Contact method `id`, if it is `handle`'s and the caller may verify it: its owner
/// (a responder or admin) or an admin.
async fn verifiable(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    id: ContactMethodId,
) -> Result<ContactMethod, AppError> {
    if caller.user.handle == *handle {
        caller.require(Scope::Responder).map_err(|_| {
            AppError::forbidden(format!(
                "{handle} is a viewer, and viewers cannot verify numbers (a verified number \
                 acknowledges and resolves); an admin can raise the role: \
                 `klaxon user update {handle} --role responder`"
            ))
        })?;
    } else {
        caller.require(Scope::Admin).map_err(|_| {
            AppError::forbidden(format!(
                "only {handle} and admins may verify {handle}'s numbers"
            ))
        })?;
    }
    let missing = || {
        AppError::not_found(format!(
            "{handle} has no contact method {id}; see `klaxon user contact list {handle}`"
        ))
    };
    match state.store.contact_method(id).await {
        Ok(m) if m.user == *handle => Ok(m),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

/// Sends the code: a text to an SMS method, a call that reads it to a voice method.
async fn deliver_code(
    state: &AppState,
    method: &ContactMethod,
    code: &Code,
    now: jiff::Timestamp,
) -> Result<(), String> {
    let (channel, to) = state
        .channels
        .route(method)
        .map_err(|e| e.message().to_owned())?;
    let message = Message {
        subject: verify::code_message(method.kind, code),
        text: String::new(),
        markdown: None,
        links: vec![],
        idempotency_key: format!("verify-{}-{}", method.id, now.as_millisecond()),
        thread: None,
        event: "contact.verify".into(),
        payload: None,
        voice_ack_url: None,
    };
    channel
        .deliver(&to, &message)
        .await
        .map(|_| ())
        .map_err(|e| e.message().to_owned())
}

/// What is kept of a code: a random salt and the SHA-256 of salt and code. Six digits
/// are few, so the hash alone would not hide a code from someone who reads the database;
/// it keeps codes out of backups and logs, and each works for minutes only.
fn hash_code(code: &Code) -> String {
    let salt = random_hex(16);
    format!("{salt}${}", salted(&salt, code))
}

fn salted(salt: &str, code: &Code) -> String {
    hex::encode(Sha256::digest(format!("{salt}:{}", code.as_str())))
}

/// Whether `code` is the one `stored` was made from, compared in constant time.
fn code_matches(stored: &str, code: &Code) -> bool {
    let Some((salt, hash)) = stored.split_once('$') else {
        return false;
    };
    let given = salted(salt, code);
    given.len() == hash.len()
        && given
            .bytes()
            .zip(hash.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kept_salted_and_checked() {
        let code = Code::from_number(42917);
        let stored = hash_code(&code);
        assert!(!stored.contains("042917"));
        assert_ne!(stored, hash_code(&code), "a new salt each time");
        assert!(code_matches(&stored, &code));
        assert!(!code_matches(&stored, &Code::from_number(42918)));
        assert!(!code_matches("garbage", &code));
    }
}
