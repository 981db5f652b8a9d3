#![no_main]

use http::HeaderValue;
use klaxon_ingest::{grafana, sentry, HeaderMap};
use libfuzzer_sys::fuzz_target;

// The first line of the input is the signature header's value, the rest the body.
fuzz_target!(|data: &[u8]| {
    let (signature, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(signature) {
        headers.insert("x-grafana-alerting-signature", value.clone());
        headers.insert("sentry-hook-signature", value);
    }
    let _ = grafana::verify_grafana_signature(b"secret", body, &headers);
    let _ = sentry::verify_sentry_signature(b"secret", body, &headers);
});
