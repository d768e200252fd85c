//! Where attachments' bytes live (CAS-6) and the limits of uploads: the `[attachments]`
//! table of the configuration file, overridden by `CRM_BLOB_…` / `CRM_S3_…` variables.
//!
//! ```toml
//! [attachments]
//! store = "fs"                    # the default; or "s3"
//! dir = "/var/lib/crm/blobs"      # default: beside a SQLite file (`crm.db.blobs`), else ./crm-blobs
//! max_bytes = 20971520            # 20 MiB
//! max_pasted_image_bytes = 10485760
//! max_image_pixels = 100000000
//! downscale_images_over = 2560    # px: larger PNG/JPEG images are downscaled to fit; 0 = never
//! keep_original_images = false    # keep (and serve at …/original) the upload too
//!
//! [attachments.s3]                # with store = "s3" (every replica shares the bucket)
//! endpoint = "https://s3.eu-west-3.amazonaws.com"
//! bucket = "acme-crm"
//! region = "eu-west-3"
//! access_key_id = "AKIA…"
//! secret_access_key_env = "CRM_S3_SECRET_ACCESS_KEY"   # or secret_access_key = "…" (never logged)
//! prefix = "attachments/"
//! ```
//!
//! Variables: `CRM_BLOB_STORE` (`fs`, `s3`), `CRM_BLOB_DIR`, `CRM_S3_ENDPOINT`,
//! `CRM_S3_BUCKET`, `CRM_S3_REGION`, `CRM_S3_ACCESS_KEY_ID`, `CRM_S3_SECRET_ACCESS_KEY`,
//! `CRM_S3_PREFIX`.

use std::path::PathBuf;
use std::sync::Arc;

use crm_blob::{FsBlobStore, S3BlobStore, S3Config};
use crm_core::attachment::AttachmentLimits;
use crm_core::ports::BlobStore;
use serde::Deserialize;

/// The `[attachments]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsFile {
    /// `fs` or `s3`.
    pub store: Option<String>,
    /// The folder of the `fs` store.
    pub dir: Option<PathBuf>,
    /// The largest attachment, in bytes.
    pub max_bytes: Option<u64>,
    /// The largest pasted image, in bytes.
    pub max_pasted_image_bytes: Option<u64>,
    /// The most pixels an image may declare.
    pub max_image_pixels: Option<u64>,
    /// Larger images are downscaled to fit this many pixels a side (0: never).
    pub downscale_images_over: Option<u32>,
    /// Whether a downscaled image's upload is kept too.
    pub keep_original_images: Option<bool>,
    /// The bucket of the `s3` store.
    pub s3: Option<S3File>,
}

/// The `[attachments.s3]` table.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3File {
    /// The endpoint URL.
    pub endpoint: Option<String>,
    /// The bucket.
    pub bucket: Option<String>,
    /// The region (default `us-east-1`).
    pub region: Option<String>,
    /// The access key id.
    pub access_key_id: Option<String>,
    /// The secret access key (prefer `secret_access_key_env`).
    pub secret_access_key: Option<String>,
    /// The variable holding the secret access key.
    pub secret_access_key_env: Option<String>,
    /// A prefix of every key.
    pub prefix: Option<String>,
}

impl std::fmt::Debug for S3File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3File").field("endpoint", &self.endpoint).field("bucket", &self.bucket).finish_non_exhaustive()
    }
}

/// Where blobs go.
#[derive(Clone, Debug)]
pub enum BlobLocation {
    /// A local folder; `None`: beside the database ([`default_dir`]).
    Fs(Option<PathBuf>),
    /// An S3-compatible bucket.
    S3(S3Config),
}

/// The resolved attachment settings.
#[derive(Clone, Debug)]
pub struct AttachmentSettings {
    /// Where blobs go.
    pub location: BlobLocation,
    /// The limits of uploads.
    pub limits: AttachmentLimits,
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        Self { location: BlobLocation::Fs(None), limits: AttachmentLimits::default() }
    }
}

