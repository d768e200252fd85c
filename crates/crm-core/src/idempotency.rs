//! Idempotent requests: a create retried with the same key answers what the first one
//! answered and does not run again.
//!
//! The transport (the HTTP server's `Idempotency-Key`) derives the key and a fingerprint of
//! the request; [`crate::service::Crm::claim_request`] claims the key in one atomic step
//! that also tells a replay, a request still running, a different request under the same
//! key, or a key abandoned by a replica that died ([`IdempotencyClaim`]); the response is
//! kept with [`crate::service::Crm::keep_response`] once the request has run.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A key still running after this long is taken to be abandoned (its replica died), and a
/// retry may run the request again.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// How long a key and its response are kept.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// The response a finished request gave, kept to answer its retries. Opaque to the core:
/// the transport says what a status, a header and a body are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptResponse {
    /// The status code.
    pub status: u16,
    /// The headers worth replaying, by lower-case name.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: String,
}

/// What claiming a key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is this request's now: run it, then keep or release the key.
    Claimed {
        /// `true` when the key was taken over from a request abandoned as running (its
        /// replica died): the first run may have written its records, and ids drawn
        /// from the key collide with them.
        retaken: bool,
    },
    /// The same request finished before: answer this.
    Done(KeptResponse),
    /// The same request is running now (elsewhere): retry later.
    InProgress,
    /// The key was used for a different request (another method, path or body).
    Mismatch,
}
