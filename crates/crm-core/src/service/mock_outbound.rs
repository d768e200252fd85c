//! [`OutboundStore`] of the test `MockStore`: each method forwards to its mock.

use async_trait::async_trait;

use super::mock_store::MockStore;
use crate::customer::PhoneNumber;
use crate::event::DomainEvent;
use crate::ids::{CallListEntryId, CallListId, CampaignId, TenantId};
use crate::outbound::{CallList, CallListEntry, Campaign, DoNotCall, EntryClaim, Progress};
use crate::ports::{OutboundStore, StoreResult};

#[async_trait]
impl OutboundStore for MockStore {
    async fn insert_campaign(&self, campaign: &Campaign) -> StoreResult<()> {
        self.outbound.insert_campaign(campaign).await
    }
    async fn update_campaign(&self, campaign: &Campaign, expected_version: u64) -> StoreResult<()> {
        self.outbound.update_campaign(campaign, expected_version).await
    }
    async fn get_campaign(&self, tenant: TenantId, id: CampaignId) -> StoreResult<Option<Campaign>> {
        self.outbound.get_campaign(tenant, id).await
    }
    async fn campaigns(&self, tenant: TenantId) -> StoreResult<Vec<Campaign>> {
        self.outbound.campaigns(tenant).await
    }
    async fn insert_call_list(&self, list: &CallList) -> StoreResult<()> {
        self.outbound.insert_call_list(list).await
    }
    async fn update_call_list(&self, list: &CallList, expected_version: u64) -> StoreResult<()> {
        self.outbound.update_call_list(list, expected_version).await
    }
    async fn get_call_list(&self, tenant: TenantId, id: CallListId) -> StoreResult<Option<CallList>> {
        self.outbound.get_call_list(tenant, id).await
    }
    async fn call_lists(&self, tenant: TenantId, campaign: CampaignId) -> StoreResult<Vec<CallList>> {
        self.outbound.call_lists(tenant, campaign).await
    }
    async fn insert_entries(&self, tenant: TenantId, list: CallListId, entries: &[CallListEntry]) -> StoreResult<()> {
        self.outbound.insert_entries(tenant, list, entries).await
    }
    async fn get_entry(&self, tenant: TenantId, id: CallListEntryId) -> StoreResult<Option<CallListEntry>> {
        self.outbound.get_entry(tenant, id).await
    }
    async fn entries(
        &self,
        tenant: TenantId,
        list: CallListId,
        after: Option<CallListEntryId>,
        limit: usize,
    ) -> StoreResult<Vec<CallListEntry>> {
        self.outbound.entries(tenant, list, after, limit).await
    }
    async fn claim_next_entry(&self, claim: &EntryClaim) -> StoreResult<Option<CallListEntry>> {
        self.outbound.claim_next_entry(claim).await
    }
    async fn update_entry(
        &self,
        entry: &CallListEntry,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.outbound.update_entry(entry, expected_version, events).await
    }
    async fn list_progress(&self, tenant: TenantId, list: CallListId) -> StoreResult<Progress> {
        self.outbound.list_progress(tenant, list).await
    }
    async fn add_do_not_call(&self, tenant: TenantId, entry: &DoNotCall) -> StoreResult<()> {
        self.outbound.add_do_not_call(tenant, entry).await
    }
    async fn remove_do_not_call(&self, tenant: TenantId, phone: &PhoneNumber) -> StoreResult<bool> {
        self.outbound.remove_do_not_call(tenant, phone).await
    }
    async fn do_not_call(&self, tenant: TenantId, after: Option<String>, limit: usize) -> StoreResult<Vec<DoNotCall>> {
        self.outbound.do_not_call(tenant, after, limit).await
    }
}
