//! Conformance: the screen pop's combined read (CUS-4), `CardStore::card_parts`.

use chrono::Duration;
use crm_core::access::PrivateScope;
use crm_core::case::{CaseStatus, Visibility};
use crm_core::customer::Customer;
use crm_core::ids::{CustomerId, TenantId};
use crm_core::page::PageRequest;
use crm_core::ports::{CardLimits, CardParts};

use super::cases::moved_to;
use super::{Ctx, StoreFactory};

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
        let mut case = moved_to(built, status, &ctx);
        case.updated_at = ctx.now + Duration::minutes(i % 5);
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
    assert!(hidden.open_cases.iter().all(|c| c.visibility != Visibility::Private));
    assert!(all.open_cases.iter().any(|c| c.visibility == Visibility::Private));

    let quiet_parts = ctx.store.card_parts(tenant, quiet.id, &PrivateScope::All, l).await.unwrap();
    assert_eq!(quiet_parts, four_reads(&ctx, tenant, quiet.id, &PrivateScope::All, l).await);
    assert!(quiet_parts.open_cases.is_empty() && quiet_parts.relations.len() == 1);

    let elsewhere = ctx.sibling().await;
    let foreign = ctx.store.card_parts(elsewhere.tenant(), busy.id, &PrivateScope::All, l).await.unwrap();
    assert_eq!(foreign, CardParts::default());
}
