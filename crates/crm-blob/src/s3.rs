//! [`S3BlobStore`]: blobs in an S3-compatible bucket (AWS, MinIO, Ceph, moto …) through
//! `object_store`, path-style requests, on the workspace's reqwest with rustls.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crm_core::ports::{BlobError, BlobKey, BlobStore, BlobStream, ByteStream, StoredBlob};

/// Parts in flight at once during an upload (each up to 5 MiB: at most ~10 MiB buffered).
const PARTS_IN_FLIGHT: usize = 2;

/// Where the bucket is and how to sign in. The secret never prints (`Debug` hides it).
#[derive(Clone)]
pub struct S3Config {
    /// The endpoint (`https://s3.eu-west-3.amazonaws.com`, `http://127.0.0.1:5055`).
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The region (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: SecretString,
    /// A prefix of every key (`crm/`), or empty.
    pub prefix: String,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Blobs as objects `<prefix>sha256/<key>`; uploads in progress go to
/// `<prefix>tmp/<uuid>` (a multipart upload, hashed on the way) and are copied into place
/// by the server once complete, then deleted.
#[derive(Clone)]
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    bucket: String,
}

impl fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3BlobStore").field("bucket", &self.bucket).field("prefix", &self.prefix).finish()
    }
}

/// An `object_store` error as the port's.
fn mapped(e: object_store::Error, key: Option<&BlobKey>) -> BlobError {
    match (e, key) {
        (object_store::Error::NotFound { .. }, Some(key)) => BlobError::NotFound(key.clone()),
        (e @ object_store::Error::Generic { .. }, _) => BlobError::Unavailable(Box::new(e)),
        (e, _) => BlobError::Backend(Box::new(e)),
    }
}

impl S3BlobStore {
    /// A store on the bucket of `config` (nothing is sent until the first request).
    ///
    /// # Errors
    /// A malformed configuration.
    pub fn new(config: &S3Config) -> Result<Self, BlobError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(config.secret_access_key.expose_secret())
            .with_allow_http(config.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(|e| BlobError::Backend(Box::new(e)))?;
        Ok(Self { store: Arc::new(store), prefix: config.prefix.clone(), bucket: config.bucket.clone() })
    }

    /// The object of the blob `key`.
    fn path_of(&self, key: &BlobKey) -> Path {
        Path::from(format!("{}sha256/{key}", self.prefix))
    }

    /// Streams `data` into a multipart upload to `tmp`, hashing it.
    async fn upload(&self, tmp: &Path, mut data: ByteStream<'_>) -> Result<StoredBlob, BlobError> {
        let upload = self.store.put_multipart(tmp).await.map_err(|e| mapped(e, None))?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = data.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            };
            hasher.update(&chunk);
            size += chunk.len() as u64;
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                return Err(mapped(e, None));
            }
            writer.put(chunk);
        }
        writer.finish().await.map_err(|e| mapped(e, None))?;
        let digest: [u8; 32] = hasher.finalize().into();
        Ok(StoredBlob { key: BlobKey::from_digest(&digest), size })
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, data: ByteStream<'_>) -> Result<StoredBlob, BlobError> {
        let tmp = Path::from(format!("{}tmp/{}", self.prefix, uuid::Uuid::now_v7()));
        let stored = self.upload(&tmp, data).await?;
        let copied = self.store.copy(&tmp, &self.path_of(&stored.key)).await;
        if let Err(e) = self.store.delete(&tmp).await {
            tracing::warn!(error = %e, path = %tmp, "a temporary upload was left in the bucket");
        }
        copied.map_err(|e| mapped(e, None))?;
        Ok(stored)
    }

    async fn get(&self, key: &BlobKey) -> Result<BlobStream, BlobError> {
        let result = self.store.get(&self.path_of(key)).await.map_err(|e| mapped(e, Some(key)))?;
        let key = key.clone();
        Ok(result.into_stream().map_err(move |e| mapped(e, Some(&key))).boxed())
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match self.store.delete(&self.path_of(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(mapped(e, Some(key))),
        }
    }
}
