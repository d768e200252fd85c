//! Conformance: the application's own state: API tokens, idempotency keys, the live feed
//! and installation facts.
//!
//! The feed, the keys and the facts are shared by every tenant of a database, and the tests
//! of the suite may share one: each test uses keys and hashes of its own (fresh UUIDs), reads
//! the feed through its own tenant, and prunes only what it dated 400 days back.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use crm_core::access::Role;
use crm_core::api_token::{ApiToken, TokenRecord};
use crm_core::idempotency::{IdempotencyClaim, KeptResponse};
use crm_core::live::{LiveEvent, NewLiveEvent};
use crm_core::ports::Store;
use uuid::Uuid;

use super::{Ctx, StoreFactory, assert_duplicate};

/// A key or hash no other test uses.
fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::now_v7())
}

/// A token record of the context's agent, made at `ctx.now`.
fn token_record(ctx: &Ctx, role: Role) -> TokenRecord {
    TokenRecord {
        id: ctx.id(),
        grant: ApiToken { tenant: ctx.tenant(), agent: ctx.t.agent.id, role },
        label: "ci".into(),
        created_at: ctx.now,
        expires_at: Some(ctx.now + Duration::days(30)),
        revoked_at: None,
        last_used_at: None,
    }
}

/// A token is found by its hash and grants what it was stored with; a hash is stored once.
pub async fn api_tokens_are_found_by_hash_and_stored_once(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let hash = fresh("token");
    let token = token_record(&ctx, Role::Supervisor);
    assert_eq!(s.find_token(&hash).await.unwrap(), None);
    s.insert_token(&hash, &token, &[]).await.unwrap();
    assert_eq!(s.find_token(&hash).await.unwrap(), Some(token.clone()));
    let other = TokenRecord { id: ctx.id(), label: "again".into(), ..token_record(&ctx, Role::Administrator) };
    assert_duplicate(s.insert_token(&hash, &other, &[]).await, "hash");
    assert_eq!(s.find_token(&hash).await.unwrap(), Some(token), "the first grant is kept");
}

/// A tenant lists its own tokens only, newest first; a revoked token is found with its
/// revocation time (the first one, when revoked twice); another tenant's token is not found
/// to revoke.
pub async fn api_tokens_are_listed_per_tenant_and_revoked(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let other = ctx.sibling().await;
    let s = &ctx.store;
    let older = TokenRecord { created_at: ctx.now - Duration::hours(1), ..token_record(&ctx, Role::Agent) };
    let newer = TokenRecord { expires_at: None, ..token_record(&ctx, Role::Supervisor) };
    let theirs = token_record(&other, Role::Agent);
    let (h_older, h_newer, h_theirs) = (fresh("older"), fresh("newer"), fresh("theirs"));
    s.insert_token(&h_older, &older, &[]).await.unwrap();
    s.insert_token(&h_newer, &newer, &[]).await.unwrap();
    s.insert_token(&h_theirs, &theirs, &[]).await.unwrap();
    assert_eq!(s.list_tokens(ctx.tenant()).await.unwrap(), vec![newer.clone(), older.clone()]);
    assert_eq!(s.list_tokens(other.tenant()).await.unwrap(), vec![theirs.clone()]);

    let at = ctx.now + Duration::minutes(5);
    let revoked = s.revoke_token(ctx.tenant(), older.id, at, &[]).await.unwrap();
    assert_eq!(revoked, TokenRecord { revoked_at: Some(at), ..older.clone() });
    assert_eq!(s.find_token(&h_older).await.unwrap(), Some(revoked.clone()));
    let again = s.revoke_token(ctx.tenant(), older.id, at + Duration::minutes(1), &[]).await.unwrap();
    assert_eq!(again.revoked_at, Some(at), "the first revocation time is kept");
    assert!(matches!(
        s.revoke_token(ctx.tenant(), theirs.id, at, &[]).await,
        Err(crm_core::StoreError::NotFound { .. })
    ));
    assert_eq!(s.find_token(&h_theirs).await.unwrap().unwrap().revoked_at, None, "another tenant's token is untouched");
    assert!(matches!(
        s.revoke_token(ctx.tenant(), ctx.id(), at, &[]).await,
        Err(crm_core::StoreError::NotFound { .. })
    ));
    assert_eq!(s.find_token(&h_newer).await.unwrap().unwrap().revoked_at, None);
}

/// A use is recorded only when none is recorded at or after `not_before`; an unknown hash
/// changes nothing.
pub async fn api_token_uses_are_recorded_once_per_period(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let hash = fresh("used");
    s.insert_token(&hash, &token_record(&ctx, Role::Agent), &[]).await.unwrap();
    let used = |h: &str| {
        let (s, h) = (s.clone(), h.to_owned());
        async move { s.find_token(&h).await.unwrap().unwrap().last_used_at }
    };
    let t0 = ctx.now + Duration::seconds(10);
    s.touch_token(&hash, t0, t0 - Duration::minutes(1)).await.unwrap();
    assert_eq!(used(&hash).await, Some(t0));
    let t1 = t0 + Duration::seconds(30);
    s.touch_token(&hash, t1, t1 - Duration::minutes(1)).await.unwrap();
    assert_eq!(used(&hash).await, Some(t0), "a use within the period is not written again");
    let t2 = t0 + Duration::seconds(61);
    s.touch_token(&hash, t2, t2 - Duration::minutes(1)).await.unwrap();
    assert_eq!(used(&hash).await, Some(t2));
    s.touch_token(&fresh("unknown"), t2, t2).await.unwrap();
}

