//! The server's key for secrets at rest (ADR 0042): connectors configured through the API
//! keep their whole configuration sealed with AES-256-GCM under this key, bound to their
//! tenant and product (the associated data), so a database reader sees no secret and a
//! sealed value moved to another row does not open.
//!
//! The key is 32 random bytes, given in base64 by `CRM_SECRETS_KEY` or in a file named by
//! `secrets_key_file` (e.g. `openssl rand -base64 32 > /etc/crm/secrets.key`). Without one,
//! connectors can only come from the configuration file.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The prefix of a sealed value: the scheme, so another one can follow.
const SCHEME: &str = "v1:";

/// The key sealing secrets at rest. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretsKey {
    key: std::sync::Arc<LessSafeKey>,
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey(..)")
    }
}

/// Why a key or a sealed value is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    /// The key is not 32 bytes in base64.
    #[error("the secrets key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")]
    BadKey,
    /// The sealed value is damaged, was sealed under another key, or belongs to another
    /// record.
    #[error("a sealed value does not open with this key (another key, another record, or damaged)")]
    Unreadable,
}

impl SecretsKey {
    /// The key from its base64 text (surrounding white space ignored).
    ///
    /// # Errors
    /// [`SecretsError::BadKey`] unless it is 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, SecretsError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| SecretsError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretsError::BadKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SecretsError::BadKey)?;
        Ok(Self { key: std::sync::Arc::new(LessSafeKey::new(key)) })
    }

    /// Seals `plain`, bound to `context` (which must be given again to open it): `v1:`
    /// then base64 of a random 96-bit nonce, the ciphertext and its tag.
    pub fn seal(&self, plain: &[u8], context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        // The system's generator does not fail on the platforms this runs on; a failure
        // would leave a zero nonce, so refuse to go on instead.
        SystemRandom::new().fill(&mut nonce).expect("the system's random generator");
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut sealed)
            .expect("AES-GCM seals any length this server stores");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SCHEME}{}", STANDARD.encode(out))
    }

    /// Opens what [`SecretsKey::seal`] sealed with the same `context`.
    ///
    /// # Errors
    /// [`SecretsError::Unreadable`] for another key, another context, or damage.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SecretsError> {
        let raw = sealed.strip_prefix(SCHEME).ok_or(SecretsError::Unreadable)?;
        let bytes = STANDARD.decode(raw).map_err(|_| SecretsError::Unreadable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretsError::Unreadable);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretsError::Unreadable)?;
        let mut buffer = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| SecretsError::Unreadable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretsKey {
        SecretsKey::from_base64(&STANDARD.encode([byte; 32])).expect("a key")
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let k = key(7);
        let sealed = k.seal(b"client_secret=hunter2", "tenant-a/salesforce");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("hunter2"));
        assert_eq!(k.open(&sealed, "tenant-a/salesforce").expect("opens"), b"client_secret=hunter2");
        assert_eq!(k.open(&sealed, "tenant-b/salesforce"), Err(SecretsError::Unreadable), "another record");
        assert_eq!(key(8).open(&sealed, "tenant-a/salesforce"), Err(SecretsError::Unreadable), "another key");
        let mut damaged = sealed.clone();
        damaged.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert_eq!(k.open(&damaged, "tenant-a/salesforce"), Err(SecretsError::Unreadable));
        assert_ne!(k.seal(b"same", "c"), k.seal(b"same", "c"), "a fresh nonce each time");
    }

    #[test]
    fn a_key_is_32_bytes_of_base64() {
        assert!(SecretsKey::from_base64(&format!(" {}\n", STANDARD.encode([1u8; 32]))).is_ok());
        assert_eq!(SecretsKey::from_base64(&STANDARD.encode([1u8; 16])).err(), Some(SecretsError::BadKey));
        assert_eq!(SecretsKey::from_base64("not base64!").err(), Some(SecretsError::BadKey));
        assert_eq!(format!("{:?}", key(1)), "SecretsKey(..)");
    }
}
