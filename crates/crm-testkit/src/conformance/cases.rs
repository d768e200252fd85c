//! Conformance: cases, their history and follow-ups, lists (filters, sorts, pages, private
//! scope) and the atomic case-from-interaction write.

use chrono::Duration;
use crm_core::access::PrivateScope;
use crm_core::case::{
    Case, CaseContext, CaseFilter, CaseSort, CaseSortField, CaseStatus, DescriptionInput, NewCase, Priority, Severity,
    SortDirection, Visibility, history,
};
use crm_core::event::EventKind;
use crm_core::follow_up::{FollowUp, FollowUpKind};
use crm_core::ids::{CaseId, CustomerId};
use crm_core::interaction::LinkTarget;

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, assert_stale, page};
use crate::fixtures::region_fr;

fn numbers(cases: &[Case]) -> Vec<String> {
    cases.iter().map(|c| c.number.to_string()).collect()
}

/// Moves a stored-to-be case through `to` (as the use cases do), keeping it valid.
fn moved_to(mut case: Case, to: CaseStatus, ctx: &Ctx) -> Case {
    if to == CaseStatus::Closed && case.status == CaseStatus::Draft {
        case.transition(CaseStatus::Open, ctx.t.agent.id, ctx.now).unwrap();
    }
    if case.status != to {
        case.transition(to, ctx.t.agent.id, ctx.now).unwrap();
    }
    case
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
    next.transition(CaseStatus::Pending, ctx.t.agent.id, ctx.now + Duration::minutes(1)).unwrap();
    next.priority = Priority::Urgent;
    next.version = 2;
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
    let mut again = next.clone();
    again.version = 3;
    assert_not_found(s.update_case(&again, 2, &[], &[]).await);
}

