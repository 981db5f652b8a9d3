#![no_main]

use http::HeaderValue;
use klaxon_ingest::{generic, HeaderMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = generic::parse(data, &HeaderMap::new(), None);
    let mut form = HeaderMap::new();
    form.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let _ = generic::parse(data, &form, None);
    if let Ok(query) = std::str::from_utf8(data) {
        let _ = generic::parse(b"", &HeaderMap::new(), Some(query));
    }
});
