//! `Idempotency-Key` on creates: a `POST` retried with the same key (by the same token, so
//! the same tenant) returns the first response and never runs twice.
//!
//! The responses are kept in a bounded in-process map (oldest dropped first). That covers
//! retries against one replica; across replicas or restarts a shared table is needed (the
//! store ports have none yet: see the server's notes). A request with the key of one still
//! running gets 409; the same key with a different method, path or body gets 422; 5xx
//! responses are not kept, so such a request can be retried.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header marking a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";

#[derive(Debug, Clone)]
enum Entry {
    InFlight,
    Done { fingerprint: String, status: StatusCode, headers: Vec<(HeaderName, HeaderValue)>, body: Bytes },
}

/// The kept responses.
#[derive(Debug)]
pub struct IdempotencyCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, Entry>,
    order: VecDeque<String>,
    capacity: usize,
}

impl IdempotencyCache {
    /// A cache keeping at most `capacity` responses.
    pub fn new(capacity: usize) -> Self {
        Self { inner: Mutex::new(Inner { capacity: capacity.max(1), ..Inner::default() }) }
    }

    fn begin(&self, key: &str) -> Result<Option<Entry>, ()> {
        let Ok(mut inner) = self.inner.lock() else { return Err(()) };
        if let Some(e) = inner.map.get(key) {
            return Ok(Some(e.clone()));
        }
        inner.map.insert(key.to_owned(), Entry::InFlight);
        inner.order.push_back(key.to_owned());
        while inner.order.len() > inner.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.map.remove(&old);
            }
        }
        Ok(None)
    }

    fn finish(&self, key: &str, entry: Option<Entry>) {
        if let Ok(mut inner) = self.inner.lock() {
            match entry {
                Some(e) => {
                    inner.map.insert(key.to_owned(), e);
                }
                None => {
                    inner.map.remove(key);
                    inner.order.retain(|k| k != key);
                }
            }
        }
    }
}

fn sha(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The middleware.
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw_key) = req.headers().get(IDEMPOTENCY_KEY).cloned() else {
        return next.run(req).await;
    };
    let key_text = match raw_key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => k.trim().to_owned(),
        _ => {
            return Problem::new(ProblemKind::MalformedRequest, "Idempotency-Key must be 1 to 255 visible characters")
                .into_response();
        }
    };
    let auth = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes().to_vec()).unwrap_or_default();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.settings.body_limit).await else {
        return Problem::new(ProblemKind::PayloadTooLarge, "the request body is larger than the server accepts")
            .into_response();
    };
    let key = sha(&[&auth, key_text.as_bytes()]);
    let fingerprint = sha(&[parts.method.as_str().as_bytes(), parts.uri.path().as_bytes(), &bytes]);
    match state.idempotency.begin(&key) {
        Err(()) => return Problem::new(ProblemKind::Internal, "").into_response(),
        Ok(Some(Entry::InFlight)) => {
            return Problem::new(ProblemKind::IdempotencyInProgress, "retry when the first request has finished")
                .into_response();
        }
        Ok(Some(Entry::Done { fingerprint: f, status, headers, body })) => {
            if f != fingerprint {
                return Problem::new(ProblemKind::IdempotencyMismatch, "use a new key for a different request")
                    .into_response();
            }
            let mut response = (status, body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(name, value);
            }
            response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
            return response;
        }
        Ok(None) => {}
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED {
        state.idempotency.finish(&key, None);
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        state.idempotency.finish(&key, None);
        return Problem::new(ProblemKind::Internal, "").into_response();
    };
    let kept: Vec<(HeaderName, HeaderValue)> = [header::CONTENT_TYPE, header::ETAG, header::LOCATION]
        .into_iter()
        .filter_map(|n| parts.headers.get(&n).map(|v| (n, v.clone())))
        .collect();
    state.idempotency.finish(&key, Some(Entry::Done { fingerprint, status, headers: kept, body: body.clone() }));
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded() {
        let c = IdempotencyCache::new(2);
        for k in ["a", "b", "c"] {
            assert!(c.begin(k).unwrap().is_none());
        }
        assert!(c.begin("a").unwrap().is_none(), "the oldest key was dropped");
        assert!(matches!(c.begin("c").unwrap(), Some(Entry::InFlight)));
    }
}
