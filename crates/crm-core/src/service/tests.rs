//! Unit tests of the use cases against `mockall` mocks of the ports: permission paths,
//! conflicts, and infrastructure errors propagated (never swallowed). A mock with no
//! expectation set panics when called, so "the store was not touched" is asserted by
//! setting none.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::Crm;
use crate::access::{Actor, Permission, PrivateScope, Role, Tenant};
use crate::case::{
    Case, CaseFilter, CaseNumber, CasePatch, CaseRecord, CaseSort, CaseStatus, NewCase, Priority, Visibility,
};
use crate::customer::{ConflictRule, Customer, LookupKey, MergePlan, MergeRecord, MovedRecords, NewCustomer, Region};
use crate::error::{Conflict, Error, StoreError};
use crate::event::EventKind;
use crate::external::{ExternalObject, ExternalRef, ExternalSystem};
use crate::ids::{AgentId, CaseId, CustomerId, EventId, InteractionId, MergeId, TenantId};
use crate::interaction::{
    Channel, Direction, Disposition, Interaction, InteractionAction, InteractionRecord, LinkTarget, NewInteraction,
};
use crate::page::{Page, PageRequest};
use crate::time::{Clock, IdGenerator};

use super::mock_store::MockStore;

#[derive(Debug)]
struct FixedClock(DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

#[derive(Debug, Default)]
struct CountingIds(std::sync::atomic::AtomicU64);

impl IdGenerator for CountingIds {
    fn new_uuid(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) + 1_000)
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

fn tenant_id() -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(1))
}

fn actor(role: Role) -> Actor {
    Actor::with_role(tenant_id(), AgentId::from_uuid(Uuid::from_u128(2)), role)
}

fn tenant() -> Tenant {
    Tenant {
        id: tenant_id(),
        name: "Acme".into(),
        default_region: Region::parse("FR").unwrap(),
        time_zone: "Europe/Paris".parse().unwrap(),
        created_at: now(),
        suspended_at: None,
        slug: None,
    }
}

/// A store whose directory knows the tenant and has no custom fields.
fn store_with_tenant() -> MockStore {
    let mut store = MockStore::default();
    store.directory_store.expect_get_tenant().returning(|_| Ok(Some(tenant())));
    store.directory_store.expect_field_definitions().returning(|_, _| Ok(Vec::new()));
    store
}

fn crm(store: MockStore) -> Crm {
    Crm::new(Arc::new(store), Arc::new(FixedClock(now())), Arc::new(CountingIds::default()))
}

fn customer(id: u128) -> Customer {
    NewCustomer {
        name: "Jeanne Dupont".into(),
        account_number: Some(format!("ACC-{id}")),
        identities: vec![crate::customer::IdentityInput::Phone { number: "+33 1 23 45 67 89".into(), label: None }],
        ..NewCustomer::default()
    }
    .build(
        CustomerId::from_uuid(Uuid::from_u128(id)),
        tenant_id(),
        None,
        None,
        crate::customer::CustomerContext { region: None, definitions: &[], now: now() },
    )
    .unwrap()
}

fn case(version: u64, visibility: Visibility, assignee: Option<AgentId>) -> Case {
    let c = NewCase { visibility: Some(visibility), assignee, ..NewCase::open(customer(10).id, "Cannot log in") }
        .build(
            CaseId::from_uuid(Uuid::from_u128(20)),
            CaseNumber::new(7),
            &actor(Role::Supervisor),
            None,
            crate::case::CaseContext { definitions: &[], region: None, now: now() },
        )
        .unwrap();
    Case::restore(CaseRecord { version, ..c.into_record() })
}

fn unavailable() -> StoreError {
    StoreError::Unavailable("connection refused".into())
}

