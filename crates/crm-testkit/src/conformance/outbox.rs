//! Conformance: events written with their writes, and the outbox delivery cycle (claim,
//! lease, failure, dead letter, requeue, delivery).

use chrono::Duration;
use crm_core::event::{DomainEvent, EventKind, OutboxEntry, OutboxStatus, Topic};
use crm_core::external::{ActivityPush, ExternalObject, ExternalRef, ExternalSystem};
use crm_core::ids::EventId;
use crm_core::interaction::{Channel, Direction};

use super::{Ctx, StoreFactory, assert_not_found, assert_state_conflict, page};

/// Every write's events land in the outbox, pending, with their topic, due at their time;
/// the tenant's list is newest first and pages cleanly.
pub async fn events_are_written_with_their_writes(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let at = |seconds: i64| ctx.now + Duration::seconds(seconds);
    let with_time = |mut e: DomainEvent, seconds: i64| {
        e.at = at(seconds);
        e
    };
    let customer =
        ctx.build_customer(crm_core::customer::NewCustomer { name: "Évènement".into(), ..Default::default() }).await;
    let created = with_time(ctx.event(EventKind::CustomerCreated { customer: customer.id }), 1);
    s.insert_customer(&customer, std::slice::from_ref(&created)).await.unwrap();
    let case = ctx.build_case(&customer, |_| {}).await;
    let case_events = [
        with_time(
            ctx.event(EventKind::CaseCreated {
                case: case.id,
                number: case.number,
                customer: customer.id,
                assignee: None,
            }),
            2,
        ),
        with_time(ctx.event(EventKind::CaseAssigned { case: case.id, assignee: case.assignee(), group: None }), 3),
    ];
    s.insert_case(&case, &ctx.creation_history(&case), &case_events).await.unwrap();
    let interaction = ctx.build_interaction(Some(&customer));
    let push = ActivityPush {
        external_key: interaction.id.to_string(),
        interaction: interaction.id,
        target: ExternalRef { system: ExternalSystem::Dynamics, object: ExternalObject::Contact, id: "c-1".into() },
        subject: "Call: Évènement".into(),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        contact_name: Some("Évènement".into()),
        started_at: ctx.now,
        duration_seconds: Some(42),
        disposition: None,
        notes: String::new(),
    };
    let push_event = with_time(ctx.event(EventKind::ActivityPushRequested { push }), 4);
    s.insert_interaction(&interaction, std::slice::from_ref(&push_event)).await.unwrap();

    let mut written = vec![created, case_events[0].clone(), case_events[1].clone(), push_event];
    written.reverse();
    let listed = ctx.outbox().await;
    let events: Vec<DomainEvent> = listed.iter().map(|e| e.event.clone()).collect();
    assert_eq!(events, written, "the tenant's outbox holds exactly the written events, newest first");
    for entry in &listed {
        assert_eq!(entry.topic, entry.event.kind.topic());
        assert_eq!(entry.status, OutboxStatus::Pending);
        assert_eq!(entry.attempts, 0);
        assert_eq!(entry.next_attempt_at, entry.event.at);
        assert_eq!(entry.last_error, None);
    }
    assert_eq!(listed[0].topic, Topic::ExternalPush);

    let mut walked = Vec::new();
    let mut request = page(3);
    loop {
        let p = s.list_outbox(tenant, Some(OutboxStatus::Pending), &request).await.unwrap();
        walked.extend(p.items);
        match p.next {
            Some(next) => request.after = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, listed);
    assert!(s.list_outbox(tenant, Some(OutboxStatus::Dead), &page(10)).await.unwrap().items.is_empty());
}

fn push_event(ctx: &Ctx, minutes_ago: i64) -> DomainEvent {
    let interaction = ctx.id();
    let push = ActivityPush {
        external_key: format!("{interaction}"),
        interaction,
        target: ExternalRef { system: ExternalSystem::Salesforce, object: ExternalObject::Contact, id: "003".into() },
        subject: "Call: outbox".into(),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        contact_name: None,
        started_at: ctx.now,
        duration_seconds: None,
        disposition: None,
        notes: String::new(),
    };
    let mut e = ctx.event(EventKind::ActivityPushRequested { push });
    e.at = ctx.now - Duration::minutes(minutes_ago);
    e
}

async fn entry(ctx: &Ctx, id: EventId) -> OutboxEntry {
    ctx.outbox().await.into_iter().find(|e| e.event.id == id).expect("the entry exists")
}

/// Claim at `now`: our entries among the claimed ones (other tests may claim too).
async fn claim(ctx: &Ctx, now_minutes: i64, lease_minutes: i64) -> Vec<EventId> {
    let now = ctx.now + Duration::minutes(now_minutes);
    let lease = now + Duration::minutes(lease_minutes);
    let claimed = ctx.store.claim_outbox(Topic::ExternalPush, now, lease, 200).await.unwrap();
    for e in &claimed {
        assert_eq!(e.topic, Topic::ExternalPush, "only the asked topic");
        assert_eq!(e.status, OutboxStatus::Pending, "only pending entries");
        assert!(e.next_attempt_at <= now, "only due entries");
    }
    claimed.into_iter().filter(|e| e.event.tenant == ctx.tenant()).map(|e| e.event.id).collect()
}

/// A create in an external CRM is first due when the request that asked for it stops
/// trying it itself ([`EventKind::first_attempt_at`]): not claimed before, claimed after.
pub async fn an_external_create_waits_for_its_requests_attempt(factory: &dyn StoreFactory) {
    let mut ctx = Ctx::new(factory).await;
    // Long ago, so our claims cannot lease the entries of other tests sharing the database.
    ctx.now -= Duration::days(400);
    let interaction = ctx.build_interaction(None);
    let request = crm_core::external::ExternalCreate::Contact(crm_core::external::ExternalPerson {
        last_name: "Attente".into(),
        ..Default::default()
    });
    let mut asked = ctx.event(EventKind::ExternalCreateRequested {
        interaction: interaction.id,
        system: ExternalSystem::Salesforce,
        key: format!("{}-contact-1", interaction.id),
        request,
        attempt_after: ctx.now + Duration::seconds(30),
    });
    asked.at = ctx.now;
    ctx.store.insert_interaction(&interaction, std::slice::from_ref(&asked)).await.unwrap();
    let listed = entry(&ctx, asked.id).await;
    assert_eq!(listed.next_attempt_at, ctx.now + Duration::seconds(30));
    assert_eq!(listed.topic, Topic::ExternalPush);
    assert_eq!(listed.event, asked, "the request is stored whole");
    let claim_at = |seconds: i64| {
        let now = ctx.now + Duration::seconds(seconds);
        ctx.store.claim_outbox(Topic::ExternalPush, now, now + Duration::minutes(1), 200)
    };
    let early = claim_at(10).await.unwrap();
    assert!(early.iter().all(|e| e.event.id != asked.id), "not while the request may still be trying it");
    let due = claim_at(31).await.unwrap();
    assert!(due.iter().any(|e| e.event.id == asked.id), "the worker takes it over after");
}

/// Claims lease entries (oldest first, never handed out twice during the lease); failures
/// count attempts and either reschedule or kill the entry; dead entries can be requeued;
/// delivered entries are done.
pub async fn outbox_claims_lease_and_record_outcomes(factory: &dyn StoreFactory) {
    let mut ctx = Ctx::new(factory).await;
    // Long ago, so our claims cannot lease the entries of other tests sharing the database.
    ctx.now -= Duration::days(500);
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Outbox", vec![]).await;
    let (oldest, middle, newest) = (push_event(&ctx, 30), push_event(&ctx, 20), push_event(&ctx, 10));
    let interaction = ctx.build_interaction(Some(&customer));
    s.insert_interaction(&interaction, &[middle.clone(), newest.clone(), oldest.clone()]).await.unwrap();
    let notification = ctx.outbox().await.into_iter().find(|e| e.topic == Topic::Notification).expect("an event");

    // Oldest first, and only our push topic.
    let first = claim(&ctx, 0, 5).await;
    assert_eq!(first, vec![oldest.id, middle.id, newest.id]);
    assert!(!first.contains(&notification.event.id));
    // Leased: not handed out again before the lease ends, handed out again after.
    assert!(claim(&ctx, 1, 5).await.is_empty(), "leased entries are not claimed again");
    let again = claim(&ctx, 6, 5).await;
    assert_eq!(again, vec![oldest.id, middle.id, newest.id], "an expired lease frees the entries");

    // A failure with a retry time: pending, one more attempt, not due before the retry.
    s.mark_failed(oldest.id, "remote said 503", Some(ctx.now + Duration::minutes(30))).await.unwrap();
    let failed = entry(&ctx, oldest.id).await;
    assert_eq!(failed.status, OutboxStatus::Pending);
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.last_error.as_deref(), Some("remote said 503"));
    assert_eq!(failed.next_attempt_at, ctx.now + Duration::minutes(30));
    // A failure without retry: dead.
    s.mark_failed(middle.id, "remote said 400", None).await.unwrap();
    let dead = entry(&ctx, middle.id).await;
    assert_eq!((dead.status, dead.attempts), (OutboxStatus::Dead, 1));
    assert_eq!(dead.last_error.as_deref(), Some("remote said 400"));
    let listed = s.list_outbox(tenant, Some(OutboxStatus::Dead), &page(10)).await.unwrap().items;
    assert_eq!(listed.iter().map(|e| e.event.id).collect::<Vec<_>>(), vec![middle.id]);
    // Delivered.
    s.mark_delivered(newest.id).await.unwrap();
    assert_eq!(entry(&ctx, newest.id).await.status, OutboxStatus::Delivered);

    assert!(claim(&ctx, 20, 5).await.is_empty(), "nothing is due before the retry time");
    assert_eq!(claim(&ctx, 30, 5).await, vec![oldest.id], "the failed entry is due at its retry time");

    // Requeue: only dead entries, only the tenant's.
    let other = ctx.sibling().await;
    assert_not_found(s.requeue(other.tenant(), middle.id, ctx.now).await);
    assert_not_found(s.requeue(tenant, ctx.id(), ctx.now).await);
    assert_state_conflict(s.requeue(tenant, oldest.id, ctx.now + Duration::minutes(40)).await);
    s.mark_delivered(oldest.id).await.unwrap();
    assert_state_conflict(s.requeue(tenant, oldest.id, ctx.now + Duration::minutes(40)).await);
    assert_state_conflict(s.requeue(tenant, newest.id, ctx.now + Duration::minutes(40)).await);
    s.requeue(tenant, middle.id, ctx.now + Duration::minutes(40)).await.unwrap();
    let requeued = entry(&ctx, middle.id).await;
    assert_eq!(requeued.status, OutboxStatus::Pending);
    assert_eq!(requeued.next_attempt_at, ctx.now + Duration::minutes(40));
    assert_eq!(claim(&ctx, 40, 5).await, vec![middle.id], "a requeued entry is claimable at once");

    // Unknown ids.
    assert_not_found(s.mark_delivered(ctx.id()).await);
    assert_not_found(s.mark_failed(ctx.id(), "x", None).await);

    // Several at once (which also leaves nothing claimable behind for other tests sharing
    // the database): every found entry is marked, an already delivered one counts, unknown
    // ids are skipped.
    let unknown: EventId = ctx.id();
    assert_eq!(s.mark_delivered_many(&[middle.id, unknown, oldest.id]).await.unwrap(), 2);
    assert_eq!(entry(&ctx, middle.id).await.status, OutboxStatus::Delivered);
    assert_eq!(entry(&ctx, oldest.id).await.status, OutboxStatus::Delivered);
    assert_eq!(s.mark_delivered_many(&[]).await.unwrap(), 0);
    assert!(claim(&ctx, 50, 5).await.is_empty());
}

