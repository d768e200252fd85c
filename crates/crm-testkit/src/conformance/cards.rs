//! Conformance: the screen pop's combined read (CUS-4), `CardStore::card_parts`.

use chrono::Duration;
use crm_core::access::PrivateScope;
use crm_core::case::{CaseStatus, Visibility};
use crm_core::customer::{Customer, CustomerRecord, IdentityKey, NewCustomer};
use crm_core::ids::{CustomerId, TenantId};
use crm_core::page::PageRequest;
use crm_core::ports::{CardLimits, CardParts};

use super::cases::{moved_to, updated_at};
use super::customers::{email_key, phone_key};
use super::{Ctx, StoreFactory, email, phone};

/// What the four single reads return, assembled as the port's contract says.
async fn four_reads(
    ctx: &Ctx,
    tenant: TenantId,
    customer: CustomerId,
    scope: &PrivateScope,
    l: CardLimits,
) -> CardParts {
    let s = &ctx.store;
    let page = PageRequest { limit: l.last_interactions, after: None };
    CardParts {
        open_cases: s.open_cases_of(tenant, customer, scope, l.open_cases).await.unwrap(),
        pending_tasks: s.planned_tasks_of_customer(tenant, customer, l.pending_tasks).await.unwrap(),
        last_interactions: s.interactions_of_customer(tenant, customer, &page).await.unwrap().items,
        relations: s.relations_of(tenant, customer).await.unwrap(),
    }
}

async fn relation(ctx: &Ctx, from: &Customer, to: &Customer) {
    ctx.store.insert_relation(&ctx.build_relation(from, to), &[]).await.unwrap();
}

/// The card's combined read equals the four single reads (same records, same order, same
/// limits, same private-case filtering), for a busy card, an empty one, and across tenants.
pub async fn card_parts_equal_the_four_single_reads(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let busy = ctx.customer("Client Occupé", vec![]).await;
    let quiet = ctx.customer("Client Calme", vec![]).await;
    let other = ctx.customer("Autre Client", vec![]).await;

    // Cases in every status, some private to the supervisor, updated times with ties.
    let statuses = [CaseStatus::Open, CaseStatus::Pending, CaseStatus::OnHold, CaseStatus::Closed, CaseStatus::Draft];
    for i in 0..24_i64 {
        let status = statuses[usize::try_from(i).unwrap() % statuses.len()];
        let private = i % 7 == 3;
        let built = ctx
            .build_case(&busy, |c| {
                c.draft = status == CaseStatus::Draft;
                if private {
                    c.visibility = Some(Visibility::Private);
                    c.assignee = Some(ctx.t.supervisor.id);
                }
            })
            .await;
        let case = updated_at(moved_to(built, status, &ctx), ctx.now + Duration::minutes(i % 5));
        ctx.insert_case(&case).await;
    }
    ctx.case(&other, |_| {}).await;
    // Planned tasks with equal times, and another customer's.
    for i in 0..23_i64 {
        ctx.task(&busy, 10 + i % 4, |_| {}).await;
    }
    ctx.task(&other, 5, |_| {}).await;
    // Interactions with equal offered times.
    for i in 0..13_i64 {
        let mut it = ctx.build_interaction(Some(&busy));
        it.offered_at = ctx.now - Duration::minutes(i % 3);
        ctx.store.insert_interaction(&it, &[]).await.unwrap();
    }
    ctx.interaction(Some(&other)).await;
    relation(&ctx, &busy, &other).await;
    relation(&ctx, &other, &busy).await;
    relation(&ctx, &quiet, &other).await;

    let tenant = ctx.tenant();
    let agent_scope = ctx.agent().private_scope();
    let limits = [
        CardLimits { open_cases: 20, pending_tasks: 20, last_interactions: 10 },
        CardLimits { open_cases: 3, pending_tasks: 1, last_interactions: 2 },
        CardLimits { open_cases: 100, pending_tasks: 100, last_interactions: 100 },
    ];
    for l in limits {
        for scope in [&PrivateScope::All, &agent_scope] {
            let combined = ctx.store.card_parts(tenant, busy.id, scope, l).await.unwrap();
            assert_eq!(combined, four_reads(&ctx, tenant, busy.id, scope, l).await, "{l:?} {scope:?}");
            assert!(!combined.open_cases.is_empty() && !combined.pending_tasks.is_empty());
            assert!(!combined.last_interactions.is_empty() && combined.relations.len() == 2);
            assert!(combined.open_cases.len() <= usize::try_from(l.open_cases).unwrap());
        }
    }
    let l = limits[0];
    let hidden = ctx.store.card_parts(tenant, busy.id, &agent_scope, l).await.unwrap();
    let all = ctx.store.card_parts(tenant, busy.id, &PrivateScope::All, l).await.unwrap();
    assert!(hidden.open_cases.iter().all(|c| c.visibility() != Visibility::Private));
    assert!(all.open_cases.iter().any(|c| c.visibility() == Visibility::Private));

    let quiet_parts = ctx.store.card_parts(tenant, quiet.id, &PrivateScope::All, l).await.unwrap();
    assert_eq!(quiet_parts, four_reads(&ctx, tenant, quiet.id, &PrivateScope::All, l).await);
    assert!(quiet_parts.open_cases.is_empty() && quiet_parts.relations.len() == 1);

    let elsewhere = ctx.sibling().await;
    let foreign = ctx.store.card_parts(elsewhere.tenant(), busy.id, &PrivateScope::All, l).await.unwrap();
    assert_eq!(foreign, CardParts::default());
}

