//! Conformance: atomic merge of two customer cards and its undo (CUS-6).

use std::collections::BTreeSet;

use chrono::Duration;
use crm_core::customer::{ConflictRule, Customer, CustomerRecord, MergePlan, MergeRecord, Relation};
use crm_core::event::EventKind;
use crm_core::ids::MergeId;

use super::{Ctx, StoreFactory, assert_not_found, assert_stale, assert_state_conflict, email, phone};

/// Two cards, children on the source, relations on every side.
struct Scene {
    ctx: Ctx,
    target: Customer,
    source: Customer,
    plan: MergePlan,
    record: MergeRecord,
    source_case: crm_core::case::Case,
    target_case: crm_core::case::Case,
    task: crm_core::task::Task,
    interaction: crm_core::interaction::Interaction,
    rel_from: Relation,
    rel_to: Relation,
    rel_between: Relation,
}

async fn scene(factory: &dyn StoreFactory) -> Scene {
    let ctx = Ctx::new(factory).await;
    let target = ctx.customer("Marie Dupont", vec![phone("01 23 45 67 89")]).await;
    let source = ctx.customer("Marie Dupond", vec![phone("06 12 34 56 78"), email("marie@example.com")]).await;
    let third = ctx.customer("Employeur", vec![]).await;
    let source_case = ctx.case(&source, |_| {}).await;
    let target_case = ctx.case(&target, |_| {}).await;
    let task = ctx.task(&source, 120, |_| {}).await;
    let interaction = ctx.interaction(Some(&source)).await;
    let rel_from = ctx.build_relation(&source, &third);
    let rel_to = ctx.build_relation(&third, &source);
    let rel_between = ctx.build_relation(&source, &target);
    for r in [&rel_from, &rel_to, &rel_between] {
        ctx.store.insert_relation(r, &[]).await.unwrap();
    }
    let merge_id: MergeId = ctx.id();
    let at = ctx.now + Duration::minutes(5);
    let plan = MergePlan::build(merge_id, &target, &source, ConflictRule::KeepTarget, at).unwrap();
    let record = MergeRecord {
        id: merge_id,
        tenant: ctx.tenant(),
        target: target.id,
        source: source.id,
        rule: plan.rule,
        conflicts: plan.conflicts.clone(),
        target_before: target.clone(),
        source_before: source.clone(),
        target_version_after: plan.target.version(),
        moved: Default::default(),
        merged_by: ctx.t.supervisor.id,
        merged_at: at,
        undone_at: None,
        undone_by: None,
    };
    Scene {
        ctx,
        target,
        source,
        plan,
        record,
        source_case,
        target_case,
        task,
        interaction,
        rel_from,
        rel_to,
        rel_between,
    }
}

impl Scene {
    fn merged_event(&self) -> crm_core::event::DomainEvent {
        self.ctx.event(EventKind::CustomersMerged {
            merge: self.plan.id,
            target: self.target.id,
            source: self.source.id,
        })
    }

    async fn merge(&self) -> crm_core::customer::MovedRecords {
        let event = self.merged_event();
        let moved =
            self.ctx.store.merge_customers(&self.plan, &self.record, std::slice::from_ref(&event)).await.unwrap();
        assert!(self.ctx.has_event(event.id).await, "the merge event is in the outbox");
        moved
    }
}

