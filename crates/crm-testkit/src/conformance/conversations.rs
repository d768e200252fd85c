//! Conformance: what an interaction leaves on its local cases (INT-6), the interactions of a
//! case, a filtered history (INT-5) and a conversation's messages with the live card (CUS-8).

use std::sync::Arc;

use chrono::Duration;
use crm_core::event::EventKind;
use crm_core::follow_up::FollowUp;
use crm_core::ids::{CaseId, FollowUpId, InteractionId, MessageId, NoteId};
use crm_core::interaction::{
    Channel, Direction, Interaction, InteractionAction, InteractionFilter, InteractionMessage, LinkTarget, NewMessage,
};
use crm_core::ports::CardWrite;

use super::{Ctx, StoreFactory, assert_invalid_reference, assert_not_found, assert_stale, page};

fn ids(interactions: &[Interaction]) -> Vec<InteractionId> {
    interactions.iter().map(|i| i.id).collect()
}

/// `inter` after wrap-up (accept, end, complete), linked to `cases`, as one stored change
/// per step; returns the last step applied in memory only (not stored) and its version.
async fn wrapped_up(ctx: &Ctx, inter: &Interaction, cases: &[CaseId]) -> (Interaction, u64) {
    let (s, agent) = (&ctx.store, ctx.t.agent.id);
    let mut i = inter.clone();
    let targets = cases.iter().map(|id| LinkTarget::Case { id: *id });
    i.link_all(targets, agent, ctx.now).unwrap();
    i.apply(InteractionAction::Accept, agent, ctx.now).unwrap();
    i.apply(InteractionAction::End, agent, ctx.now + Duration::seconds(90)).unwrap();
    let stored = inter.version();
    // Written as one change (the store only compares versions).
    let mut record = i.clone().into_record();
    record.version = stored + 1;
    let i = Interaction::restore(record);
    s.update_interaction(&i, stored, &[]).await.unwrap();
    let mut done = i.clone();
    done.apply(InteractionAction::CompleteWrapUp, agent, ctx.now + Duration::seconds(120)).unwrap();
    (done, i.version())
}

fn summaries(ctx: &Ctx, inter: &Interaction, cases: &[CaseId]) -> Vec<FollowUp> {
    let ids = || ctx.id::<FollowUpId>();
    inter.summary_follow_ups(InteractionAction::CompleteWrapUp, cases, ids, ctx.now + Duration::seconds(120))
}

/// The summary follow-ups are written with the interaction's change or not at all: a stale
/// version or a missing case writes neither; of concurrent writers with the same expected
/// version, exactly one writes its follow-ups.
pub async fn summary_follow_ups_are_written_with_their_interaction_or_not_at_all(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Résumé", vec![]).await;
    let (a, b) = (ctx.case(&customer, |_| {}).await, ctx.case(&customer, |_| {}).await);

    // A missing case: nothing written.
    let call = ctx.interaction(Some(&customer)).await;
    let missing = ctx.id::<CaseId>();
    let (done, version) = wrapped_up(&ctx, &call, &[a.id]).await;
    let bad = summaries(&ctx, &done, &[a.id, missing]);
    assert_invalid_reference(s.update_interaction_with_follow_ups(&done, version, &bad, &[], &[]).await, "case");
    assert_eq!(s.get_interaction(tenant, call.id).await.unwrap().map(|i| i.version()), Some(version));
    assert!(s.follow_ups_of(tenant, a.id).await.unwrap().is_empty());

    // Stale: nothing written.
    let stale = summaries(&ctx, &done, &[a.id]);
    assert_stale(s.update_interaction_with_follow_ups(&done, version - 1, &stale, &[], &[]).await);
    assert!(s.follow_ups_of(tenant, a.id).await.unwrap().is_empty());

    // Written: the interaction, both follow-ups and the events.
    let follow_ups = summaries(&ctx, &done, &[a.id, b.id]);
    let events: Vec<_> =
        follow_ups.iter().map(|f| ctx.event(EventKind::FollowUpAdded { case: f.case, follow_up: f.id })).collect();
    s.update_interaction_with_follow_ups(&done, version, &follow_ups, &[], &events).await.unwrap();
    assert_eq!(s.get_interaction(tenant, call.id).await.unwrap(), Some(done.clone()));
    assert_eq!(s.follow_ups_of(tenant, a.id).await.unwrap(), vec![follow_ups[0].clone()]);
    assert_eq!(s.follow_ups_of(tenant, b.id).await.unwrap(), vec![follow_ups[1].clone()]);
    for e in &events {
        assert!(ctx.has_event(e.id).await);
    }

    // Concurrent wrap-ups of one interaction: one set of follow-ups.
    let call = ctx.interaction(Some(&customer)).await;
    let (done, version) = wrapped_up(&ctx, &call, &[b.id]).await;
    let store = Arc::clone(&ctx.store);
    let tries = (0..4).map(|_| {
        let (store, done, follow_ups) = (Arc::clone(&store), done.clone(), summaries(&ctx, &done, &[b.id]));
        tokio::spawn(
            async move { store.update_interaction_with_follow_ups(&done, version, &follow_ups, &[], &[]).await },
        )
    });
    let results = futures::future::join_all(tries).await;
    let ok = results.into_iter().filter(|r| matches!(r, Ok(Ok(())))).count();
    assert_eq!(ok, 1, "exactly one concurrent writer wins");
    let on_b = s.follow_ups_of(tenant, b.id).await.unwrap();
    assert_eq!(on_b.iter().filter(|f| f.interaction == Some(call.id)).count(), 1, "one summary, not four");
}

