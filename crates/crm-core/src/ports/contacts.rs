//! [`ContactStore`]: the contacts that are not customer cards (issue 27): organisations and
//! customers' membership of them, and leads (INT-7), with the writes that create or convert
//! them together with an interaction or a customer in one transaction.

use async_trait::async_trait;

use super::store::StoreResult;
use crate::customer::{Customer, IdentityKey};
use crate::event::DomainEvent;
use crate::ids::{CustomerId, LeadId, OrganisationId, TenantId};
use crate::interaction::Interaction;
use crate::lead::{Lead, LeadStatus};
use crate::organisation::Organisation;
use crate::page::{Page, PageRequest};

/// Organisations, memberships and leads.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Stores a new organisation with `events`.
    ///
    /// # Errors
    /// MUST refuse with `Conflict::Duplicate { field: "id" }` when the id is taken.
    async fn insert_organisation(&self, organisation: &Organisation, events: &[DomainEvent]) -> StoreResult<()>;

    /// Replaces an organisation (identities included) with `events`.
    ///
    /// # Errors
    /// MUST answer `NotFound` when its tenant has no such organisation, and
    /// `Conflict::StaleVersion` when the stored version is not `expected_version`; nothing
    /// is written then.
    async fn update_organisation(
        &self,
        organisation: &Organisation,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Deletes an organisation that has no members.
    ///
    /// # Errors
    /// MUST answer `NotFound` (no such organisation in `tenant`), `Conflict::StaleVersion`,
    /// or `Conflict::State` while customers still belong to it; nothing is written then.
    async fn delete_organisation(
        &self,
        tenant: TenantId,
        id: OrganisationId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// The organisation `id` of `tenant`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_organisation(&self, tenant: TenantId, id: OrganisationId) -> StoreResult<Option<Organisation>>;

    /// The organisations of `tenant` holding the identity `key`, by id, at most `limit`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn organisations_by_identity(
        &self,
        tenant: TenantId,
        key: &IdentityKey,
        limit: u32,
    ) -> StoreResult<Vec<Organisation>>;

    /// The organisations of `tenant` whose name matches `query` as
    /// [`Organisation::name_matches`] says (every one when `None`), ordered by folded name
    /// then id, one page.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not give.
    async fn list_organisations(
        &self,
        tenant: TenantId,
        query: Option<String>,
        page: &PageRequest,
    ) -> StoreResult<Page<Organisation>>;

    /// Makes `customer` a member of `organisation` (replacing any earlier membership), or of
    /// none, with `events`.
    ///
    /// # Errors
    /// MUST answer `NotFound` when `tenant` has no such customer, and `InvalidReference {
    /// field: "organisation" }` when it has no such organisation; nothing is written then.
    async fn set_customer_organisation(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        organisation: Option<OrganisationId>,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// The organisation `customer` belongs to.
    ///
    /// # Errors
    /// Backend failures only.
    async fn organisation_of(&self, tenant: TenantId, customer: CustomerId) -> StoreResult<Option<OrganisationId>>;

    /// The customers belonging to `organisation`, by id, one page.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not give.
    async fn members_of(
        &self,
        tenant: TenantId,
        organisation: OrganisationId,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>>;

    /// Stores a new lead with `events`.
    ///
    /// # Errors
    /// MUST refuse with `Conflict::Duplicate { field: "id" }` when the id is taken.
    async fn insert_lead(&self, lead: &Lead, events: &[DomainEvent]) -> StoreResult<()>;

    /// Replaces a lead with `events`.
    ///
    /// # Errors
    /// MUST answer `NotFound` and `Conflict::StaleVersion` as
    /// [`ContactStore::update_organisation`] does.
    async fn update_lead(&self, lead: &Lead, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()>;

    /// The lead `id` of `tenant`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_lead(&self, tenant: TenantId, id: LeadId) -> StoreResult<Option<Lead>>;

    /// The leads of `tenant` (of one status when given), newest first (by creation time,
    /// then id), one page.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not give.
    async fn list_leads(
        &self,
        tenant: TenantId,
        status: Option<LeadStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Lead>>;

    /// Writes a lead (inserted when `lead_expected_version` is `None`, else replacing that
    /// version) and replaces the interaction it is linked to, with `events`, in one
    /// transaction (INT-7).
    ///
    /// # Errors
    /// What [`ContactStore::insert_lead`] / [`ContactStore::update_lead`] refuse, `NotFound`
    /// for an interaction `lead`'s tenant does not have, and `Conflict::StaleVersion` for
    /// an interaction not at `interaction_expected_version`; MUST then write nothing.
    async fn write_lead_with_interaction(
        &self,
        lead: &Lead,
        lead_expected_version: Option<u64>,
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Inserts a customer and replaces the interaction it was created in (now linked to
    /// it), with `events`, in one transaction (INT-7).
    ///
    /// # Errors
    /// What `CustomerStore::insert_customer` refuses (`Duplicate { field: "account_number" }`
    /// …), `NotFound` / `Conflict::StaleVersion` for the interaction; MUST then write
    /// nothing.
    async fn insert_customer_from_interaction(
        &self,
        customer: &Customer,
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Converts a lead (INT-7): inserts the customer, replaces the lead (now converted, at
    /// `lead_expected_version`) and each of `interactions` (now linked to the customer, at
    /// its expected version), with `events`, in one transaction.
    ///
    /// # Errors
    /// What `CustomerStore::insert_customer` refuses, `NotFound` / `Conflict::StaleVersion`
    /// for the lead or any interaction; MUST then write nothing.
    async fn convert_lead(
        &self,
        lead: &Lead,
        lead_expected_version: u64,
        customer: &Customer,
        interactions: &[(Interaction, u64)],
        events: &[DomainEvent],
    ) -> StoreResult<()>;
}
