//! [`AuditStore`] for [`MemoryStore`]: pending entries (staged with every write's events by
//! [`super::State::commit_events`]), the chains and their heads.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::audit::{AuditEntry, AuditFilter, AuditRecord, ChainHead, chain};
use crm_core::ids::TenantId;
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{AuditStore, StoreResult};

use super::{MemoryStore, decode_cursor, limit, paginate};

/// The audit log's state.
#[derive(Default)]
pub(crate) struct AuditState {
    /// Written with the writes, not chained yet, in writing order.
    pub(crate) pending: Vec<AuditEntry>,
    /// Each tenant's chained entries by place.
    pub(crate) chains: BTreeMap<TenantId, BTreeMap<u64, AuditRecord>>,
    /// Each tenant's chain head.
    pub(crate) heads: BTreeMap<TenantId, ChainHead>,
}

impl MemoryStore {
    /// Changes a chained entry in place, as someone with access to the storage could (for
    /// the tamper tests: the store itself never does).
    pub fn tamper_audit(&self, tenant: TenantId, seq: u64, change: impl FnOnce(&mut AuditRecord)) {
        if let Some(r) = self.lock().audit.chains.get_mut(&tenant).and_then(|c| c.get_mut(&seq)) {
            change(r);
        }
    }

    /// How many entries wait to be chained.
    pub fn pending_audit(&self) -> usize {
        self.lock().audit.pending.len()
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn chain_audit(&self, max: u32) -> StoreResult<u32> {
        let mut state = self.write()?;
        let audit = &mut state.audit;
        let n = audit.pending.len().min(limit(max));
        let mut taken: Vec<AuditEntry> = audit.pending.drain(..n).collect();
        taken.sort_by_key(|e| (e.at, e.id));
        let mut by_tenant: BTreeMap<TenantId, Vec<AuditEntry>> = BTreeMap::new();
        for e in taken {
            by_tenant.entry(e.tenant).or_default().push(e);
        }
        for (tenant, entries) in by_tenant {
            let head = audit.heads.get(&tenant).cloned().unwrap_or_else(|| ChainHead::empty(tenant));
            let (records, head) = chain(&head, entries);
            let kept = audit.chains.entry(tenant).or_default();
            for r in records {
                kept.insert(r.seq, r);
            }
            audit.heads.insert(tenant, head);
        }
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn audit_head(&self, tenant: TenantId) -> StoreResult<Option<ChainHead>> {
        Ok(self.read()?.audit.heads.get(&tenant).cloned())
    }

    async fn audit_tenants(&self) -> StoreResult<Vec<TenantId>> {
        Ok(self.read()?.audit.heads.keys().copied().collect())
    }

    async fn audit_page(
        &self,
        tenant: TenantId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditRecord>> {
        let after: u64 = decode_cursor(page)?.unwrap_or(0);
        let state = self.read()?;
        let Some(chain) = state.audit.chains.get(&tenant) else {
            return Ok(Page { items: Vec::new(), next: None });
        };
        let items: Vec<&AuditRecord> = chain
            .range(after + 1..)
            .map(|(_, r)| r)
            .filter(|r| filter.matches(r))
            .take(limit(page.limit) + 1)
            .collect();
        Ok(paginate(items, page, |r| r.seq))
    }

    async fn prune_audit(&self, before: DateTime<Utc>, max: u32) -> StoreResult<u64> {
        let mut state = self.write()?;
        let audit = &mut state.audit;
        let mut removed = 0;
        for (tenant, chain) in &mut audit.chains {
            let old: Vec<u64> =
                chain.values().take_while(|r| r.entry.at < before).take(limit(max)).map(|r| r.seq).collect();
            if old.is_empty() {
                continue;
            }
            for seq in &old {
                chain.remove(seq);
            }
            removed += old.len() as u64;
            if let Some(head) = audit.heads.get_mut(tenant) {
                let first = chain.values().next().map(|r| (r.seq, r.prev_hash.as_str()));
                *head = head.pruned_to(first);
            }
        }
        Ok(removed)
    }
}