/// Merge writes both cards, moves cases, tasks, interactions and relations (not those
/// between the two) to the target, bumping their versions, and records the moved ids;
/// undo restores the cards and moves everything back.
pub async fn merge_moves_everything_and_undo_moves_it_back(factory: &dyn StoreFactory) {
    let sc = scene(factory).await;
    let (ctx, s, tenant) = (&sc.ctx, &sc.ctx.store, sc.ctx.tenant());
    let moved = sc.merge().await;
    assert_eq!(moved.cases, vec![sc.source_case.id]);
    assert_eq!(moved.tasks, vec![sc.task.id]);
    assert_eq!(moved.interactions, vec![sc.interaction.id]);
    assert_eq!(moved.relations_from, vec![sc.rel_from.id]);
    assert_eq!(moved.relations_to, vec![sc.rel_to.id]);

    assert_eq!(s.get_customer(tenant, sc.target.id).await.unwrap(), Some(sc.plan.target.clone()));
    assert_eq!(s.get_customer(tenant, sc.source.id).await.unwrap(), Some(sc.plan.tombstone.clone()));
    let case = s.get_case(tenant, sc.source_case.id).await.unwrap().unwrap();
    assert_eq!((case.customer(), case.version()), (sc.target.id, sc.source_case.version() + 1));
    let untouched = s.get_case(tenant, sc.target_case.id).await.unwrap().unwrap();
    assert_eq!(untouched, sc.target_case, "the target's own case is untouched");
    let task = s.get_task(tenant, sc.task.id).await.unwrap().unwrap();
    assert_eq!((task.customer(), task.version()), (sc.target.id, sc.task.version() + 1));
    let interaction = s.get_interaction(tenant, sc.interaction.id).await.unwrap().unwrap();
    assert_eq!((interaction.customer(), interaction.version()), (Some(sc.target.id), sc.interaction.version() + 1));
    let relations: BTreeSet<(_, _, _)> =
        s.relations_of(tenant, sc.target.id).await.unwrap().into_iter().map(|r| (r.id, r.from, r.to)).collect();
    let third = sc.rel_from.to;
    assert_eq!(
        relations,
        BTreeSet::from([
            (sc.rel_from.id, sc.target.id, third),
            (sc.rel_to.id, third, sc.target.id),
            (sc.rel_between.id, sc.source.id, sc.target.id),
        ]),
        "relations follow the cards, the one between them stays on the tombstone"
    );
    let mut expected_record = sc.record.clone();
    expected_record.moved = moved.clone();
    assert_eq!(s.get_merge(tenant, sc.plan.id).await.unwrap(), Some(expected_record.clone()));
    // The tombstone no longer answers lookups; the target holds the source's identities.
    let key =
        crm_core::customer::IdentityKey::email(&crm_core::customer::EmailAddress::parse("marie@example.com").unwrap());
    let found: Vec<_> = s.find_by_identity(tenant, &key, 10).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(found, vec![sc.target.id]);
    // Tombstones stay reachable by id and account number, never by search.
    assert_eq!(s.find_by_account(tenant, sc.source.account_number()).await.unwrap(), Some(sc.plan.tombstone.clone()));
    let marie = crm_core::customer::CustomerQuery { name: Some("Marie".into()), ..Default::default() };
    let listed = s.search_customers(tenant, &marie.normalise().unwrap(), &super::page(10)).await.unwrap();
    assert_eq!(listed.items.iter().map(|c| c.id).collect::<Vec<_>>(), vec![sc.target.id]);
    let codes = crm_core::customer::NameKeys::of("Dupond").phonetic;
    let sounding: Vec<_> = s.find_by_phonetic(tenant, &codes, 10).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(sounding, vec![sc.target.id], "tombstones are no duplicate candidates");

    // Undo.
    let target_now = s.get_customer(tenant, sc.target.id).await.unwrap().unwrap();
    let tombstone_now = s.get_customer(tenant, sc.source.id).await.unwrap().unwrap();
    let at = ctx.now + Duration::minutes(10);
    let undo = expected_record.plan_undo(&target_now, &tombstone_now, at).unwrap();
    let event = ctx.event(EventKind::MergeUndone { merge: sc.plan.id, target: sc.target.id, source: sc.source.id });
    s.undo_merge(tenant, sc.plan.id, &undo, ctx.t.supervisor.id, at, std::slice::from_ref(&event)).await.unwrap();
    assert!(ctx.has_event(event.id).await, "the undo event is in the outbox");
    assert_eq!(s.get_customer(tenant, sc.target.id).await.unwrap(), Some(undo.target.clone()));
    assert_eq!(s.get_customer(tenant, sc.source.id).await.unwrap(), Some(undo.source.clone()));
    let case = s.get_case(tenant, sc.source_case.id).await.unwrap().unwrap();
    assert_eq!((case.customer(), case.version()), (sc.source.id, sc.source_case.version() + 2));
    assert_eq!(s.get_case(tenant, sc.target_case.id).await.unwrap(), Some(sc.target_case.clone()));
    let task = s.get_task(tenant, sc.task.id).await.unwrap().unwrap();
    assert_eq!((task.customer(), task.version()), (sc.source.id, sc.task.version() + 2));
    let interaction = s.get_interaction(tenant, sc.interaction.id).await.unwrap().unwrap();
    assert_eq!((interaction.customer(), interaction.version()), (Some(sc.source.id), sc.interaction.version() + 2));
    let mut relations = s.relations_of(tenant, sc.source.id).await.unwrap();
    relations.sort_by_key(|r| r.id);
    let mut expected = vec![sc.rel_from.clone(), sc.rel_to.clone(), sc.rel_between.clone()];
    expected.sort_by_key(|r| r.id);
    assert_eq!(relations, expected, "every relation is back as it was");
    let record = s.get_merge(tenant, sc.plan.id).await.unwrap().unwrap();
    assert_eq!((record.undone_at, record.undone_by), (Some(at), Some(ctx.t.supervisor.id)));
    assert_eq!(record.moved, moved, "the record keeps what was moved");
}

