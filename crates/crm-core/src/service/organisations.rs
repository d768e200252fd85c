//! Organisation use cases (issue 27): CRUD, the organisation's card, membership of
//! customers, the organisation lookup by phone or email, and name search.

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::case::CaseSummary;
use crate::customer::{CARD_OPEN_CASES, Customer, EmailAddress, IdentityKey, PhoneNumber};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::{CustomerId, OrganisationId};
use crate::organisation::{CARD_MEMBERS, NewOrganisation, Organisation, OrganisationCard, OrganisationPatch};
use crate::page::{Page, PageRequest};
use crate::time::next_id;

/// What an organisation lookup is by: its phone or its email (issue 27).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrganisationLookup {
    /// A phone number in any written form.
    Phone(String),
    /// An email address.
    Email(String),
}

/// How many organisations one lookup returns at most.
pub const MAX_ORGANISATION_MATCHES: u32 = 10;

impl Crm {
    /// Creates an organisation.
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; every bad value, named.
    pub async fn create_organisation(&self, actor: &Actor, input: NewOrganisation) -> Result<Organisation> {
        actor.require(Permission::CustomerEdit)?;
        let tenant = self.tenant(actor.tenant).await?;
        let org = input.build(next_id(&*self.ids), actor, Some(tenant.default_region), self.clock.now())?;
        let events = [self.event(actor, EventKind::OrganisationCreated { organisation: org.id })];
        self.store.insert_organisation(&org, &events).await?;
        Ok(org)
    }

    /// An organisation of the actor's tenant.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound` (another tenant's too).
    pub async fn get_organisation(&self, actor: &Actor, id: OrganisationId) -> Result<Organisation> {
        actor.require(Permission::CustomerRead)?;
        self.load_organisation(actor, id).await
    }

    async fn load_organisation(&self, actor: &Actor, id: OrganisationId) -> Result<Organisation> {
        self.store.get_organisation(actor.tenant, id).await?.ok_or_else(|| Error::not_found("organisation", id))
    }

    /// Changes an organisation.
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; `NotFound`; bad values; a stale version.
    pub async fn update_organisation(
        &self,
        actor: &Actor,
        id: OrganisationId,
        expected_version: u64,
        patch: OrganisationPatch,
    ) -> Result<Organisation> {
        actor.require(Permission::CustomerEdit)?;
        let mut org = self.load_organisation(actor, id).await?;
        let expected_version = check_version("organisation", id, org.version(), expected_version)?;
        let tenant = self.tenant(actor.tenant).await?;
        let before = org.clone();
        let fields = org.apply(&patch, Some(tenant.default_region), self.clock.now())?;
        if fields.is_empty() {
            return Ok(org);
        }
        let events = [self.event_with_changes(
            actor,
            EventKind::OrganisationUpdated { organisation: id, fields },
            Some(&before),
            Some(&org),
        )];
        self.store.update_organisation(&org, expected_version, &events).await?;
        Ok(org)
    }

    /// Deletes an organisation no customer belongs to.
    ///
    /// # Errors
    /// Forbidden without `customer.delete`; `NotFound`; a stale version; members left (a
    /// conflict).
    pub async fn delete_organisation(&self, actor: &Actor, id: OrganisationId, expected_version: u64) -> Result<()> {
        actor.require(Permission::CustomerDelete)?;
        let org = self.load_organisation(actor, id).await?;
        let expected_version = check_version("organisation", id, org.version(), expected_version)?;
        let events = [self.event(actor, EventKind::OrganisationDeleted { organisation: id })];
        self.store.delete_organisation(actor.tenant, id, expected_version, &events).await?;
        Ok(())
    }

    /// Organisations of the actor's tenant, by name; those matching `query` (every word a
    /// word prefix of the name, accents and case ignored) when given.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; a query without a letter or digit (`q`); a bad
    /// cursor.
    pub async fn list_organisations(
        &self,
        actor: &Actor,
        query: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Organisation>> {
        actor.require(Permission::CustomerRead)?;
        let query = query.map(crate::organisation::check_query).transpose()?;
        Ok(self.store.list_organisations(actor.tenant, query, page).await?)
    }

    /// The organisation's card: the organisation, its first members and their open cases
    /// the actor may see.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn organisation_card(&self, actor: &Actor, id: OrganisationId) -> Result<OrganisationCard> {
        actor.require(Permission::CustomerRead)?;
        let org = self.load_organisation(actor, id).await?;
        self.card_of_organisation(actor, org).await
    }

