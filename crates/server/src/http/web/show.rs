//! How pages show times and incidents: ages ("12 minutes"), deadlines ("in 4 minutes", red once
//! past), and an incident as a row of the board.

use jiff::Timestamp;
use klaxon_domain::incident::{IncidentView, Role};
use klaxon_domain::time::human_duration;

/// `t` as an age at `now`: `12 minutes`, `3 h 5 min`.
pub fn ago(now: Timestamp, t: Timestamp) -> String {
    human_duration(now.duration_since(t).as_secs().max(0))
}

/// `t` as an instant for people, in UTC to the minute.
pub fn instant(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A deadline as the board shows it.
pub struct Deadline {
    /// `in 4 minutes` or `6 minutes ago`.
    pub text: String,
    /// When it is, for the `title` of the text.
    pub at: String,
    pub missed: bool,
}

impl Deadline {
    pub fn new(now: Timestamp, due: Timestamp, missed: bool) -> Deadline {
        let text = if due >= now {
            format!("in {}", human_duration(due.duration_since(now).as_secs()))
        } else {
            format!("{} ago", human_duration(now.duration_since(due).as_secs()))
        };
        Deadline {
            text,
            at: instant(due),
            missed,
        }
    }
}

/// One incident on the board.
pub struct IncidentRow {
    pub number: i64,
    pub title: String,
    pub severity: String,
    pub severity_level: u8,
    pub status: String,
    pub age: String,
    pub commander: String,
    /// The acknowledgement target, while it matters (until acknowledged, or missed).
    pub response: Option<Deadline>,
    pub next_update: Option<Deadline>,
    pub next_customer_update: Option<Deadline>,
    pub service: String,
    pub restricted: bool,
    pub drill: bool,
}

impl IncidentRow {
    pub fn new(v: &IncidentView, now: Timestamp) -> IncidentRow {
        let i = &v.incident;
        let response = (i.acknowledged_at.is_none() || v.response.breached)
            .then(|| Deadline::new(now, v.response.due_at, v.response.breached));
        let due = |t: Option<Timestamp>| t.map(|t| Deadline::new(now, t, t < now));
        IncidentRow {
            number: i.number.0,
            title: i.title.clone(),
            severity: i.severity.to_string(),
            severity_level: i.severity.level(),
            status: i.status.to_string(),
            age: ago(now, i.declared_at),
            commander: i
                .roles
                .holder(Role::Commander)
                .map_or_else(String::new, |h| h.to_string()),
            response,
            next_update: due(v.next_update_due_at),
            next_customer_update: due(v.next_customer_update_due_at),
            service: i.service.clone().unwrap_or_default(),
            restricted: i.restricted,
            drill: i.drill,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    #[test]
    fn deadlines_say_how_far_and_which_way() {
        let now: Timestamp = "2026-12-06T10:00:00Z".parse().unwrap();
        let soon = Deadline::new(now, now + SignedDuration::from_mins(4), false);
        assert_eq!(soon.text, "in 4 minutes");
        let late = Deadline::new(now, now - SignedDuration::from_mins(6), true);
        assert_eq!(late.text, "6 minutes ago");
        assert!(late.missed);
        assert_eq!(late.at, "2026-12-06 09:54 UTC");
    }
}
