//! Incident slugs: `incident-YYYYMMDD-brief-description`, usable as a Slack channel
//! name (lower-case letters, digits and `-`, at most 80 characters).

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The longest slug, Slack's channel-name limit less room for a `-1234` suffix.
const MAX_LEN: usize = 72;

/// The slug for an incident with `title` declared at `at`, before any suffix that makes
/// it unique. The date is the declaration's date in `tz`.
pub fn slug_base(title: &str, at: Timestamp, tz: &TimeZone) -> String {
    let date = at.to_zoned(tz.clone()).strftime("%Y%m%d").to_string();
    let mut slug = format!("incident-{date}");
    let mut words = String::new();
    let mut pending_dash = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !words.is_empty() {
                words.push('-');
            }
            pending_dash = false;
            words.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    }
    for word in words.split('-') {
        if slug.len() + 1 + word.len() > MAX_LEN {
            break;
        }
        slug.push('-');
        slug.push_str(word);
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_runbook_form() {
        let at: Timestamp = "2025-10-21T10:15:00Z".parse().unwrap();
        assert_eq!(
            slug_base("API down!", at, &TimeZone::UTC),
            "incident-20251021-api-down"
        );
        assert_eq!(
            slug_base("  Login: 502s / EU ", at, &TimeZone::UTC),
            "incident-20251021-login-502s-eu"
        );
        assert_eq!(
            slug_base("ÜBER", at, &TimeZone::UTC),
            "incident-20251021-ber"
        );
        let long = slug_base(&"word ".repeat(40), at, &TimeZone::UTC);
        assert!(long.len() <= MAX_LEN && !long.ends_with('-'), "{long}");
    }
}
