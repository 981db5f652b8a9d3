#![no_main]

use http::HeaderValue;
use klaxon_ingest::{sentry, HeaderMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for resource in ["event_alert", "metric_alert", "issue", "installation"] {
        let mut headers = HeaderMap::new();
        headers.insert("sentry-hook-resource", HeaderValue::from_static(resource));
        let _ = sentry::parse(data, &headers);
    }
});
