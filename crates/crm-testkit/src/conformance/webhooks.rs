//! Conformance: webhook subscriptions (versions, isolation, delete), the fan-out of outbox
//! events (each once, in event order, a second fan-out adding nothing), the claim of
//! deliveries (per-aggregate order, leases, breaker, due time), the attempt log, the
//! health and events written with the outcomes, and the replay of dead letters.
//!
//! Deliveries and events here are dated 800 and 1,200 days before the suite's `now` and
//! claimed at such a `now`, so no other test's rows are due for these claimers; rows of
//! other tests a claim returns anyway are ignored.

use chrono::Duration;
use crm_core::event::EventKind;
use crm_core::ids::{DeliveryId, EventId, WebhookId};
use crm_core::webhook::{
    AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus, EndpointHealth, Replay, SigningSecret, Subscription,
};

use super::{Ctx, StoreFactory, assert_not_found, assert_stale};

fn subscription(ctx: &Ctx) -> Subscription {
    Subscription {
        id: ctx.id(),
        tenant: ctx.tenant(),
        url: "https://hooks.example.com/crm".into(),
        description: "conformance".into(),
        event_types: vec!["customer.*".into(), "case.created".into()],
        filter: None,
        enabled: true,
        secrets: vec![SigningSecret { secret: "whsec_c2VjcmV0".into(), expires_at: None }],
        version: 1,
        created_at: ctx.now,
        updated_at: ctx.now,
        health: EndpointHealth::default(),
    }
}

fn delivery(ctx: &Ctx, webhook: WebhookId, aggregate: &str, at: chrono::DateTime<chrono::Utc>) -> Delivery {
    Delivery {
        id: ctx.id(),
        tenant: ctx.tenant(),
        webhook,
        event: ctx.id(),
        event_type: "customer.updated".into(),
        aggregate: aggregate.into(),
        at,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: at,
        last_error: None,
        payload: format!("{{\"aggregate\":\"{aggregate}\"}}"),
    }
}

/// Subscriptions round-trip with their health; an edit needs the stored version; another
/// tenant's subscription is absent; a delete takes its deliveries with it.
pub async fn webhook_subscriptions_round_trip_with_versions(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let mut w = subscription(&ctx);
    w.health.failures = 2;
    w.health.failing_since = Some(ctx.now);
    s.insert_webhook(&w).await.unwrap();
    assert!(s.insert_webhook(&w).await.is_err(), "an id is used once");
    assert_eq!(s.get_webhook(ctx.tenant(), w.id).await.unwrap().as_ref(), Some(&w));
    let mut second = subscription(&ctx);
    second.created_at = ctx.now + Duration::seconds(1);
    s.insert_webhook(&second).await.unwrap();
    let listed: Vec<WebhookId> = s.webhooks_of(ctx.tenant()).await.unwrap().iter().map(|w| w.id).collect();
    assert_eq!(listed, [w.id, second.id]);

    let mut edited = w.clone();
    edited.enabled = false;
    edited.url = "https://other.example.com/".into();
    edited.version = 2;
    edited.health = EndpointHealth::default();
    s.update_webhook(&edited, 1).await.unwrap();
    assert_eq!(s.get_webhook(ctx.tenant(), w.id).await.unwrap(), Some(edited.clone()));
    assert_stale(s.update_webhook(&edited, 1).await);

    let other = ctx.sibling().await;
    assert_eq!(s.get_webhook(other.tenant(), w.id).await.unwrap(), None);
    assert!(s.webhooks_of(other.tenant()).await.unwrap().is_empty());
    assert_not_found(s.delete_webhook(other.tenant(), w.id).await);
    let mut foreign = edited.clone();
    foreign.tenant = other.tenant();
    assert_not_found(s.update_webhook(&foreign, 2).await);

    let d = delivery(&ctx, w.id, "customer:1", ctx.now - Duration::days(1_300));
    s.fan_out(&[], std::slice::from_ref(&d)).await.unwrap();
    s.delete_webhook(ctx.tenant(), w.id).await.unwrap();
    assert_eq!(s.get_webhook(ctx.tenant(), w.id).await.unwrap(), None);
    assert_eq!(s.get_delivery(ctx.tenant(), d.id).await.unwrap(), None);
    assert_not_found(s.delete_webhook(ctx.tenant(), w.id).await);
}

