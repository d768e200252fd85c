//! Conformance: cases, their history and follow-ups, and the atomic case-from-interaction
//! write.

use chrono::Duration;
use crm_core::access::PrivateScope;
use crm_core::case::{
    Case, CaseContext, CaseFilter, CasePatch, CaseRecord, CaseSort, CaseStatus, DescriptionInput, NewCase, Priority,
    Visibility, history,
};
use crm_core::event::EventKind;
use crm_core::follow_up::{FollowUp, FollowUpKind};
use crm_core::ids::{CaseId, CustomerId};
use crm_core::interaction::LinkTarget;
use crm_core::task::{Task, TaskRecord};

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_stale, page};
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
        s.insert_follow_up(f, &[], &[ctx.event(EventKind::FollowUpAdded { case: case.id, follow_up: f.id })])
            .await
            .unwrap();
    }
    let mut early = [early_a.clone(), early_b.clone()];
    early.sort_by_key(|f| f.id);
    let expected: Vec<FollowUp> = early.into_iter().chain([late.clone()]).collect();
    assert_eq!(s.follow_ups_of(tenant, case.id).await.unwrap(), expected);
    let orphan = FollowUp { id: ctx.id(), case: ctx.id(), ..late.clone() };
    assert_invalid_reference(s.insert_follow_up(&orphan, &[], &[]).await, "case");

    assert_eq!(s.get_deleted_case(tenant, case.id).await.unwrap(), None, "a live case is not a deleted one");
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

/// A softly deleted case (written by `update_case`) is hidden from `get_case`, the number
/// lookup, the list and the open cases of its customer, while its row, number, history,
/// follow-ups and tasks stay and `get_deleted_case` returns it; restored (another update),
/// it is back everywhere, its history holding the deletion and the restore.
pub async fn a_deleted_case_is_hidden_kept_and_restorable(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let attached = ctx.task(&customer, 60, |t| t.case = Some(case.id)).await;
    let note = FollowUp {
        id: ctx.id(),
        tenant,
        case: case.id,
        kind: FollowUpKind::Note,
        author: Some(ctx.t.agent.id),
        at: ctx.now,
        body: "kept".into(),
        visibility: Visibility::Internal,
        interaction: None,
    };
    s.insert_follow_up(&note, &[], &[]).await.unwrap();
    let change = |before: &Case, after: &Case| {
        history::diff(
            &before.field_map(),
            &after.field_map(),
            tenant,
            case.id,
            after.version(),
            ctx.t.agent.id,
            ctx.now,
        )
    };
    let mut deleted = case.clone();
    deleted.soft_delete(ctx.now + Duration::minutes(1)).unwrap();
    let event = ctx.event(EventKind::CaseDeleted { case: case.id });
    s.update_case(&deleted, case.version(), &change(&case, &deleted), std::slice::from_ref(&event)).await.unwrap();
    assert!(ctx.has_event(event.id).await);

    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), None);
    assert_eq!(s.get_case_by_number(tenant, case.number).await.unwrap(), None);
    let all = s.list_cases(tenant, &CaseFilter::default(), &PrivateScope::All, CaseSort::default(), &page(200)).await;
    assert!(all.unwrap().items.iter().all(|c| c.id != case.id), "hidden from the list");
    assert!(s.open_cases_of(tenant, customer.id, &PrivateScope::All, 10).await.unwrap().is_empty());
    let limits = crm_core::ports::CardLimits::CARD;
    let card = s.card_parts(tenant, customer.id, &PrivateScope::All, limits).await.unwrap();
    assert!(card.open_cases.is_empty(), "hidden from the card");
    assert_eq!(s.get_deleted_case(tenant, case.id).await.unwrap(), Some(deleted.clone()));
    assert_eq!(s.follow_ups_of(tenant, case.id).await.unwrap(), vec![note.clone()], "follow-ups kept");
    assert_eq!(s.get_task(tenant, attached.id).await.unwrap(), Some(attached.clone()), "tasks kept");
    let history = s.case_history(tenant, case.id).await.unwrap();
    assert!(history.iter().any(|e| e.field == "deleted_at" && e.old.is_null()), "the deletion is history");
    assert_eq!(history::replay(&history), deleted.field_map());
    // The number stays taken.
    let mut same_number = ctx.build_case(&customer, |_| {}).await;
    same_number = Case::restore(CaseRecord { number: case.number, ..same_number.into_record() });
    assert_duplicate(s.insert_case(&same_number, &[], &[]).await, "number");

    let mut restored = deleted.clone();
    restored.undelete(ctx.now + Duration::minutes(2), Duration::days(30)).unwrap();
    s.update_case(&restored, deleted.version(), &change(&deleted, &restored), &[]).await.unwrap();
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), Some(restored.clone()));
    assert_eq!(s.get_case_by_number(tenant, case.number).await.unwrap(), Some(restored.clone()));
    assert_eq!(s.get_deleted_case(tenant, case.id).await.unwrap(), None);
    assert_eq!(s.open_cases_of(tenant, customer.id, &PrivateScope::All, 10).await.unwrap(), vec![restored.clone()]);
    let history = s.case_history(tenant, case.id).await.unwrap();
    assert_eq!(history.iter().filter(|e| e.field == "deleted_at").count(), 2, "deletion and restore");
    assert_eq!(history::replay(&history), restored.field_map());
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
                tags: Vec::new(),
                category: None,
                case_type: None,
                parent: None,
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
