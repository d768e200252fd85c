//! Standard Webhooks signatures: `webhook-signature` is `v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">` per active secret, space-separated; a secret is written
//! `whsec_<base64 of its bytes>` and the HMAC key is those bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A secret's text from its bytes.
pub fn secret_text(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret)).ok()
}

/// One `v1,<base64>` signature of a message with `secret`; `None` when the secret is not
/// base64.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = key_of(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    id: &str,
    timestamp: i64,
    body: &str,
) -> String {
    secrets.into_iter().filter_map(|s| signature(s, id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// Whether one of the header's signatures is `secret`'s (what a receiver checks; compared in
/// constant time).
pub fn verify(secret: &str, header: &str, id: &str, timestamp: i64, body: &str) -> bool {
    let Some(key) = key_of(secret) else { return false };
    header.split(' ').filter_map(|s| s.strip_prefix("v1,")).filter_map(|b| STANDARD.decode(b).ok()).any(|given| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else { return false };
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        mac.verify_slice(&given).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_reference_vector_signs_and_verifies() {
        // From the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(secret, id, 1_614_265_330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(secret, &format!("v1,bm90IGl0 {sig}"), id, 1_614_265_330, body));
        assert!(!verify(secret, &sig, id, 1_614_265_331, body));
        assert!(!verify(secret, &sig, id, 1_614_265_330, "{}"));
        let other = secret_text(&[7; 24]);
        let both = signature_header([secret, other.as_str()], id, 1, body);
        assert!(verify(secret, &both, id, 1, body) && verify(&other, &both, id, 1, body));
        assert_eq!(both.split(' ').count(), 2);
    }
}
