//! Constraint violations become errors naming the domain field, whether a pre-check or the
//! database's own constraint catches them.

use std::fmt::Debug;

use crm_core::StoreError;
use crm_core::access::{Agent, Group};
use crm_core::customer::{AccountNumber, Customer, CustomerRecord};
use crm_core::error::Conflict;
use crm_core::event::EventKind;
use crm_core::page::PageRequest;
use crm_core::ports::Store;
use crm_core::task::{NewTask, ScheduleInput, TaskKind};

use crate::helpers::{Backend, store};
use crate::world::World;

#[track_caller]
fn duplicate<T: Debug>(r: Result<T, StoreError>, field: &str) {
    match r {
        Err(StoreError::Conflict(Conflict::Duplicate { field: f, .. })) if f == field => {}
        other => panic!("expected Duplicate {{ field: {field} }}, got {other:?}"),
    }
}

#[track_caller]
fn invalid<T: Debug>(r: Result<T, StoreError>, field: &str) {
    match r {
        Err(StoreError::InvalidReference { field: f, .. }) if f == field => {}
        other => panic!("expected InvalidReference {{ field: {field} }}, got {other:?}"),
    }
}

async fn errors_name_their_fields(store: &dyn Store) {
    let w = World::new(store).await;
    let tenant = w.t.tenant.id;
    let a = w.customer("Alice", vec![]).await;
    let b = w.customer("Bob", vec![]).await;

    // Unique constraints.
    let copy = w.build_customer("Copy", vec![]).await;
    let taken = Customer::restore(CustomerRecord { account_number: a.account_number().clone(), ..copy.into_record() });
    match store.insert_customer(&taken, &[]).await {
        Err(StoreError::Conflict(Conflict::Duplicate { field, value })) => {
            assert_eq!((field.as_str(), value.as_str()), ("account_number", a.account_number().as_str()));
        }
        other => panic!("expected a duplicate account number, got {other:?}"),
    }
    duplicate(store.insert_customer(&a, &[]).await, "id");
    let renamed = Customer::restore(CustomerRecord {
        account_number: AccountNumber::parse(a.account_number().as_str()).unwrap(),
        version: b.version() + 1,
        ..b.clone().into_record()
    });
    duplicate(store.update_customer(&renamed, b.version(), &[]).await, "account_number");
    let case = w.case(&a).await;
    let mut same_number = w.build_case(&a).await;
    same_number.number = case.number;
    duplicate(store.insert_case(&same_number, &[], &[]).await, "number");
    let history = w.creation_history(&case);
    duplicate(store.insert_case(&case, &history, &[]).await, "id");
    assert_eq!(store.case_history(tenant, case.id).await.unwrap().len(), history.len(), "history untouched");
    let agent = Agent { id: w.id(), ..w.t.agent.clone() };
    duplicate(store.put_agent(&agent, None, &[]).await, "email");
    let group = Group { id: w.id(), ..w.t.group.clone() };
    duplicate(store.put_group(&group, None, &[]).await, "name");

    // References.
    let ghost = w.build_customer("Ghost", vec![]).await;
    invalid(store.insert_case(&w.build_case(&ghost).await, &[], &[]).await, "customer");
    // With its history and event: none of them is written either.
    let outbox_before = store.list_outbox(tenant, None, &PageRequest { limit: 500, after: None }).await.unwrap();
    let orphan = w.build_case(&ghost).await;
    let created = w.event(EventKind::CaseCreated {
        case: orphan.id,
        number: orphan.number,
        customer: orphan.customer(),
        assignee: None,
    });
    invalid(store.insert_case(&orphan, &w.creation_history(&orphan), &[created]).await, "customer");
    assert!(store.case_history(tenant, orphan.id).await.unwrap().is_empty());
    let outbox_after = store.list_outbox(tenant, None, &PageRequest { limit: 500, after: None }).await.unwrap();
    assert_eq!(outbox_after.items.len(), outbox_before.items.len(), "no event of a refused case");
    // A customer of another tenant is as missing as one that never existed.
    let other =
        crm_testkit::fixtures::SeededTenant::create(store, &crm_core::time::UuidV7Generator, w.now).await.unwrap();
    let mut foreign = w.build_case(&a).await;
    foreign.tenant = other.tenant.id;
    let foreign_history = w.creation_history(&foreign);
    invalid(store.insert_case(&foreign, &foreign_history, &[]).await, "customer");
    assert!(store.case_history(other.tenant.id, foreign.id).await.unwrap().is_empty());
    let task = NewTask {
        kind: TaskKind::Call,
        subject: "Call back".into(),
        notes: String::new(),
        customer: a.id,
        case: Some(w.build_case(&a).await.id),
        assignee: None,
        scheduled: ScheduleInput { at: "2026-11-24T10:00:00+01:00".into(), time_zone: None },
        duration_minutes: None,
        reminder_minutes: None,
    }
    .build(w.id(), tenant, w.t.agent.id, chrono_tz::Europe::Paris, w.now)
    .unwrap();
    invalid(store.insert_task(&task, &[]).await, "case");
    let relation = crm_core::customer::Relation {
        id: w.id(),
        tenant,
        from: a.id,
        to: ghost.id,
        kind: crm_core::customer::RelationKind::Other,
        note: None,
    };
    invalid(store.insert_relation(&relation, &[]).await, "to");
    let a_now = store.get_customer(tenant, a.id).await.unwrap().unwrap();
    let event = w.event(EventKind::CustomerDeleted { customer: a.id });
    invalid(store.delete_customer(tenant, a.id, a_now.version(), &[event]).await, "customer");
    // A case moved to a missing customer trips the foreign key itself.
    let mut moved = case.clone();
    moved.move_to_customer(ghost.id);
    invalid(store.update_case(&moved, case.version(), &[], &[]).await, "customer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_errors_name_their_fields() {
    errors_name_their_fields(&store(Backend::SqliteFile).await).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_errors_name_their_fields() {
    errors_name_their_fields(&store(Backend::Postgres).await).await;
}
