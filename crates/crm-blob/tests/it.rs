//! The blob stores against the port's contract: the local directory always; S3 against
//! a local S3-compatible server (moto) at `CRM_TEST_S3_URL` (bucket `crm-test`, created
//! here), skipped without it except under CI, where a missing server fails.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use crm_blob::{FsBlobStore, S3BlobStore, S3Config};
use crm_core::ports::{BlobError, BlobKey, BlobStore, BlobStream};
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

fn chunks(parts: Vec<Vec<u8>>) -> BlobStream {
    futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from(p)))).boxed()
}

/// A stream of `parts` that fails after them.
fn failing(parts: Vec<Vec<u8>>) -> BlobStream {
    futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from(p))))
        .chain(futures::stream::once(async { Err(BlobError::Source("the client went away".into())) }))
        .boxed()
}

fn key_of(bytes: &[u8]) -> BlobKey {
    BlobKey::from_digest(&Sha256::digest(bytes).into())
}

async fn read(store: &dyn BlobStore, key: &BlobKey) -> Vec<u8> {
    store.get(key).await.unwrap().map_ok(|b| b.to_vec()).try_concat().await.unwrap()
}

/// The contract every blob store keeps.
async fn contract(store: &dyn BlobStore) {
    let body: Vec<u8> = (0..7_000_000u32).map(|i| u8::try_from(i % 251).unwrap()).collect();
    let parts = body.chunks(300_000).map(<[u8]>::to_vec).collect();
    let stored = store.put(chunks(parts)).await.unwrap();
    assert_eq!(stored.key, key_of(&body));
    assert_eq!(stored.size, body.len() as u64);
    assert_eq!(read(store, &stored.key).await, body, "the bytes come back");

    let again = store.put(chunks(vec![body.clone()])).await.unwrap();
    assert_eq!(again, stored, "the same bytes, the same blob");

    let small = b"interrupted".to_vec();
    let refused = store.put(failing(vec![small.clone()])).await;
    assert!(matches!(refused, Err(BlobError::Source(_))), "{refused:?}");
    assert!(matches!(store.get(&key_of(&small)).await, Err(BlobError::NotFound(_))), "nothing half-written");

    store.delete(&stored.key).await.unwrap();
    assert!(matches!(store.get(&stored.key).await, Err(BlobError::NotFound(_))));
    store.delete(&stored.key).await.unwrap();

    let empty = store.put(chunks(vec![])).await.unwrap();
    assert_eq!(empty.size, 0);
    assert_eq!(read(store, &empty.key).await, Vec::<u8>::new());
}

#[tokio::test]
async fn the_local_directory_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path().join("blobs")).await.unwrap();
    contract(&store).await;
}

#[tokio::test]
async fn a_failed_upload_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    let refused = store.put(failing(vec![vec![1; 100_000], vec![2; 100_000]])).await;
    assert!(refused.is_err());
    let mut left = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            left.extend(std::fs::read_dir(entry.path()).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn a_blob_is_one_file_named_by_its_hash_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path()).await.unwrap();
    let stored = store.put(chunks(vec![b"hello ".to_vec(), b"world".to_vec()])).await.unwrap();
    let path = store.path_of(&stored.key);
    assert_eq!(path.file_name().unwrap().to_str().unwrap(), stored.key.as_str());
    assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
    assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0, "no part file remains");
}

/// The S3 server's URL, or `None` (outside CI) to skip.
fn s3_url() -> Option<String> {
    match std::env::var("CRM_TEST_S3_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but CRM_TEST_S3_URL is not set: .ci/run starts moto and sets it")
        }
        _ => None,
    }
}

#[tokio::test]
async fn an_s3_bucket_keeps_the_contract() {
    let Some(url) = s3_url() else {
        eprintln!("CRM_TEST_S3_URL is not set: the S3 test is skipped");
        return;
    };
    // moto takes any credentials; the bucket is made with a plain path-style PUT.
    let made = reqwest_put(&format!("{url}/crm-test")).await;
    assert!(made, "could not create the bucket at {url}");
    let store = S3BlobStore::new(&S3Config {
        endpoint: url,
        bucket: "crm-test".into(),
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".to_owned().into(),
        prefix: format!("{}/", uuid::Uuid::now_v7()),
    })
    .unwrap();
    assert!(!format!("{store:?}").contains("testing"), "no credential in Debug");
    contract(&store).await;
}

/// A `PUT` without a body over a bare TCP connection (moto creates a bucket without auth).
async fn reqwest_put(url: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let Ok(mut conn) = tokio::net::TcpStream::connect(host).await else { return false };
    let request = format!("PUT /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    answer.starts_with("HTTP/1.1 200") || answer.contains("BucketAlreadyOwnedByYou")
}
