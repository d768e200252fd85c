//! Conformance: interactions and a customer's interaction history (INT-1, INT-5).

use chrono::Duration;
use crm_core::event::EventKind;
use crm_core::external::{ExternalObject, ExternalRef, ExternalSystem};
use crm_core::ids::{CustomerId, InteractionId, NoteId};
use crm_core::interaction::{Interaction, InteractionAction, InteractionState, LinkTarget};

use crm_core::ports::CardWrite;

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, assert_stale, page};

fn ids(interactions: &[Interaction]) -> Vec<InteractionId> {
    interactions.iter().map(|i| i.id).collect()
}

/// Interactions round-trip (notes, links, state and all), need an existing card when they
/// name one, and a customer's history is newest first (by offered time, then id), paginated.
pub async fn interaction_round_trips_and_history_is_newest_first(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Appelant", vec![]).await;
    let other = ctx.customer("Autre", vec![]).await;
    let call = ctx.interaction(Some(&customer)).await;
    assert_eq!(s.get_interaction(tenant, call.id).await.unwrap(), Some(call.clone()));
    let anonymous = ctx.interaction(None).await;
    assert_eq!(s.get_interaction(tenant, anonymous.id).await.unwrap(), Some(anonymous));

    let mut orphan = ctx.build_interaction(Some(&customer));
    orphan.move_to_customer(ctx.id::<CustomerId>());
    assert_invalid_reference(s.insert_interaction(&orphan, &[]).await, "customer");
    assert_eq!(s.get_interaction(tenant, orphan.id).await.unwrap(), None);
    let mut same_id = ctx.build_interaction(Some(&customer));
    same_id.id = call.id;
    assert_duplicate(s.insert_interaction(&same_id, &[]).await, "id");

    let mut handled = call.clone();
    handled.apply(InteractionAction::Accept, ctx.t.agent.id, ctx.now + Duration::seconds(5)).unwrap();
    handled.add_note(ctx.id::<NoteId>(), ctx.t.agent.id, "Wants a refund", ctx.now + Duration::seconds(30)).unwrap();
    let external = LinkTarget::External {
        reference: ExternalRef {
            system: ExternalSystem::Salesforce,
            object: ExternalObject::Contact,
            id: "003xx".into(),
        },
    };
    handled.link(external.clone(), ctx.t.agent.id, ctx.now).unwrap();
    // Three changes written as one, with a context value the store must keep too.
    let mut record = handled.into_record();
    record.context.insert("ivr_choice".into(), "2".into());
    record.version = 2;
    let handled = Interaction::restore(record);
    let events = [
        ctx.event(EventKind::InteractionStateChanged {
            interaction: call.id,
            state: InteractionState::Active,
            agent: handled.agent(),
        }),
        ctx.event(EventKind::InteractionLinked { interaction: call.id, target: external }),
    ];
    s.update_interaction(&handled, 1, &events).await.unwrap();
    assert_eq!(s.get_interaction(tenant, call.id).await.unwrap(), Some(handled.clone()));
    for e in &events {
        assert!(ctx.has_event(e.id).await);
    }
    let mut unknown = handled.clone();
    unknown.id = ctx.id();
    assert_not_found(s.update_interaction(&unknown, 1, &[]).await);

    // History: newest first, ties on the offered time by id, other customers excluded.
    let mut history = vec![handled.clone()];
    for minutes in [10, 3, 3, 3, 7, -5, 10] {
        let mut i = ctx.build_interaction(Some(&customer));
        i.offered_at = ctx.now + Duration::minutes(minutes);
        s.insert_interaction(&i, &[]).await.unwrap();
        history.push(i);
    }
    ctx.interaction(Some(&other)).await;
    history.sort_by_key(|i| std::cmp::Reverse((i.offered_at, i.id)));
    for limit in [1, 3, 8, 50] {
        let mut walked = Vec::new();
        let mut request = page(limit);
        loop {
            let p = s.interactions_of_customer(tenant, customer.id, &request).await.unwrap();
            if p.next.is_some() {
                assert_eq!(p.items.len(), limit as usize, "pages before the last are full");
            }
            walked.extend(p.items);
            match p.next {
                Some(next) => request.after = Some(next),
                None => break,
            }
        }
        assert_eq!(ids(&walked), ids(&history), "pages of {limit}");
    }
}