#[tokio::test]
async fn creating_a_customer_without_the_permission_is_forbidden_and_touches_no_store() {
    let mut reader = actor(Role::Agent);
    reader.permissions.remove(&Permission::CustomerEdit);
    let err = crm(MockStore::default())
        .create_customer(&reader, NewCustomer { name: "x".into(), ..Default::default() })
        .await;
    assert!(matches!(err, Err(Error::Forbidden { permission: Some(Permission::CustomerEdit), .. })), "{err:?}");
}

#[tokio::test]
async fn a_store_outage_while_creating_a_customer_is_propagated() {
    let mut store = store_with_tenant();
    store.customer_store.expect_next_account_sequence().returning(|_| Ok(41));
    store.customer_store.expect_insert_customer().times(1).returning(|_, _| Err(unavailable()));
    let err = crm(store)
        .create_customer(&actor(Role::Agent), NewCustomer { name: "Jane".into(), ..Default::default() })
        .await;
    assert!(matches!(err, Err(Error::Store(StoreError::Unavailable(_)))), "{err:?}");
}

#[tokio::test]
async fn a_created_customer_is_written_with_its_generated_account_and_event() {
    let mut store = store_with_tenant();
    store.customer_store.expect_next_account_sequence().returning(|_| Ok(42));
    store
        .customer_store
        .expect_insert_customer()
        .withf(|c, events| {
            c.account_number().as_str() == "AC-000042"
                && events.len() == 1
                && matches!(events[0].kind, EventKind::CustomerCreated { customer } if customer == c.id)
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let c = crm(store)
        .create_customer(&actor(Role::Agent), NewCustomer { name: "Jane".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(c.version(), 1);
}

#[tokio::test]
async fn invalid_customer_input_names_every_bad_field_and_burns_no_sequence() {
    let store = store_with_tenant();
    // No expectation on next_account_sequence: an account number is given.
    let input = NewCustomer {
        name: " ".into(),
        account_number: Some("bad account!".into()),
        identities: vec![crate::customer::IdentityInput::Email { address: "nope".into(), label: None }],
        ..Default::default()
    };
    let Err(Error::Validation(v)) = crm(store).create_customer(&actor(Role::Agent), input).await else {
        panic!("expected a validation error")
    };
    let fields: Vec<&str> = v.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "account_number", "identities[0].address"]);
}

#[tokio::test]
async fn a_stale_case_version_is_refused_before_any_write() {
    let mut store = store_with_tenant();
    store.case_store.expect_get_case().returning(|_, _| Ok(Some(case(3, Visibility::Internal, None))));
    let patch = CasePatch { priority: Some(Priority::High), ..Default::default() };
    let err = crm(store).update_case(&actor(Role::Agent), CaseId::from_uuid(Uuid::from_u128(20)), 2, patch).await;
    assert!(matches!(err, Err(Error::Conflict(Conflict::StaleVersion { expected: 2, .. }))), "{err:?}");
}

#[tokio::test]
async fn a_lost_race_in_the_store_surfaces_as_a_conflict() {
    let mut store = store_with_tenant();
    store.case_store.expect_get_case().returning(|_, _| Ok(Some(case(3, Visibility::Internal, None))));
    // a priority change re-marks the case's SLA: the tenant has no policy
    store.sla_store.expect_sla_settings().returning(|_, _| Ok(Vec::new()));
    store
        .case_store
        .expect_update_case()
        .withf(|c, expected, history, events| {
            c.version() == 4
                && *expected == 3
                && history.len() == 1
                && history[0].field == "priority"
                && events.len() == 1
        })
        .returning(|c, expected, _, _| Err(StoreError::stale("case", c.id, expected)));
    let patch = CasePatch { priority: Some(Priority::High), ..Default::default() };
    let err = crm(store).update_case(&actor(Role::Agent), CaseId::from_uuid(Uuid::from_u128(20)), 3, patch).await;
    assert!(matches!(err, Err(Error::Conflict(Conflict::StaleVersion { .. }))), "{err:?}");
}

#[tokio::test]
async fn a_private_case_of_someone_else_is_not_found_for_an_agent_but_visible_to_a_supervisor() {
    let other = Some(AgentId::from_uuid(Uuid::from_u128(99)));
    let mut store = store_with_tenant();
    store.case_store.expect_get_case().returning(move |_, _| Ok(Some(case(1, Visibility::Private, other))));
    let crm = crm(store);
    let id = CaseId::from_uuid(Uuid::from_u128(20));
    assert!(matches!(crm.get_case(&actor(Role::Agent), id).await, Err(Error::NotFound { entity: "case", .. })));
    assert!(crm.get_case(&actor(Role::Supervisor), id).await.is_ok());
}

#[tokio::test]
async fn agents_cannot_delete_cases() {
    let err =
        crm(MockStore::default()).delete_case(&actor(Role::Agent), CaseId::from_uuid(Uuid::from_u128(20)), 1).await;
    assert!(matches!(err, Err(Error::Forbidden { permission: Some(Permission::CaseDelete), .. })));
}

#[tokio::test]
async fn agents_cannot_assign_cases_to_someone_else() {
    let mut store = store_with_tenant();
    store.case_store.expect_get_case().returning(|_, _| Ok(Some(case(1, Visibility::Internal, None))));
    let patch = CasePatch { assignee: Some(Some(AgentId::from_uuid(Uuid::from_u128(77)))), ..Default::default() };
    let err = crm(store).update_case(&actor(Role::Agent), CaseId::from_uuid(Uuid::from_u128(20)), 1, patch).await;
    assert!(matches!(err, Err(Error::Forbidden { permission: Some(Permission::CaseAssign), .. })), "{err:?}");
}

#[tokio::test]
async fn an_illegal_case_transition_is_refused_without_a_write() {
    let mut store = store_with_tenant();
    store.case_store.expect_get_case().returning(|_, _| Ok(Some(case(1, Visibility::Internal, None))));
    let patch = CasePatch { status: Some(CaseStatus::Draft), ..Default::default() };
    let err = crm(store).update_case(&actor(Role::Agent), CaseId::from_uuid(Uuid::from_u128(20)), 1, patch).await;
    assert!(matches!(err, Err(Error::IllegalTransition(_))), "{err:?}");
}

#[tokio::test]
async fn refused_case_input_draws_no_case_number() {
    let mut store = store_with_tenant();
    store.customer_store.expect_get_customer().returning(|_, _| Ok(Some(customer(10))));
    // No expectation on next_case_number: drawing one would panic.
    let input = NewCase::open(customer(10).id, String::new());
    let err = crm(store).create_case(&actor(Role::Agent), input).await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "subject"), "{err:?}");
}