    async fn card_of_organisation(&self, actor: &Actor, organisation: Organisation) -> Result<OrganisationCard> {
        let page = PageRequest { limit: CARD_MEMBERS, after: None };
        let members = self.store.members_of(actor.tenant, organisation.id, &page).await?;
        let scope = actor.private_scope();
        let reads = members.items.iter().map(|m| self.store.open_cases_of(actor.tenant, m.id, &scope, CARD_OPEN_CASES));
        let mut open_cases: Vec<CaseSummary> = futures::future::try_join_all(reads)
            .await?
            .iter()
            .flatten()
            .filter(|c| c.visible_to(actor))
            .map(CaseSummary::from)
            .collect();
        open_cases.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        open_cases.truncate(usize::try_from(CARD_MEMBERS).unwrap_or(usize::MAX));
        Ok(OrganisationCard { organisation, more_members: members.next.is_some(), members: members.items, open_cases })
    }

    /// The customers belonging to an organisation, one page (by id).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`; a bad cursor.
    pub async fn organisation_members(
        &self,
        actor: &Actor,
        id: OrganisationId,
        page: &PageRequest,
    ) -> Result<Page<Customer>> {
        actor.require(Permission::CustomerRead)?;
        self.load_organisation(actor, id).await?;
        Ok(self.store.members_of(actor.tenant, id, page).await?)
    }

    /// Makes a customer a member of an organisation, or of none; a customer belongs to at
    /// most one. Returns the organisation it belongs to now.
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; `NotFound` for the customer; an organisation the
    /// tenant does not have (naming `organisation`); a merged card.
    pub async fn set_customer_organisation(
        &self,
        actor: &Actor,
        customer: CustomerId,
        organisation: Option<OrganisationId>,
    ) -> Result<Option<Organisation>> {
        actor.require(Permission::CustomerEdit)?;
        let card = self.load_customer(actor, customer).await?;
        if card.is_merged() {
            return Err(Error::invalid("customer", "was merged into another card; use that one"));
        }
        let org = match organisation {
            Some(id) => Some(
                self.store
                    .get_organisation(actor.tenant, id)
                    .await?
                    .ok_or_else(|| Error::invalid("organisation", "is not an organisation of this tenant"))?,
            ),
            None => None,
        };
        let previous = self.store.organisation_of(actor.tenant, customer).await?;
        if previous == organisation {
            return Ok(org);
        }
        let events = [self.event(actor, EventKind::CustomerOrganisationChanged { customer, organisation, previous })];
        self.store.set_customer_organisation(actor.tenant, customer, organisation, &events).await?;
        Ok(org)
    }

    /// The organisation a customer belongs to, if any.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound` for the customer.
    pub async fn customer_organisation(&self, actor: &Actor, customer: CustomerId) -> Result<Option<Organisation>> {
        actor.require(Permission::CustomerRead)?;
        self.load_customer(actor, customer).await?;
        match self.store.organisation_of(actor.tenant, customer).await? {
            Some(id) => Ok(self.store.get_organisation(actor.tenant, id).await?),
            None => Ok(None),
        }
    }

    /// The screen pop of organisations: the cards of the organisations holding a phone
    /// number (any written form) or an email address. Kept apart from the customer
    /// lookup, whose one statement stays as measured (ADR 0031).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; a value that is not a phone or email (naming the
    /// field).
    pub async fn lookup_organisations(&self, actor: &Actor, key: &OrganisationLookup) -> Result<Vec<OrganisationCard>> {
        actor.require(Permission::CustomerRead)?;
        let key = match key {
            OrganisationLookup::Phone(raw) => {
                let tenant = self.tenant(actor.tenant).await?;
                IdentityKey::phone(&PhoneNumber::parse(raw, Some(tenant.default_region))?)
            }
            OrganisationLookup::Email(raw) => IdentityKey::email(&EmailAddress::parse(raw)?),
        };
        let found = self.store.organisations_by_identity(actor.tenant, &key, MAX_ORGANISATION_MATCHES).await?;
        let cards = found.into_iter().map(|o| self.card_of_organisation(actor, o));
        futures::future::try_join_all(cards).await
    }
}
