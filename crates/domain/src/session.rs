//! Signing in to the web UI: the rules for passwords and for how long a session lasts.
//! A session is a row in the database (any replica accepts it; signing out ends it
//! everywhere), found by the hash of a random token that only the browser's cookie
//! holds. It ends when unused for [`SESSION_IDLE`] or, however busy, [`SESSION_MAX`]
//! after sign-in.

use jiff::{SignedDuration, Timestamp};

use crate::DomainError;

/// A session unused this long has ended: long enough that a responder who signed in
/// during the day can still acknowledge from a phone at 3 a.m.
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_hours(3 * 24);

/// However busy, a session ends this long after sign-in.
pub const SESSION_MAX: SignedDuration = SignedDuration::from_hours(14 * 24);

/// How stale a session's last use may be before it is written again: a page view
/// writes to the database at most this often per session.
pub const SESSION_TOUCH: SignedDuration = SignedDuration::from_mins(5);

/// The shortest password accepted.
pub const PASSWORD_MIN: usize = 10;
/// The longest password accepted (hashing a longer one costs for nothing).
pub const PASSWORD_MAX: usize = 256;

/// Refuses a password that is too short or too long, counted in characters.
pub fn check_password(password: &str) -> Result<(), DomainError> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err(DomainError::invalid(
            "password",
            format!("use at least {PASSWORD_MIN} characters; a phrase of a few words is good"),
        ));
    }
    if length > PASSWORD_MAX {
        return Err(DomainError::invalid(
            "password",
            format!("use at most {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

/// A session's times, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

impl SessionTimes {
    /// When the session ends if it is not used again.
    pub fn ends_at(&self) -> Timestamp {
        let idle = self
            .last_seen_at
            .saturating_add(SESSION_IDLE)
            .unwrap_or(Timestamp::MAX);
        let max = self
            .created_at
            .saturating_add(SESSION_MAX)
            .unwrap_or(Timestamp::MAX);
        idle.min(max)
    }

    /// Whether the session still holds at `now`.
    pub fn live_at(&self, now: Timestamp) -> bool {
        now < self.ends_at()
    }

    /// Whether a use at `now` should be written down.
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        now.duration_since(self.last_seen_at) >= SESSION_TOUCH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_hours(hours)
    }

    #[test]
    fn a_session_ends_when_idle() {
        let s = SessionTimes {
            created_at: at(0),
            last_seen_at: at(10),
        };
        assert!(s.live_at(at(10 + 71)));
        assert!(!s.live_at(at(10 + 72)));
    }

    #[test]
    fn a_busy_session_ends_at_its_maximum() {
        let s = SessionTimes {
            created_at: at(0),
            last_seen_at: at(14 * 24 - 1),
        };
        assert!(!s.live_at(at(14 * 24)));
        assert_eq!(s.ends_at(), at(14 * 24));
    }

    #[test]
    fn uses_are_written_at_most_every_few_minutes() {
        let s = SessionTimes {
            created_at: at(0),
            last_seen_at: at(1),
        };
        assert!(!s.needs_touch(at(1) + SignedDuration::from_mins(4)));
        assert!(s.needs_touch(at(1) + SignedDuration::from_mins(5)));
    }

    #[test]
    fn passwords_need_ten_to_256_characters() {
        assert!(check_password("short").is_err());
        assert!(check_password("correct horse").is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
        // Characters, not bytes.
        assert!(check_password("ééééééééé").is_err());
    }
}
