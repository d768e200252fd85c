//! [`OutboundStore`] for [`MemoryStore`]: campaigns, lists, entries and the do-not-call
//! list; the claim is the core's reference rule under the store's one mutex.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use crm_core::customer::PhoneNumber;
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{CallListEntryId, CallListId, CampaignId, CustomerId, TenantId};
use crm_core::outbound::{CallList, CallListEntry, Campaign, DoNotCall, EntryClaim, EntryState, Progress, claim_order};
use crm_core::ports::{OutboundStore, StoreResult};

use super::{MemoryStore, check_version, invalid_reference};

/// The outbound tables.
#[derive(Default)]
pub(crate) struct OutboundState {
    campaigns: BTreeMap<CampaignId, Campaign>,
    lists: BTreeMap<CallListId, CallList>,
    entries: BTreeMap<CallListEntryId, CallListEntry>,
    dnc: BTreeMap<(TenantId, String), DoNotCall>,
}

impl OutboundState {
    fn list(&self, tenant: TenantId, id: CallListId) -> Option<&CallList> {
        self.lists.get(&id).filter(|l| l.tenant == tenant)
    }

    /// The customer's open entries in active lists (the alert fact `campaign.open_entry`).
    pub(crate) fn open_entries_of(&self, tenant: TenantId, customer: CustomerId) -> usize {
        self.entries
            .values()
            .filter(|e| e.tenant == tenant && e.customer == customer && e.state() == EntryState::Open)
            .filter(|e| self.lists.get(&e.list).is_some_and(|l| l.active))
            .count()
    }

    /// A customer deleted takes its entries with it (the SQL stores' `ON DELETE CASCADE`).
    pub(crate) fn forget_customer(&mut self, tenant: TenantId, customer: CustomerId) {
        self.entries.retain(|_, e| !(e.tenant == tenant && e.customer == customer));
    }
}

