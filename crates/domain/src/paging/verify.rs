//! Proving a phone number. An SMS or voice contact method may act (an SMS reply, a key
//! pressed during a page call) only once its owner has entered back a code sent to it,
//! and a number is verified by one user only. A code is six random digits, kept only as
//! a hash, good for [`CODE_LIFETIME`] and [`MAX_WRONG_CODES`] wrong tries; at most one
//! is sent to a method per [`RESEND_INTERVAL`]. The server draws, hashes and sends codes;
//! this module decides what they allow.

use std::fmt;

use jiff::{SignedDuration, Timestamp};

use super::{ContactKind, ContactMethod};
use crate::auth::{check_may_act, Scope};
use crate::{ContactMethodId, DomainError, Handle};

/// How long a code works after it was sent.
pub const CODE_LIFETIME: SignedDuration = SignedDuration::from_mins(10);
/// Wrong codes allowed before a new code is needed.
pub const MAX_WRONG_CODES: u32 = 5;
/// The least time between two codes sent to one contact method.
pub const RESEND_INTERVAL: SignedDuration = SignedDuration::from_mins(1);
/// The digits of a code.
pub const CODE_DIGITS: usize = 6;

impl ContactKind {
    /// Whether a method of this kind is verified by a code sent to it (phone numbers),
    /// rather than by a delivered test message.
    pub fn verified_by_code(self) -> bool {
        matches!(self, Self::Sms | Self::Voice)
    }
}

/// A code, as sent or as entered. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    /// The code for a random number (the server draws it): its last six digits.
    pub fn from_number(n: u32) -> Self {
        Self(format!("{:06}", n % 1_000_000))
    }

    /// A code as a person typed it: six digits, spaces and dashes ignored.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let digits: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(DomainError::invalid(
                "code",
                "give the six digits of the code Klaxon sent, e.g. 042917",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits one by one, for a voice to read: "0, 4, 2, 9, 1, 7".
    pub fn spoken(&self) -> String {
        let digits: Vec<String> = self.0.chars().map(String::from).collect();
        digits.join(", ")
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code([redacted])")
    }
}

/// What is sent to the number: an SMS to read, or words for a call to say.
pub fn code_message(kind: ContactKind, code: &Code) -> String {
    let minutes = CODE_LIFETIME.as_mins();
    match kind {
        ContactKind::Voice => format!(
            "This is Klaxon. Your verification code is {}. It expires in {minutes} minutes.",
            code.spoken()
        ),
        _ => format!(
            "Your Klaxon verification code is {}. It expires in {minutes} minutes. \
             If you did not ask for it, ignore this message.",
            code.as_str()
        ),
    }
}

/// A code sent to a contact method, as kept: its hash (never the code), when it was
/// sent, and how many tries were made at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCode {
    pub hash: String,
    pub sent_at: Timestamp,
    pub tries: u32,
}

impl SentCode {
    pub fn new(hash: String, sent_at: Timestamp) -> Self {
        Self {
            hash,
            sent_at,
            tries: 0,
        }
    }

    pub fn expires_at(&self) -> Timestamp {
        self.sent_at + CODE_LIFETIME
    }

    /// When another code may be sent to the same method.
    pub fn resend_at(&self) -> Timestamp {
        self.sent_at + RESEND_INTERVAL
    }
}

/// A code sent at or before this instant may be replaced by a new one at `now`.
pub fn resend_cutoff(now: Timestamp) -> Timestamp {
    now - RESEND_INTERVAL
}

/// Why a code is not sent, or a code given back verifies nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "contact method {id} is {kind}; only sms and voice methods are verified with a code \
         (`klaxon user contact test` checks the others)",
        kind = kind.as_str()
    )]
    NotAPhone {
        id: ContactMethodId,
        kind: ContactKind,
    },
    #[error("contact method {id} ({number}) is verified already")]
    AlreadyVerified { id: ContactMethodId, number: String },
    #[error(
        "{number} is verified by another Klaxon user; a number can be verified by one user \
         only, so it must be removed from their contact methods first"
    )]
    TakenByAnother { number: String },
    #[error(
        "a code was sent to {number} less than a minute ago; ask for another after {retry_at}"
    )]
    TooSoon { number: String, retry_at: Timestamp },
    #[error("no code was sent to {number}; send one with `{resend}`")]
    NoCode { number: String, resend: String },
    #[error("the code sent to {number} has expired (a code works for 10 minutes); send a new one with `{resend}`")]
    Expired { number: String, resend: String },
    #[error("too many wrong codes for {number}; send a new one with `{resend}`")]
    TooManyTries { number: String, resend: String },
    #[error(
        "that is not the code sent to {number}; {left} more tries before a new code is needed"
    )]
    WrongCode { number: String, left: u32 },
}

/// The command that sends `method` a new code.
fn resend(method: &ContactMethod) -> String {
    format!("klaxon user contact verify {} {}", method.user, method.id)
}