#[tokio::test]
async fn screen_pop_normalises_the_phone_and_reads_the_card() {
    let mut store = store_with_tenant();
    store
        .customer_store
        .expect_find_by_identity()
        .withf(|_, key, _| key.as_str() == "phone:+33123456789")
        .times(1)
        .returning(|_, _, _| Ok(vec![customer(10)]));
    store
        .case_store
        .expect_open_cases_of()
        .withf(|_, _, scope, _| *scope != PrivateScope::All)
        .returning(|_, _, _, _| Ok(vec![case(1, Visibility::Internal, None)]));
    store.task_store.expect_planned_tasks_of_customer().returning(|_, _, _| Ok(Vec::new()));
    store
        .interaction_store
        .expect_interactions_of_customer()
        .returning(|_, _, _| Ok(Page { items: Vec::new(), next: None }));
    store.customer_store.expect_relations_of().returning(|_, _| Ok(Vec::new()));
    // No alert rules: the screen pop reads nothing more for alerts.
    store.guidance.expect_alert_rules().times(1).returning(|_| Ok(None));
    let cards = crm(store).lookup(&actor(Role::Agent), &LookupKey::Phone("01 23 45 67 89".into())).await.unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].open_cases.len(), 1);
}

/// A store whose cards are empty but for the customer found by identity.
fn empty_cards(store: &mut MockStore) {
    store.case_store.expect_open_cases_of().returning(|_, _, _, _| Ok(Vec::new()));
    store.task_store.expect_planned_tasks_of_customer().returning(|_, _, _| Ok(Vec::new()));
    store
        .interaction_store
        .expect_interactions_of_customer()
        .returning(|_, _, _| Ok(Page { items: Vec::new(), next: None }));
    store.customer_store.expect_relations_of().returning(|_, _| Ok(Vec::new()));
    // The screen pop asks for the tenant's alert rules (none here).
    store.guidance.expect_alert_rules().returning(|_| Ok(None));
}

