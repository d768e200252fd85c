//! Conformance: cases, their history and follow-ups, and the atomic case-from-interaction
//! write.

use chrono::Duration;
use crm_core::case::{
    Case, CaseContext, CasePatch, CaseRecord, CaseStatus, DescriptionInput, NewCase, Priority, Visibility, history,
};
use crm_core::event::EventKind;
use crm_core::follow_up::{FollowUp, FollowUpKind};
use crm_core::ids::{CaseId, CustomerId};
use crm_core::interaction::LinkTarget;
use crm_core::task::{Task, TaskRecord};

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, assert_stale};
use crate::fixtures::region_fr;

pub(super) fn numbers(cases: &[Case]) -> Vec<String> {
    cases.iter().map(|c| c.number.to_string()).collect()
}

/// Moves a stored-to-be case through `to` (as the use cases do), keeping it valid.
pub(super) fn moved_to(mut case: Case, to: CaseStatus, ctx: &Ctx) -> Case {
    if to == CaseStatus::Closed && case.status() == CaseStatus::Draft {
        case.transition(CaseStatus::Open, ctx.t.agent.id, ctx.now).unwrap();
    }
    if case.status() != to {
        case.transition(to, ctx.t.agent.id, ctx.now).unwrap();
    }
    case
}

/// The case as last changed at `at` (list fixtures spread their update times).
pub(super) fn updated_at(case: Case, at: chrono::DateTime<chrono::Utc>) -> Case {
    Case::restore(CaseRecord { updated_at: at, ..case.into_record() })
}

/// A case round-trips; history is oldest first (by version, then field); follow-ups are
/// oldest first (by time, then id); deleting a case takes its history and follow-ups.
pub async fn case_round_trips_with_history_and_follow_ups(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let case = ctx
        .case(&customer, |c| {
            c.description = Some(DescriptionInput { format: Default::default(), body: "It broke".into() });
            c.priority = Some(Priority::High);
        })
        .await;
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), Some(case.clone()));
    assert_eq!(s.get_case_by_number(tenant, case.number).await.unwrap(), Some(case.clone()));
    let created = ctx.creation_history(&case);
    assert_eq!(s.case_history(tenant, case.id).await.unwrap(), created);

    let mut next = case.clone();
    let patch =
        CasePatch { status: Some(CaseStatus::Pending), priority: Some(Priority::Urgent), ..CasePatch::default() };
    let cx = CaseContext { definitions: &[], region: None, now: ctx.now + Duration::minutes(1) };
    patch.apply(&mut next, ctx.t.agent.id, cx).unwrap();
    assert_eq!(next.version(), 2, "one patch, one version");
    let mut changes = history::diff(
        &case.field_map(),
        &next.field_map(),
        tenant,
        case.id,
        2,
        ctx.t.agent.id,
        ctx.now + Duration::minutes(1),
    );
    changes.reverse(); // stores order by version then field, whatever the insertion order
    let event = ctx.event(EventKind::CaseUpdated { case: case.id, fields: vec!["status".into(), "priority".into()] });
    s.update_case(&next, 1, &changes, std::slice::from_ref(&event)).await.unwrap();
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), Some(next.clone()));
    let mut expected = created.clone();
    changes.reverse();
    expected.extend(changes);
    let listed = s.case_history(tenant, case.id).await.unwrap();
    assert_eq!(listed, expected);
    assert_eq!(history::replay(&listed), next.field_map(), "the history replays to the case");

    let follow_up = |at_minutes: i64, body: &str| FollowUp {
        id: ctx.id(),
        tenant,
        case: case.id,
        kind: FollowUpKind::Note,
        author: Some(ctx.t.agent.id),
        at: ctx.now + Duration::minutes(at_minutes),
        body: body.into(),
        visibility: Visibility::Internal,
        interaction: None,
    };
    let (late, early_a, early_b) = (follow_up(5, "late"), follow_up(2, "early a"), follow_up(2, "early b"));
    for f in [&late, &early_b, &early_a] {
        s.insert_follow_up(f, &[ctx.event(EventKind::FollowUpAdded { case: case.id, follow_up: f.id })]).await.unwrap();
    }
    let mut early = [early_a.clone(), early_b.clone()];
    early.sort_by_key(|f| f.id);
    let expected: Vec<FollowUp> = early.into_iter().chain([late.clone()]).collect();
    assert_eq!(s.follow_ups_of(tenant, case.id).await.unwrap(), expected);
    let orphan = FollowUp { id: ctx.id(), case: ctx.id(), ..late.clone() };
    assert_invalid_reference(s.insert_follow_up(&orphan, &[]).await, "case");

    s.delete_case(tenant, case.id, 2, &[ctx.event(EventKind::CaseDeleted { case: case.id })]).await.unwrap();
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), None);
    assert_eq!(s.get_case_by_number(tenant, case.number).await.unwrap(), None);
    assert!(s.case_history(tenant, case.id).await.unwrap().is_empty());
    assert!(s.follow_ups_of(tenant, case.id).await.unwrap().is_empty());
    assert_not_found(s.delete_case(tenant, case.id, 2, &[]).await);
    let again = Case::restore(CaseRecord { version: 3, ..next.clone().into_record() });
    assert_not_found(s.update_case(&again, 2, &[], &[]).await);
}