/// Numbers and ids are unique per tenant; a case needs an existing customer of the tenant.
pub async fn duplicate_case_number_and_missing_references_are_refused(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let first = ctx.case(&customer, |_| {}).await;

    let mut same_number = ctx.build_case(&customer, |_| {}).await;
    same_number.number = first.number;
    let event = ctx.event(EventKind::CaseCreated { case: same_number.id, number: first.number, customer: customer.id });
    assert_duplicate(
        s.insert_case(&same_number, &ctx.creation_history(&same_number), std::slice::from_ref(&event)).await,
        "number",
    );
    assert_eq!(s.get_case(tenant, same_number.id).await.unwrap(), None);
    assert!(!ctx.has_event(event.id).await);

    let mut same_id = ctx.build_case(&customer, |_| {}).await;
    same_id.id = first.id;
    assert_duplicate(s.insert_case(&same_id, &[], &[]).await, "id");

    let mut orphan = ctx.build_case(&customer, |_| {}).await;
    orphan.customer = ctx.id::<CustomerId>();
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
    linked.version = 2;
    let events = [
        ctx.event(EventKind::CaseCreated { case: case.id, number: case.number, customer: customer.id }),
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
    relinked.version = 2;
    let event = ctx.event(EventKind::CaseCreated { case: second.id, number: second.number, customer: customer.id });
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
    relinked.version = 3;
    assert_duplicate(s.insert_case_from_interaction(&third, &[], &relinked, 2, &[]).await, "number");
    assert_eq!(s.get_interaction(tenant, interaction.id).await.unwrap(), Some(linked));
}

/// A varied set of cases for list tests: statuses, priorities, severities, assignees,
/// groups, visibilities, creation and update times (with ties).
async fn varied_cases(ctx: &Ctx) -> (Vec<Case>, Vec<CustomerId>) {
    let a = ctx.customer("Alpha", vec![]).await;
    let b = ctx.customer("Beta", vec![]).await;
    let supervisor = ctx.t.supervisor.id;
    let agent = ctx.t.agent.id;
    let group = ctx.t.group.id;
    struct Spec {
        customer: usize,
        subject: &'static str,
        status: CaseStatus,
        priority: Priority,
        severity: Severity,
        assignee: Option<crm_core::ids::AgentId>,
        group: bool,
        visibility: Visibility,
        created: i64,
        updated: i64,
    }
    use CaseStatus::*;
    let specs = [
        Spec {
            customer: 0,
            subject: "Printer on fire",
            status: Open,
            priority: Priority::Urgent,
            severity: Severity::Critical,
            assignee: Some(agent),
            group: false,
            visibility: Visibility::Internal,
            created: 0,
            updated: 5,
        },
        Spec {
            customer: 0,
            subject: "Invoice missing",
            status: Pending,
            priority: Priority::Normal,
            severity: Severity::Low,
            assignee: Some(supervisor),
            group: true,
            visibility: Visibility::Public,
            created: 1,
            updated: 1,
        },
        Spec {
            customer: 1,
            subject: "Refund request",
            status: Closed,
            priority: Priority::Low,
            severity: Severity::Medium,
            assignee: Some(agent),
            group: false,
            visibility: Visibility::Internal,
            created: 1,
            updated: 9,
        },
        Spec {
            customer: 1,
            subject: "Secret matter",
            status: Open,
            priority: Priority::High,
            severity: Severity::High,
            assignee: Some(supervisor),
            group: false,
            visibility: Visibility::Private,
            created: 2,
            updated: 2,
        },
        Spec {
            customer: 0,
            subject: "Private but mine",
            status: OnHold,
            priority: Priority::High,
            severity: Severity::Medium,
            assignee: Some(agent),
            group: false,
            visibility: Visibility::Private,
            created: 3,
            updated: 7,
        },
        Spec {
            customer: 1,
            subject: "Team private",
            status: Open,
            priority: Priority::Normal,
            severity: Severity::High,
            assignee: Some(supervisor),
            group: true,
            visibility: Visibility::Private,
            created: 3,
            updated: 3,
        },
        Spec {
            customer: 0,
            subject: "Draft idea",
            status: Draft,
            priority: Priority::Low,
            severity: Severity::Low,
            assignee: None,
            group: false,
            visibility: Visibility::Internal,
            created: 4,
            updated: 4,
        },
        Spec {
            customer: 1,
            subject: "Another invoice",
            status: Open,
            priority: Priority::Urgent,
            severity: Severity::Medium,
            assignee: Some(agent),
            group: true,
            visibility: Visibility::Internal,
            created: 5,
            updated: 6,
        },
        Spec {
            customer: 0,
            subject: "Late delivery",
            status: Closed,
            priority: Priority::Normal,
            severity: Severity::Critical,
            assignee: Some(supervisor),
            group: false,
            visibility: Visibility::Public,
            created: 6,
            updated: 6,
        },
        Spec {
            customer: 1,
            subject: "Password reset",
            status: Pending,
            priority: Priority::High,
            severity: Severity::Low,
            assignee: Some(agent),
            group: false,
            visibility: Visibility::Internal,
            created: 6,
            updated: 8,
        },
        Spec {
            customer: 0,
            subject: "Broken invoice printer",
            status: Open,
            priority: Priority::Low,
            severity: Severity::High,
            assignee: Some(agent),
            group: false,
            visibility: Visibility::Private,
            created: 7,
            updated: 7,
        },
    ];
    let customers = [a, b];
    let mut cases = Vec::new();
    for spec in specs {
        let built = ctx
            .build_case(&customers[spec.customer], |c| {
                c.subject = spec.subject.into();
                c.draft = spec.status == Draft;
                c.priority = Some(spec.priority);
                c.severity = Some(spec.severity);
                c.assignee = spec.assignee;
                c.group = spec.group.then_some(group);
                c.visibility = Some(spec.visibility);
                c.description = Some(DescriptionInput {
                    format: Default::default(),
                    body: format!("About {}", spec.subject.to_uppercase()),
                });
            })
            .await;
        let mut case = moved_to(built, spec.status, ctx);
        case.created_at = ctx.now + Duration::minutes(spec.created);
        case.updated_at = ctx.now + Duration::minutes(spec.updated);
        ctx.insert_case(&case).await;
        cases.push(case);
    }
    (cases, customers.iter().map(|c| c.id).collect())
}

async fn list_all(ctx: &Ctx, filter: &CaseFilter, scope: &PrivateScope, sort: CaseSort, limit: u32) -> Vec<Case> {
    let mut all = Vec::new();
    let mut request = page(limit);
    let mut pages = 0;
    loop {
        let p = ctx.store.list_cases(ctx.tenant(), filter, scope, sort, &request).await.unwrap();
        pages += 1;
        assert!(p.items.len() <= limit as usize);
        if p.next.is_some() {
            assert_eq!(p.items.len(), limit as usize, "pages before the last are full");
        }
        all.extend(p.items);
        match p.next {
            Some(next) => request.after = Some(next),
            None => return all,
        }
        assert!(pages < 1000, "the walk ends");
    }
}

fn reference(cases: &[Case], filter: &CaseFilter, scope: &PrivateScope, sort: CaseSort) -> Vec<Case> {
    let mut expected: Vec<Case> = cases.iter().filter(|c| filter.matches(c, scope)).cloned().collect();
    expected.sort_by(|a, b| sort.compare(a, b));
    expected
}

/// Every filter criterion behaves as [`CaseFilter::matches`].
pub async fn case_list_filters_follow_the_reference_semantics(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (cases, customers) = varied_cases(&ctx).await;
    let at = |m: i64| Some(ctx.now + Duration::minutes(m));
    let filters = vec![
        CaseFilter::default(),
        CaseFilter { status: vec![CaseStatus::Open], ..Default::default() },
        CaseFilter { status: vec![CaseStatus::Pending, CaseStatus::Closed], ..Default::default() },
        CaseFilter { priority: vec![Priority::Urgent, Priority::High], ..Default::default() },
        CaseFilter { severity: vec![Severity::Critical], ..Default::default() },
        CaseFilter { assignee: Some(ctx.t.supervisor.id), ..Default::default() },
        CaseFilter { group: Some(ctx.t.group.id), ..Default::default() },
        CaseFilter { customer: Some(customers[1]), ..Default::default() },
        CaseFilter { created_from: at(3), ..Default::default() },
        CaseFilter { created_to: at(3), ..Default::default() },
        CaseFilter { updated_from: at(6), updated_to: at(8), ..Default::default() },
        CaseFilter { text: Some("INVOICE".into()), ..Default::default() },
        CaseFilter { text: Some("about printer".into()), ..Default::default() },
        CaseFilter {
            status: vec![CaseStatus::Open, CaseStatus::Pending],
            customer: Some(customers[0]),
            text: Some("in".into()),
            ..Default::default()
        },
    ];
    let scopes = [PrivateScope::All, ctx.agent().private_scope()];
    for filter in &filters {
        for scope in &scopes {
            let sort = CaseSort::default();
            let expected = reference(&cases, filter, scope, sort);
            let listed = list_all(&ctx, filter, scope, sort, 200).await;
            assert_eq!(numbers(&listed), numbers(&expected), "filter {filter:?} in scope {scope:?}");
        }
    }
    assert!(
        !reference(
            &cases,
            &CaseFilter { text: Some("invoice".into()), ..Default::default() },
            &scopes[0],
            CaseSort::default()
        )
        .is_empty(),
        "the scene exercises the text filter"
    );
}

/// Every sort field in both directions, walked in pages of 3, gives the reference order
/// with ties broken by number.
pub async fn case_list_sorts_and_pages_in_every_order(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (cases, _) = varied_cases(&ctx).await;
    let fields = [CaseSortField::CreatedAt, CaseSortField::UpdatedAt, CaseSortField::Number, CaseSortField::Priority];
    for field in fields {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            let sort = CaseSort { field, direction };
            let expected = reference(&cases, &CaseFilter::default(), &PrivateScope::All, sort);
            for limit in [1, 3, 11] {
                let listed = list_all(&ctx, &CaseFilter::default(), &PrivateScope::All, sort, limit).await;
                assert_eq!(numbers(&listed), numbers(&expected), "{sort:?} by pages of {limit}");
            }
        }
    }
}