const WORKERS: usize = 8;
const ENTRIES: usize = 40;

/// Several workers claiming at once never get the same entry while it is leased: each of
/// 40 entries goes to at most one of 8 concurrent workers, and all end up leased.
pub async fn outbox_entries_are_claimed_by_one_worker_at_a_time(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    // Long ago, and claimed at a `now` long ago too: our claims cannot reach (and lease) the
    // entries of other tests sharing the database, which are all later than our `now`.
    let base = ctx.now - Duration::days(400);
    let customer =
        ctx.build_customer(crm_core::customer::NewCustomer { name: "Workers".into(), ..Default::default() }).await;
    let events: Vec<DomainEvent> = (0..ENTRIES)
        .map(|i| {
            let mut e = ctx.event(EventKind::CustomerUpdated { customer: customer.id, fields: vec![format!("f{i}")] });
            e.at = base + Duration::seconds(i64::try_from(i).unwrap_or(0));
            e
        })
        .collect();
    s.insert_customer(&customer, &events).await.unwrap();
    let now = base + Duration::days(1);
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let store = s.clone();
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            loop {
                let batch = store
                    .claim_outbox(Topic::Notification, now, now + Duration::hours(1), 5)
                    .await
                    .expect("claim the outbox");
                if batch.is_empty() {
                    return claimed;
                }
                claimed.extend(batch.into_iter().map(|e| (e.event.tenant, e.event.id)));
            }
        }));
    }
    let mut ours = Vec::new();
    for worker in workers {
        let tenant = ctx.tenant();
        ours.extend(
            worker.await.expect("a worker finished").into_iter().filter(|(t, _)| *t == tenant).map(|(_, id)| id),
        );
    }
    let mut unique = ours.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ours.len(), "an entry was handed to two workers during its lease");
    let mut expected: Vec<EventId> = events.iter().map(|e| e.id).collect();
    expected.sort();
    assert!(unique.iter().all(|id| expected.binary_search(id).is_ok()), "only our entries are ours");
    // Every entry is now leased (by our workers, or by another test's claimer sharing the
    // database, which may take old entries first): none can be claimed again.
    let again = s.claim_outbox(Topic::Notification, now, now + Duration::hours(1), 200).await.unwrap();
    assert!(again.iter().all(|e| e.event.tenant != ctx.tenant()), "a leased entry was handed out again");
    for e in &events {
        s.mark_delivered(e.id).await.unwrap();
    }
}