/// What the lookup and then each card's parts return, as the port's contract says.
async fn lookup_then_cards(
    ctx: &Ctx,
    tenant: TenantId,
    key: &IdentityKey,
    max: u32,
    scope: &PrivateScope,
    l: CardLimits,
) -> Vec<(Customer, CardParts)> {
    let mut out = Vec::new();
    for c in ctx.store.find_by_identity(tenant, key, max).await.unwrap() {
        let parts = ctx.store.card_parts(tenant, c.id, scope, l).await.unwrap();
        out.push((c, parts));
    }
    out
}

/// The identity screen pop in one call equals the lookup followed by each card's parts:
/// one match, several matches sharing a number (most recently contacted first, limited),
/// no match, private cases per scope, and another tenant.
pub async fn cards_by_identity_equal_lookup_then_cards(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let shared = "06 12 34 56 78";
    let never = ctx.customer("Jamais Contacté", vec![phone(shared), email("famille@example.org")]).await;
    let mut customers = vec![never.clone()];
    for (name, hours) in [("Ancien", 72), ("Récent", 1), ("Moyen", 20)] {
        let c = ctx
            .build_customer(NewCustomer {
                name: name.into(),
                identities: vec![phone(shared)],
                ..NewCustomer::default()
            })
            .await;
        let c = Customer::restore(CustomerRecord {
            last_contact_at: Some(ctx.now - Duration::hours(hours)),
            ..c.into_record()
        });
        ctx.insert_customer(&c).await;
        customers.push(c);
    }
    let alone = ctx.customer("Seul", vec![phone("01 44 55 66 77"), email("seul@example.org")]).await;
    customers.push(alone.clone());
    let _no_card = ctx.customer("Sans Numéro", vec![]).await;

    // Every customer gets open and closed cases (one private), tasks, interactions.
    for (n, c) in customers.iter().enumerate() {
        let n = i64::try_from(n).unwrap();
        for i in 0..4_i64 {
            let private = i == 2;
            let built = ctx
                .build_case(c, |k| {
                    if private {
                        k.visibility = Some(Visibility::Private);
                        k.assignee = Some(ctx.t.supervisor.id);
                    }
                })
                .await;
            let status = if i == 3 { CaseStatus::Closed } else { CaseStatus::Open };
            let case = updated_at(moved_to(built, status, &ctx), ctx.now + Duration::minutes((i + n) % 3));
            ctx.insert_case(&case).await;
        }
        for i in 0..3_i64 {
            ctx.task(c, 10 + i, |_| {}).await;
            let mut it = ctx.build_interaction(Some(c));
            it.offered_at = ctx.now - Duration::minutes(i + n);
            ctx.store.insert_interaction(&it, &[]).await.unwrap();
        }
    }
    relation(&ctx, &customers[2], &alone).await;
    relation(&ctx, &never, &customers[2]).await;

    let tenant = ctx.tenant();
    let agent_scope = ctx.agent().private_scope();
    let keys = [
        (phone_key(shared), 4),
        (email_key("famille@example.org"), 1),
        (phone_key("01 44 55 66 77"), 1),
        (email_key("seul@example.org"), 1),
        (phone_key("01 00 00 00 00"), 0),
        (email_key("personne@example.org"), 0),
    ];
    let limits = [
        CardLimits { open_cases: 20, pending_tasks: 20, last_interactions: 10 },
        CardLimits { open_cases: 1, pending_tasks: 2, last_interactions: 1 },
    ];
    for (key, matches) in &keys {
        for max in [10, 2, 1] {
            for l in limits {
                for scope in [&PrivateScope::All, &agent_scope] {
                    let together = ctx.store.cards_by_identity(tenant, key, max, scope, l).await.unwrap();
                    let expected = lookup_then_cards(&ctx, tenant, key, max, scope, l).await;
                    assert_eq!(together, expected, "{key:?} max {max} {l:?} {scope:?}");
                    assert_eq!(together.len(), (*matches).min(usize::try_from(max).unwrap()), "{key:?} max {max}");
                }
            }
        }
    }
    // The most recently contacted card comes first, the never contacted one last, each
    // with its own parts.
    let shared_cards =
        ctx.store.cards_by_identity(tenant, &keys[0].0, 10, &PrivateScope::All, limits[0]).await.unwrap();
    let names: Vec<&str> = shared_cards.iter().map(|(c, _)| c.name()).collect();
    assert_eq!(names, ["Récent", "Moyen", "Ancien", "Jamais Contacté"]);
    for (c, parts) in &shared_cards {
        assert_eq!(parts.open_cases.len(), 3, "{}", c.name());
        assert!(parts.open_cases.iter().all(|k| k.customer() == c.id));
        assert_eq!(parts.pending_tasks.len(), 3);
        assert_eq!(parts.last_interactions.len(), 3);
    }
    assert_eq!(shared_cards[0].1.relations.len(), 2, "Récent has a relation each way");
    let hidden = ctx.store.cards_by_identity(tenant, &keys[2].0, 10, &agent_scope, limits[0]).await.unwrap();
    assert_eq!(hidden[0].1.open_cases.len(), 2, "the private case is hidden from an agent");

    let elsewhere = ctx.sibling().await;
    for (key, _) in &keys {
        let foreign = ctx.store.cards_by_identity(elsewhere.tenant(), key, 10, &PrivateScope::All, limits[0]).await;
        assert!(foreign.unwrap().is_empty());
    }
}