/// Whether a code may be sent to `method`, whose number `holder` has verified (if anyone).
pub fn check_send(method: &ContactMethod, holder: Option<&Handle>) -> Result<(), VerifyError> {
    if !method.kind.verified_by_code() {
        return Err(VerifyError::NotAPhone {
            id: method.id,
            kind: method.kind,
        });
    }
    if method.verified_at.is_some() {
        return Err(VerifyError::AlreadyVerified {
            id: method.id,
            number: method.address.clone(),
        });
    }
    check_holder(method, holder)
}

/// A number is its claimant's to verify unless another user has it verified.
pub fn check_holder(method: &ContactMethod, holder: Option<&Handle>) -> Result<(), VerifyError> {
    match holder {
        Some(h) if *h != method.user => Err(VerifyError::TakenByAnother {
            number: method.address.clone(),
        }),
        _ => Ok(()),
    }
}

/// The refusal when a new code was asked for while `earlier` is too recent.
pub fn too_soon(method: &ContactMethod, earlier: &SentCode) -> VerifyError {
    VerifyError::TooSoon {
        number: method.address.clone(),
        retry_at: earlier.resend_at(),
    }
}

/// What a code given back for `method` does at `now`. `sent` is its pending code with
/// this try already counted (so concurrent guesses cannot exceed the limit), `matches`
/// whether the code given hashes to the one sent.
pub fn check_code(
    method: &ContactMethod,
    sent: Option<&SentCode>,
    matches: bool,
    now: Timestamp,
) -> Result<(), VerifyError> {
    let number = || method.address.clone();
    if method.verified_at.is_some() {
        return Err(VerifyError::AlreadyVerified {
            id: method.id,
            number: number(),
        });
    }
    let Some(sent) = sent else {
        return Err(VerifyError::NoCode {
            number: number(),
            resend: resend(method),
        });
    };
    if now >= sent.expires_at() {
        return Err(VerifyError::Expired {
            number: number(),
            resend: resend(method),
        });
    }
    // Every try counts, the right one too: after MAX_WRONG_CODES wrong ones, the next
    // is refused whatever it is.
    if sent.tries > MAX_WRONG_CODES {
        return Err(VerifyError::TooManyTries {
            number: number(),
            resend: resend(method),
        });
    }
    if !matches {
        return Err(VerifyError::WrongCode {
            number: number(),
            left: MAX_WRONG_CODES - sent.tries,
        });
    }
    Ok(())
}

/// Whether an SMS reply or a key press from `method` may act for its owner, whose role
/// is `role`: only from a verified number, and only for a role that may act. The error
/// is the answer for the person (nothing was changed).
pub fn check_phone_may_act(method: &ContactMethod, role: Scope) -> Result<(), String> {
    if !method.kind.verified_by_code() || method.verified_at.is_none() {
        return Err(
            "This number is not verified in Klaxon, so it cannot acknowledge or resolve; \
             nothing was changed. Verify it with `klaxon user contact verify` (a code is \
             sent to this number)."
                .to_owned(),
        );
    }
    check_may_act(role)
}

