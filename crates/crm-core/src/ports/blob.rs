//! [`BlobStore`]: where the bytes of attachments live (CAS-6), content-addressed by their
//! SHA-256. The port streams both ways, so no adapter and no use case holds a whole file in
//! memory; it knows nothing of tenants or attachments (the metadata is in the
//! [`AttachmentStore`](super::AttachmentStore)), and the same bytes uploaded twice are
//! stored once.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::BoxError;

/// A stream of byte chunks, in order, borrowing for `'a`; an `Err` item ends it.
pub type ByteStream<'a> = BoxStream<'a, Result<Bytes, BlobError>>;

/// A stream of byte chunks that owns what it reads (what [`BlobStore::get`] answers).
pub type BlobStream = ByteStream<'static>;

/// The key of a blob: the lowercase hexadecimal SHA-256 of its bytes (64 characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobKey(String);

impl BlobKey {
    /// Parses a key.
    ///
    /// # Errors
    /// Anything but 64 lowercase hexadecimal digits.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!("{s:?} is not a SHA-256 in lowercase hexadecimal"))
        }
    }

    /// The key from a digest's 32 bytes.
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        use fmt::Write as _;
        let mut s = String::with_capacity(64);
        for b in digest {
            let _ = write!(s, "{b:02x}");
        }
        Self(s)
    }

    /// The 64 hexadecimal digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BlobKey {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<BlobKey> for String {
    fn from(k: BlobKey) -> Self {
        k.0
    }
}

/// A blob as stored: its key and its size in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// The SHA-256 of the bytes.
    pub key: BlobKey,
    /// How many bytes.
    pub size: u64,
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The stream given to [`BlobStore::put`] failed (the client went away, a limit was
    /// passed); nothing was stored.
    #[error("the upload stopped: {0}")]
    Source(#[source] BoxError),
    /// No blob has this key.
    #[error("blob {0} not found")]
    NotFound(BlobKey),
    /// The blob store cannot be reached; retrying later may succeed.
    #[error("blob store unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other failure of the blob store.
    #[error("blob store failure")]
    Backend(#[source] BoxError),
}

/// The bytes of attachments, keyed by their SHA-256.
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores the bytes of `data` as they arrive and answers their key and size. The blob
    /// MUST become readable under its key only once complete (a failed or interrupted put
    /// leaves nothing readable, and never a partial blob under any key); putting bytes that
    /// are already stored MUST succeed and keep one copy.
    ///
    /// # Errors
    /// `Source` when `data` yields an error (nothing is stored); `Unavailable`, `Backend`.
    async fn put(&self, data: ByteStream<'_>) -> Result<StoredBlob, BlobError>;

    /// The bytes stored under `key`, streamed.
    ///
    /// # Errors
    /// `NotFound` when no blob has this key; `Unavailable`, `Backend`.
    async fn get(&self, key: &BlobKey) -> Result<BlobStream, BlobError>;

    /// Deletes the blob `key`; deleting a missing blob MUST succeed (deletes are retried).
    ///
    /// # Errors
    /// `Unavailable`, `Backend`.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_64_lowercase_hex_digits() {
        let k = BlobKey::from_digest(&[0xab; 32]);
        assert_eq!(k.as_str(), "ab".repeat(32));
        assert_eq!(BlobKey::parse(k.as_str()), Ok(k));
        assert!(BlobKey::parse(&"AB".repeat(32)).is_err());
        assert!(BlobKey::parse("../../etc/passwd").is_err());
        assert!(BlobKey::parse(&"a".repeat(63)).is_err());
    }
}

/// An image made smaller by an [`ImageShrinker`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShrunkImage {
    /// The re-encoded bytes.
    pub bytes: Vec<u8>,
    /// Their media type (the encoder may change it, e.g. to keep transparency).
    pub content_type: String,
    /// The new width in pixels.
    pub width: u32,
    /// The new height in pixels.
    pub height: u32,
}

/// Downscales and recompresses images (CAS-6): CPU work an adapter runs off the async
/// workers.
#[async_trait]
pub trait ImageShrinker: Send + Sync + fmt::Debug {
    /// `image` (of the sniffed `content_type`) scaled to fit `max_side` × `max_side`,
    /// keeping its aspect ratio, and re-encoded; `None` when the format is not one the
    /// shrinker handles or the bytes do not decode (the upload is then kept as it came).
    async fn shrink(&self, image: Vec<u8>, content_type: &str, max_side: u32) -> Option<ShrunkImage>;
}