/// A merge planned on cards that changed meanwhile is refused and writes nothing.
pub async fn merge_with_a_stale_card_is_refused_and_writes_nothing(factory: &dyn StoreFactory) {
    let sc = scene(factory).await;
    let (s, tenant) = (&sc.ctx.store, sc.ctx.tenant());
    // Someone edits the source after the plan was made.
    let edited = Customer::restore(CustomerRecord {
        name: "Marie Dupond (edited)".into(),
        version: sc.source.version() + 1,
        ..sc.source.clone().into_record()
    });
    s.update_customer(&edited, sc.source.version(), &[]).await.unwrap();
    let event = sc.merged_event();
    assert_stale(s.merge_customers(&sc.plan, &sc.record, std::slice::from_ref(&event)).await);
    // Same for the target, with the source back in step.
    let mut plan = sc.plan.clone();
    plan.tombstone =
        Customer::restore(CustomerRecord { version: edited.version() + 1, ..plan.tombstone.clone().into_record() });
    let target =
        Customer::restore(CustomerRecord { version: sc.target.version() + 1, ..sc.target.clone().into_record() });
    s.update_customer(&target, sc.target.version(), &[]).await.unwrap();
    assert_stale(s.merge_customers(&plan, &sc.record, std::slice::from_ref(&event)).await);

    assert_eq!(s.get_customer(tenant, sc.source.id).await.unwrap(), Some(edited));
    assert_eq!(s.get_customer(tenant, sc.target.id).await.unwrap(), Some(target));
    assert_eq!(s.get_case(tenant, sc.source_case.id).await.unwrap(), Some(sc.source_case.clone()));
    assert_eq!(s.get_task(tenant, sc.task.id).await.unwrap(), Some(sc.task.clone()));
    assert_eq!(s.get_interaction(tenant, sc.interaction.id).await.unwrap(), Some(sc.interaction.clone()));
    let mut relations = s.relations_of(tenant, sc.source.id).await.unwrap();
    relations.sort_by_key(|r| r.id);
    let mut expected = vec![sc.rel_from.clone(), sc.rel_to.clone(), sc.rel_between.clone()];
    expected.sort_by_key(|r| r.id);
    assert_eq!(relations, expected);
    assert_eq!(s.get_merge(tenant, sc.plan.id).await.unwrap(), None);
    assert!(!sc.ctx.has_event(event.id).await);
}

/// Undo checks the cards' versions and refuses a second undo with `Conflict(State)`;
/// an unknown merge is `NotFound`.
pub async fn second_undo_is_refused_with_state_conflict(factory: &dyn StoreFactory) {
    let sc = scene(factory).await;
    let (ctx, s, tenant) = (&sc.ctx, &sc.ctx.store, sc.ctx.tenant());
    sc.merge().await;
    let record = s.get_merge(tenant, sc.plan.id).await.unwrap().unwrap();
    let target_now = s.get_customer(tenant, sc.target.id).await.unwrap().unwrap();
    let tombstone_now = s.get_customer(tenant, sc.source.id).await.unwrap().unwrap();
    let at = ctx.now + Duration::minutes(10);
    let by = ctx.t.supervisor.id;
    let undo = record.plan_undo(&target_now, &tombstone_now, at).unwrap();

    assert_not_found(s.undo_merge(tenant, ctx.id(), &undo, by, at, &[]).await);
    let mut stale = undo.clone();
    stale.source =
        Customer::restore(CustomerRecord { version: undo.source.version() + 1, ..undo.source.clone().into_record() });
    assert_stale(s.undo_merge(tenant, sc.plan.id, &stale, by, at, &[]).await);
    assert_eq!(s.get_merge(tenant, sc.plan.id).await.unwrap(), Some(record.clone()), "a refused undo changes nothing");
    assert_eq!(s.get_case(tenant, sc.source_case.id).await.unwrap().unwrap().customer(), sc.target.id);

    s.undo_merge(tenant, sc.plan.id, &undo, by, at, &[]).await.unwrap();
    let event = ctx.event(EventKind::MergeUndone { merge: sc.plan.id, target: sc.target.id, source: sc.source.id });
    assert_state_conflict(s.undo_merge(tenant, sc.plan.id, &undo, by, at, std::slice::from_ref(&event)).await);
    assert!(!ctx.has_event(event.id).await);
    assert_eq!(s.get_customer(tenant, sc.source.id).await.unwrap(), Some(undo.source));
}