/// Whether a key pressed during a page call may act for `link_user`, whose role is
/// `role`: only when the call went to `called`, a verified voice method of theirs.
/// `None` when the link does not say which method it went to (links made before Klaxon
/// kept that) or the method is gone.
pub fn check_keypress_may_act(
    called: Option<&ContactMethod>,
    link_user: &Handle,
    role: Scope,
) -> Result<(), String> {
    match called {
        Some(m) if m.kind == ContactKind::Voice && m.user == *link_user => {
            check_phone_may_act(m, role)
        }
        _ => Err(
            "This call cannot acknowledge by key press; nothing was changed. Use the \
             acknowledge link of the page instead."
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(kind: ContactKind, verified: bool) -> ContactMethod {
        ContactMethod {
            id: ContactMethodId(7),
            user: Handle::parse("alice").unwrap(),
            kind,
            address: "+15551110001".into(),
            label: None,
            verified,
            verified_at: verified.then_some(Timestamp::UNIX_EPOCH),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn at(mins: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_mins(mins)
    }

    fn sent(tries: u32) -> SentCode {
        SentCode {
            hash: "h".into(),
            sent_at: at(0),
            tries,
        }
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(Code::from_number(42).as_str(), "000042");
        assert_eq!(Code::from_number(1_234_567).as_str(), "234567");
        assert_eq!(Code::parse(" 042 917 ").unwrap().as_str(), "042917");
        assert_eq!(Code::parse("042-917").unwrap().as_str(), "042917");
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
            assert!(Code::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Code::from_number(42).spoken(), "0, 0, 0, 0, 4, 2");
        assert_eq!(format!("{:?}", Code::from_number(42)), "Code([redacted])");
    }

    #[test]
    fn the_code_is_sent_as_text_or_read_digit_by_digit() {
        let code = Code::from_number(42917);
        assert!(code_message(ContactKind::Sms, &code).contains("042917"));
        let spoken = code_message(ContactKind::Voice, &code);
        assert!(spoken.contains("0, 4, 2, 9, 1, 7"), "{spoken}");
        assert!(spoken.contains("10 minutes"), "{spoken}");
    }

    #[test]
    fn only_unverified_phone_numbers_get_codes() {
        assert!(check_send(&method(ContactKind::Sms, false), None).is_ok());
        assert!(check_send(&method(ContactKind::Voice, false), None).is_ok());
        assert!(matches!(
            check_send(&method(ContactKind::Email, false), None),
            Err(VerifyError::NotAPhone { .. })
        ));
        assert!(matches!(
            check_send(&method(ContactKind::Sms, true), None),
            Err(VerifyError::AlreadyVerified { .. })
        ));
    }

    #[test]
    fn a_number_is_verified_by_one_user_only() {
        let alice = Handle::parse("alice").unwrap();
        let bob = Handle::parse("bob").unwrap();
        let m = method(ContactKind::Sms, false);
        assert!(check_send(&m, Some(&alice)).is_ok(), "her own voice method");
        let refused = check_send(&m, Some(&bob)).unwrap_err();
        assert!(matches!(refused, VerifyError::TakenByAnother { .. }));
        assert!(
            !refused.to_string().contains("bob"),
            "the refusal does not say who: {refused}"
        );
        assert!(check_holder(&m, None).is_ok());
    }

    #[test]
    fn one_code_a_minute() {
        assert_eq!(resend_cutoff(at(5)), at(4));
        let e = too_soon(&method(ContactKind::Sms, false), &sent(0));
        assert_eq!(
            e,
            VerifyError::TooSoon {
                number: "+15551110001".into(),
                retry_at: at(1)
            }
        );
    }

    #[test]
    fn a_code_works_for_ten_minutes() {
        let m = method(ContactKind::Sms, false);
        assert_eq!(check_code(&m, Some(&sent(1)), true, at(9)), Ok(()));
        assert!(matches!(
            check_code(&m, Some(&sent(1)), true, at(10)),
            Err(VerifyError::Expired { .. })
        ));
        assert!(matches!(
            check_code(&m, None, true, at(0)),
            Err(VerifyError::NoCode { .. })
        ));
    }

    #[test]
    fn five_wrong_codes_and_a_new_one_is_needed() {
        let m = method(ContactKind::Voice, false);
        for tries in 1..=MAX_WRONG_CODES {
            assert_eq!(
                check_code(&m, Some(&sent(tries)), false, at(1)),
                Err(VerifyError::WrongCode {
                    number: m.address.clone(),
                    left: MAX_WRONG_CODES - tries
                })
            );
        }
        assert_eq!(
            check_code(&m, Some(&sent(MAX_WRONG_CODES)), true, at(1)),
            Ok(()),
            "the right code after four wrong ones"
        );
        let e = check_code(&m, Some(&sent(MAX_WRONG_CODES + 1)), true, at(1)).unwrap_err();
        assert!(matches!(e, VerifyError::TooManyTries { .. }), "{e:?}");
        assert!(
            e.to_string().contains("klaxon user contact verify alice 7"),
            "{e}"
        );
    }

    #[test]
    fn only_verified_numbers_act_and_with_the_owners_role() {
        let sms = method(ContactKind::Sms, true);
        assert!(check_phone_may_act(&sms, Scope::Responder).is_ok());
        assert!(check_phone_may_act(&method(ContactKind::Voice, true), Scope::Admin).is_ok());
        let unverified = check_phone_may_act(&method(ContactKind::Sms, false), Scope::Admin);
        assert!(unverified.unwrap_err().contains("not verified"));
        let viewer = check_phone_may_act(&sms, Scope::Viewer).unwrap_err();
        assert!(viewer.contains("viewers cannot"), "{viewer}");
        let email = check_phone_may_act(&method(ContactKind::Email, true), Scope::Admin);
        assert!(email.is_err(), "a verified e-mail address is not a phone");
    }

    #[test]
    fn a_key_press_acts_only_from_the_users_verified_voice_method() {
        let alice = Handle::parse("alice").unwrap();
        let voice = method(ContactKind::Voice, true);
        assert!(check_keypress_may_act(Some(&voice), &alice, Scope::Responder).is_ok());
        let viewer = check_keypress_may_act(Some(&voice), &alice, Scope::Viewer);
        assert!(viewer.unwrap_err().contains("viewers cannot"));
        let unverified = method(ContactKind::Voice, false);
        let refused = check_keypress_may_act(Some(&unverified), &alice, Scope::Admin);
        assert!(refused.unwrap_err().contains("not verified"));
        let bob = Handle::parse("bob").unwrap();
        assert!(check_keypress_may_act(Some(&voice), &bob, Scope::Admin).is_err());
        let sms = method(ContactKind::Sms, true);
        assert!(check_keypress_may_act(Some(&sms), &alice, Scope::Admin).is_err());
        assert!(check_keypress_may_act(None, &alice, Scope::Admin).is_err());
    }
}
