//! `Idempotency-Key` on creates: a `POST` retried with the same key (by the same token, so
//! the same tenant) returns the first response and does not run again.
//!
//! Keys live behind the core's `IdempotencyStore` port, in the same database as the
//! records, so a retry that lands on another replica, or after a restart, is still answered
//! from the first response. One atomic claim (`Crm::claim_request`) tells what to do: run
//! the request (a new key), replay the kept response, answer 409 for a request still
//! running, or 422 for the same key on a different method, path or body; a 5xx releases
//! the key so the request can be retried. Keys are kept 24 hours
//! (`crm_core::idempotency::KEEP`).
//!
//! The key and the record it creates are written in two transactions: the record by the
//! use case, the response once the handler has rendered it. If a replica dies between the
//! two, the key stays "running" until `crm_core::idempotency::STALE_AFTER` passes, after
//! which a retry takes it over and runs again. So that such a retry cannot create the
//! record twice, a request with a key draws its ids from [`KeyedIds`] (UUIDv5 of the token,
//! the key and a counter): the retry draws the same ids as the first run, the store refuses
//! the second insert as a duplicate id (the handler's response carries the typed
//! [`DuplicateId`] marker), and the client gets a 409 `idempotency-already-applied` naming
//! the id that exists (the first response itself is lost with the crash, so it cannot be
//! replayed). Handlers that create records take [`UseCases`] instead of `AppState::crm` to
//! get that generator.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crm_core::idempotency::{IdempotencyClaim, KeptResponse};
use crm_core::service::Crm;
use crm_core::time::IdGenerator;
use uuid::Uuid;

use crate::problem::{DuplicateId, Problem, ProblemKind};
use crate::state::AppState;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header marking a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";

/// The UUIDv5 namespace of ids drawn for idempotent requests.
const IDS_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_7c4e_2b0d_4a53_9a51_c0de_1dc0_ffee);

/// Ids for one request with an `Idempotency-Key`: the `n`-th id is UUIDv5 of the request's
/// key hash (the bearer token, which binds the tenant, and the key) and `n`, so the same
/// request run twice draws the same ids.
#[derive(Debug)]
pub struct KeyedIds {
    key: String,
    next: AtomicU64,
}

impl KeyedIds {
    /// The generator of the request whose key hash is `key`.
    pub fn new(key: &str) -> Self {
        Self { key: key.to_owned(), next: AtomicU64::new(0) }
    }
}

impl IdGenerator for KeyedIds {
    fn new_uuid(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Uuid::new_v5(&IDS_NAMESPACE, format!("{}/{n}", self.key).as_bytes())
    }
}

/// The id generator of a request with an `Idempotency-Key` (a request extension).
#[derive(Clone, Debug)]
struct RequestIds(Arc<KeyedIds>);

/// The use cases for this request: with [`KeyedIds`] when it carries an `Idempotency-Key`,
/// else the server's.
#[derive(Debug)]
pub struct UseCases(pub Crm);

impl FromRequestParts<AppState> for UseCases {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(match parts.extensions.get::<RequestIds>() {
            Some(ids) => state.crm.with_id_generator(ids.0.clone()),
            None => state.crm.clone(),
        }))
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

fn unavailable(e: &crm_core::Error) -> Response {
    tracing::error!(error = %e, "idempotency keys unavailable");
    Problem::new(ProblemKind::Unavailable, "").into_response()
}

fn replay(kept: KeptResponse) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut response = (status, kept.body).into_response();
    for (name, value) in kept.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            response.headers_mut().insert(n, v);
        }
    }
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    response
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
    let mismatch =
        || Problem::new(ProblemKind::IdempotencyMismatch, "use a new key for a different request").into_response();
    match state.crm.claim_request(&key, &fingerprint).await {
        Err(e) => return unavailable(&e),
        Ok(IdempotencyClaim::Claimed { .. }) => {}
        Ok(IdempotencyClaim::Done(kept)) => return replay(kept),
        Ok(IdempotencyClaim::Mismatch) => return mismatch(),
        Ok(IdempotencyClaim::InProgress) => {
            return Problem::new(ProblemKind::IdempotencyInProgress, "retry when the first request has finished")
                .into_response();
        }
    }
    let ids = Arc::new(KeyedIds::new(&key));
    let first_id = KeyedIds::new(&key).new_uuid();
    let mut parts = parts;
    parts.extensions.insert(RequestIds(ids));
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::UNAUTHORIZED {
        if let Err(e) = state.crm.release_request(&key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let applied_before = response.extensions().get::<DuplicateId>().is_some();
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        let _ = state.crm.release_request(&key).await;
        return Problem::new(ProblemKind::Internal, "").into_response();
    };
    let (parts, body) = if applied_before {
        tracing::warn!(id = %first_id, "a create retried after a lost response hit its own record");
        let problem = Problem::new(
            ProblemKind::IdempotencyAlreadyApplied,
            format!("a request with this Idempotency-Key already created record {first_id}; its response was lost"),
        );
        let (parts, body) = problem.into_response().into_parts();
        match axum::body::to_bytes(body, 64 * 1024).await {
            Ok(b) => (parts, b),
            Err(_) => return Problem::new(ProblemKind::Internal, "").into_response(),
        }
    } else {
        (parts, body)
    };
    let status = parts.status;
    let headers = [header::CONTENT_TYPE, header::ETAG, header::LOCATION]
        .into_iter()
        .filter_map(|n| {
            let v = parts.headers.get(&n)?.to_str().ok()?;
            Some((n.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let saved = match std::str::from_utf8(&body) {
        Ok(text) => {
            let kept = KeptResponse { status: status.as_u16(), headers, body: text.to_owned() };
            state.crm.keep_response(&key, &kept).await
        }
        Err(_) => state.crm.release_request(&key).await,
    };
    if let Err(e) = saved {
        tracing::warn!(error = %e, "could not keep an idempotent response");
    }
    Response::from_parts(parts, Body::from(body))
}