/// The store is asked exactly once for `key` (in `sequence` when given) and finds `found`.
fn expect_identity_once(
    store: &mut MockStore,
    key: &'static str,
    found: Vec<Customer>,
    sequence: Option<&mut mockall::Sequence>,
) {
    let expectation = store.customer_store.expect_find_by_identity();
    expectation.withf(move |_, k, _| k.as_str() == key).times(1);
    if let Some(sequence) = sequence {
        expectation.in_sequence(sequence);
    }
    expectation.returning(move |_, _, _| Ok(found.clone()));
}

#[tokio::test]
async fn a_screen_pop_in_e164_is_looked_up_as_written_without_a_parse() {
    // No tenant read either: the default region is the parse's.
    let mut store = MockStore::default();
    expect_identity_once(&mut store, "phone:+33123456789", vec![customer(10)], None);
    empty_cards(&mut store);
    let cards = crm(store).lookup(&actor(Role::Agent), &LookupKey::Phone(" +33123456789 ".into())).await.unwrap();
    assert_eq!(cards.len(), 1);
}

#[tokio::test]
async fn an_e164_shaped_screen_pop_that_matches_nothing_is_parsed_and_looked_up_again_when_it_normalises() {
    // `+330123456789` (the trunk 0 kept after the country code) normalises to `+33123456789`.
    let mut store = store_with_tenant();
    let mut asked = mockall::Sequence::new();
    expect_identity_once(&mut store, "phone:+330123456789", Vec::new(), Some(&mut asked));
    expect_identity_once(&mut store, "phone:+33123456789", vec![customer(10)], Some(&mut asked));
    empty_cards(&mut store);
    let cards = crm(store).lookup(&actor(Role::Agent), &LookupKey::Phone("+330123456789".into())).await.unwrap();
    assert_eq!(cards.len(), 1);
}

#[tokio::test]
async fn an_e164_screen_pop_that_matches_nothing_is_read_once_and_an_invalid_one_is_refused() {
    let mut store = store_with_tenant();
    expect_identity_once(&mut store, "phone:+33123456789", Vec::new(), None);
    expect_identity_once(&mut store, "phone:+3912345", Vec::new(), None);
    let crm = crm(store);
    let none = crm.lookup(&actor(Role::Agent), &LookupKey::Phone("+33123456789".into())).await.unwrap();
    assert!(none.is_empty());
    let err = crm.lookup(&actor(Role::Agent), &LookupKey::Phone("+3912345".into())).await.unwrap_err();
    assert!(matches!(&err, Error::Validation(v) if v.errors()[0].field == "phone"), "{err:?}");
}

#[tokio::test]
async fn a_failing_card_read_fails_the_screen_pop() {
    let mut store = store_with_tenant();
    store.customer_store.expect_find_by_identity().returning(|_, _, _| Ok(vec![customer(10)]));
    store.case_store.expect_open_cases_of().returning(|_, _, _, _| Err(unavailable()));
    store.task_store.expect_planned_tasks_of_customer().returning(|_, _, _| Ok(Vec::new()));
    store
        .interaction_store
        .expect_interactions_of_customer()
        .returning(|_, _, _| Ok(Page { items: Vec::new(), next: None }));
    store.customer_store.expect_relations_of().returning(|_, _| Ok(Vec::new()));
    let err = crm(store).lookup(&actor(Role::Agent), &LookupKey::Phone("0123456789".into())).await;
    assert!(matches!(err, Err(Error::Store(_))), "{err:?}");
}