impl AttachmentSettings {
    /// The file's table under the variables `env` reads.
    ///
    /// # Errors
    /// The reason, naming the key, for an unknown store or an incomplete `s3` table.
    pub fn resolve(file: Option<AttachmentsFile>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let file = file.unwrap_or_default();
        let defaults = AttachmentLimits::default();
        let limits = AttachmentLimits {
            max_bytes: file.max_bytes.unwrap_or(defaults.max_bytes),
            max_pasted_image_bytes: file.max_pasted_image_bytes.unwrap_or(defaults.max_pasted_image_bytes),
            max_image_pixels: file.max_image_pixels.unwrap_or(defaults.max_image_pixels),
            downscale_images_over: match file.downscale_images_over {
                Some(0) => None,
                Some(side) => Some(side),
                None => defaults.downscale_images_over,
            },
            keep_original_images: file.keep_original_images.unwrap_or(defaults.keep_original_images),
        };
        let store = env("CRM_BLOB_STORE").or(file.store).unwrap_or_else(|| "fs".into());
        let location = match store.as_str() {
            "fs" => BlobLocation::Fs(env("CRM_BLOB_DIR").map(PathBuf::from).or(file.dir)),
            "s3" => {
                let s3 = file.s3.unwrap_or_default();
                let need = |var: &str, value: Option<String>, key: &str| {
                    env(var)
                        .or(value)
                        .ok_or_else(|| format!("attachments.s3.{key} (or {var}) is required for store = \"s3\""))
                };
                let secret = env("CRM_S3_SECRET_ACCESS_KEY")
                    .or(s3.secret_access_key)
                    .or_else(|| s3.secret_access_key_env.as_deref().and_then(env))
                    .ok_or("attachments.s3.secret_access_key_env (or CRM_S3_SECRET_ACCESS_KEY) is required")?;
                BlobLocation::S3(S3Config {
                    endpoint: need("CRM_S3_ENDPOINT", s3.endpoint, "endpoint")?,
                    bucket: need("CRM_S3_BUCKET", s3.bucket, "bucket")?,
                    region: env("CRM_S3_REGION").or(s3.region).unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: need("CRM_S3_ACCESS_KEY_ID", s3.access_key_id, "access_key_id")?,
                    secret_access_key: secret.into(),
                    prefix: env("CRM_S3_PREFIX").or(s3.prefix).unwrap_or_default(),
                })
            }
            other => return Err(format!("attachments.store: {other:?} is not fs or s3")),
        };
        Ok(Self { location, limits })
    }

    /// Opens the blob store for a server on `database_url`.
    ///
    /// # Errors
    /// The folder cannot be created, or the S3 settings are malformed.
    pub async fn open(&self, database_url: &str) -> Result<Arc<dyn BlobStore>, String> {
        match &self.location {
            BlobLocation::Fs(dir) => {
                let dir = dir.clone().unwrap_or_else(|| default_dir(database_url));
                let store = FsBlobStore::open(&dir).await.map_err(|e| format!("blob folder {}: {e}", dir.display()))?;
                tracing::info!(dir = %dir.display(), "attachments are stored in a local folder");
                Ok(Arc::new(store))
            }
            BlobLocation::S3(config) => {
                let store = S3BlobStore::new(config).map_err(|e| format!("blob bucket: {e}"))?;
                tracing::info!(endpoint = %config.endpoint, bucket = %config.bucket, "attachments are stored in S3");
                Ok(Arc::new(store))
            }
        }
    }
}

/// The default folder of blobs: beside a SQLite database file (`crm.db` → `crm.db.blobs`),
/// else `crm-blobs` in the working directory.
pub fn default_dir(database_url: &str) -> PathBuf {
    let file = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"));
    match file.map(|f| f.split('?').next().unwrap_or_default()) {
        Some(path) if !path.is_empty() && !path.contains(":memory:") => PathBuf::from(format!("{path}.blobs")),
        _ => PathBuf::from("crm-blobs"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_folder_is_beside_a_sqlite_file() {
        assert_eq!(default_dir("sqlite://data/crm.db?mode=rwc"), PathBuf::from("data/crm.db.blobs"));
        assert_eq!(default_dir("sqlite::memory:"), PathBuf::from("crm-blobs"));
        assert_eq!(default_dir("postgres://crm@db/crm"), PathBuf::from("crm-blobs"));
    }

    #[test]
    fn s3_settings_come_from_the_file_and_the_environment_and_hide_the_secret() {
        let file: AttachmentsFile = toml::from_str(
            "store = \"s3\"\nmax_bytes = 1000\n[s3]\nendpoint = \"http://127.0.0.1:5055\"\nbucket = \"b\"\n\
             access_key_id = \"id\"\nsecret_access_key_env = \"MY_SECRET\"",
        )
        .unwrap_or_default();
        let env = |name: &str| (name == "MY_SECRET").then(|| "hunter2-secret".to_owned());
        let settings = AttachmentSettings::resolve(Some(file.clone()), &env).expect("resolves");
        assert_eq!(settings.limits.max_bytes, 1000);
        let BlobLocation::S3(config) = &settings.location else { panic!("not s3") };
        assert_eq!(config.bucket, "b");
        assert!(!format!("{settings:?}").contains("hunter2"), "the secret never prints");
        let missing = AttachmentSettings::resolve(Some(file), &|_| None).map(|_| ()).unwrap_err();
        assert!(missing.contains("secret_access_key"), "{missing}");
        let bad = AttachmentsFile { store: Some("ftp".into()), ..AttachmentsFile::default() };
        assert!(AttachmentSettings::resolve(Some(bad), &|_| None).is_err());
    }
}
