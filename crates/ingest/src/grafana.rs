//! Grafana alerting's webhook contact point, `POST /ingest/grafana/{key}`.
//!
//! Contract: Grafana sends the Alertmanager body (see [`crate::alertmanager`], whose
//! mapping applies unchanged, including [`Grouping`]) plus `orgId`, `title`, `state`
//! (`alerting` | `ok`) and `message`, and per alert `silenceURL`, `dashboardURL`,
//! `panelURL`, `values`, `valueString` and `imageURL`. Here:
//!
//! - `silenceURL`, `dashboardURL`, `panelURL` become links after `generatorURL` (the
//!   alert rule) and the `runbook_url` annotation; `externalURL` is Grafana's own;
//! - `imageURL` becomes an image;
//! - `values`, `valueString` and the notification's `title`, `message`, `state` and
//!   `orgId` join the details (`details.values`, `details.valueString`,
//!   `details.grafana`);
//! - the summary falls back to the notification's `title` before the fingerprint.
//!
//! Legacy (pre-8) Grafana alert bodies (`ruleId`, `evalMatches`, no `alerts`) are
//! refused with a message saying so.
//!
//! Signatures: [`verify_grafana_signature`].

use http::HeaderMap;
use klaxon_domain::alert::{AlertEvent, AlertImage, AlertLink};
use serde_json::{json, Map, Value};

use crate::alertmanager::{events, Flavour, Grouping};
use crate::json::{self, get_text};
use crate::signature::verify_hex;
use crate::text::header;
use crate::{IngestError, Parsed, SignatureError};

/// The signature headers, in the order they are looked for: Grafana's current name,
/// then the one some versions send.
pub const SIGNATURE_HEADERS: [&str; 2] =
    ["X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature"];

/// The timestamp headers, in the order they are looked for. Grafana lets the user name
/// the header; Klaxon documents `X-Grafana-Alerting-Signature-Timestamp` and also
/// accepts `X-Grafana-Alerting-Timestamp`, the name Grafana's own examples use.
pub const TIMESTAMP_HEADERS: [&str; 2] = [
    "X-Grafana-Alerting-Signature-Timestamp",
    "X-Grafana-Alerting-Timestamp",
];

/// A Grafana webhook body: `Parsed::Alerts` with `key: None` and one event per alert.
pub fn parse(body: &[u8], _headers: &HeaderMap, grouping: Grouping) -> Result<Parsed, IngestError> {
    let root = json::object(body)?;
    if !root.contains_key("alerts")
        && (root.contains_key("ruleId") || root.contains_key("evalMatches"))
    {
        return Err(IngestError::new(
            "alerts is missing: this is a legacy Grafana alert body (ruleId, evalMatches); use Grafana alerting (8 or later) with a webhook contact point",
        ));
    }
    let grafana = json!({
        "title": root.get("title"),
        "message": root.get("message"),
        "state": root.get("state"),
        "orgId": root.get("orgId"),
    });
    let extra = |alert: &Map<String, Value>, event: &mut AlertEvent| {
        for (field, text) in [
            ("silenceURL", "Silence"),
            ("dashboardURL", "Dashboard"),
            ("panelURL", "Panel"),
        ] {
            if let Some(href) = get_text(alert, field) {
                event.links.push(AlertLink {
                    href,
                    text: Some(text.to_owned()),
                });
            }
        }
        if let Some(src) = get_text(alert, "imageURL") {
            event.images.push(AlertImage {
                src,
                href: None,
                alt: None,
            });
        }
        if let Value::Object(details) = &mut event.details {
            details.insert(
                "values".into(),
                alert.get("values").cloned().unwrap_or(Value::Null),
            );
            details.insert(
                "valueString".into(),
                alert.get("valueString").cloned().unwrap_or(Value::Null),
            );
            details.insert("grafana".into(), grafana.clone());
        }
    };
    let flavour = Flavour {
        client: "Grafana",
        generator_text: "Alert rule",
        external_text: "Grafana",
    };
    let events = events(&root, grouping, &flavour, &extra)?;
    Ok(Parsed::Alerts { key: None, events })
}

/// Checks Grafana's optional HMAC-SHA256 signature: the hex digest, keyed by the
/// integration's secret, in `X-Grafana-Alerting-Signature` (or `X-Grafana-Alert-Signature`),
/// of the raw body — or, when a timestamp header ([`TIMESTAMP_HEADERS`]) is present, of
/// `"<timestamp>:" + body`. Constant-time. Call it only when the integration has a
/// secret; the age of the timestamp is the caller's to judge (this crate has no clock).
pub fn verify_grafana_signature(
    secret: &[u8],
    body: &[u8],
    headers: &HeaderMap,
) -> Result<(), SignatureError> {
    let Some((name, signature)) = SIGNATURE_HEADERS
        .iter()
        .find_map(|name| Some((*name, header(headers, name)?)))
    else {
        return Err(SignatureError::Missing {
            header: SIGNATURE_HEADERS[0],
        });
    };
    match TIMESTAMP_HEADERS
        .iter()
        .find_map(|name| header(headers, name))
    {
        Some(ts) => verify_hex(secret, &[ts.as_bytes(), b":", body], signature, name),
        None => verify_hex(secret, &[body], signature, name),
    }
}