/// A claim tells a new key, a finished one (with its response), one still running, one
/// abandoned (taken over) and one used for another request; released keys are new again.
pub async fn idempotency_claims_tell_every_state_of_a_key(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let (key, now) = (fresh("key"), ctx.now);
    let stale_before = now - Duration::minutes(2);
    let claim = |fingerprint: &'static str, at: chrono::DateTime<chrono::Utc>, stale| {
        let (s, key) = (s.clone(), key.clone());
        async move { s.claim_idempotency(&key, fingerprint, at, stale).await.unwrap() }
    };
    assert_eq!(claim("f1", now, stale_before).await, IdempotencyClaim::Claimed { retaken: false });
    assert_eq!(claim("f1", now, stale_before).await, IdempotencyClaim::InProgress);
    assert_eq!(claim("f2", now, stale_before).await, IdempotencyClaim::Mismatch);
    // Three minutes later the first claim counts as abandoned and is taken over, once.
    let later = now + Duration::minutes(3);
    assert_eq!(claim("f1", later, later - Duration::minutes(2)).await, IdempotencyClaim::Claimed { retaken: true });
    assert_eq!(claim("f1", later, later - Duration::minutes(2)).await, IdempotencyClaim::InProgress);
    let response = KeptResponse {
        status: 201,
        headers: [("location".to_owned(), "/api/v1/cases/1".to_owned())].into(),
        body: "{\"id\":\"é\"}".into(),
    };
    s.finish_idempotency(&key, &response).await.unwrap();
    assert_eq!(claim("f1", later, later).await, IdempotencyClaim::Done(response.clone()));
    assert_eq!(claim("f2", later, later).await, IdempotencyClaim::Mismatch, "a finished key keeps its request");
    s.release_idempotency(&key).await.unwrap();
    assert_eq!(claim("f2", later, later).await, IdempotencyClaim::Claimed { retaken: false }, "released: new again");
    // Finishing or releasing an unknown key changes nothing.
    let unknown = fresh("unknown");
    s.finish_idempotency(&unknown, &response).await.unwrap();
    s.release_idempotency(&unknown).await.unwrap();
    assert_eq!(
        s.claim_idempotency(&unknown, "f", now, stale_before).await.unwrap(),
        IdempotencyClaim::Claimed { retaken: false }
    );
}

/// Of callers claiming one new key at once, or taking over one abandoned key at once,
/// exactly one gets it.
pub async fn an_idempotency_key_is_claimed_by_exactly_one_of_concurrent_callers(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let key = fresh("race");
    let now = ctx.now;
    let race = |at: chrono::DateTime<chrono::Utc>| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (s, key) = (ctx.store.clone(), key.clone());
                tokio::spawn(async move { s.claim_idempotency(&key, "f", at, at - Duration::minutes(2)).await })
            })
            .collect();
        async move {
            let mut claimed = 0;
            for h in handles {
                if matches!(h.await.unwrap().unwrap(), IdempotencyClaim::Claimed { .. }) {
                    claimed += 1;
                }
            }
            claimed
        }
    };
    assert_eq!(race(now).await, 1, "one of eight claims a new key");
    assert_eq!(race(now + Duration::minutes(5)).await, 1, "one of eight takes an abandoned key over");
}

/// Keys claimed before the retention are pruned, finished or not; later ones stay.
pub async fn idempotency_keys_are_pruned_after_their_retention(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let old = ctx.now - Duration::days(400);
    let (done, running, recent) = (fresh("old-done"), fresh("old-running"), fresh("recent"));
    for key in [&done, &running] {
        s.claim_idempotency(key, "f", old, old - Duration::minutes(2)).await.unwrap();
    }
    s.finish_idempotency(&done, &KeptResponse { status: 200, ..KeptResponse::default() }).await.unwrap();
    s.claim_idempotency(&recent, "f", old + Duration::days(2), old).await.unwrap();
    let pruned = s.prune_idempotency(old + Duration::days(1)).await.unwrap();
    assert!(pruned >= 2, "both old keys went ({pruned})");
    for key in [&done, &running] {
        let again = s.claim_idempotency(key, "other", old, old).await.unwrap();
        assert_eq!(again, IdempotencyClaim::Claimed { retaken: false }, "{key} was forgotten");
    }
    let kept = s.claim_idempotency(&recent, "other", old + Duration::days(2), old).await.unwrap();
    assert_eq!(kept, IdempotencyClaim::Mismatch, "the recent key is kept");
}

