//! The memory twin of [`ContactStore`]: organisations, memberships and leads (issue 27,
//! INT-7), with the same checks, in the same order, as the SQL store.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::customer::{Customer, IdentityKey};
use crm_core::error::{Conflict, StoreError};
use crm_core::event::DomainEvent;
use crm_core::ids::{CustomerId, InteractionId, LeadId, OrganisationId, TenantId};
use crm_core::interaction::Interaction;
use crm_core::lead::{Lead, LeadStatus};
use crm_core::organisation::Organisation;
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{ContactStore, StoreResult};

use super::{MemoryStore, State, check_version, decode_cursor, invalid_reference, limit, paginate};

/// Organisations, memberships and leads.
#[derive(Default)]
pub(crate) struct ContactState {
    organisations: HashMap<OrganisationId, Organisation>,
    /// Customer → (its tenant, its organisation).
    members: BTreeMap<CustomerId, (TenantId, OrganisationId)>,
    leads: HashMap<LeadId, Lead>,
}

impl State {
    fn checked_organisation(&self, tenant: TenantId, id: OrganisationId, expected: u64) -> StoreResult<()> {
        let stored = self
            .contacts
            .organisations
            .get(&id)
            .filter(|o| o.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("organisation", id))?;
        check_version("organisation", id, stored.version(), expected)
    }

    fn checked_lead(&self, tenant: TenantId, id: LeadId, expected: u64) -> StoreResult<()> {
        let stored = self
            .contacts
            .leads
            .get(&id)
            .filter(|l| l.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("lead", id))?;
        check_version("lead", id, stored.version(), expected)
    }

    /// What replacing `interaction` (of `tenant`) at `expected` refuses; changes nothing.
    fn check_interaction_write(&self, tenant: TenantId, interaction: &Interaction, expected: u64) -> StoreResult<()> {
        let stored = self
            .interactions
            .get(&interaction.id)
            .filter(|i| i.tenant == tenant && interaction.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("interaction", interaction.id))?;
        check_version("interaction", interaction.id, stored.version(), expected)
    }

    fn check_new_lead(&self, lead: &Lead) -> StoreResult<()> {
        if self.contacts.leads.contains_key(&lead.id) {
            return Err(StoreError::duplicate("id", lead.id.to_string()));
        }
        Ok(())
    }
}

