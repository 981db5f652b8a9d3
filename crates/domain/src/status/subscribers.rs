//! Status-page subscribers: e-mail addresses (double opt-in) and webhooks, each
//! following the whole page or chosen components and groups, and which notices reach
//! whom.
//!
//! - An e-mail subscriber gets nothing until the address confirmed it (the link in the
//!   confirmation mail); a webhook, added by an admin, is confirmed when added.
//! - A subscriber to a group follows the components in it at the time of each notice,
//!   so components added to the group later are followed too.
//! - A notice that names no components is about the whole page and reaches everyone.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Component;
use crate::{ComponentId, DomainError, SubscriberId};

/// The longest e-mail address (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL: usize = 254;
/// The longest webhook URL.
pub const MAX_URL: usize = 2_000;
/// The most components and groups one subscription names.
pub const MAX_SCOPE: usize = 100;

/// How a subscriber is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberKind {
    Email,
    Webhook,
}

impl SubscriberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(Self::Email),
            "webhook" => Some(Self::Webhook),
            _ => None,
        }
    }
}

/// A subscriber as admins see it. The address is never shown on the public page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Subscriber {
    pub id: SubscriberId,
    pub kind: SubscriberKind,
    /// The e-mail address, or the webhook's URL.
    pub address: String,
    /// The components and groups followed; `null`: the whole page.
    pub components: Option<Vec<ComponentId>>,
    /// When the address confirmed (webhooks: when added); `null` while it has not.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl Subscriber {
    pub fn confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// `POST /api/v1/subscribers` (admins): one of `email` and `webhook`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriber {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// An http(s) URL; deliveries are signed with a secret shown once, in the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// The components and groups to follow; left out: the whole page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<ComponentId>>,
    /// For an e-mail address: subscribe it at once instead of mailing it a link to
    /// confirm (only when the address asked for it some other way).
    #[serde(default)]
    pub confirmed: bool,
}

/// The answer to adding a subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AddedSubscriber {
    pub subscriber: Subscriber,
    /// A webhook's signing secret, shown this once: deliveries carry
    /// `X-Klaxon-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
    pub signing_secret: Option<String>,
}

/// A subscription checked field by field: what the store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberFields {
    pub kind: SubscriberKind,
    pub address: String,
    pub components: Option<Vec<ComponentId>>,
}

impl SubscriberFields {
    /// The address as it is compared: an e-mail address in lower case, a URL as given.
    pub fn address_key(&self) -> String {
        match self.kind {
            SubscriberKind::Email => self.address.to_lowercase(),
            SubscriberKind::Webhook => self.address.clone(),
        }
    }
}

impl NewSubscriber {
    pub fn validated(&self) -> Result<SubscriberFields, DomainError> {
        let (kind, address) = match (&self.email, &self.webhook) {
            (Some(email), None) => (SubscriberKind::Email, email_address(email)?),
            (None, Some(url)) => (SubscriberKind::Webhook, webhook_url(url)?),
            _ => {
                return Err(DomainError::invalid(
                    "email",
                    "give either an e-mail address (email) or a webhook URL (webhook)",
                ))
            }
        };
        Ok(SubscriberFields {
            kind,
            address,
            components: scope(self.components.clone())?,
        })
    }
}