/// A case's interactions are those whose stored links name it (unlinking removes one),
/// newest first (by offered time, then id), paginated, in the tenant only.
pub async fn case_interactions_follow_the_stored_links_newest_first(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant, agent) = (&ctx.store, ctx.tenant(), ctx.t.agent.id);
    let customer = ctx.customer("Lié", vec![]).await;
    let (case, other) = (ctx.case(&customer, |_| {}).await, ctx.case(&customer, |_| {}).await);
    let mut linked = Vec::new();
    for minutes in [4, -2, 4, 9, 0] {
        let mut i = ctx.build_interaction(Some(&customer));
        i.offered_at = ctx.now + Duration::minutes(minutes);
        i.link(LinkTarget::Case { id: case.id }, agent, ctx.now).unwrap();
        // Inserted already linked, or linked by an update: both are indexed.
        if minutes == 9 {
            let mut record = i.clone().into_record();
            record.links.clear();
            record.version = 1;
            s.insert_interaction(&Interaction::restore(record), &[]).await.unwrap();
            s.update_interaction(&i, 1, &[]).await.unwrap();
        } else {
            s.insert_interaction(&i, &[]).await.unwrap();
        }
        linked.push(i);
    }
    let unlinked = linked.remove(1);
    let mut u = unlinked.clone();
    assert!(u.unlink(&LinkTarget::Case { id: case.id }));
    u.link(LinkTarget::Case { id: other.id }, agent, ctx.now).unwrap();
    s.update_interaction(&u, unlinked.version(), &[]).await.unwrap();
    ctx.interaction(Some(&customer)).await;
    linked.sort_by_key(|i| std::cmp::Reverse((i.offered_at, i.id)));
    for limit in [1, 2, 50] {
        let mut walked = Vec::new();
        let mut request = page(limit);
        loop {
            let p = s.interactions_of_case(tenant, case.id, &request).await.unwrap();
            walked.extend(p.items);
            match p.next {
                Some(next) => request.after = Some(next),
                None => break,
            }
        }
        assert_eq!(ids(&walked), ids(&linked), "pages of {limit}");
    }
    let on_other = s.interactions_of_case(tenant, other.id, &page(50)).await.unwrap();
    assert_eq!(ids(&on_other.items), vec![u.id]);
    let stranger = Ctx::new(factory).await;
    assert!(s.interactions_of_case(stranger.tenant(), case.id, &page(50)).await.unwrap().items.is_empty());
}

/// A filtered history returns exactly what [`InteractionFilter::matches`] keeps (messages'
/// texts included), in the history's order, in full pages.
pub async fn filtered_history_follows_the_reference_semantics(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant, agent) = (&ctx.store, ctx.tenant(), ctx.t.agent.id);
    let customer = ctx.customer("Historique", vec![]).await;
    let mut all = Vec::new();
    let mut message_texts: Vec<(InteractionId, String)> = Vec::new();
    let plan: [(Channel, &str, Option<&str>); 7] = [
        (Channel::Voice, "Wants a REFUND", None),
        (Channel::Chat, "delivery late", Some("Où est mon colis ? refund_please")),
        (Channel::Email, "Remboursement effectué", None),
        (Channel::Chat, "", Some("hello")),
        (Channel::Sms, "refund", None),
        (Channel::Voice, "", None),
        (Channel::Chat, "réclamation", Some("colis abîmé")),
    ];
    for (n, (channel, note, message)) in plan.into_iter().enumerate() {
        let mut i = ctx.build_interaction(Some(&customer));
        i.channel = channel;
        i.offered_at = ctx.now + Duration::minutes(i64::try_from(n % 3).unwrap_or(0));
        if !note.is_empty() {
            i.add_note(ctx.id::<NoteId>(), agent, note, ctx.now).unwrap();
        }
        let mut record = i.into_record();
        record.version = 1;
        let i = Interaction::restore(record);
        s.insert_interaction(&i, &[]).await.unwrap();
        if let Some(body) = message {
            let m = NewMessage { direction: Direction::Inbound, author: None, body: body.into(), attachments: vec![] }
                .build(ctx.id::<MessageId>(), &i, agent, ctx.now)
                .unwrap();
            s.insert_message(&m, 1, None, &[]).await.unwrap();
            message_texts.push((i.id, m.search_text()));
        }
        all.push(i);
    }
    ctx.interaction(None).await;
    all.sort_by_key(|i| std::cmp::Reverse((i.offered_at, i.id)));
    let filters = [
        InteractionFilter::new(Some(Channel::Chat), None).unwrap(),
        InteractionFilter::new(None, Some("refund")).unwrap(),
        InteractionFilter::new(None, Some("COLIS")).unwrap(),
        InteractionFilter::new(Some(Channel::Chat), Some("refund")).unwrap(),
        InteractionFilter::new(None, Some("rembourse")).unwrap(),
        InteractionFilter::new(None, Some("wants a")).unwrap(),
        InteractionFilter::new(Some(Channel::Fax), None).unwrap(),
    ];
    for filter in filters {
        let expected: Vec<InteractionId> = all
            .iter()
            .filter(|i| {
                let texts = message_texts.iter().filter(|(id, _)| *id == i.id).map(|(_, t)| t.as_str());
                filter.matches(i, texts)
            })
            .map(|i| i.id)
            .collect();
        for limit in [1, 2, 50] {
            let mut walked = Vec::new();
            let mut request = page(limit);
            loop {
                let p = s.search_interactions_of_customer(tenant, customer.id, &filter, &request).await.unwrap();
                if p.next.is_some() {
                    assert_eq!(p.items.len(), limit as usize, "pages before the last are full");
                }
                walked.extend(p.items);
                match p.next {
                    Some(next) => request.after = Some(next),
                    None => break,
                }
            }
            assert_eq!(ids(&walked), expected, "{filter:?}, pages of {limit}");
        }
    }
    let refund = InteractionFilter::new(None, Some("refund")).unwrap();
    assert!(refund.text().is_some());
    assert_eq!(
        s.search_interactions_of_customer(tenant, customer.id, &refund, &page(50)).await.unwrap().items.len(),
        3,
        "the note of the call, the chat's message and the SMS's note"
    );
}

