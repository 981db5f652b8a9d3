#![no_main]

use klaxon_ingest::alertmanager::Grouping;
use klaxon_ingest::{grafana, HeaderMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = grafana::parse(data, &HeaderMap::new(), Grouping::PerAlert);
    let _ = grafana::parse(data, &HeaderMap::new(), Grouping::PerGroup);
});
