#![no_main]

use http::HeaderValue;
use klaxon_ingest::{datadog, HeaderMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = datadog::parse(data, &HeaderMap::new());
    let mut form = HeaderMap::new();
    form.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let _ = datadog::parse(data, &form);
});
