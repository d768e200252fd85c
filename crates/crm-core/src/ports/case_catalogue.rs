//! [`CaseCatalogueStore`]: the tenant's case lists (categories, types, resolution codes)
//! and the children of a case (issue 27: CAS-1, CAS-2).

use async_trait::async_trait;

use super::store::StoreResult;
use crate::case::{Case, CaseListEntry, CaseListKind};
use crate::ids::{CaseId, TenantId};

/// The case lists a tenant keeps and the parent/child links between its cases.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait CaseCatalogueStore: Send + Sync {
    /// Inserts or replaces the entry of `entry.kind` with `entry.key` in its tenant.
    ///
    /// # Errors
    /// Backend failures only.
    async fn put_case_list_entry(&self, entry: &CaseListEntry) -> StoreResult<()>;

    /// The tenant's entries of `kind` (every list for `None`), retired ones included, by
    /// kind then key. MUST return no other tenant's entry.
    ///
    /// # Errors
    /// Backend failures only.
    async fn case_list_entries(&self, tenant: TenantId, kind: Option<CaseListKind>) -> StoreResult<Vec<CaseListEntry>>;

    /// Deletes the entry `key` of `kind`.
    ///
    /// # Errors
    /// MUST return `NotFound` when the tenant has no such entry, and a `Conflict::State`
    /// with [`crate::case::list_entry_in_use`]'s reason when a case of the tenant (live or
    /// softly deleted) carries it as its category, type or resolution, counted in the
    /// transaction of the delete; nothing is deleted then.
    async fn delete_case_list_entry(&self, tenant: TenantId, kind: CaseListKind, key: &str) -> StoreResult<()>;

    /// The live cases whose parent is `parent`, by number; every one of them, whatever its
    /// visibility (the use case decides what to show). MUST return no other tenant's case
    /// and no softly deleted one.
    ///
    /// # Errors
    /// Backend failures only.
    async fn case_children(&self, tenant: TenantId, parent: CaseId) -> StoreResult<Vec<Case>>;
}