/// The private scope is applied in the query: an agent's pages are full of cases it may
/// see, even when most cases are private to others.
pub async fn private_cases_are_filtered_inside_the_page(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let customer = ctx.customer("Client", vec![]).await;
    let mut visible = Vec::new();
    let mut all = Vec::new();
    for i in 0..15 {
        let mine = i % 3 == 0;
        let case = ctx
            .case(&customer, |c| {
                c.visibility = Some(if mine || i == 7 { Visibility::Internal } else { Visibility::Private });
                c.assignee = Some(if mine { ctx.t.agent.id } else { ctx.t.supervisor.id });
            })
            .await;
        if mine || i == 7 {
            visible.push(case.clone());
        }
        all.push(case);
    }
    let sort = CaseSort { field: CaseSortField::Number, direction: SortDirection::Asc };
    let scope = ctx.agent().private_scope();
    let first = ctx.store.list_cases(ctx.tenant(), &CaseFilter::default(), &scope, sort, &page(2)).await.unwrap();
    assert_eq!(numbers(&first.items), numbers(&visible[..2]), "the first page is full of visible cases");
    let listed = list_all(&ctx, &CaseFilter::default(), &scope, sort, 2).await;
    assert_eq!(numbers(&listed), numbers(&visible));
    let everything = list_all(&ctx, &CaseFilter::default(), &ctx.t.supervisor_actor().private_scope(), sort, 4).await;
    assert_eq!(numbers(&everything), numbers(&all));
}