#[tokio::test]
async fn an_unparsable_phone_in_a_screen_pop_names_the_field() {
    let store = store_with_tenant();
    let err = crm(store).lookup(&actor(Role::Agent), &LookupKey::Phone("12".into())).await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "phone"), "{err:?}");
}

fn voice_call_linked_to_salesforce(version: u64) -> Interaction {
    let mut i = NewInteraction {
        channel: Channel::Voice,
        direction: Direction::Inbound,
        customer: None,
        address: Some("+33123456789".into()),
        contact_name: Some("Jeanne Dupont".into()),
        internal_agent: None,
        agent: Some(actor(Role::Agent).agent),
        queue: None,
        context: Default::default(),
        transcript: Vec::new(),
    }
    .build(InteractionId::from_uuid(Uuid::from_u128(30)), tenant_id(), false, now())
    .unwrap();
    let reference =
        ExternalRef { system: ExternalSystem::Salesforce, object: ExternalObject::Contact, id: "003xx".into() };
    i.link(LinkTarget::External { reference }, actor(Role::Agent).agent, now()).unwrap();
    for a in [InteractionAction::Accept, InteractionAction::End] {
        i.apply(a, actor(Role::Agent).agent, now()).unwrap();
    }
    Interaction::restore(InteractionRecord { version, ..i.into_record() })
}