/// Checks a subscription's components: `None` is the whole page; a list is 1 to
/// [`MAX_SCOPE`] ids, repeats dropped.
pub fn scope(
    components: Option<Vec<ComponentId>>,
) -> Result<Option<Vec<ComponentId>>, DomainError> {
    let Some(mut ids) = components else {
        return Ok(None);
    };
    if ids.is_empty() {
        return Err(DomainError::invalid(
            "components",
            "name at least one component, or leave components out to follow the whole page",
        ));
    }
    if ids.len() > MAX_SCOPE {
        return Err(DomainError::TooLarge(format!(
            "components: at most {MAX_SCOPE} components may be followed at once"
        )));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

/// An e-mail address as subscribers give it, trimmed, its domain in lower case:
/// `local@domain.tld`, at most [`MAX_EMAIL`] characters, no spaces, quotes, brackets or
/// control characters, a domain of dot-separated labels of letters, digits and hyphens.
pub fn email_address(text: &str) -> Result<String, DomainError> {
    let text = text.trim();
    let refuse = |why: &str| {
        DomainError::invalid(
            "email",
            format!("'{}' is not an e-mail address: {why}", shorten(text)),
        )
    };
    if text.is_empty() {
        return Err(DomainError::invalid("email", "give an e-mail address"));
    }
    if text.chars().count() > MAX_EMAIL {
        return Err(DomainError::TooLarge(format!(
            "email: an e-mail address is at most {MAX_EMAIL} characters"
        )));
    }
    let Some((local, domain)) = text.rsplit_once('@') else {
        return Err(refuse("it has no @"));
    };
    let forbidden = |c: char| {
        c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"@".contains(c) || !c.is_ascii()
    };
    if local.is_empty() || local.len() > 64 || local.chars().any(forbidden) {
        return Err(refuse(
            "the part before the @ is empty, too long or holds characters an address cannot",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(refuse("the part before the @ has a misplaced dot"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(refuse(
            "the part after the @ is not a domain such as example.com",
        ));
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// A webhook URL: `http://` or `https://`, a host, at most [`MAX_URL`] characters,
/// no spaces or control characters.
pub fn webhook_url(text: &str) -> Result<String, DomainError> {
    let text = text.trim();
    if text.chars().count() > MAX_URL {
        return Err(DomainError::TooLarge(format!(
            "webhook: a webhook URL is at most {MAX_URL} characters"
        )));
    }
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let host = rest
        .and_then(|r| r.split(['/', '?', '#']).next())
        .map(|authority| authority.rsplit('@').next().unwrap_or(authority))
        .unwrap_or("");
    if rest.is_none() || host.is_empty() || host.starts_with(':') {
        return Err(DomainError::invalid(
            "webhook",
            format!(
                "'{}' is not an http(s) URL; give one such as https://example.com/hooks/status",
                shorten(text)
            ),
        ));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::invalid(
            "webhook",
            "a webhook URL holds no spaces or control characters",
        ));
    }
    Ok(text.to_owned())
}

/// At most 60 characters of what someone typed, for a message.
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// Whether a notice about `about` (empty: the whole page) reaches a subscriber following
/// `follows` (`None`: the whole page). A subscriber follows a component when they named
/// it, or its group (as the group is now); a notice about a group is about each of its
/// components.
pub fn reaches(
    follows: Option<&[ComponentId]>,
    about: &[ComponentId],
    components: &[Component],
) -> bool {
    let Some(follows) = follows else {
        return true;
    };
    if about.is_empty() {
        return true;
    }
    let group_of = |id: ComponentId| components.iter().find(|c| c.id == id)?.group_id;
    about.iter().any(|&id| {
        follows.contains(&id)
            || group_of(id).is_some_and(|g| follows.contains(&g))
            || components
                .iter()
                .any(|c| c.group_id == Some(id) && follows.contains(&c.id))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::component::tests::component;

    #[test]
    fn addresses_are_checked_and_tidied() {
        assert_eq!(
            email_address(" Ana@Example.COM ").unwrap(),
            "Ana@example.com"
        );
        assert_eq!(
            email_address("a.b+tag@mail.example.co.uk").unwrap(),
            "a.b+tag@mail.example.co.uk"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@exa mple.com",
            "ana b@example.com",
            "<ana@example.com>",
            "ana@-example.com",
            "ana..b@example.com",
            "ana@example..com",
            "ana\n@example.com",
        ] {
            assert!(email_address(bad).is_err(), "{bad:?} passed");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(matches!(
            email_address(&long),
            Err(DomainError::TooLarge(_))
        ));
    }

    #[test]
    fn webhooks_must_be_http() {
        assert!(webhook_url("https://hooks.example.com/status").is_ok());
        assert!(webhook_url("HTTP://127.0.0.1:8080/x").is_ok());
        for bad in [
            "ftp://example.com/x",
            "javascript:alert(1)",
            "example.com/hook",
            "https://",
            "https:///path",
            "https://exa mple.com/",
            "file:///etc/passwd",
        ] {
            assert!(webhook_url(bad).is_err(), "{bad:?} passed");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL));
        assert!(matches!(webhook_url(&long), Err(DomainError::TooLarge(_))));
    }

    #[test]
    fn a_subscription_is_one_kind_and_a_sensible_scope() {
        let both = NewSubscriber {
            email: Some("a@example.com".into()),
            webhook: Some("https://example.com".into()),
            ..Default::default()
        };
        assert!(both.validated().is_err());
        assert!(NewSubscriber::default().validated().is_err());
        let none = NewSubscriber {
            email: Some("a@example.com".into()),
            components: Some(vec![]),
            ..Default::default()
        };
        assert!(none.validated().is_err());
        let repeated = NewSubscriber {
            email: Some("a@example.com".into()),
            components: Some(vec![ComponentId(3), ComponentId(1), ComponentId(3)]),
            ..Default::default()
        };
        assert_eq!(
            repeated.validated().unwrap().components,
            Some(vec![ComponentId(1), ComponentId(3)])
        );
    }

    #[test]
    fn notices_reach_the_whole_page_the_component_and_its_group() {
        let all = vec![
            component(1, "Core", true, None),
            component(2, "API", false, Some(1)),
            component(3, "Web", false, Some(1)),
            component(4, "Billing", false, None),
        ];
        let api = [ComponentId(2)];
        assert!(reaches(None, &api, &all));
        assert!(reaches(Some(&[ComponentId(2)]), &api, &all));
        assert!(reaches(Some(&[ComponentId(1)]), &api, &all), "by its group");
        assert!(!reaches(Some(&[ComponentId(3)]), &api, &all));
        assert!(!reaches(Some(&[ComponentId(4)]), &api, &all));
        assert!(
            reaches(Some(&[ComponentId(4)]), &[], &all),
            "a page-wide notice"
        );
        assert!(
            reaches(Some(&[ComponentId(3)]), &[ComponentId(1)], &all),
            "a notice about the group"
        );
        assert!(
            !reaches(Some(&[]), &api, &all),
            "every component followed is gone"
        );
    }
}