/// Updates that would point a case or a task at a record missing from the tenant are
/// refused, naming the field, and change nothing.
pub async fn updates_pointing_at_missing_records_are_refused(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let mut moved = case.clone();
    moved.move_to_customer(ctx.id());
    assert_invalid_reference(s.update_case(&moved, case.version(), &[], &[]).await, "customer");
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), Some(case.clone()));

    let task = ctx.task(&customer, 30, |_| {}).await;
    let bad_case =
        Task::restore(TaskRecord { case: Some(ctx.id()), version: task.version() + 1, ..task.clone().into_record() });
    assert_invalid_reference(s.update_task(&bad_case, task.version(), &[]).await, "case");
    let mut bad_customer = task.clone();
    bad_customer.move_to_customer(ctx.id());
    assert_invalid_reference(s.update_task(&bad_customer, task.version(), &[]).await, "customer");
    assert_eq!(s.get_task(tenant, task.id).await.unwrap(), Some(task));
}

/// Deleting a case detaches the tasks that pointed at it (their version bumped).
pub async fn deleting_a_case_detaches_its_tasks(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let attached = ctx.task(&customer, 60, |t| t.case = Some(case.id)).await;
    let other = ctx.task(&customer, 90, |_| {}).await;
    s.delete_case(tenant, case.id, case.version(), &[ctx.event(EventKind::CaseDeleted { case: case.id })])
        .await
        .unwrap();
    let detached = s.get_task(tenant, attached.id).await.unwrap().expect("the task stays");
    assert_eq!(detached.case(), None);
    assert_eq!(detached.version(), attached.version() + 1);
    assert_eq!(s.get_task(tenant, other.id).await.unwrap(), Some(other));
}

/// Numbers and ids are unique per tenant; a case needs an existing customer of the tenant.
pub async fn duplicate_case_number_and_missing_references_are_refused(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let first = ctx.case(&customer, |_| {}).await;

    let mut same_number = ctx.build_case(&customer, |_| {}).await;
    same_number.number = first.number;
    let event = ctx.event(EventKind::CaseCreated {
        case: same_number.id,
        number: first.number,
        customer: customer.id,
        assignee: None,
    });
    assert_duplicate(
        s.insert_case(&same_number, &ctx.creation_history(&same_number), std::slice::from_ref(&event)).await,
        "number",
    );
    assert_eq!(s.get_case(tenant, same_number.id).await.unwrap(), None);
    assert!(!ctx.has_event(event.id).await);

    let mut same_id = ctx.build_case(&customer, |_| {}).await;
    same_id.id = first.id;
    assert_duplicate(s.insert_case(&same_id, &[], &[]).await, "id");

    let orphan = Case::restore(CaseRecord {
        customer: ctx.id::<CustomerId>(),
        ..ctx.build_case(&customer, |_| {}).await.into_record()
    });
    assert_invalid_reference(s.insert_case(&orphan, &ctx.creation_history(&orphan), &[]).await, "customer");
    assert_eq!(s.get_case(tenant, orphan.id).await.unwrap(), None);
    assert!(s.case_history(tenant, orphan.id).await.unwrap().is_empty());
}

