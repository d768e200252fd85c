//! [`AuditStore`]: the audit log (ADM-4). Entries are written pending by the store methods
//! that write events (one per write, in the write's transaction: see
//! [`crate::audit::AuditEntry::of_write`]); this port chains them, reads them and applies
//! retention. Nothing here updates an entry in place.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::audit::{AuditFilter, AuditRecord, ChainHead};
use crate::ids::TenantId;
use crate::page::{Page, PageRequest};

/// The audit log's chains.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends up to `max` pending entries to their tenants' chains, each tenant's in the
    /// order they were written (instant, then id), computing the hashes with
    /// [`crate::audit::chain`]; returns how many. Each tenant's part is one transaction
    /// holding that tenant's chain head, so concurrent callers (other replicas) never
    /// chain an entry twice nor fork a chain.
    ///
    /// # Errors
    /// Backend failures only (nothing is chained then).
    async fn chain_audit(&self, max: u32) -> StoreResult<u32>;

    /// The tenant's chain head; `None` before its first chained entry.
    ///
    /// # Errors
    /// Backend failures only.
    async fn audit_head(&self, tenant: TenantId) -> StoreResult<Option<ChainHead>>;

    /// The tenants that have a chain.
    ///
    /// # Errors
    /// Backend failures only.
    async fn audit_tenants(&self) -> StoreResult<Vec<TenantId>>;

    /// A page of the tenant's chained entries passing `filter` (the reference:
    /// [`AuditFilter::matches`]), in chain order (`seq` ascending); the cursor is
    /// `Cursor::encode(&seq)` of the page's last entry.
    ///
    /// # Errors
    /// `Invalid` on a cursor that is not one of these; backend failures.
    async fn audit_page(
        &self,
        tenant: TenantId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditRecord>>;

    /// Removes, per tenant, up to `max` of the oldest chained entries written before
    /// `before` (only a prefix of the chain: an entry goes only with every entry before
    /// it), and moves the head's anchor to the first kept entry in the same transaction;
    /// returns how many went.
    ///
    /// # Errors
    /// Backend failures only.
    async fn prune_audit(&self, before: DateTime<Utc>, max: u32) -> StoreResult<u64>;
}
