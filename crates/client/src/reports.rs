//! Reports across incidents.

use klaxon_domain::metrics::Report;

use crate::paging::segment;
use crate::{Client, ClientError};

/// What a report covers; `None` leaves a filter to the server's default.
#[derive(Debug, Default, Clone)]
pub struct ReportWindow {
    /// An instant (RFC 3339) or a time ago (`30d`).
    pub since: Option<String>,
    pub until: Option<String>,
    pub service: Option<String>,
    pub severity: Option<String>,
}

impl Client {
    pub async fn report(&self, window: &ReportWindow) -> Result<Report, ClientError> {
        let mut path = "/reports?".to_owned();
        for (name, value) in [
            ("since", &window.since),
            ("until", &window.until),
            ("service", &window.service),
            ("severity", &window.severity),
        ] {
            if let Some(v) = value {
                path.push_str(&format!("{name}={}&", segment(v)));
            }
        }
        self.get(path.trim_end_matches(['?', '&'])).await
    }
}
