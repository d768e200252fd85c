//! Conformance: case lists (CAS-5): filters as [`CaseFilter::matches`], every sort order
//! with stable cursors, the private scope applied inside the page, and a customer's open
//! cases.

use chrono::Duration;
use crm_core::access::PrivateScope;
use crm_core::case::{
    Case, CaseFilter, CaseSort, CaseSortField, CaseStatus, DescriptionInput, Priority, Severity, SortDirection,
    Visibility,
};
use crm_core::ids::CustomerId;

use super::cases::{moved_to, numbers, updated_at};
use super::{Ctx, StoreFactory, page};

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
        let mut case = updated_at(moved_to(built, spec.status, ctx), ctx.now + Duration::minutes(spec.updated));
        case.created_at = ctx.now + Duration::minutes(spec.created);
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
            let case = updated_at(moved_to(built, status, &ctx), ctx.now + Duration::minutes(updated));
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