/// The case and the interaction linked to it are written together, or neither is.
pub async fn case_from_interaction_is_written_atomically(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Appelant", vec![]).await;
    let interaction = ctx.interaction(Some(&customer)).await;
    let build = |number| {
        let ctx = ctx.clone();
        let customer = customer.id;
        let origin = interaction.id;
        async move {
            let input = NewCase {
                customer,
                subject: "From the call".into(),
                description: None,
                draft: false,
                visibility: None,
                severity: None,
                priority: None,
                assignee: None,
                group: None,
                origin_channel: Some(crm_core::interaction::Channel::Voice),
                custom: Default::default(),
            };
            let number = match number {
                Some(n) => n,
                None => ctx.store.next_case_number(ctx.tenant()).await.unwrap(),
            };
            let cx = CaseContext { definitions: &[], region: Some(region_fr()), now: ctx.now };
            input.build(ctx.id::<CaseId>(), number, &ctx.agent(), Some(origin), cx).unwrap()
        }
    };
    let case = build(None).await;
    let mut linked = interaction.clone();
    linked.link(LinkTarget::Case { id: case.id }, ctx.t.agent.id, ctx.now).unwrap();
    assert_eq!(linked.version(), 2);
    let events = [
        ctx.event(EventKind::CaseCreated { case: case.id, number: case.number, customer: customer.id, assignee: None }),
        ctx.event(EventKind::InteractionLinked {
            interaction: interaction.id,
            target: LinkTarget::Case { id: case.id },
        }),
    ];
    s.insert_case_from_interaction(&case, &ctx.creation_history(&case), &linked, 1, &events).await.unwrap();
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), Some(case.clone()));
    assert_eq!(s.get_interaction(tenant, interaction.id).await.unwrap(), Some(linked.clone()));
    assert_eq!(s.case_history(tenant, case.id).await.unwrap(), ctx.creation_history(&case));
    for e in &events {
        assert!(ctx.has_event(e.id).await);
    }

    // A stale interaction: neither is written.
    let second = build(None).await;
    let mut relinked = linked.clone();
    relinked.link(LinkTarget::Case { id: second.id }, ctx.t.agent.id, ctx.now).unwrap();
    let event = ctx.event(EventKind::CaseCreated {
        case: second.id,
        number: second.number,
        customer: customer.id,
        assignee: None,
    });
    assert_stale(
        s.insert_case_from_interaction(
            &second,
            &ctx.creation_history(&second),
            &relinked,
            1,
            std::slice::from_ref(&event),
        )
        .await,
    );
    assert_eq!(s.get_case(tenant, second.id).await.unwrap(), None);
    assert!(s.case_history(tenant, second.id).await.unwrap().is_empty());
    assert_eq!(s.get_interaction(tenant, interaction.id).await.unwrap(), Some(linked.clone()));
    assert!(!ctx.has_event(event.id).await);

    // A taken number: neither is written.
    let third = build(Some(case.number)).await;
    let mut relinked = linked.clone();
    relinked.link(LinkTarget::Case { id: third.id }, ctx.t.agent.id, ctx.now).unwrap();
    assert_eq!(relinked.version(), 3);
    assert_duplicate(s.insert_case_from_interaction(&third, &[], &relinked, 2, &[]).await, "number");
    assert_eq!(s.get_interaction(tenant, interaction.id).await.unwrap(), Some(linked));
}
