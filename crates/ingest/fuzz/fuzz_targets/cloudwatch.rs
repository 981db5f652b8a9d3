#![no_main]

use http::HeaderValue;
use klaxon_ingest::{cloudwatch, HeaderMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cloudwatch::parse(data, &HeaderMap::new());
    for kind in ["Notification", "SubscriptionConfirmation"] {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-sns-message-type", HeaderValue::from_static(kind));
        let _ = cloudwatch::parse(data, &headers);
    }
});