/// Every event written to the outbox comes to the fan-out, in event order, until it is
/// marked; a second fan-out of the same event adds no delivery.
pub async fn outbox_events_are_fanned_out_once_in_event_order(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let w = subscription(&ctx);
    s.insert_webhook(&w).await.unwrap();
    let old = ctx.now - Duration::days(800);
    let customer =
        ctx.build_customer(crm_core::customer::NewCustomer { name: "Fan Out".into(), ..Default::default() }).await;
    let mut created = ctx.event(EventKind::CustomerCreated { customer: customer.id });
    created.at = old + Duration::seconds(2);
    let mut touched = ctx.event(EventKind::CustomerUpdated { customer: customer.id, fields: vec!["name".into()] });
    touched.at = old + Duration::seconds(1);
    s.insert_customer(&customer, &[created.clone(), touched.clone()]).await.unwrap();

    // Drain until ours come (other tests' events are marked on the way).
    let mut mine = Vec::new();
    for _ in 0..200 {
        let due = s.webhook_events_due(500).await.unwrap();
        assert!(due.windows(2).all(|p| (p[0].at, p[0].id) <= (p[1].at, p[1].id)), "event order");
        mine = due.iter().filter(|e| e.tenant == ctx.tenant()).cloned().collect();
        let ids: Vec<EventId> = due.iter().map(|e| e.id).collect();
        if mine.len() == 2 {
            break;
        }
        assert!(!due.is_empty(), "our events never came to the fan-out");
        s.fan_out(&ids, &[]).await.unwrap();
    }
    assert_eq!(mine, [touched.clone(), created.clone()]);
    let deliveries: Vec<Delivery> = mine
        .iter()
        .map(|e| Delivery { event: e.id, at: e.at, ..delivery(&ctx, w.id, &format!("customer:{}", customer.id), e.at) })
        .collect();
    s.fan_out(&[touched.id, created.id], &deliveries).await.unwrap();
    let again: Vec<Delivery> = deliveries.iter().map(|d| Delivery { id: ctx.id(), ..d.clone() }).collect();
    s.fan_out(&[touched.id, created.id], &again).await.unwrap();
    let stored = s.deliveries_of(ctx.tenant(), w.id, None, None, 50).await.unwrap();
    assert_eq!(stored, [deliveries[1].clone(), deliveries[0].clone()], "newest first, once each");
    let due = s.webhook_events_due(10_000).await.unwrap();
    assert!(due.iter().all(|e| e.tenant != ctx.tenant()), "marked events do not come again");
}