#[tokio::test]
async fn completing_a_linked_calls_wrap_up_queues_the_push_with_the_state_change() {
    let mut store = store_with_tenant();
    store.interaction_store.expect_get_interaction().returning(|_, _| Ok(Some(voice_call_linked_to_salesforce(5))));
    store
        .interaction_store
        .expect_update_interaction()
        .withf(|i, expected, events| {
            *expected == 5
                && i.version() == 6
                && events
                    .iter()
                    .any(|e| matches!(&e.kind, EventKind::ActivityPushRequested { push } if push.target.id == "003xx"))
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let id = InteractionId::from_uuid(Uuid::from_u128(30));
    let i = crm(store).act_on_interaction(&actor(Role::Agent), id, 5, InteractionAction::CompleteWrapUp).await.unwrap();
    assert_eq!(i.state(), crate::interaction::InteractionState::Closed);
}

#[tokio::test]
async fn a_merge_failing_in_the_store_is_propagated() {
    let mut store = store_with_tenant();
    store.customer_store.expect_get_customer().returning(|_, id| Ok(Some(customer(id.as_uuid().as_u128()))));
    store.customer_store.expect_merge_customers().returning(|_, _, _| Err(unavailable()));
    let (a, b) = (CustomerId::from_uuid(Uuid::from_u128(10)), CustomerId::from_uuid(Uuid::from_u128(11)));
    let err = crm(store).merge_customers(&actor(Role::Supervisor), a, b, ConflictRule::KeepTarget).await;
    assert!(matches!(err, Err(Error::Store(StoreError::Unavailable(_)))), "{err:?}");
}

#[tokio::test]
async fn a_merge_preview_reads_both_cards_and_writes_nothing() {
    // The mock store has no write expectation: any write would panic.
    let mut store = store_with_tenant();
    store.customer_store.expect_get_customer().returning(|_, id| Ok(Some(customer(id.as_uuid().as_u128()))));
    let (a, b) = (CustomerId::from_uuid(Uuid::from_u128(10)), CustomerId::from_uuid(Uuid::from_u128(11)));
    let crm = crm(store);
    let p = crm.preview_merge(&actor(Role::Supervisor), a, b, ConflictRule::KeepTarget).await.unwrap();
    assert_eq!((p.target.id, p.source.id), (a, b));
    assert_eq!(p.plan.target.id, a);
    assert!(p.plan.tombstone.is_merged());
    let err = crm.preview_merge(&actor(Role::Supervisor), a, a, ConflictRule::KeepTarget).await;
    assert!(matches!(err, Err(Error::Validation(_))), "{err:?}");
    let err = crm.preview_merge(&actor(Role::Agent), a, b, ConflictRule::KeepTarget).await;
    assert!(matches!(err, Err(Error::Forbidden { permission: Some(Permission::CustomerMerge), .. })));
}

#[tokio::test]
async fn agents_cannot_merge_cards() {
    let (a, b) = (CustomerId::from_uuid(Uuid::from_u128(10)), CustomerId::from_uuid(Uuid::from_u128(11)));
    let err = crm(MockStore::default()).merge_customers(&actor(Role::Agent), a, b, ConflictRule::KeepTarget).await;
    assert!(matches!(err, Err(Error::Forbidden { permission: Some(Permission::CustomerMerge), .. })));
}

#[tokio::test]
async fn undoing_a_merge_after_the_target_changed_is_a_conflict() {
    let (a, b) = (customer(10), customer(11));
    let plan =
        MergePlan::build(MergeId::from_uuid(Uuid::from_u128(50)), &a, &b, ConflictRule::KeepTarget, now()).unwrap();
    let record = MergeRecord {
        id: plan.id,
        tenant: tenant_id(),
        target: a.id,
        source: b.id,
        rule: ConflictRule::KeepTarget,
        conflicts: plan.conflicts.clone(),
        target_before: a.clone(),
        source_before: b.clone(),
        target_version_after: plan.target.version(),
        moved: MovedRecords::default(),
        merged_by: actor(Role::Supervisor).agent,
        merged_at: now(),
        undone_at: None,
        undone_by: None,
    };
    let mut edited_target = plan.target.clone();
    edited_target.record_contact(None, now() + chrono::Duration::minutes(1));
    assert_eq!(edited_target.version(), plan.target.version() + 1);
    let tombstone = plan.tombstone.clone();
    let mut store = store_with_tenant();
    store.customer_store.expect_get_merge().returning(move |_, _| Ok(Some(record.clone())));
    store.customer_store.expect_get_customer().returning(move |_, id| {
        Ok(Some(if id == edited_target.id { edited_target.clone() } else { tombstone.clone() }))
    });
    let err = crm(store).undo_merge(&actor(Role::Supervisor), plan.id).await;
    assert!(matches!(err, Err(Error::Conflict(Conflict::State(_)))), "{err:?}");
}

#[tokio::test]
async fn a_retired_disposition_code_is_refused() {
    let mut store = store_with_tenant();
    store.interaction_store.expect_get_interaction().returning(|_, _| Ok(Some(voice_call_linked_to_salesforce(2))));
    store.directory_store.expect_dispositions().returning(|t| {
        Ok(vec![Disposition { tenant: t, code: "old".into(), label: "Old".into(), group: None, active: false }])
    });
    let id = InteractionId::from_uuid(Uuid::from_u128(30));
    let err = crm(store).set_disposition(&actor(Role::Agent), id, 2, "old").await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "disposition"), "{err:?}");
}

#[tokio::test]
async fn bad_interaction_input_is_refused_before_any_queue_read() {
    // No expectation on get_queue: reading it would panic.
    let input = NewInteraction { queue: Some("   ".into()), ..NewInteraction::new(Channel::Chat, Direction::Inbound) };
    let err = crm(store_with_tenant()).create_interaction(&actor(Role::Agent), input).await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "queue"), "{err:?}");
}

#[tokio::test]
async fn control_characters_in_searches_and_filters_are_refused() {
    let query = crate::customer::CustomerQuery { name: Some("Du\u{0}pont".into()), ..Default::default() };
    let err = crm(MockStore::default()).search_customers(&actor(Role::Agent), &query, &PageRequest::first()).await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "name"), "{err:?}");
    let filter = CaseFilter { text: Some("a\u{0}".into()), ..Default::default() };
    let err = crm(MockStore::default())
        .list_cases(&actor(Role::Agent), &filter, CaseSort::default(), &PageRequest::first())
        .await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "text"), "{err:?}");
}

