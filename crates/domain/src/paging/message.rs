//! What a page says. Short enough for an SMS subject and a voice call, with the facts a
//! person woken at 3 a.m. needs first: severity, number, title, service, since when.

use jiff::tz::TimeZone;

use crate::incident::Incident;
use crate::policy::Policy;

/// A page's one-line subject and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageText {
    /// `[SEV2 #42] API returning 502 errors`
    pub subject: String,
    pub text: String,
}

/// The page for `incident` under `policy`; times in the policy's time zone.
pub fn page_text(incident: &Incident, policy: &Policy) -> PageText {
    let severity = policy.severity(incident.severity);
    let subject = format!(
        "[{} {}] {}",
        incident.severity, incident.number, incident.title
    );
    let zone: &TimeZone = policy.time_zone.zone();
    let since = incident
        .declared_at
        .to_zoned(zone.clone())
        .strftime("%H:%M %Z");
    let service = incident
        .service
        .as_deref()
        .map(|s| format!(" on {s}"))
        .unwrap_or_default();
    let text = format!(
        "{} incident{service}, declared at {since}, is {}. Acknowledge to stop the escalation.",
        severity.name, incident.status
    );
    PageText { subject, text }
}
