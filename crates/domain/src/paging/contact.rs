//! Contact methods and notification rules: where a person is reached, and how soon after
//! being paged each method is used, separately for high and low urgency.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Urgency;
use crate::{ContactMethodId, DomainError, Handle, NotificationRuleId};

/// How a contact method reaches its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactKind {
    Email,
    Sms,
    Voice,
    Slack,
    Webhook,
}

impl ContactKind {
    pub const ALL: [Self; 5] = [
        Self::Email,
        Self::Sms,
        Self::Voice,
        Self::Slack,
        Self::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Voice => "voice",
            Self::Slack => "slack",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                DomainError::invalid(
                    "kind",
                    format!(
                        "'{text}' is not a contact method; use email, sms, voice, slack or webhook"
                    ),
                )
            })
    }

    /// Whether this method may wake someone at night: low-urgency pages skip it.
    pub fn interrupts(self) -> bool {
        matches!(self, Self::Sms | Self::Voice)
    }
}

/// A contact method as given by a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContactMethod {
    pub kind: ContactKind,
    /// An e-mail address, an E.164 phone number (`+15551234567`), a Slack member id
    /// (`U024BE7LH`) or an https URL.
    pub address: String,
    #[serde(default)]
    pub label: Option<String>,
}

impl NewContactMethod {
    /// The method with its address normalised, or the rule it breaks.
    pub fn validated(mut self) -> Result<Self, DomainError> {
        self.address = self.address.trim().to_owned();
        let a = &self.address;
        let ok = match self.kind {
            ContactKind::Email => is_email(a),
            ContactKind::Sms | ContactKind::Voice => is_e164(a),
            ContactKind::Slack => is_slack_member(a),
            ContactKind::Webhook => is_url(a),
        };
        if !ok {
            let expected = match self.kind {
                ContactKind::Email => "an e-mail address such as alice@example.com",
                ContactKind::Sms | ContactKind::Voice => {
                    "a phone number in E.164 form: '+', the country code and the number, no spaces (+15551234567)"
                }
                ContactKind::Slack => "a Slack member id such as U024BE7LH (profile → ⋮ → Copy member ID)",
                ContactKind::Webhook => "an http:// or https:// URL",
            };
            return Err(DomainError::invalid(
                "address",
                format!("'{a}' is not {expected}"),
            ));
        }
        if let Some(label) = &self.label {
            if label.chars().count() > 64 {
                return Err(DomainError::invalid("label", "use at most 64 characters"));
            }
        }
        Ok(self)
    }
}

/// A stored contact method of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactMethod {
    pub id: ContactMethodId,
    pub user: Handle,
    pub kind: ContactKind,
    pub address: String,
    pub label: Option<String>,
    /// Whether the method is verified: for `sms` and `voice`, its owner entered back a
    /// code sent to the number (only then may it acknowledge or resolve by reply or key
    /// press); for the others, a test message to it was delivered.
    pub verified: bool,
    /// When it was verified.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verified_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// The longest delay a notification rule may have.
pub const MAX_RULE_DELAY_MINUTES: u32 = 24 * 60;

/// A notification rule as given: use `contact_method` this many minutes after a page of
/// this urgency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotificationRule {
    pub urgency: Urgency,
    pub contact_method: ContactMethodId,
    #[serde(default)]
    pub delay_minutes: u32,
}

impl NewNotificationRule {
    pub fn validated(self) -> Result<Self, DomainError> {
        if self.delay_minutes > MAX_RULE_DELAY_MINUTES {
            return Err(DomainError::invalid(
                "delay_minutes",
                format!("use 0 to {MAX_RULE_DELAY_MINUTES} minutes"),
            ));
        }
        Ok(self)
    }
}

/// A stored notification rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationRule {
    pub id: NotificationRuleId,
    pub user: Handle,
    pub urgency: Urgency,
    pub contact_method: ContactMethodId,
    pub delay_minutes: u32,
}

fn is_e164(a: &str) -> bool {
    let Some(digits) = a.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

fn is_email(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    a.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !a.contains(char::is_whitespace)
        && !domain.contains('@')
}

fn is_slack_member(a: &str) -> bool {
    (a.starts_with('U') || a.starts_with('W'))
        && (3..=20).contains(&a.len())
        && a.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn is_url(a: &str) -> bool {
    let rest = a
        .strip_prefix("https://")
        .or_else(|| a.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && a.len() <= 2048
        && !a.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(kind: ContactKind, address: &str) -> Result<NewContactMethod, DomainError> {
        NewContactMethod {
            kind,
            address: address.into(),
            label: None,
        }
        .validated()
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(method(ContactKind::Sms, " +15551234567 ").is_ok());
        assert!(method(ContactKind::Voice, "+447700900123").is_ok());
        for bad in [
            "15551234567",
            "+1 555 123 4567",
            "+0123456789",
            "+12",
            "+1555123456789012",
            "+1555abc4567",
        ] {
            let e = method(ContactKind::Sms, bad).unwrap_err();
            assert!(e.to_string().contains("E.164"), "{bad}: {e}");
        }
    }

    #[test]
    fn other_addresses_have_their_shapes() {
        assert!(method(ContactKind::Email, "alice@example.com").is_ok());
        assert!(method(ContactKind::Email, "alice@localhost").is_err());
        assert!(method(ContactKind::Email, "al ice@example.com").is_err());
        assert!(method(ContactKind::Slack, "U024BE7LH").is_ok());
        assert!(method(ContactKind::Slack, "@alice").is_err());
        assert!(method(ContactKind::Webhook, "https://hooks.example.com/x").is_ok());
        assert!(method(ContactKind::Webhook, "ftp://x").is_err());
    }

    #[test]
    fn rules_have_bounded_delays() {
        let rule = |delay_minutes| NewNotificationRule {
            urgency: Urgency::High,
            contact_method: ContactMethodId(1),
            delay_minutes,
        };
        assert!(rule(0).validated().is_ok());
        assert!(rule(MAX_RULE_DELAY_MINUTES + 1).validated().is_err());
    }
}
