//! Idempotent request use cases: claim a key, keep the response, release a failed one
//! (see [`crate::idempotency`]).

use super::Crm;
use crate::error::Result;
use crate::idempotency::{IdempotencyClaim, KeptResponse, STALE_AFTER};
use crate::time::span;

impl Crm {
    /// Claims an idempotency key for a request with `fingerprint` (a hash of what makes
    /// the request itself: method, path, body). A key running for longer than
    /// [`STALE_AFTER`] is taken over.
    ///
    /// # Errors
    /// Store failures.
    pub async fn claim_request(&self, key: &str, fingerprint: &str) -> Result<IdempotencyClaim> {
        let now = self.clock.now();
        let stale_before = now - span(STALE_AFTER);
        Ok(self.store.claim_idempotency(key, fingerprint, now, stale_before).await?)
    }

    /// Keeps the response of a claimed key for its retries.
    ///
    /// # Errors
    /// Store failures.
    pub async fn keep_response(&self, key: &str, response: &KeptResponse) -> Result<()> {
        Ok(self.store.finish_idempotency(key, response).await?)
    }

    /// Releases a claimed key whose request failed on our side, so it may be retried.
    ///
    /// # Errors
    /// Store failures.
    pub async fn release_request(&self, key: &str) -> Result<()> {
        Ok(self.store.release_idempotency(key).await?)
    }
}
