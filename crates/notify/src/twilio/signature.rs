//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + each POST parameter, sorted
//! by name, as name followed by value)).
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

fn mac(auth_token: &str, url: &str, params: &[(&str, &str)]) -> HmacSha1 {
    let mut sorted = params.to_vec();
    // Twilio's helper libraries sort by name; a repeated name keeps its values sorted.
    sorted.sort();
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a request to `url` with these form parameters.
pub fn signature(auth_token: &str, url: &str, params: &[(&str, &str)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `header` (the `X-Twilio-Signature` value) signs this request. `url` must be
/// exactly the URL Twilio called, query string included, as configured at Twilio (a TLS
/// proxy or a changed port breaks it). The comparison is constant-time.
pub fn verify_signature(
    auth_token: &str,
    url: &str,
    params: &[(&str, &str)],
    header: &str,
) -> bool {
    let Ok(given) = STANDARD.decode(header.trim()) else {
        return false;
    };
    mac(auth_token, url, params).verify_slice(&given).is_ok()
}
