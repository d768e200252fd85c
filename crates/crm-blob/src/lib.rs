//! Blob stores for attachments (CAS-6): implementations of the core's
//! [`BlobStore`](crm_core::ports::BlobStore) port.
//!
//! - [`FsBlobStore`] (the default): a directory, one file per blob named by its SHA-256
//!   (`ab/abcdef…`), written to a temporary file while hashed and renamed into place once
//!   complete, so a blob is never visible half-written.
//! - [`S3BlobStore`]: an S3-compatible bucket through `object_store` (on the workspace's
//!   reqwest with rustls): a multipart upload to a temporary key while hashed, then a
//!   server-side copy to `sha256/<key>`.
//!
//! Both stream: neither holds a whole blob in memory.
//!
//! Beside them, [`ImageCrateShrinker`] implements the core's
//! [`ImageShrinker`](crm_core::ports::ImageShrinker): large PNG and JPEG uploads downscaled
//! and recompressed.

mod fs;
mod images;
mod s3;

pub use fs::FsBlobStore;
pub use images::ImageCrateShrinker;
pub use s3::{S3BlobStore, S3Config};

use crm_core::ports::BlobError;

/// A backend error as the port's `Backend`.
fn backend(e: impl std::error::Error + Send + Sync + 'static) -> BlobError {
    BlobError::Backend(Box::new(e))
}