/// Pruning the delivery log: delivered entries older than the cut-off go, at most `max` per
/// call; pending and dead entries stay whatever their age, and so do delivered entries
/// after the cut-off.
pub async fn delivered_entries_are_pruned_after_their_retention(factory: &dyn StoreFactory) {
    let mut ctx = Ctx::new(factory).await;
    // Further back than any other test's entries, so the cut-offs below reach only ours.
    ctx.now -= Duration::days(900);
    let s = &ctx.store;
    let customer = ctx.customer("Pruned", vec![]).await;
    let events: Vec<DomainEvent> = [50, 40, 30, 20, 10].into_iter().map(|h| push_event(&ctx, h * 60)).collect();
    s.insert_interaction(&ctx.build_interaction(Some(&customer)), &events).await.unwrap();
    let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
    for id in [ids[0], ids[1], ids[2], ids[4]] {
        s.mark_delivered(id).await.unwrap();
    }
    s.mark_failed(ids[3], "remote said 400", None).await.unwrap();
    let pending: Vec<EventId> =
        ctx.outbox().await.into_iter().filter(|e| e.status == OutboxStatus::Pending).map(|e| e.event.id).collect();
    assert!(!pending.is_empty(), "creating the customer left a pending event");

    let cut_off = ctx.now - Duration::hours(15);
    assert_eq!(s.prune_delivered(cut_off, 0).await.unwrap(), 0);
    assert_eq!(s.prune_delivered(cut_off, 2).await.unwrap(), 2, "at most max per call");
    assert_eq!(s.prune_delivered(cut_off, 10).await.unwrap(), 1);
    assert_eq!(s.prune_delivered(cut_off, 10).await.unwrap(), 0);
    let left: Vec<EventId> = ctx.outbox().await.into_iter().map(|e| e.event.id).collect();
    for gone in &ids[..3] {
        assert!(!left.contains(gone), "a delivered entry before the cut-off was kept");
    }
    for kept in pending.iter().chain([&ids[3], &ids[4]]) {
        assert!(left.contains(kept), "{kept} was pruned");
    }

    // A later cut-off reaches the newer delivered entry; pending and dead ones still stay.
    assert_eq!(s.prune_delivered(ctx.now + Duration::days(1), 10).await.unwrap(), 1);
    let left: Vec<EventId> = ctx.outbox().await.into_iter().map(|e| e.event.id).collect();
    assert!(!left.contains(&ids[4]));
    assert!(left.contains(&ids[3]) && pending.iter().all(|p| left.contains(p)));
}

