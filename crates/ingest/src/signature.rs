//! HMAC-SHA256 signatures in hex, checked in constant time on the raw body bytes.
//! The format modules say which header carries them and what exactly is signed.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signed request was refused (the server answers 401). Never contains the
/// secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The request carries no signature header.
    Missing { header: &'static str },
    /// The header is there but is not a hex HMAC-SHA256.
    Malformed { header: &'static str },
    /// The signature is well-formed but does not match the body and secret.
    Mismatch { header: &'static str },
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { header } => write!(f, "the {header} header is missing"),
            Self::Malformed { header } => {
                write!(f, "the {header} header is not a hex HMAC-SHA256 signature")
            }
            Self::Mismatch { header } => write!(
                f,
                "the {header} header does not match the body signed with this integration's secret"
            ),
        }
    }
}

impl std::error::Error for SignatureError {}

/// Checks that `signature_hex` is HMAC-SHA256(`secret`, `parts` concatenated), in
/// constant time. `header` names where the signature came from, for the error.
pub(crate) fn verify_hex(
    secret: &[u8],
    parts: &[&[u8]],
    signature_hex: &str,
    header: &'static str,
) -> Result<(), SignatureError> {
    let signature_hex = signature_hex.trim();
    // Some senders (and proxies) prefix the algorithm, as GitHub does.
    let signature_hex = signature_hex
        .strip_prefix("sha256=")
        .unwrap_or(signature_hex);
    let signature = hex::decode(signature_hex).map_err(|_| SignatureError::Malformed { header })?;
    if signature.len() != 32 {
        return Err(SignatureError::Malformed { header });
    }
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return Err(SignatureError::Mismatch { header });
    };
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(&signature)
        .map_err(|_| SignatureError::Mismatch { header })
}

/// HMAC-SHA256 of `parts` in lower-case hex; for tests that sign bodies the way the
/// senders do.
#[cfg(test)]
pub(crate) fn sign_hex(secret: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        let sig = sign_hex(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            verify_hex(b"Jefe", &[b"what do ya want for nothing?"], &sig, "X"),
            Ok(())
        );
        assert_eq!(
            verify_hex(
                b"Jefe",
                &[b"what do ya want for nothing?"],
                &sig.to_uppercase(),
                "X"
            ),
            Ok(())
        );
    }

    #[test]
    fn malformed_and_mismatched() {
        assert_eq!(
            verify_hex(b"k", &[b"body"], "zz", "X"),
            Err(SignatureError::Malformed { header: "X" })
        );
        assert_eq!(
            verify_hex(b"k", &[b"body"], "abcd", "X"),
            Err(SignatureError::Malformed { header: "X" })
        );
        let sig = sign_hex(b"k", &[b"body"]);
        assert_eq!(
            verify_hex(b"other", &[b"body"], &sig, "X"),
            Err(SignatureError::Mismatch { header: "X" })
        );
    }
}
