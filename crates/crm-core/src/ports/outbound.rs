//! [`OutboundStore`]: campaigns, call lists, their entries, the do-not-call list, and the
//! next-contact claim (OUT-1, OUT-2; ADR 0017). The module rules of `ports::store` apply.

use async_trait::async_trait;

use super::store::StoreResult;
use crate::customer::PhoneNumber;
use crate::event::DomainEvent;
use crate::ids::{CallListEntryId, CallListId, CampaignId, TenantId};
use crate::outbound::{CallList, CallListEntry, Campaign, DoNotCall, EntryClaim, Progress};

/// Campaigns, call lists and their entries.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait OutboundStore: Send + Sync {
    /// Inserts a campaign.
    ///
    /// # Errors
    /// `Duplicate { field: "id" }` for a taken id.
    async fn insert_campaign(&self, campaign: &Campaign) -> StoreResult<()>;

    /// Replaces a campaign.
    ///
    /// # Errors
    /// `NotFound`; `StaleVersion`.
    async fn update_campaign(&self, campaign: &Campaign, expected_version: u64) -> StoreResult<()>;

    /// A campaign.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_campaign(&self, tenant: TenantId, id: CampaignId) -> StoreResult<Option<Campaign>>;

    /// The tenant's campaigns, oldest first.
    ///
    /// # Errors
    /// Backend failures only.
    async fn campaigns(&self, tenant: TenantId) -> StoreResult<Vec<Campaign>>;

    /// Inserts a list.
    ///
    /// # Errors
    /// `InvalidReference { field: "campaign" }` when the tenant has no such campaign.
    async fn insert_call_list(&self, list: &CallList) -> StoreResult<()>;

    /// Replaces a list (its `zones` are the store's and are kept).
    ///
    /// # Errors
    /// `NotFound`; `StaleVersion`.
    async fn update_call_list(&self, list: &CallList, expected_version: u64) -> StoreResult<()>;

    /// A list, with the zones of its entries in `zones`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_call_list(&self, tenant: TenantId, id: CallListId) -> StoreResult<Option<CallList>>;

    /// The lists of a campaign, oldest first.
    ///
    /// # Errors
    /// Backend failures only.
    async fn call_lists(&self, tenant: TenantId, campaign: CampaignId) -> StoreResult<Vec<CallList>>;

    /// Inserts entries of one list, all or none, and adds their zones to the list's.
    ///
    /// # Errors
    /// `NotFound` when the tenant has no list `list`; `Duplicate { field: "id" }`.
    async fn insert_entries(&self, tenant: TenantId, list: CallListId, entries: &[CallListEntry]) -> StoreResult<()>;

    /// An entry.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_entry(&self, tenant: TenantId, id: CallListEntryId) -> StoreResult<Option<CallListEntry>>;

    /// Up to `limit` entries of a list in id order after `after`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn entries(
        &self,
        tenant: TenantId,
        list: CallListId,
        after: Option<CallListEntryId>,
        limit: usize,
    ) -> StoreResult<Vec<CallListEntry>>;

    /// The next contact: the first entry in [`claim_order`](crate::outbound::claim_order)
    /// that [`EntryClaim::allows`] (its number checked against the tenant's do-not-call
    /// list), leased to the claim's agent ([`CallListEntry::lease_to`]) and returned as
    /// stored. MUST hand an entry to at most one caller while its lease runs, also under
    /// concurrent callers on every replica; concurrent claimers MUST NOT wait for each
    /// other's entry (skip it). `None` when nothing is eligible.
    ///
    /// # Errors
    /// Backend failures only.
    async fn claim_next_entry(&self, claim: &EntryClaim) -> StoreResult<Option<CallListEntry>>;

    /// Replaces an entry after an outcome, with its events in the same transaction.
    ///
    /// # Errors
    /// `NotFound`; `StaleVersion` (a claim or another outcome came first).
    async fn update_entry(
        &self,
        entry: &CallListEntry,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Counts of a list's entries.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_progress(&self, tenant: TenantId, list: CallListId) -> StoreResult<Progress>;

    /// Adds a number to the do-not-call list (again: keeps the first).
    ///
    /// # Errors
    /// Backend failures only.
    async fn add_do_not_call(&self, tenant: TenantId, entry: &DoNotCall) -> StoreResult<()>;

    /// Removes a number; whether it was there.
    ///
    /// # Errors
    /// Backend failures only.
    async fn remove_do_not_call(&self, tenant: TenantId, phone: &PhoneNumber) -> StoreResult<bool>;

    /// The do-not-call list in number order, up to `limit` after `after`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn do_not_call(&self, tenant: TenantId, after: Option<String>, limit: usize) -> StoreResult<Vec<DoNotCall>>;
}
