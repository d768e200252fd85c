//! The audit log's use cases (ADM-4): the administrators' query, the operator's verify and
//! export, and the worker rounds that chain pending entries and apply retention.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Crm, RoundReport};
use crate::access::{Actor, Permission};
use crate::audit::{AuditFilter, AuditRecord, ChainBreak, ChainHead, ChainVerifier};
use crate::error::Result;
use crate::ids::TenantId;
use crate::page::{Page, PageRequest};

/// Pending entries chained per store call while catching up before a read.
const CHAIN_BATCH: u32 = 1_000;

/// Entries read per page while verifying or exporting.
const SCAN_PAGE: u32 = 500;

/// The outcome of verifying one tenant's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// The tenant.
    pub tenant: TenantId,
    /// Entries verified (up to the break, if any).
    pub checked: u64,
    /// The first entry that does not verify; `None` when the chain is intact.
    pub broken: Option<ChainBreak>,
}

impl Crm {
    /// A page of the actor's tenant's audit log, in chain order, filtered. Entries written
    /// but not chained yet are chained first, so a write is listed as soon as it returned.
    ///
    /// # Errors
    /// `Forbidden` without `admin.audit`; `Invalid` on a time range that can never match or
    /// a bad cursor.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditRecord>> {
        actor.require(Permission::AdminAudit)?;
        self.audit_page(actor.tenant, filter, page).await
    }

    /// The operator's (the command line's) page of a tenant's audit log; as
    /// [`Crm::audit_log`] without an actor.
    ///
    /// # Errors
    /// As [`Crm::audit_log`], less `Forbidden`.
    pub async fn audit_page(
        &self,
        tenant: TenantId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditRecord>> {
        filter.validate()?;
        self.chain_all_pending().await?;
        Ok(self.store.audit_page(tenant, filter, page).await?)
    }

    /// Every entry of the tenant passing `filter`, page by page, handed to `each` (an
    /// export); returns how many.
    ///
    /// # Errors
    /// As [`Crm::audit_page`]; the first error `each` returns.
    pub async fn scan_audit(
        &self,
        tenant: TenantId,
        filter: &AuditFilter,
        each: &mut (dyn FnMut(&AuditRecord) -> Result<()> + Send),
    ) -> Result<u64> {
        filter.validate()?;
        self.chain_all_pending().await?;
        let mut page = PageRequest { limit: SCAN_PAGE, after: None };
        let mut n = 0;
        loop {
            let got = self.store.audit_page(tenant, filter, &page).await?;
            for r in &got.items {
                each(r)?;
                n += 1;
            }
            match got.next {
                Some(next) => page.after = Some(next),
                None => return Ok(n),
            }
        }
    }

    /// The tenants whose chains can be verified (every tenant with audited writes); pending
    /// entries are chained first.
    ///
    /// # Errors
    /// Store failures.
    pub async fn audit_chains(&self) -> Result<Vec<ChainHead>> {
        self.chain_all_pending().await?;
        let mut heads = Vec::new();
        for tenant in self.store.audit_tenants().await? {
            if let Some(head) = self.store.audit_head(tenant).await? {
                heads.push(head);
            }
        }
        Ok(heads)
    }

    /// Verifies the tenant's chain from its anchor to its head, calling `progress` with the
    /// entries checked so far after each page. Names the first entry that does not verify.
    /// A tenant without audited writes has an empty chain, which verifies.
    ///
    /// # Errors
    /// Store failures.
    pub async fn verify_audit(&self, tenant: TenantId, progress: &mut (dyn FnMut(u64) + Send)) -> Result<ChainReport> {
        self.chain_all_pending().await?;
        let head = self.store.audit_head(tenant).await?.unwrap_or_else(|| ChainHead::empty(tenant));
        let mut verifier = ChainVerifier::new(&head);
        let mut page = PageRequest { limit: SCAN_PAGE, after: None };
        loop {
            let got = self.store.audit_page(tenant, &AuditFilter::default(), &page).await?;
            for r in got.items.iter().filter(|r| r.seq <= head.seq) {
                if let Err(broken) = verifier.push(r) {
                    return Ok(ChainReport { tenant, checked: verifier.checked(), broken: Some(broken) });
                }
            }
            progress(verifier.checked());
            match got.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let broken = verifier.finish(&head).err();
        Ok(ChainReport { tenant, checked: verifier.checked(), broken })
    }

    /// One round of the `audit-chain` worker: chains up to `batch` pending entries.
    ///
    /// # Errors
    /// Store failures.
    pub async fn chain_audit(&self, batch: u32) -> Result<RoundReport> {
        let n = self.store.chain_audit(batch).await?;
        Ok(RoundReport { claimed: n, done: n, more: n >= batch && batch > 0, ..RoundReport::default() })
    }

    /// One round of audit retention: removes up to `batch` entries per tenant written
    /// before `before` (the chain's anchor moves with them).
    ///
    /// # Errors
    /// Store failures.
    pub async fn prune_audit(&self, before: DateTime<Utc>, batch: u32) -> Result<RoundReport> {
        let removed = self.store.prune_audit(before, batch).await?;
        let n = u32::try_from(removed).unwrap_or(u32::MAX);
        Ok(RoundReport { claimed: n, done: n, more: n >= batch && batch > 0, ..RoundReport::default() })
    }

    /// Chains every pending entry.
    async fn chain_all_pending(&self) -> Result<()> {
        while self.store.chain_audit(CHAIN_BATCH).await? >= CHAIN_BATCH {}
        Ok(())
    }
}
