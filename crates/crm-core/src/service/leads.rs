//! Lead use cases and local contacts created during an interaction (INT-7): a lead or a
//! customer created and linked to the interaction in one write, a lead linked to another
//! interaction, and the conversion of a lead into a customer that keeps its history.

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::custom_field::FieldEntity;
use crate::customer::{AccountNumber, Customer, CustomerContext, NewCustomer};
use crate::error::{Conflict, Error, Result};
use crate::event::{DomainEvent, EventKind};
use crate::ids::{InteractionId, LeadId};
use crate::interaction::{Interaction, LinkTarget};
use crate::lead::{ConvertLead, Lead, LeadConversion, LeadPatch, LeadStatus, NewLead};
use crate::page::{Page, PageRequest};
use crate::time::next_id;

/// How many times a generated account number is drawn again after a collision.
const ACCOUNT_ATTEMPTS: u32 = 5;

impl Crm {
    /// Creates a lead.
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; every bad value, named.
    pub async fn create_lead(&self, actor: &Actor, input: NewLead) -> Result<Lead> {
        actor.require(Permission::CustomerEdit)?;
        let tenant = self.tenant(actor.tenant).await?;
        let lead = input.build(next_id(&*self.ids), actor, Some(tenant.default_region), None, self.clock.now())?;
        let events = [self.event(actor, EventKind::LeadCreated { lead: lead.id, interaction: None })];
        self.store.insert_lead(&lead, &events).await?;
        Ok(lead)
    }

    /// A lead of the actor's tenant.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound` (another tenant's too).
    pub async fn get_lead(&self, actor: &Actor, id: LeadId) -> Result<Lead> {
        actor.require(Permission::CustomerRead)?;
        self.load_lead(actor, id).await
    }

    async fn load_lead(&self, actor: &Actor, id: LeadId) -> Result<Lead> {
        self.store.get_lead(actor.tenant, id).await?.ok_or_else(|| Error::not_found("lead", id))
    }

    /// The tenant's leads, newest first, of one status when given.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; a bad cursor.
    pub async fn list_leads(
        &self,
        actor: &Actor,
        status: Option<LeadStatus>,
        page: &PageRequest,
    ) -> Result<Page<Lead>> {
        actor.require(Permission::CustomerRead)?;
        Ok(self.store.list_leads(actor.tenant, status, page).await?)
    }

    /// Changes a lead (its qualification status among its fields).
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; `NotFound`; bad values or a refused status
    /// change (naming `status`); a converted lead; a stale version.
    pub async fn update_lead(
        &self,
        actor: &Actor,
        id: LeadId,
        expected_version: u64,
        patch: LeadPatch,
    ) -> Result<Lead> {
        actor.require(Permission::CustomerEdit)?;
        let mut lead = self.load_lead(actor, id).await?;
        let expected_version = check_version("lead", id, lead.version(), expected_version)?;
        let tenant = self.tenant(actor.tenant).await?;
        let before = lead.clone();
        let fields = lead.apply(&patch, Some(tenant.default_region), self.clock.now())?;
        if fields.is_empty() {
            return Ok(lead);
        }
        let events =
            [self.event_with_changes(actor, EventKind::LeadUpdated { lead: id, fields }, Some(&before), Some(&lead))];
        self.store.update_lead(&lead, expected_version, &events).await?;
        Ok(lead)
    }

    /// Creates a lead during an interaction and links them, in one write (INT-7).
    ///
    /// # Errors
    /// Forbidden without `interaction.handle` and `customer.edit`; `NotFound` for the
    /// interaction; bad values; a declined interaction; a stale interaction version.
    pub async fn create_lead_from_interaction(
        &self,
        actor: &Actor,
        interaction: InteractionId,
        expected_version: u64,
        input: NewLead,
    ) -> Result<Lead> {
        actor.require(Permission::InteractionHandle)?;
        actor.require(Permission::CustomerEdit)?;
        let mut inter = self.load_interaction(actor, interaction).await?;
        let expected_version = check_version("interaction", interaction, inter.version(), expected_version)?;
        let tenant = self.tenant(actor.tenant).await?;
        let now = self.clock.now();
        let lead = input.build(next_id(&*self.ids), actor, Some(tenant.default_region), Some(interaction), now)?;
        let target = LinkTarget::Lead { id: lead.id };
        inter.link(target.clone(), actor.agent, now)?;
        let events = [
            self.event(actor, EventKind::LeadCreated { lead: lead.id, interaction: Some(interaction) }),
            self.event(actor, EventKind::InteractionLinked { interaction, target }),
        ];
        self.store.write_lead_with_interaction(&lead, None, &inter, expected_version, &events).await?;
        Ok(lead)
    }

    /// Links an existing lead to an interaction (the lead records it too), in one write.
    /// Returns the interaction.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound` for the interaction; a lead the
    /// tenant does not have or a converted one (naming `target`); a stale version.
    pub(super) async fn link_lead(
        &self,
        actor: &Actor,
        lead: LeadId,
        interaction: InteractionId,
        expected_version: u64,
    ) -> Result<Interaction> {
        actor.require(Permission::InteractionHandle)?;
        let mut inter = self.load_interaction(actor, interaction).await?;
        let expected_version = check_version("interaction", interaction, inter.version(), expected_version)?;
        let mut record =
            self.load_lead(actor, lead).await.map_err(|_| Error::invalid("target", "is not a lead of this tenant"))?;
        let lead_version = record.version();
        let now = self.clock.now();
        record.record_interaction(interaction, now).map_err(|e| Error::invalid("target", e.to_string()))?;
        let target = LinkTarget::Lead { id: lead };
        if !inter.link(target.clone(), actor.agent, now)? && record.version() == lead_version {
            return Ok(inter);
        }
        let events = [self.event(actor, EventKind::InteractionLinked { interaction, target })];
        self.store.write_lead_with_interaction(&record, Some(lead_version), &inter, expected_version, &events).await?;
        Ok(inter)
    }

