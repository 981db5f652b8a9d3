//! Alerts in: the PagerDuty-compatible endpoints and the monitoring tools' webhooks.

pub(crate) mod pagerduty;
pub(crate) mod webhooks;