/// A new contact's interaction and its card are written in one transaction (CUS-6, CUS-8):
/// a new card with its interaction and events, a known card's update with them; a refused
/// card (a taken account number, a stale version) writes neither the card, nor the
/// interaction, nor an event.
pub async fn an_interaction_and_its_card_are_written_together_or_not_at_all(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());

    // A new card for an unknown caller.
    let card =
        ctx.build_customer(crm_core::customer::NewCustomer { name: "Inconnu".into(), ..Default::default() }).await;
    let call = ctx.build_interaction(Some(&card));
    let events = [
        ctx.event(EventKind::CustomerCreated { customer: card.id }),
        ctx.event(EventKind::InteractionCreated { interaction: call.id, agent: call.agent(), customer: Some(card.id) }),
    ];
    s.insert_interaction_with_card(&call, &CardWrite::Created(card.clone()), &events).await.unwrap();
    assert_eq!(s.get_customer(tenant, card.id).await.unwrap(), Some(card.clone()));
    assert_eq!(s.get_interaction(tenant, call.id).await.unwrap(), Some(call.clone()));
    for e in &events {
        assert!(ctx.has_event(e.id).await, "{}", e.kind.name());
    }
    let by_number = s.find_by_account(tenant, card.account_number()).await.unwrap();
    assert_eq!(by_number.map(|c| c.id), Some(card.id), "the new card is found like any other");

    // A known card's last contact, with its next interaction.
    let mut known = card.clone();
    assert!(known.record_contact(None, ctx.now + Duration::minutes(5)));
    let next = ctx.build_interaction(Some(&known));
    let event = ctx.event(EventKind::CustomerUpdated { customer: known.id, fields: vec!["last_contact_at".into()] });
    let update = CardWrite::Updated { customer: known.clone(), expected_version: card.version() };
    s.insert_interaction_with_card(&next, &update, std::slice::from_ref(&event)).await.unwrap();
    assert_eq!(s.get_customer(tenant, known.id).await.unwrap(), Some(known.clone()));
    assert_eq!(s.get_interaction(tenant, next.id).await.unwrap(), Some(next));

    // The same update again is stale: nothing of it is written.
    let late = ctx.build_interaction(Some(&known));
    let event = ctx.event(EventKind::CustomerUpdated { customer: known.id, fields: vec!["last_contact_at".into()] });
    assert_stale(s.insert_interaction_with_card(&late, &update, std::slice::from_ref(&event)).await);
    assert_eq!(s.get_interaction(tenant, late.id).await.unwrap(), None, "no interaction without its card");
    assert_eq!(s.get_customer(tenant, known.id).await.unwrap(), Some(known.clone()));
    assert!(!ctx.has_event(event.id).await);

    // A new card whose account number is taken: neither is written.
    let twin =
        ctx.build_customer(crm_core::customer::NewCustomer { name: "Jumeau".into(), ..Default::default() }).await;
    let twin = crm_core::customer::Customer::restore(crm_core::customer::CustomerRecord {
        account_number: card.account_number().clone(),
        ..twin.into_record()
    });
    let lost = ctx.build_interaction(Some(&twin));
    let event = ctx.event(EventKind::CustomerCreated { customer: twin.id });
    assert_duplicate(
        s.insert_interaction_with_card(&lost, &CardWrite::Created(twin.clone()), std::slice::from_ref(&event)).await,
        "account_number",
    );
    assert_eq!(s.get_customer(tenant, twin.id).await.unwrap(), None);
    assert_eq!(s.get_interaction(tenant, lost.id).await.unwrap(), None);
    assert!(!ctx.has_event(event.id).await);
}