    /// Creates a local customer during an interaction and links them, in one write
    /// (INT-7). The account number is generated when none is given.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle` and `customer.edit`; `NotFound` for the
    /// interaction; bad values; a taken account number; a declined interaction; a stale
    /// interaction version.
    pub async fn create_customer_from_interaction(
        &self,
        actor: &Actor,
        interaction: InteractionId,
        expected_version: u64,
        mut input: NewCustomer,
    ) -> Result<Customer> {
        actor.require(Permission::InteractionHandle)?;
        actor.require(Permission::CustomerEdit)?;
        let inter = self.load_interaction(actor, interaction).await?;
        let expected_version = check_version("interaction", interaction, inter.version(), expected_version)?;
        input.origin_channel = input.origin_channel.or(Some(inter.channel));
        let id = next_id(&*self.ids);
        self.with_account_number(actor, input, id, |customer| {
            let mut inter = inter.clone();
            async move {
                let now = self.clock.now();
                let target = LinkTarget::Customer { id: customer.id };
                inter.link(target.clone(), actor.agent, now)?;
                let events = [
                    self.event(actor, EventKind::CustomerCreated { customer: customer.id }),
                    self.event(actor, EventKind::InteractionLinked { interaction, target }),
                ];
                self.store.insert_customer_from_interaction(&customer, &inter, expected_version, &events).await?;
                Ok(customer)
            }
        })
        .await
    }

    /// Converts a lead into a customer keeping its history (INT-7): the customer gets the
    /// lead's name and identities, every interaction of the lead is linked to it, and the
    /// lead is marked converted with a pointer to it, in one write.
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; `NotFound`; a stale version; a converted or
    /// disqualified lead; a bad or taken account number.
    pub async fn convert_lead(
        &self,
        actor: &Actor,
        id: LeadId,
        expected_version: u64,
        request: ConvertLead,
    ) -> Result<LeadConversion> {
        actor.require(Permission::CustomerEdit)?;
        let lead = self.load_lead(actor, id).await?;
        let expected_version = check_version("lead", id, lead.version(), expected_version)?;
        // Refused before an account number is drawn.
        lead.check_convertible()?;
        let mut interactions = Vec::new();
        for interaction in lead.interactions() {
            if let Some(inter) = self.store.get_interaction(actor.tenant, *interaction).await? {
                interactions.push(inter);
            }
        }
        let mut input = lead.customer_input();
        input.account_number = request.account_number;
        let customer_id = next_id(&*self.ids);
        let customer = self
            .with_account_number(actor, input, customer_id, |customer| {
                let (mut lead, interactions) = (lead.clone(), interactions.clone());
                async move {
                    let now = self.clock.now();
                    lead.convert(customer.id, now)?;
                    let mut events: Vec<DomainEvent> = vec![
                        self.event(actor, EventKind::CustomerCreated { customer: customer.id }),
                        self.event(actor, EventKind::LeadConverted { lead: lead.id, customer: customer.id }),
                    ];
                    let mut changed = Vec::new();
                    for mut inter in interactions {
                        let version = inter.version();
                        let target = LinkTarget::Customer { id: customer.id };
                        match inter.link(target.clone(), actor.agent, now) {
                            Ok(true) => {}
                            Ok(false) => continue,
                            // A declined interaction takes no link: it still moves to the card.
                            Err(_) if inter.customer().is_none() => inter.move_to_customer(customer.id),
                            Err(_) => continue,
                        }
                        events.push(self.event(actor, EventKind::InteractionLinked { interaction: inter.id, target }));
                        changed.push((inter, version));
                    }
                    self.store.convert_lead(&lead, expected_version, &customer, &changed, &events).await?;
                    Ok(customer)
                }
            })
            .await?;
        let lead = self.load_lead(actor, id).await?;
        Ok(LeadConversion { lead, customer })
    }

    /// Builds the customer from `input` (account number given or generated) and hands it
    /// to `insert`; a generated number that collides with one chosen by hand is drawn
    /// again, a few times at most.
    async fn with_account_number<F, Fut>(
        &self,
        actor: &Actor,
        input: NewCustomer,
        id: crate::ids::CustomerId,
        insert: F,
    ) -> Result<Customer>
    where
        F: Fn(Customer) -> Fut,
        Fut: std::future::Future<Output = Result<Customer>>,
    {
        let tenant = self.tenant(actor.tenant).await?;
        let definitions = self.store.field_definitions(actor.tenant, FieldEntity::Customer).await?;
        let ctx =
            CustomerContext { region: Some(tenant.default_region), definitions: &definitions, now: self.clock.now() };
        if input.account_number.is_some() {
            return insert(input.build(id, actor.tenant, Some(actor.agent), None, ctx)?).await;
        }
        // Validate before drawing from the sequence, so refused input burns no number.
        input.clone().build(id, actor.tenant, Some(actor.agent), Some(AccountNumber::generated(0)), ctx)?;
        let mut attempts = 0;
        loop {
            let generated = AccountNumber::generated(self.store.next_account_sequence(actor.tenant).await?);
            let customer = input.clone().build(id, actor.tenant, Some(actor.agent), Some(generated), ctx)?;
            match insert(customer).await {
                Err(Error::Conflict(Conflict::Duplicate { field, .. }))
                    if field == "account_number" && attempts < ACCOUNT_ATTEMPTS =>
                {
                    attempts += 1;
                }
                other => return other,
            }
        }
    }
}
