//! [`CaseCatalogueStore`] for [`MemoryStore`]: the tenant's case lists and the children
//! of a case.

use async_trait::async_trait;
use crm_core::case::{Case, CaseListEntry, CaseListKind, list_entry_in_use};
use crm_core::error::{Conflict, StoreError};
use crm_core::ids::{CaseId, TenantId};
use crm_core::ports::{CaseCatalogueStore, StoreResult};

use super::MemoryStore;

/// Whether `case` carries `key` of `kind`.
fn carries(case: &Case, kind: CaseListKind, key: &str) -> bool {
    let carried = match kind {
        CaseListKind::Category => case.category(),
        CaseListKind::Type => case.case_type(),
        CaseListKind::Resolution => case.resolution(),
    };
    carried == Some(key)
}

#[async_trait]
impl CaseCatalogueStore for MemoryStore {
    async fn put_case_list_entry(&self, entry: &CaseListEntry) -> StoreResult<()> {
        let mut state = self.write()?;
        state.case_lists.insert((entry.tenant, entry.kind, entry.key.clone()), entry.clone());
        Ok(())
    }

    async fn case_list_entries(&self, tenant: TenantId, kind: Option<CaseListKind>) -> StoreResult<Vec<CaseListEntry>> {
        let state = self.read()?;
        // The map's order is (tenant, kind, key).
        Ok(state
            .case_lists
            .values()
            .filter(|e| e.tenant == tenant && kind.is_none_or(|k| e.kind == k))
            .cloned()
            .collect())
    }

    async fn delete_case_list_entry(&self, tenant: TenantId, kind: CaseListKind, key: &str) -> StoreResult<()> {
        let mut state = self.write()?;
        let id = (tenant, kind, key.to_owned());
        if !state.case_lists.contains_key(&id) {
            return Err(StoreError::not_found("case_list_entry", format!("{kind}/{key}")));
        }
        let cases = state.cases.values().filter(|c| c.tenant == tenant && carries(c, kind, key)).count();
        if let Some(reason) = list_entry_in_use(cases as u64) {
            return Err(StoreError::Conflict(Conflict::State(reason)));
        }
        state.case_lists.remove(&id);
        Ok(())
    }

    async fn case_children(&self, tenant: TenantId, parent: CaseId) -> StoreResult<Vec<Case>> {
        let state = self.read()?;
        let mut found: Vec<Case> = state
            .cases
            .values()
            .filter(|c| c.tenant == tenant && !c.is_deleted() && c.parent() == Some(parent))
            .cloned()
            .collect();
        found.sort_by_key(|c| c.number);
        Ok(found)
    }
}
