//! Customer use cases (CUS-1…CUS-3, CUS-5, CUS-7).

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::custom_field::FieldEntity;
use crate::customer::{
    AccountNumber, Customer, CustomerContext, CustomerPatch, CustomerQuery, NewCustomer, Relation, RelationKind,
};
use crate::error::{Conflict, Error, Result};
use crate::event::EventKind;
use crate::ids::{CustomerId, RelationId};
use crate::page::{Page, PageRequest};
use crate::text::bounded_text;
use crate::time::next_id;

impl Crm {
    /// Creates a customer (CUS-1), generating the account number when none is given.
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; every bad value; a taken account number.
    pub async fn create_customer(&self, actor: &Actor, input: NewCustomer) -> Result<Customer> {
        actor.require(Permission::CustomerEdit)?;
        let tenant = self.tenant(actor.tenant).await?;
        let definitions = self.store.field_definitions(actor.tenant, FieldEntity::Customer).await?;
        let ctx =
            CustomerContext { region: Some(tenant.default_region), definitions: &definitions, now: self.clock.now() };
        let id = next_id(&*self.ids);
        if input.account_number.is_some() {
            let customer = input.build(id, actor.tenant, Some(actor.agent), None, ctx)?;
            return self.insert_new_customer(actor, customer).await;
        }
        // Validate before drawing from the sequence, so refused input burns no number.
        input.clone().build(id, actor.tenant, Some(actor.agent), Some(AccountNumber::generated(0)), ctx)?;
        // A generated number can collide with one a caller chose by hand (`AC-000042`):
        // draw the next one, a few times at most.
        let mut attempts = 0;
        loop {
            let generated = AccountNumber::generated(self.store.next_account_sequence(actor.tenant).await?);
            let customer = input.clone().build(id, actor.tenant, Some(actor.agent), Some(generated), ctx)?;
            match self.insert_new_customer(actor, customer).await {
                Err(Error::Conflict(Conflict::Duplicate { field, .. }))
                    if field == "account_number" && attempts < 5 =>
                {
                    attempts += 1;
                }
                other => return other,
            }
        }
    }

    async fn insert_new_customer(&self, actor: &Actor, customer: Customer) -> Result<Customer> {
        let events = [self.event(actor, EventKind::CustomerCreated { customer: customer.id })];
        self.store.insert_customer(&customer, &events).await?;
        Ok(customer)
    }