#[tokio::test]
async fn only_connector_admins_see_and_requeue_the_outbox() {
    let crm = crm(MockStore::default());
    let err = crm.list_outbox(&actor(Role::Supervisor), None, None, &PageRequest::first()).await;
    assert!(matches!(err, Err(Error::Forbidden { permission: Some(Permission::AdminConnectors), .. })));
    let err = crm.requeue_outbox(&actor(Role::Agent), EventId::from_uuid(Uuid::from_u128(5))).await;
    assert!(matches!(err, Err(Error::Forbidden { .. })));
}

#[test]
fn any_version_matches_whatever_is_stored_and_writes_against_it() {
    assert_eq!(super::check_version("case", 1, 7, super::ANY_VERSION).unwrap(), 7);
    assert_eq!(super::check_version("case", 1, 7, 7).unwrap(), 7);
    assert!(matches!(super::check_version("case", 1, 7, 6), Err(Error::Conflict(Conflict::StaleVersion { .. }))));
}

/// The audit entries of setting a password and issuing an API token never carry the
/// password, its hash nor the token's hash (ADM-4): the events name the agent and the
/// token's public record only.
#[tokio::test]
async fn no_password_or_token_hash_ever_reaches_an_audit_entry() {
    use std::sync::Mutex;

    use crate::audit::AuditEntry;
    use crate::event::DomainEvent;

    const PASSWORD: &str = "Correct horse battery staple 42";
    const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$SECRETSECRETSECRET";
    const TOKEN_HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let agent = crate::access::Agent {
        id: AgentId::from_uuid(Uuid::from_u128(3)),
        tenant: tenant_id(),
        name: "Ana".into(),
        email: crate::customer::EmailAddress::parse("ana@example.com").unwrap(),
        role: Role::Agent,
        custom_role: None,
        groups: Default::default(),
        profile: Default::default(),
        active: true,
        version: 1,
    };
    let written: Arc<Mutex<Vec<Vec<DomainEvent>>>> = Arc::default();
    let mut store = MockStore::default();
    let found = agent.clone();
    store.directory_store.expect_get_agent().returning(move |_, _| Ok(Some(found.clone())));
    let into = written.clone();
    store.console.expect_set_password_hash().times(1).returning(move |_, _, hash, _, events| {
        assert_eq!(hash, PASSWORD_HASH, "the store gets the hash");
        into.lock().unwrap().push(events.to_vec());
        Ok(())
    });
    store.console.expect_delete_agent_sessions().returning(|_, _| Ok(0));
    let into = written.clone();
    store.token_store.expect_insert_token().times(1).returning(move |hash, _, events| {
        assert_eq!(hash, TOKEN_HASH);
        into.lock().unwrap().push(events.to_vec());
        Ok(())
    });
    let crm = crm(store);
    let admin = actor(Role::Administrator);
    crm.set_agent_password(&admin, agent.id, PASSWORD, &|_| PASSWORD_HASH.to_owned()).await.unwrap();
    crm.issue_api_token(&admin, TOKEN_HASH, agent.id, Role::Agent, "ci", None).await.unwrap();

    let written = written.lock().unwrap();
    let entries: Vec<AuditEntry> = written.iter().map(|events| AuditEntry::of_write(events).unwrap()).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["agent_password_set", "api_token_created"]);
    assert!(entries[0].changes.is_empty(), "{:?}", entries[0].changes);
    assert!(entries[1].changes.iter().any(|c| c.field == "label" && c.after == "ci"), "{:?}", entries[1].changes);
    for (entry, events) in entries.iter().zip(written.iter()) {
        let text = format!("{} {}", serde_json::to_string(entry).unwrap(), serde_json::to_string(events).unwrap());
        for secret in [PASSWORD, PASSWORD_HASH, TOKEN_HASH] {
            assert!(!text.contains(secret), "{secret:?} leaked into {text}");
        }
    }
}
