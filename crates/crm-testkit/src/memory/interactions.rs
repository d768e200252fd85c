//! [`InteractionStore`] for [`MemoryStore`]: interactions and a customer's history.

use std::cmp::Reverse;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::follow_up::FollowUp;
use crm_core::ids::{CaseId, CustomerId, InteractionId, TenantId};
use crm_core::interaction::{Interaction, InteractionFilter, InteractionMessage};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{CardWrite, InteractionStore, StoreResult};

use super::{MemoryStore, State, check_version, decode_cursor, invalid_reference, paginate};

/// A page of `interactions` newest first (by offered time, then id, both descending), after
/// the page's cursor.
fn newest_first<'a>(
    interactions: impl Iterator<Item = &'a Interaction>,
    page: &PageRequest,
) -> StoreResult<Page<Interaction>> {
    let cursor: Option<(DateTime<Utc>, InteractionId)> = decode_cursor(page)?;
    let mut found: Vec<&Interaction> =
        interactions.filter(|i| cursor.is_none_or(|c| (i.offered_at, i.id) < c)).collect();
    found.sort_by_key(|i| Reverse((i.offered_at, i.id)));
    Ok(paginate(found, page, |i: &Interaction| (i.offered_at, i.id)))
}

/// Checks that `id` is an interaction of `tenant` stored at `expected_version`.
fn check_stored(state: &State, tenant: TenantId, id: InteractionId, expected_version: u64) -> StoreResult<()> {
    let stored = state
        .interactions
        .get(&id)
        .filter(|i| i.tenant == tenant)
        .ok_or_else(|| StoreError::not_found("interaction", id))?;
    check_version("interaction", id, stored.version(), expected_version)
}

#[async_trait]
impl InteractionStore for MemoryStore {
    async fn insert_interaction(&self, interaction: &Interaction, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if let Some(customer) = interaction.customer().filter(|c| !state.customer_exists(interaction.tenant, *c)) {
            return Err(invalid_reference("customer", format_args!("customer {customer}")));
        }
        if state.interactions.contains_key(&interaction.id) {
            return Err(StoreError::duplicate("id", interaction.id.to_string()));
        }
        let rows = state.stage_events(events)?;
        state.interactions.insert(interaction.id, interaction.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn insert_interaction_with_card(
        &self,
        interaction: &Interaction,
        card: &CardWrite,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        // Every check first, then every change: all or nothing.
        let customer = match card {
            CardWrite::Created(c) => {
                state.check_new_customer(c)?;
                c
            }
            CardWrite::Updated { customer: c, expected_version } => {
                state.check_customer_update(c, *expected_version)?;
                c
            }
        };
        // The interaction may name the card being written (in the same tenant) or a stored one.
        let names_the_card = |r: CustomerId| r == customer.id && customer.tenant == interaction.tenant;
        if let Some(r) =
            interaction.customer().filter(|r| !names_the_card(*r) && !state.customer_exists(interaction.tenant, *r))
        {
            return Err(invalid_reference("customer", format_args!("customer {r}")));
        }
        if state.interactions.contains_key(&interaction.id) {
            return Err(StoreError::duplicate("id", interaction.id.to_string()));
        }
        let rows = state.stage_events(events)?;
        state.customers.insert(customer.id, customer.clone());
        state.interactions.insert(interaction.id, interaction.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn update_interaction(
        &self,
        interaction: &Interaction,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.update_interaction_with_follow_ups(interaction, expected_version, &[], &[], events).await
    }

    async fn get_interaction(&self, tenant: TenantId, id: InteractionId) -> StoreResult<Option<Interaction>> {
        let state = self.read()?;
        Ok(state.interactions.get(&id).filter(|i| i.tenant == tenant).cloned())
    }

    async fn interactions_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        let state = self.read()?;
        newest_first(state.interactions.values().filter(|i| i.tenant == tenant && i.customer() == Some(customer)), page)
    }

    async fn update_interaction_with_follow_ups(
        &self,
        interaction: &Interaction,
        expected_version: u64,
        follow_ups: &[FollowUp],
        remarks: &[crm_core::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        check_stored(&state, interaction.tenant, interaction.id, expected_version)?;
        for r in remarks {
            state.check_remark(r)?;
        }
        if let Some(customer) = interaction.customer().filter(|c| !state.customer_exists(interaction.tenant, *c)) {
            return Err(invalid_reference("customer", format_args!("customer {customer}")));
        }
        for f in follow_ups {
            if !state.case_exists(f.tenant, f.case) {
                return Err(invalid_reference("case", format_args!("case {}", f.case)));
            }
            if state.follow_ups.contains_key(&f.id) {
                return Err(StoreError::duplicate("id", f.id.to_string()));
            }
        }
        let rows = state.stage_events(events)?;
        state.interactions.insert(interaction.id, interaction.clone());
        for f in follow_ups {
            state.follow_ups.insert(f.id, f.clone());
        }
        for r in remarks {
            state.put_case(r.case(), &[]);
        }
        state.commit_events(rows);
        Ok(())
    }

    async fn interactions_of_case(
        &self,
        tenant: TenantId,
        case: CaseId,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        let state = self.read()?;
        newest_first(
            state.interactions.values().filter(|i| i.tenant == tenant && i.linked_cases().contains(&case)),
            page,
        )
    }

    async fn search_interactions_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        filter: &InteractionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        let state = self.read()?;
        let texts = |id: InteractionId| -> Vec<String> {
            state.messages.values().filter(|m| m.interaction == id).map(InteractionMessage::search_text).collect()
        };
        newest_first(
            state
                .interactions
                .values()
                .filter(|i| i.tenant == tenant && i.customer() == Some(customer))
                .filter(|i| filter.matches(i, texts(i.id).iter().map(String::as_str))),
            page,
        )
    }

    async fn insert_message(
        &self,
        message: &InteractionMessage,
        interaction_version: u64,
        card: Option<CardWrite>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        check_stored(&state, message.tenant, message.interaction, interaction_version)?;
        if state.messages.contains_key(&message.id) {
            return Err(StoreError::duplicate("id", message.id.to_string()));
        }
        let customer = match &card {
            Some(CardWrite::Created(c)) => {
                state.check_new_customer(c)?;
                Some(c)
            }
            Some(CardWrite::Updated { customer: c, expected_version }) => {
                state.check_customer_update(c, *expected_version)?;
                Some(c)
            }
            None => None,
        };
        let rows = state.stage_events(events)?;
        if let Some(c) = customer {
            state.customers.insert(c.id, c.clone());
        }
        state.messages.insert(message.id, message.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn messages_of(
        &self,
        tenant: TenantId,
        interaction: InteractionId,
        page: &PageRequest,
    ) -> StoreResult<Page<InteractionMessage>> {
        let cursor: Option<(DateTime<Utc>, crm_core::ids::MessageId)> = decode_cursor(page)?;
        let state = self.read()?;
        let mut found: Vec<&InteractionMessage> = state
            .messages
            .values()
            .filter(|m| m.tenant == tenant && m.interaction == interaction)
            .filter(|m| cursor.is_none_or(|c| (m.at, m.id) > c))
            .collect();
        found.sort_by_key(|m| (m.at, m.id));
        Ok(paginate(found, page, |m: &InteractionMessage| (m.at, m.id)))
    }
}

/// The card's combined read: the port's default (the four single reads), which is the
/// reference the SQL store's one-statement version is checked against.
impl crm_core::ports::CardStore for MemoryStore {}
impl crm_core::ports::ContextStore for MemoryStore {}