/// The change feed (`events_after`) gives every event once, in the order (time, id),
/// whatever its topic or status, from any position, a batch at a time.
pub async fn the_change_feed_gives_events_in_time_then_id_order(factory: &dyn StoreFactory) {
    use crm_core::search::FeedPosition;
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let customer =
        ctx.build_customer(crm_core::customer::NewCustomer { name: "Flux".into(), ..Default::default() }).await;
    let mut events: Vec<DomainEvent> = [3, 1, 1, 2]
        .into_iter()
        .map(|seconds| {
            let mut e = ctx.event(EventKind::CustomerCreated { customer: customer.id });
            e.at = ctx.now + Duration::seconds(seconds);
            e
        })
        .collect();
    s.insert_customer(&customer, &events).await.unwrap();
    s.mark_delivered(events[0].id).await.unwrap();
    events.sort_by_key(FeedPosition::of);
    let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
    let start = FeedPosition::before(ctx.now);
    // The feed holds every tenant's events (a shared database, other tests' too): walk it.
    let tenant = ctx.tenant();
    assert_eq!(walk_feed(&**s, tenant, start, 100).await, ids, "all, by time then id");
    assert_eq!(walk_feed(&**s, tenant, FeedPosition::of(&events[1]), 100).await, ids[2..], "after a position");
    assert_eq!(walk_feed(&**s, tenant, start, 1).await, ids, "one at a time, none twice");
    assert!(s.events_after(&start, 0).await.unwrap().is_empty());
}

/// `tenant`'s events in the change feed after `from`, read `batch` at a time to the end.
async fn walk_feed(
    s: &dyn crm_core::ports::Store,
    tenant: crm_core::ids::TenantId,
    from: crm_core::search::FeedPosition,
    batch: u32,
) -> Vec<EventId> {
    let mut walked = Vec::new();
    let mut from = from;
    loop {
        let read = s.events_after(&from, batch).await.unwrap();
        let Some(last) = read.last() else { break };
        from = crm_core::search::FeedPosition::of(last);
        walked.extend(read.into_iter().filter(|e| e.tenant == tenant).map(|e| e.id));
    }
    walked
}
