//! The [`ContactStore`] part of the use-case tests' `MockStore`: each method forwards to
//! its `mockall` mock.

use async_trait::async_trait;

use super::mock_store::MockStore;
use crate::customer::{Customer, IdentityKey};
use crate::event::DomainEvent;
use crate::ids::{CustomerId, LeadId, OrganisationId, TenantId};
use crate::interaction::Interaction;
use crate::lead::{Lead, LeadStatus};
use crate::organisation::Organisation;
use crate::page::{Page, PageRequest};
use crate::ports::{ContactStore, StoreResult};

#[async_trait]
impl ContactStore for MockStore {
    async fn insert_organisation(&self, organisation: &Organisation, events: &[DomainEvent]) -> StoreResult<()> {
        self.contacts.insert_organisation(organisation, events).await
    }
    async fn update_organisation(
        &self,
        organisation: &Organisation,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.contacts.update_organisation(organisation, expected_version, events).await
    }
    async fn delete_organisation(
        &self,
        tenant: TenantId,
        id: OrganisationId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.contacts.delete_organisation(tenant, id, expected_version, events).await
    }
    async fn get_organisation(&self, tenant: TenantId, id: OrganisationId) -> StoreResult<Option<Organisation>> {
        self.contacts.get_organisation(tenant, id).await
    }
    async fn organisations_by_identity(
        &self,
        tenant: TenantId,
        key: &IdentityKey,
        limit: u32,
    ) -> StoreResult<Vec<Organisation>> {
        self.contacts.organisations_by_identity(tenant, key, limit).await
    }
    async fn list_organisations(
        &self,
        tenant: TenantId,
        query: Option<String>,
        page: &PageRequest,
    ) -> StoreResult<Page<Organisation>> {
        self.contacts.list_organisations(tenant, query, page).await
    }
    async fn set_customer_organisation(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        organisation: Option<OrganisationId>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.contacts.set_customer_organisation(tenant, customer, organisation, events).await
    }
    async fn organisation_of(&self, tenant: TenantId, customer: CustomerId) -> StoreResult<Option<OrganisationId>> {
        self.contacts.organisation_of(tenant, customer).await
    }
    async fn members_of(
        &self,
        tenant: TenantId,
        organisation: OrganisationId,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        self.contacts.members_of(tenant, organisation, page).await
    }
    async fn insert_lead(&self, lead: &Lead, events: &[DomainEvent]) -> StoreResult<()> {
        self.contacts.insert_lead(lead, events).await
    }
    async fn update_lead(&self, lead: &Lead, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()> {
        self.contacts.update_lead(lead, expected_version, events).await
    }
    async fn get_lead(&self, tenant: TenantId, id: LeadId) -> StoreResult<Option<Lead>> {
        self.contacts.get_lead(tenant, id).await
    }
    async fn list_leads(
        &self,
        tenant: TenantId,
        status: Option<LeadStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Lead>> {
        self.contacts.list_leads(tenant, status, page).await
    }
    async fn write_lead_with_interaction(
        &self,
        lead: &Lead,
        lead_expected_version: Option<u64>,
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.contacts
            .write_lead_with_interaction(lead, lead_expected_version, interaction, interaction_expected_version, events)
            .await
    }
    async fn insert_customer_from_interaction(
        &self,
        customer: &Customer,
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.contacts
            .insert_customer_from_interaction(customer, interaction, interaction_expected_version, events)
            .await
    }
    async fn convert_lead(
        &self,
        lead: &Lead,
        lead_expected_version: u64,
        customer: &Customer,
        interactions: &[(Interaction, u64)],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.contacts.convert_lead(lead, lead_expected_version, customer, interactions, events).await
    }
}