/// Open cases (open, pending, on hold) of a customer within the scope, most recently
/// updated first, at most `limit`.
pub async fn open_cases_of_customer_are_most_recently_updated_first(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let customer = ctx.customer("Client", vec![]).await;
    let other = ctx.customer("Autre", vec![]).await;
    let make = |status: CaseStatus, updated: i64, private_to_supervisor: bool, whose: &crm_core::customer::Customer| {
        let ctx = ctx.clone();
        let whose = whose.clone();
        async move {
            let built = ctx
                .build_case(&whose, |c| {
                    c.draft = status == CaseStatus::Draft;
                    if private_to_supervisor {
                        c.visibility = Some(Visibility::Private);
                        c.assignee = Some(ctx.t.supervisor.id);
                    }
                })
                .await;
            let mut case = moved_to(built, status, &ctx);
            case.updated_at = ctx.now + Duration::minutes(updated);
            ctx.insert_case(&case).await;
            case
        }
    };
    let _draft = make(CaseStatus::Draft, 10, false, &customer).await;
    let open = make(CaseStatus::Open, 1, false, &customer).await;
    let pending = make(CaseStatus::Pending, 3, false, &customer).await;
    let on_hold = make(CaseStatus::OnHold, 2, false, &customer).await;
    let _closed = make(CaseStatus::Closed, 11, false, &customer).await;
    let private = make(CaseStatus::Open, 4, true, &customer).await;
    let _elsewhere = make(CaseStatus::Open, 12, false, &other).await;
    let s = &ctx.store;
    let agent_scope = ctx.agent().private_scope();
    let listed = s.open_cases_of(ctx.tenant(), customer.id, &agent_scope, 10).await.unwrap();
    assert_eq!(numbers(&listed), numbers(&[pending.clone(), on_hold.clone(), open.clone()]));
    let listed = s.open_cases_of(ctx.tenant(), customer.id, &PrivateScope::All, 10).await.unwrap();
    assert_eq!(numbers(&listed), numbers(&[private.clone(), pending.clone(), on_hold.clone(), open.clone()]));
    let listed = s.open_cases_of(ctx.tenant(), customer.id, &PrivateScope::All, 2).await.unwrap();
    assert_eq!(numbers(&listed), numbers(&[private, pending]));
}
