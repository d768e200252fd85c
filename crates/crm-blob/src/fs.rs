//! [`FsBlobStore`]: blobs as files of a local directory, content-addressed by SHA-256.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crm_core::ports::{BlobError, BlobKey, BlobStore, BlobStream, ByteStream, StoredBlob};

use crate::backend;

/// Blobs as files: `<root>/<first two digits>/<sha256>`; uploads in progress are
/// `<root>/tmp/<uuid>.part` until they are complete, synced and renamed into place (a
/// rename within one file system is atomic: a reader sees the whole blob or none).
#[derive(Clone, Debug)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// A store in `root`, created (with its `tmp` folder) when missing.
    ///
    /// # Errors
    /// When the folders cannot be created.
    pub async fn open(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join("tmp")).await?;
        Ok(Self { root })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `key` lives.
    pub fn path_of(&self, key: &BlobKey) -> PathBuf {
        self.root.join(&key.as_str()[..2]).join(key.as_str())
    }

    /// Writes `data` to `part`, hashing it; answers the key and size.
    async fn write_part(&self, part: &Path, mut data: ByteStream<'_>) -> Result<StoredBlob, BlobError> {
        let mut file = tokio::fs::File::create(part).await.map_err(backend)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = data.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(backend)?;
        }
        file.sync_all().await.map_err(backend)?;
        let digest: [u8; 32] = hasher.finalize().into();
        Ok(StoredBlob { key: BlobKey::from_digest(&digest), size })
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, data: ByteStream<'_>) -> Result<StoredBlob, BlobError> {
        let part = self.root.join("tmp").join(format!("{}.part", uuid::Uuid::now_v7()));
        let written = self.write_part(&part, data).await;
        let stored = match written {
            Ok(stored) => stored,
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(e);
            }
        };
        let path = self.path_of(&stored.key);
        let placed = async {
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            tokio::fs::rename(&part, &path).await
        }
        .await;
        if let Err(e) = placed {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(backend(e));
        }
        Ok(stored)
    }

    async fn get(&self, key: &BlobKey) -> Result<BlobStream, BlobError> {
        let file = match tokio::fs::File::open(self.path_of(key)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BlobError::NotFound(key.clone())),
            Err(e) => return Err(backend(e)),
        };
        Ok(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).map_err(backend).boxed())
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}
