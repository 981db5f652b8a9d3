#![no_main]

use klaxon_ingest::alertmanager::Grouping;
use klaxon_ingest::{alertmanager, HeaderMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = alertmanager::parse(data, &HeaderMap::new(), Grouping::PerAlert);
    let _ = alertmanager::parse(data, &HeaderMap::new(), Grouping::PerGroup);
});