#[async_trait]
impl ContactStore for MemoryStore {
    async fn insert_organisation(&self, organisation: &Organisation, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.contacts.organisations.contains_key(&organisation.id) {
            return Err(StoreError::duplicate("id", organisation.id.to_string()));
        }
        let rows = state.stage_events(events)?;
        state.contacts.organisations.insert(organisation.id, organisation.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn update_organisation(
        &self,
        organisation: &Organisation,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        state.checked_organisation(organisation.tenant, organisation.id, expected_version)?;
        let rows = state.stage_events(events)?;
        state.contacts.organisations.insert(organisation.id, organisation.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn delete_organisation(
        &self,
        tenant: TenantId,
        id: OrganisationId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        state.checked_organisation(tenant, id, expected_version)?;
        let has_members = state
            .contacts
            .members
            .iter()
            .any(|(customer, (_, org))| *org == id && state.customer_exists(tenant, *customer));
        if has_members {
            return Err(Conflict::State("the organisation still has members".into()).into());
        }
        let rows = state.stage_events(events)?;
        state.contacts.organisations.remove(&id);
        state.contacts.members.retain(|_, (_, org)| *org != id);
        state.commit_events(rows);
        Ok(())
    }

    async fn get_organisation(&self, tenant: TenantId, id: OrganisationId) -> StoreResult<Option<Organisation>> {
        let state = self.read()?;
        Ok(state.contacts.organisations.get(&id).filter(|o| o.tenant == tenant).cloned())
    }

    async fn organisations_by_identity(
        &self,
        tenant: TenantId,
        key: &IdentityKey,
        max: u32,
    ) -> StoreResult<Vec<Organisation>> {
        let state = self.read()?;
        let mut found: Vec<&Organisation> = state
            .contacts
            .organisations
            .values()
            .filter(|o| o.tenant == tenant && o.identity_keys().contains(key))
            .collect();
        found.sort_by_key(|o| o.id);
        Ok(found.into_iter().take(limit(max)).cloned().collect())
    }

    async fn list_organisations(
        &self,
        tenant: TenantId,
        query: Option<String>,
        page: &PageRequest,
    ) -> StoreResult<Page<Organisation>> {
        let state = self.read()?;
        let cursor: Option<(String, OrganisationId)> = decode_cursor(page)?;
        let mut found: Vec<&Organisation> = state
            .contacts
            .organisations
            .values()
            .filter(|o| o.tenant == tenant && query.as_deref().is_none_or(|q| Organisation::name_matches(o.name(), q)))
            .filter(|o| cursor.as_ref().is_none_or(|c| (o.folded_name(), o.id) > *c))
            .collect();
        found.sort_by_key(|o| (o.folded_name(), o.id));
        Ok(paginate(found, page, |o: &Organisation| (o.folded_name(), o.id)))
    }

    async fn set_customer_organisation(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        organisation: Option<OrganisationId>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        if !state.customer_exists(tenant, customer) {
            return Err(StoreError::not_found("customer", customer));
        }
        if let Some(org) = organisation
            && state.contacts.organisations.get(&org).is_none_or(|o| o.tenant != tenant)
        {
            return Err(invalid_reference("organisation", format_args!("organisation {org}")));
        }
        let rows = state.stage_events(events)?;
        match organisation {
            Some(org) => state.contacts.members.insert(customer, (tenant, org)),
            None => state.contacts.members.remove(&customer),
        };
        state.commit_events(rows);
        Ok(())
    }

    async fn organisation_of(&self, tenant: TenantId, customer: CustomerId) -> StoreResult<Option<OrganisationId>> {
        let state = self.read()?;
        Ok(state
            .contacts
            .members
            .get(&customer)
            .filter(|(t, _)| *t == tenant && state.customer_exists(tenant, customer))
            .map(|(_, org)| *org))
    }

    async fn members_of(
        &self,
        tenant: TenantId,
        organisation: OrganisationId,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        let state = self.read()?;
        let cursor: Option<CustomerId> = decode_cursor(page)?;
        let found: Vec<&Customer> = state
            .contacts
            .members
            .iter()
            .filter(|(id, (t, org))| *t == tenant && *org == organisation && cursor.is_none_or(|c| **id > c))
            .filter_map(|(id, _)| state.customers.get(id).filter(|c| c.tenant == tenant))
            .collect();
        Ok(paginate(found, page, |c: &Customer| c.id))
    }

    async fn insert_lead(&self, lead: &Lead, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        state.check_new_lead(lead)?;
        let rows = state.stage_events(events)?;
        state.contacts.leads.insert(lead.id, lead.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn update_lead(&self, lead: &Lead, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        state.checked_lead(lead.tenant, lead.id, expected_version)?;
        let rows = state.stage_events(events)?;
        state.contacts.leads.insert(lead.id, lead.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn get_lead(&self, tenant: TenantId, id: LeadId) -> StoreResult<Option<Lead>> {
        let state = self.read()?;
        Ok(state.contacts.leads.get(&id).filter(|l| l.tenant == tenant).cloned())
    }

    async fn list_leads(
        &self,
        tenant: TenantId,
        status: Option<LeadStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Lead>> {
        let state = self.read()?;
        let cursor: Option<(DateTime<Utc>, LeadId)> = decode_cursor(page)?;
        let mut found: Vec<&Lead> = state
            .contacts
            .leads
            .values()
            .filter(|l| l.tenant == tenant && status.is_none_or(|s| l.status() == s))
            .filter(|l| cursor.is_none_or(|c| (l.created_at, l.id) < c))
            .collect();
        found.sort_by_key(|l| Reverse((l.created_at, l.id)));
        Ok(paginate(found, page, |l: &Lead| (l.created_at, l.id)))
    }

    async fn write_lead_with_interaction(
        &self,
        lead: &Lead,
        lead_expected_version: Option<u64>,
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        match lead_expected_version {
            None => state.check_new_lead(lead)?,
            Some(expected) => state.checked_lead(lead.tenant, lead.id, expected)?,
        }
        state.check_interaction_write(lead.tenant, interaction, interaction_expected_version)?;
        let rows = state.stage_events(events)?;
        state.contacts.leads.insert(lead.id, lead.clone());
        state.interactions.insert(interaction.id, interaction.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn insert_customer_from_interaction(
        &self,
        customer: &Customer,
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        state.check_new_customer(customer)?;
        state.check_interaction_write(customer.tenant, interaction, interaction_expected_version)?;
        let rows = state.stage_events(events)?;
        state.customers.insert(customer.id, customer.clone());
        state.interactions.insert(interaction.id, interaction.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn convert_lead(
        &self,
        lead: &Lead,
        lead_expected_version: u64,
        customer: &Customer,
        interactions: &[(Interaction, u64)],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        state.check_new_customer(customer)?;
        state.checked_lead(lead.tenant, lead.id, lead_expected_version)?;
        for (interaction, expected) in interactions {
            state.check_interaction_write(lead.tenant, interaction, *expected)?;
        }
        let rows = state.stage_events(events)?;
        state.customers.insert(customer.id, customer.clone());
        state.contacts.leads.insert(lead.id, lead.clone());
        let moved: Vec<(InteractionId, Interaction)> = interactions.iter().map(|(i, _)| (i.id, i.clone())).collect();
        state.interactions.extend(moved);
        state.commit_events(rows);
        Ok(())
    }
}