/// Claims return the first pending delivery of each aggregate per subscription, leased;
/// outcomes, attempts, health and events are recorded together; an open breaker or a
/// later due time holds deliveries back; dead letters are replayed.
pub async fn deliveries_are_claimed_in_aggregate_order_and_replayed(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let w = subscription(&ctx);
    s.insert_webhook(&w).await.unwrap();
    let t0 = ctx.now - Duration::days(1_200);
    let x1 = delivery(&ctx, w.id, "customer:x", t0);
    let x2 = delivery(&ctx, w.id, "customer:x", t0 + Duration::seconds(1));
    let y1 = delivery(&ctx, w.id, "customer:y", t0 + Duration::seconds(2));
    s.fan_out(&[], &[x2.clone(), y1.clone(), x1.clone()]).await.unwrap();
    let now = t0 + Duration::minutes(1);
    let lease = now + Duration::minutes(1);
    let mine = |claimed: Vec<(Delivery, Subscription)>| -> Vec<DeliveryId> {
        claimed.into_iter().filter(|(d, _)| d.webhook == w.id).map(|(d, _)| d.id).collect()
    };
    let first = s.claim_deliveries(now, lease, 1_000).await.unwrap();
    assert!(first.iter().filter(|(d, _)| d.webhook == w.id).all(|(_, sub)| sub == &w));
    assert_eq!(mine(first), [x1.id, y1.id], "heads of each aggregate, oldest first");
    assert!(mine(s.claim_deliveries(now, lease, 1_000).await.unwrap()).is_empty(), "leased");

    let attempt = |d: &Delivery, outcome, status| DeliveryAttempt {
        delivery: d.id,
        number: d.attempts,
        at: now,
        outcome,
        status,
        latency_ms: 12,
        excerpt: "ok".into(),
    };
    let mut x1_done = x1.clone();
    x1_done.status = DeliveryStatus::Delivered;
    x1_done.attempts = 1;
    let mut y1_failed = y1.clone();
    y1_failed.attempts = 1;
    y1_failed.next_attempt_at = now + Duration::seconds(30);
    y1_failed.last_error = Some("503: busy".into());
    let health = EndpointHealth { failures: 1, failing_since: Some(now), breaker_until: None, disabled_at: None };
    let disabled = ctx.event(EventKind::WebhookDisabled { webhook: w.id, failing_since: now });
    s.record_attempts(
        &[
            (x1_done.clone(), attempt(&x1_done, AttemptOutcome::Delivered, Some(200))),
            (y1_failed.clone(), attempt(&y1_failed, AttemptOutcome::Rejected, Some(503))),
        ],
        &[(ctx.tenant(), w.id, health.clone())],
        std::slice::from_ref(&disabled),
    )
    .await
    .unwrap();
    assert!(ctx.has_event(disabled.id).await, "events written with the outcomes");
    assert_eq!(s.get_webhook(ctx.tenant(), w.id).await.unwrap().unwrap().health, health);
    assert_eq!(s.get_delivery(ctx.tenant(), y1.id).await.unwrap(), Some(y1_failed.clone()));
    let log = s.attempts_of(ctx.tenant(), y1.id).await.unwrap();
    assert_eq!(log, [attempt(&y1_failed, AttemptOutcome::Rejected, Some(503))]);
    let other = ctx.sibling().await;
    assert!(s.attempts_of(other.tenant(), y1.id).await.unwrap().is_empty());
    assert_eq!(s.get_delivery(other.tenant(), y1.id).await.unwrap(), None);

    // x2 follows x1 now; y1 waits for its retry time.
    assert_eq!(mine(s.claim_deliveries(now + Duration::seconds(1), lease, 1_000).await.unwrap()), [x2.id]);
    // An open breaker holds everything back.
    let mut open = s.get_webhook(ctx.tenant(), w.id).await.unwrap().unwrap();
    open.health.breaker_until = Some(now + Duration::hours(1));
    let version = open.version;
    s.update_webhook(&open, version).await.unwrap();
    let later = now + Duration::minutes(5);
    assert!(mine(s.claim_deliveries(later, later + Duration::minutes(1), 1_000).await.unwrap()).is_empty());

    // Dead letters: replay one, a range, all.
    let mut dead = y1_failed.clone();
    dead.status = DeliveryStatus::Dead;
    dead.attempts = 2;
    s.record_attempts(&[(dead.clone(), attempt(&dead, AttemptOutcome::Timeout, None))], &[], &[]).await.unwrap();
    let dead_list = s.deliveries_of(ctx.tenant(), w.id, Some(DeliveryStatus::Dead), None, 10).await.unwrap();
    assert_eq!(dead_list, [dead.clone()]);
    let range = Replay::Range { from: t0 + Duration::seconds(3), to: t0 + Duration::seconds(10) };
    assert_eq!(s.replay_deliveries(ctx.tenant(), w.id, &range, later).await.unwrap(), 0);
    let range = Replay::Range { from: t0, to: t0 + Duration::seconds(3) };
    assert_eq!(s.replay_deliveries(ctx.tenant(), w.id, &range, later).await.unwrap(), 1);
    let replayed = s.get_delivery(ctx.tenant(), y1.id).await.unwrap().unwrap();
    assert_eq!((replayed.status, replayed.next_attempt_at, replayed.attempts), (DeliveryStatus::Pending, later, 2));
    assert_eq!(s.replay_deliveries(ctx.tenant(), w.id, &Replay::AllFailed, later).await.unwrap(), 0);
    assert_eq!(s.replay_deliveries(ctx.tenant(), w.id, &Replay::Delivery(x1.id), later).await.unwrap(), 1);
    assert_eq!(s.get_delivery(ctx.tenant(), x1.id).await.unwrap().unwrap().status, DeliveryStatus::Pending);
    assert_not_found(s.replay_deliveries(other.tenant(), w.id, &Replay::AllFailed, later).await);
    assert_eq!(s.attempts_of(ctx.tenant(), y1.id).await.unwrap().len(), 2);
}