#[async_trait]
impl OutboundStore for MemoryStore {
    async fn insert_campaign(&self, campaign: &Campaign) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.outbound.campaigns.contains_key(&campaign.id) {
            return Err(StoreError::duplicate("id", campaign.id.to_string()));
        }
        state.outbound.campaigns.insert(campaign.id, campaign.clone());
        Ok(())
    }

    async fn update_campaign(&self, campaign: &Campaign, expected_version: u64) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state
            .outbound
            .campaigns
            .get(&campaign.id)
            .filter(|c| c.tenant == campaign.tenant)
            .ok_or_else(|| StoreError::not_found("campaign", campaign.id))?;
        check_version("campaign", campaign.id, stored.version(), expected_version)?;
        state.outbound.campaigns.insert(campaign.id, campaign.clone());
        Ok(())
    }

    async fn get_campaign(&self, tenant: TenantId, id: CampaignId) -> StoreResult<Option<Campaign>> {
        Ok(self.read()?.outbound.campaigns.get(&id).filter(|c| c.tenant == tenant).cloned())
    }

    async fn campaigns(&self, tenant: TenantId) -> StoreResult<Vec<Campaign>> {
        let state = self.read()?;
        let mut all: Vec<Campaign> =
            state.outbound.campaigns.values().filter(|c| c.tenant == tenant).cloned().collect();
        all.sort_by_key(|c| (c.created_at, c.id));
        Ok(all)
    }

    async fn insert_call_list(&self, list: &CallList) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.outbound.campaigns.get(&list.campaign).is_none_or(|c| c.tenant != list.tenant) {
            return Err(invalid_reference("campaign", list.campaign));
        }
        if state.outbound.lists.contains_key(&list.id) {
            return Err(StoreError::duplicate("id", list.id.to_string()));
        }
        let mut list = list.clone();
        list.zones = BTreeSet::new();
        state.outbound.lists.insert(list.id, list);
        Ok(())
    }

    async fn update_call_list(&self, list: &CallList, expected_version: u64) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored =
            state.outbound.list(list.tenant, list.id).ok_or_else(|| StoreError::not_found("call_list", list.id))?;
        check_version("call_list", list.id, stored.version(), expected_version)?;
        let zones = stored.zones.clone();
        let mut list = list.clone();
        list.zones = zones;
        state.outbound.lists.insert(list.id, list);
        Ok(())
    }

    async fn get_call_list(&self, tenant: TenantId, id: CallListId) -> StoreResult<Option<CallList>> {
        Ok(self.read()?.outbound.list(tenant, id).cloned())
    }

    async fn call_lists(&self, tenant: TenantId, campaign: CampaignId) -> StoreResult<Vec<CallList>> {
        let state = self.read()?;
        let mut all: Vec<CallList> =
            state.outbound.lists.values().filter(|l| l.tenant == tenant && l.campaign == campaign).cloned().collect();
        all.sort_by_key(|l| (l.created_at, l.id));
        Ok(all)
    }

    async fn insert_entries(&self, tenant: TenantId, list: CallListId, entries: &[CallListEntry]) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.outbound.list(tenant, list).is_none() {
            return Err(StoreError::not_found("call_list", list));
        }
        for (i, e) in entries.iter().enumerate() {
            if state.outbound.entries.contains_key(&e.id) || entries[..i].iter().any(|o| o.id == e.id) {
                return Err(StoreError::duplicate("id", e.id.to_string()));
            }
            if e.tenant != tenant || e.list != list {
                return Err(invalid_reference("list", e.list));
            }
            if !state.customer_exists(tenant, e.customer) {
                return Err(invalid_reference("customer", e.customer));
            }
        }
        for e in entries {
            state.outbound.entries.insert(e.id, e.clone());
        }
        if let Some(l) = state.outbound.lists.get_mut(&list) {
            l.zones.extend(entries.iter().map(|e| e.zone.clone()));
        }
        Ok(())
    }

    async fn get_entry(&self, tenant: TenantId, id: CallListEntryId) -> StoreResult<Option<CallListEntry>> {
        Ok(self.read()?.outbound.entries.get(&id).filter(|e| e.tenant == tenant).cloned())
    }

    async fn entries(
        &self,
        tenant: TenantId,
        list: CallListId,
        after: Option<CallListEntryId>,
        limit: usize,
    ) -> StoreResult<Vec<CallListEntry>> {
        let state = self.read()?;
        Ok(state
            .outbound
            .entries
            .values()
            .filter(|e| e.tenant == tenant && e.list == list && after.is_none_or(|a| e.id > a))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn claim_next_entry(&self, claim: &EntryClaim) -> StoreResult<Option<CallListEntry>> {
        let mut state = self.write()?;
        let outbound = &state.outbound;
        let chosen = outbound
            .entries
            .values()
            .filter(|e| claim.allows(e, outbound.dnc.contains_key(&(claim.tenant, e.phone.as_e164().to_owned()))))
            .min_by(|a, b| claim_order(a, b))
            .map(|e| e.id);
        Ok(chosen.and_then(|id| {
            let e = state.outbound.entries.get_mut(&id)?;
            e.lease_to(claim.agent, claim.lease_until);
            Some(e.clone())
        }))
    }

    async fn update_entry(
        &self,
        entry: &CallListEntry,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state
            .outbound
            .entries
            .get(&entry.id)
            .filter(|e| e.tenant == entry.tenant)
            .ok_or_else(|| StoreError::not_found("call_list_entry", entry.id))?;
        check_version("call_list_entry", entry.id, stored.version(), expected_version)?;
        let rows = state.stage_events(events)?;
        state.outbound.entries.insert(entry.id, entry.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn list_progress(&self, tenant: TenantId, list: CallListId) -> StoreResult<Progress> {
        let state = self.read()?;
        Ok(Progress::of(state.outbound.entries.values().filter(|e| e.tenant == tenant && e.list == list)))
    }

    async fn add_do_not_call(&self, tenant: TenantId, entry: &DoNotCall) -> StoreResult<()> {
        let mut state = self.write()?;
        state.outbound.dnc.entry((tenant, entry.phone.as_e164().to_owned())).or_insert_with(|| entry.clone());
        Ok(())
    }

    async fn remove_do_not_call(&self, tenant: TenantId, phone: &PhoneNumber) -> StoreResult<bool> {
        let mut state = self.write()?;
        Ok(state.outbound.dnc.remove(&(tenant, phone.as_e164().to_owned())).is_some())
    }

    async fn do_not_call(&self, tenant: TenantId, after: Option<String>, limit: usize) -> StoreResult<Vec<DoNotCall>> {
        let state = self.read()?;
        Ok(state
            .outbound
            .dnc
            .range((tenant, after.clone().unwrap_or_default())..)
            .take_while(|((t, _), _)| *t == tenant)
            .filter(|((_, p), _)| after.as_ref().is_none_or(|a| p > a))
            .take(limit)
            .map(|(_, d)| d.clone())
            .collect())
    }
}