    /// A customer (tombstones included: their status says where they were merged).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn get_customer(&self, actor: &Actor, id: CustomerId) -> Result<Customer> {
        actor.require(Permission::CustomerRead)?;
        self.load_customer(actor, id).await
    }

    pub(super) async fn load_customer(&self, actor: &Actor, id: CustomerId) -> Result<Customer> {
        self.store.get_customer(actor.tenant, id).await?.ok_or_else(|| Error::not_found("customer", id))
    }

    /// Changes a customer.
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; `NotFound`; bad values; a stale version; a taken
    /// account number; a tombstone cannot be edited.
    pub async fn update_customer(
        &self,
        actor: &Actor,
        id: CustomerId,
        expected_version: u64,
        patch: CustomerPatch,
    ) -> Result<Customer> {
        actor.require(Permission::CustomerEdit)?;
        let mut customer = self.load_customer(actor, id).await?;
        let expected_version = check_version("customer", id, customer.version(), expected_version)?;
        if customer.is_merged() {
            return Err(Error::invalid("customer", "was merged into another card; edit that one"));
        }
        let tenant = self.tenant(actor.tenant).await?;
        let definitions = self.store.field_definitions(actor.tenant, FieldEntity::Customer).await?;
        let ctx =
            CustomerContext { region: Some(tenant.default_region), definitions: &definitions, now: self.clock.now() };
        let before = customer.clone();
        let changed = patch.apply(&mut customer, ctx)?;
        if changed.is_empty() {
            return Ok(customer);
        }
        let events = [self.event_with_changes(
            actor,
            EventKind::CustomerUpdated { customer: id, fields: changed.iter().map(|f| (*f).to_owned()).collect() },
            Some(&before),
            Some(&customer),
        )];
        self.store.update_customer(&customer, expected_version, &events).await?;
        Ok(customer)
    }

    /// Deletes a customer that has no cases, tasks or interactions left (ADM-2).
    ///
    /// # Errors
    /// Forbidden without `customer.delete`; `NotFound`; a stale version; records still
    /// attached (a validation error on `customer`).
    pub async fn delete_customer(&self, actor: &Actor, id: CustomerId, expected_version: u64) -> Result<()> {
        actor.require(Permission::CustomerDelete)?;
        let customer = self.load_customer(actor, id).await?;
        let expected_version = check_version("customer", id, customer.version(), expected_version)?;
        let events = [self.event(actor, EventKind::CustomerDeleted { customer: id })];
        self.store.delete_customer(actor.tenant, id, expected_version, &events).await?;
        Ok(())
    }

    /// Searches customers (CUS-5): name by prefix or sound, phone digits, email, account
    /// number, custom value; paginated. With a search engine, the free text `q` alone is
    /// searched there (prefix, typos, sound, emails, phones and account numbers, ranked, no
    /// cap, about [`crate::search::IndexerSettings::poll_interval`] behind the writes);
    /// otherwise the store's search answers (`q` read as `name`).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; bad criteria or cursor.
    pub async fn search_customers(
        &self,
        actor: &Actor,
        query: &CustomerQuery,
        page: &PageRequest,
    ) -> Result<Page<Customer>> {
        actor.require(Permission::CustomerRead)?;
        let search = query.normalise()?;
        if let Some(found) = self.search_customers_on_engine(actor, query, page).await? {
            return Ok(found);
        }
        Ok(self.store.search_customers(actor.tenant, &search, page).await?)
    }

    /// Relates two customers (CUS-7).
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; either customer missing; a self-relation.
    pub async fn add_relation(
        &self,
        actor: &Actor,
        from: CustomerId,
        to: CustomerId,
        kind: RelationKind,
        note: Option<String>,
    ) -> Result<Relation> {
        actor.require(Permission::CustomerEdit)?;
        if from == to {
            return Err(Error::invalid("to", "a customer cannot be related to itself"));
        }
        for id in [from, to] {
            if self.load_customer(actor, id).await?.is_merged() {
                return Err(Error::invalid("customer", format!("{id} was merged into another card")));
            }
        }
        let note = note.map(|n| bounded_text("note", n.trim(), 500)).transpose()?.filter(|n| !n.is_empty());
        let relation = Relation { id: next_id(&*self.ids), tenant: actor.tenant, from, to, kind, note };
        let events =
            [self.event(actor, EventKind::CustomerUpdated { customer: from, fields: vec!["relations".into()] })];
        self.store.insert_relation(&relation, &events).await?;
        Ok(relation)
    }

    /// Removes a relation.
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; `NotFound`.
    pub async fn remove_relation(&self, actor: &Actor, customer: CustomerId, id: RelationId) -> Result<()> {
        actor.require(Permission::CustomerEdit)?;
        let relations = self.store.relations_of(actor.tenant, customer).await?;
        if !relations.iter().any(|r| r.id == id) {
            return Err(Error::not_found("relation", id));
        }
        let events = [self.event(actor, EventKind::CustomerUpdated { customer, fields: vec!["relations".into()] })];
        self.store.delete_relation(actor.tenant, id, &events).await?;
        Ok(())
    }

    /// A customer's relations.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound` for a customer the tenant does not have,
    /// as [`Crm::get_customer`] answers (not an empty list).
    pub async fn relations(&self, actor: &Actor, customer: CustomerId) -> Result<Vec<Relation>> {
        actor.require(Permission::CustomerRead)?;
        let (_, relations) = futures::try_join!(self.load_customer(actor, customer), async {
            Ok(self.store.relations_of(actor.tenant, customer).await?)
        })?;
        Ok(relations)
    }
}