fn live(ctx: &Ctx, agent: crm_core::ids::AgentId, name: &str) -> NewLiveEvent {
    NewLiveEvent { tenant: ctx.tenant(), agent, name: name.into(), payload: format!("{{\"n\":\"{name}\"}}") }
}

/// Appended events get positions above the head in order; each agent reads only its own,
/// in order, after a position; the feed's readers see every tenant's.
pub async fn live_events_are_appended_in_order_and_read_per_agent(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let other = ctx.sibling().await;
    let s = &ctx.store;
    let (agent, supervisor) = (ctx.t.agent.id, ctx.t.supervisor.id);
    let head = s.live_head().await.unwrap();
    s.append_live(&[live(&ctx, agent, "a1"), live(&ctx, supervisor, "s1")], ctx.now).await.unwrap();
    s.append_live(&[live(&other, other.t.agent.id, "x1")], ctx.now).await.unwrap();
    s.append_live(&[live(&ctx, agent, "a2"), live(&ctx, agent, "a3")], ctx.now).await.unwrap();
    s.append_live(&[], ctx.now).await.unwrap();
    assert!(s.live_head().await.unwrap() >= head + 5, "the head moved past the five events");

    let mine = s.live_for_agent_after(ctx.tenant(), agent, head, 100).await.unwrap();
    let names: Vec<&str> = mine.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a1", "a2", "a3"], "only the agent's own, in order");
    assert!(mine.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(mine.iter().all(|e| e.seq > head && e.tenant == ctx.tenant() && e.agent == agent));
    assert_eq!(mine[0].payload, "{\"n\":\"a1\"}");
    let resumed = s.live_for_agent_after(ctx.tenant(), agent, mine[0].seq, 1).await.unwrap();
    assert_eq!(resumed.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["a2"], "after a position, limited");
    assert!(s.live_for_agent_after(other.tenant(), agent, head, 100).await.unwrap().is_empty(), "tenant-confined");

    let all: Vec<LiveEvent> = s.live_after(head, 10_000).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "the feed reads in position order");
    let ours: Vec<&str> = all
        .iter()
        .filter(|e| e.tenant == ctx.tenant() || e.tenant == other.tenant())
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(ours, ["a1", "s1", "x1", "a2", "a3"], "every tenant's events, in append order");
    let first_two = s.live_after(head, 2).await.unwrap();
    assert_eq!(first_two.len(), 2, "the limit holds");
}

/// Events appended before the retention are pruned; the head never goes back, so later
/// events still come after every position handed out before.
pub async fn live_events_are_pruned_and_positions_never_reused(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let old = ctx.now - Duration::days(400);
    let agent = ctx.t.agent.id;
    let before = s.live_head().await.unwrap();
    s.append_live(&[live(&ctx, agent, "old")], old).await.unwrap();
    s.append_live(&[live(&ctx, agent, "kept")], old + Duration::days(2)).await.unwrap();
    let head = s.live_head().await.unwrap();
    assert!(s.prune_live(old + Duration::days(1)).await.unwrap() >= 1);
    let names: Vec<String> =
        s.live_for_agent_after(ctx.tenant(), agent, before, 100).await.unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["kept"], "the old event went, the later one stayed");
    assert!(s.live_head().await.unwrap() >= head, "pruning never moves the head back");
    s.append_live(&[live(&ctx, agent, "new")], ctx.now).await.unwrap();
    let new = s.live_for_agent_after(ctx.tenant(), agent, head, 100).await.unwrap();
    assert_eq!(new.len(), 1);
    assert!(new[0].seq > head, "a new event comes after every position handed out before");
}

/// Facts are set, read, replaced and removed; of callers claiming one at once, exactly one
/// sets it.
pub async fn installation_facts_are_claimed_by_exactly_one_caller(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s: Arc<dyn Store> = ctx.store.clone();
    let key = fresh("fact");
    assert_eq!(s.meta(&key).await.unwrap(), None);
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (s, key) = (s.clone(), key.clone());
            tokio::spawn(async move { s.claim_meta(&key, &format!("v{i}")).await })
        })
        .collect();
    let mut winners = BTreeSet::new();
    for (i, h) in handles.into_iter().enumerate() {
        if h.await.unwrap().unwrap() {
            winners.insert(format!("v{i}"));
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim set the fact");
    assert_eq!(s.meta(&key).await.unwrap().as_ref(), winners.first(), "the winner's value is stored");
    s.set_meta(&key, "replaced").await.unwrap();
    assert_eq!(s.meta(&key).await.unwrap().as_deref(), Some("replaced"));
    assert!(!s.claim_meta(&key, "again").await.unwrap(), "a set fact is not claimed again");
    s.delete_meta(&key).await.unwrap();
    assert_eq!(s.meta(&key).await.unwrap(), None);
    s.delete_meta(&key).await.unwrap();
    assert!(s.claim_meta(&key, "fresh").await.unwrap(), "a removed fact can be claimed again");
}
