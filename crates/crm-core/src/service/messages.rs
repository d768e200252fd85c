//! Conversation messages and the live card (CUS-8): each message is written with what it
//! does to the contact's card (last contact, channel identity, unread count) in one
//! transaction, and reaches the handling agent's stream through the notification worker.

use super::Crm;
use crate::access::{Actor, Permission};
use crate::customer::{Customer, CustomerStatus};
use crate::error::{Conflict, Error, Result};
use crate::event::EventKind;
use crate::ids::InteractionId;
use crate::interaction::{Counterpart, Direction, Interaction, InteractionMessage, NewMessage};
use crate::page::{Page, PageRequest};
use crate::ports::CardWrite;
use crate::time::next_id;

/// How often a message is tried again when its conversation or card changed meanwhile
/// (concurrent messages to one card all succeed, one after the other).
const ATTEMPTS: usize = 8;

fn is_stale(e: &Error) -> bool {
    matches!(e, Error::Conflict(Conflict::StaleVersion { .. }))
}

impl Crm {
    /// The live card of `inter`: its customer, following a merge to the surviving card.
    async fn conversation_card(&self, actor: &Actor, inter: &Interaction) -> Result<Option<Customer>> {
        let Some(id) = inter.customer() else { return Ok(None) };
        let Some(card) = self.store.get_customer(actor.tenant, id).await? else { return Ok(None) };
        match *card.status() {
            CustomerStatus::Merged { into, .. } => Ok(self.store.get_customer(actor.tenant, into).await?),
            _ => Ok(Some(card)),
        }
    }

    /// Adds a message to a conversation (CUS-8). An inbound message updates the contact's
    /// card (last contact, the channel identity it came from, one more unread message); an
    /// outbound one (an agent's reply) marks the card's messages read. The message and the
    /// card are written in one transaction, and the handling agent's stream receives
    /// `message_added`.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound`; bad values (naming the field);
    /// `interaction` for a voice interaction; an illegal transition for a closed or declined
    /// conversation.
    pub async fn add_message(&self, actor: &Actor, id: InteractionId, input: NewMessage) -> Result<InteractionMessage> {
        actor.require(Permission::InteractionHandle)?;
        let message_id = next_id(&*self.ids);
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let inter = self.load_interaction(actor, id).await?;
            inter.check_takes_messages()?.map_err(|e| Error::Validation(e.into()))?;
            let now = self.clock.now();
            let message = input.clone().build(message_id, &inter, actor.agent, now)?;
            let mut card = self.conversation_card(actor, &inter).await?;
            let mut write = None;
            if let Some(c) = card.as_mut() {
                let expected_version = c.version();
                let changed = match message.direction {
                    Direction::Inbound => {
                        let identity = match inter.counterpart() {
                            Counterpart::Contact { address: Some(a), .. } => {
                                let region = self.tenant(actor.tenant).await?.default_region;
                                self.identity_of(inter.channel, a, region)
                            }
                            _ => None,
                        };
                        c.record_message(identity, now);
                        true
                    }
                    Direction::Outbound => c.mark_messages_read(now),
                };
                if changed {
                    write = Some(CardWrite::Updated { customer: c.clone(), expected_version });
                }
            }
            let mut kinds = vec![EventKind::MessageAdded {
                interaction: id,
                message: message.id,
                direction: message.direction,
                customer: card.as_ref().map(|c| c.id),
                agent: inter.agent(),
                unread: card.as_ref().map_or(0, Customer::unread_messages),
            }];
            if let Some(CardWrite::Updated { customer, .. }) = &write {
                let fields = ["last_contact_at", "identities", "unread_messages"].map(String::from).to_vec();
                kinds.push(EventKind::CustomerUpdated { customer: customer.id, fields });
            }
            let events: Vec<_> = kinds.into_iter().map(|kind| self.event(actor, kind)).collect();
            match self.store.insert_message(&message, inter.version(), write, &events).await {
                Ok(()) => return Ok(message),
                Err(e) => {
                    let e = Error::from(e);
                    if !is_stale(&e) {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Conflict(Conflict::State("the conversation is too busy, try again".into()))))
    }

    /// A conversation's transcript: its messages, oldest first, cursor-paged (CUS-8).
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound`; a bad cursor.
    pub async fn messages(
        &self,
        actor: &Actor,
        id: InteractionId,
        page: &PageRequest,
    ) -> Result<Page<InteractionMessage>> {
        actor.require(Permission::InteractionHandle)?;
        self.load_interaction(actor, id).await?;
        Ok(self.store.messages_of(actor.tenant, id, page).await?)
    }

    /// An agent read the conversation: its card's messages are no longer unread (CUS-8).
    /// Returns the card as it now is (unchanged when nothing was unread).
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound` (also for a conversation without
    /// a card).
    pub async fn mark_messages_read(&self, actor: &Actor, id: InteractionId) -> Result<Customer> {
        actor.require(Permission::InteractionHandle)?;
        let inter = self.load_interaction(actor, id).await?;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let Some(mut card) = self.conversation_card(actor, &inter).await? else {
                return Err(Error::not_found("customer", format!("of interaction {id}")));
            };
            let expected_version = card.version();
            if !card.mark_messages_read(self.clock.now()) {
                return Ok(card);
            }
            let kind = EventKind::CustomerUpdated { customer: card.id, fields: vec!["unread_messages".into()] };
            match self.store.update_customer(&card, expected_version, &[self.event(actor, kind)]).await {
                Ok(()) => return Ok(card),
                Err(e) => {
                    let e = Error::from(e);
                    if !is_stale(&e) {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Conflict(Conflict::State("the card is too busy, try again".into()))))
    }
}
