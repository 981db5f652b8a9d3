#![no_main]

use klaxon_ingest::{pagerduty, HeaderMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pagerduty::parse_event(data, &HeaderMap::new());
});