/// A message is written with its card's update or not at all (a changed interaction, a
/// stale card, a missing interaction write nothing), and a conversation's messages are
/// listed oldest first (by time, then id), paginated, in the tenant only.
pub async fn messages_are_written_with_their_card_and_listed_oldest_first(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant, agent) = (&ctx.store, ctx.tenant(), ctx.t.agent.id);
    let customer = ctx.customer("Conversation", vec![]).await;
    let mut chat = ctx.build_interaction(Some(&customer));
    chat.channel = Channel::Chat;
    s.insert_interaction(&chat, &[]).await.unwrap();
    let build = |body: &str, seconds: i64| -> InteractionMessage {
        NewMessage { direction: Direction::Inbound, author: Some("Jo".into()), body: body.into(), attachments: vec![] }
            .build(ctx.id(), &chat, agent, ctx.now + Duration::seconds(seconds))
            .unwrap()
    };

    let first = build("bonjour", 5);
    let mut card = customer.clone();
    card.record_message(None, first.at);
    let update = CardWrite::Updated { customer: card.clone(), expected_version: customer.version() };
    let event = ctx.event(EventKind::MessageAdded {
        interaction: chat.id,
        message: first.id,
        direction: Direction::Inbound,
        customer: Some(card.id),
        agent: Some(agent),
        unread: 1,
    });
    s.insert_message(&first, chat.version(), Some(update.clone()), std::slice::from_ref(&event)).await.unwrap();
    assert_eq!(s.get_customer(tenant, card.id).await.unwrap().map(|c| c.unread_messages()), Some(1));
    assert!(ctx.has_event(event.id).await);
    assert_eq!(s.get_interaction(tenant, chat.id).await.unwrap(), Some(chat.clone()), "the interaction is unchanged");

    // The same card update again is stale: no message.
    let late = build("encore", 6);
    assert_stale(s.insert_message(&late, chat.version(), Some(update.clone()), &[]).await);
    // The interaction changed since its state was checked: no message, no card.
    let mut next = card.clone();
    next.record_message(None, late.at);
    let update = CardWrite::Updated { customer: next.clone(), expected_version: card.version() };
    assert_stale(s.insert_message(&late, chat.version() + 1, Some(update.clone()), &[]).await);
    assert_eq!(s.get_customer(tenant, card.id).await.unwrap().map(|c| c.version()), Some(card.version()));
    let mut gone = late.clone();
    gone.interaction = ctx.id();
    assert_not_found(s.insert_message(&gone, 1, None, &[]).await);

    let mut messages = vec![first];
    for seconds in [9, 7, 7, 30] {
        let m = build("suite", seconds);
        s.insert_message(&m, chat.version(), None, &[]).await.unwrap();
        messages.push(m);
    }
    messages.sort_by_key(|m| (m.at, m.id));
    for limit in [1, 2, 50] {
        let mut walked = Vec::new();
        let mut request = page(limit);
        loop {
            let p = s.messages_of(tenant, chat.id, &request).await.unwrap();
            walked.extend(p.items);
            match p.next {
                Some(next) => request.after = Some(next),
                None => break,
            }
        }
        assert_eq!(walked, messages, "pages of {limit}");
    }
    let stranger = Ctx::new(factory).await;
    assert!(s.messages_of(stranger.tenant(), chat.id, &page(50)).await.unwrap().items.is_empty());
}