/// A round's outcomes are written together, however many: every delivery's new state,
/// every attempt, the health of every subscription named (a deleted one is left alone),
/// across more rows than one statement carries. (Dated ten years ahead: no other test's
/// claim sees these deliveries.)
pub async fn a_rounds_outcomes_are_recorded_together(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let (a, b, gone) = (subscription(&ctx), subscription(&ctx), subscription(&ctx));
    for w in [&a, &b, &gone] {
        s.insert_webhook(w).await.unwrap();
    }
    let t0 = ctx.now + Duration::days(3_650);
    let deliveries: Vec<Delivery> = (0..450)
        .map(|i| {
            let w = if i % 2 == 0 { a.id } else { b.id };
            delivery(&ctx, w, &format!("customer:{i}"), t0 + Duration::milliseconds(i))
        })
        .collect();
    s.fan_out(&[], &deliveries).await.unwrap();
    s.delete_webhook(ctx.tenant(), gone.id).await.unwrap();
    let now = t0 + Duration::minutes(1);
    let results: Vec<(Delivery, DeliveryAttempt)> = deliveries
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut d = d.clone();
            d.attempts = 1;
            let (outcome, status) = if i % 3 == 0 {
                d.next_attempt_at = now + Duration::seconds(5);
                d.last_error = Some(format!("503: busy {i}"));
                (AttemptOutcome::Rejected, 503)
            } else {
                d.status = if i % 3 == 1 { DeliveryStatus::Delivered } else { DeliveryStatus::Dead };
                (AttemptOutcome::Delivered, 204)
            };
            let attempt = DeliveryAttempt {
                delivery: d.id,
                number: 1,
                at: now,
                outcome,
                status: Some(status),
                latency_ms: 3,
                excerpt: format!("answer {i}"),
            };
            (d, attempt)
        })
        .collect();
    let sick = EndpointHealth { failures: 3, failing_since: Some(now), breaker_until: Some(now), disabled_at: None };
    let healthy = EndpointHealth::default();
    let health = [
        (ctx.tenant(), a.id, sick.clone()),
        (ctx.tenant(), b.id, healthy.clone()),
        (ctx.tenant(), gone.id, sick.clone()),
    ];
    s.record_attempts(&results, &health, &[]).await.unwrap();
    for (d, attempt) in &results {
        assert_eq!(s.get_delivery(ctx.tenant(), d.id).await.unwrap().as_ref(), Some(d), "the new state");
        assert_eq!(s.attempts_of(ctx.tenant(), d.id).await.unwrap(), std::slice::from_ref(attempt));
    }
    assert_eq!(s.get_webhook(ctx.tenant(), a.id).await.unwrap().unwrap().health, sick);
    assert_eq!(s.get_webhook(ctx.tenant(), b.id).await.unwrap().unwrap().health, healthy);
    assert_eq!(s.get_webhook(ctx.tenant(), gone.id).await.unwrap(), None, "a deleted subscription stays deleted");
    let pending = s.deliveries_of(ctx.tenant(), a.id, Some(DeliveryStatus::Pending), None, 1_000).await.unwrap();
    assert_eq!(pending.len(), 75, "a's retried ones (every sixth of all)");
}
