//! Conformance: the console's sign-in state (issue 32): agents' password hashes and the
//! sessions kept under the hash of their id. Tests may share a database: each reads the
//! credentials of its own tenants and uses session hashes of its own.

use chrono::Duration;
use crm_core::console::{Credential, Session};
use uuid::Uuid;

use super::{Ctx, StoreFactory, assert_duplicate};

/// A session hash no other test uses.
fn fresh() -> String {
    format!("session-{}", Uuid::now_v7())
}

/// A password hash is kept per agent, replaced when set again, refused for another
/// tenant's agent, and found by the agent's address.
pub async fn passwords_are_kept_per_agent_and_found_by_address(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let other = ctx.sibling().await;
    let s = &ctx.store;
    let agent = &ctx.t.agent;
    let mine = |found: Vec<Credential>| -> Vec<Credential> {
        found.into_iter().filter(|c| c.tenant == ctx.tenant() || c.tenant == other.tenant()).collect()
    };
    assert_eq!(mine(s.credentials_by_email(&agent.email.key()).await.unwrap()), vec![], "no password yet");
    s.set_password_hash(ctx.tenant(), agent.id, "$argon2id$one", ctx.now, &[]).await.unwrap();
    s.set_password_hash(ctx.tenant(), agent.id, "$argon2id$two", ctx.now, &[]).await.unwrap();
    let expected = Credential { tenant: ctx.tenant(), agent: agent.id, hash: "$argon2id$two".into() };
    assert_eq!(mine(s.credentials_by_email(&agent.email.key()).await.unwrap()), vec![expected]);
    let refused = s.set_password_hash(other.tenant(), agent.id, "$argon2id$x", ctx.now, &[]).await;
    assert!(matches!(refused, Err(crm_core::StoreError::NotFound { .. })), "{refused:?}");
    assert_eq!(mine(s.credentials_by_email(&ctx.t.admin.email.key()).await.unwrap()), vec![]);
}

/// A session is stored once under its hash, touched forward only, deleted alone, with its
/// agent's other sessions, or when its time is up.
pub async fn sessions_are_stored_touched_and_pruned(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let session = Session {
        tenant: ctx.tenant(),
        agent: ctx.t.agent.id,
        csrf: "csrf".into(),
        created_at: ctx.now,
        last_seen_at: ctx.now,
        expires_at: ctx.now + Duration::hours(12),
    };
    let (a, b, c) = (fresh(), fresh(), fresh());
    assert_eq!(s.find_session(&a).await.unwrap(), None);
    s.insert_session(&a, &session).await.unwrap();
    assert_duplicate(s.insert_session(&a, &Session { csrf: "other".into(), ..session.clone() }).await, "hash");
    assert_eq!(s.find_session(&a).await.unwrap(), Some(session.clone()));
    let later = ctx.now + Duration::minutes(5);
    s.touch_session(&a, later).await.unwrap();
    s.touch_session(&a, ctx.now).await.unwrap();
    s.touch_session(&fresh(), later).await.unwrap();
    assert_eq!(s.find_session(&a).await.unwrap().unwrap().last_seen_at, later, "never moved back");
    assert!(s.delete_session(&a).await.unwrap());
    assert!(!s.delete_session(&a).await.unwrap());

    s.insert_session(&a, &session).await.unwrap();
    s.insert_session(&b, &session).await.unwrap();
    let admins = Session { agent: ctx.t.admin.id, ..session.clone() };
    s.insert_session(&c, &admins).await.unwrap();
    assert_eq!(s.delete_agent_sessions(ctx.tenant(), ctx.t.agent.id).await.unwrap(), 2);
    assert_eq!(s.find_session(&b).await.unwrap(), None);
    assert_eq!(s.find_session(&c).await.unwrap(), Some(admins.clone()));

    // Pruning with instants 400 days back touches only what this test dated there.
    let old = ctx.now - Duration::days(400);
    let (idle, expired) = (fresh(), fresh());
    s.insert_session(&idle, &Session { last_seen_at: old, ..session.clone() }).await.unwrap();
    let gone = Session {
        created_at: old,
        last_seen_at: old + Duration::minutes(1),
        expires_at: old + Duration::minutes(2),
        ..session.clone()
    };
    s.insert_session(&expired, &gone).await.unwrap();
    s.prune_sessions(old + Duration::minutes(3), old + Duration::seconds(30)).await.unwrap();
    assert_eq!(s.find_session(&idle).await.unwrap(), None);
    assert_eq!(s.find_session(&expired).await.unwrap(), None);
    assert_eq!(s.find_session(&c).await.unwrap(), Some(admins), "a live session stays");
}
