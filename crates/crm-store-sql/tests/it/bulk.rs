//! `SqlStore::bulk_seed` writes everything or nothing, on every backend (SQLite files load
//! through their own connection, the others through the pool), and on a SQLite file the
//! store's other writers wait for the load instead of failing.

use std::fmt::Debug;

use crm_core::StoreError;
use crm_core::case::Case;
use crm_core::customer::{Customer, CustomerQuery, CustomerRecord};
use crm_core::page::PageRequest;
use crm_core::ports::{CaseStore, CustomerStore};
use crm_store_sql::SqlStore;

use crate::helpers::{Backend, store};
use crate::world::{World, phone};

/// More customers than one slice of the load (800), so it spans several.
const CUSTOMERS: usize = 1_000;

async fn records(w: &World<'_>) -> (Vec<Customer>, Vec<Case>) {
    let mut customers = Vec::with_capacity(CUSTOMERS);
    let mut cases = Vec::with_capacity(CUSTOMERS);
    for i in 0..CUSTOMERS {
        let c = w.build_customer(&format!("Bulk Customer {i}"), vec![phone(&format!("+33 6 12{i:06}"))]).await;
        cases.push(w.build_case(&c).await);
        customers.push(c);
    }
    (customers, cases)
}

async fn nothing_written(store: &SqlStore, customers: &[Customer], cases: &[Case]) {
    let tenant = customers[0].tenant;
    for c in [&customers[0], &customers[CUSTOMERS - 1]] {
        assert_eq!(store.get_customer(tenant, c.id).await.unwrap(), None);
        let key = c.identity_keys().remove(0);
        assert!(store.find_by_identity(tenant, &key, 5).await.unwrap().is_empty(), "no identity row was left");
    }
    assert_eq!(store.get_case(tenant, cases[0].id).await.unwrap(), None);
}

fn refused<T: Debug>(r: Result<T, StoreError>, expected: impl Fn(&StoreError) -> bool) {
    match r {
        Err(e) if expected(&e) => {}
        other => panic!("unexpected answer: {other:?}"),
    }
}

async fn bulk_seed_is_all_or_nothing(backend: Backend) {
    let store = store(backend).await;
    let w = World::new(&store).await;
    let tenant = w.t.tenant.id;
    let (customers, cases) = records(&w).await;

    // The last customer takes the first one's account number: the load fails at its last
    // slice and the earlier slices are gone too.
    let mut clash = customers.clone();
    clash[CUSTOMERS - 1] = Customer::restore(CustomerRecord {
        account_number: customers[0].account_number().clone(),
        ..customers[CUSTOMERS - 1].clone().into_record()
    });
    refused(
        store.bulk_seed(&clash, &cases).await,
        |e| matches!(e, StoreError::Conflict(crm_core::error::Conflict::Duplicate { field, .. }) if field == "account_number"),
    );
    nothing_written(&store, &customers, &cases).await;

    // A case of a customer that is not there.
    let ghost = w.build_customer("Ghost", vec![]).await;
    let mut orphaned = cases.clone();
    orphaned.push(w.build_case(&ghost).await);
    refused(
        store.bulk_seed(&customers, &orphaned).await,
        |e| matches!(e, StoreError::InvalidReference { field, .. } if field == "customer"),
    );
    nothing_written(&store, &customers, &cases).await;

    // The whole load.
    store.bulk_seed(&customers, &cases).await.unwrap();
    for i in [0, CUSTOMERS / 2, CUSTOMERS - 1] {
        let c = &customers[i];
        assert_eq!(store.get_customer(tenant, c.id).await.unwrap().as_ref(), Some(c));
        let key = c.identity_keys().remove(0);
        assert_eq!(store.find_by_identity(tenant, &key, 5).await.unwrap(), vec![c.clone()]);
        let case = &cases[i];
        assert_eq!(store.get_case_by_number(tenant, case.number).await.unwrap().as_ref(), Some(case));
    }
    // A later load's cases may belong to customers loaded before.
    let newcomer = w.build_customer("Bulk Newcomer", vec![]).await;
    let later = vec![w.build_case(&newcomer).await, w.build_case(&customers[0]).await];
    store.bulk_seed(std::slice::from_ref(&newcomer), &later).await.unwrap();
    for case in &later {
        assert_eq!(store.get_case(tenant, case.id).await.unwrap().as_ref(), Some(case));
    }
    // The name index was loaded too.
    let query = CustomerQuery { name: Some("Bulk Customer 999".into()), ..CustomerQuery::default() };
    let search = query.normalise().unwrap();
    let page = store.search_customers(tenant, &search, &PageRequest::first()).await.unwrap();
    assert!(page.items.iter().any(|c| c.id == customers[999].id), "found by name: {page:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_bulk_seed_is_all_or_nothing() {
    bulk_seed_is_all_or_nothing(Backend::SqliteFile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_bulk_seed_is_all_or_nothing() {
    bulk_seed_is_all_or_nothing(Backend::SqliteMemory).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bulk_seed_is_all_or_nothing() {
    bulk_seed_is_all_or_nothing(Backend::Postgres).await;
}

/// A write that arrives during a load on a SQLite file waits for it and goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_writers_wait_for_a_bulk_load() {
    let store = store(Backend::SqliteFile).await;
    let w = World::new(&store).await;
    let (customers, cases) = records(&w).await;
    let late = w.build_customer("Late Writer", vec![phone("+33 1 98 76 54 32")]).await;
    let (loaded, written) = tokio::join!(store.bulk_seed(&customers, &cases), store.insert_customer(&late, &[]));
    loaded.unwrap();
    written.unwrap();
    let tenant = w.t.tenant.id;
    assert_eq!(store.get_customer(tenant, late.id).await.unwrap().as_ref(), Some(&late));
    assert_eq!(store.get_customer(tenant, customers[0].id).await.unwrap().as_ref(), Some(&customers[0]));
}

/// On PostgreSQL, `analyze` after a load also vacuums: the loaded pages become all-visible
/// (index-only lookups skip the table) and get their hint bits.
#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_analyze_also_vacuums() {
    use sea_orm::{ConnectionTrait as _, DbBackend, Statement};

    let store = store(Backend::Postgres).await;
    store.analyze().await.unwrap();
    let db = sea_orm::Database::connect(crate::helpers::postgres_database().await).await.unwrap();
    let sql = "SELECT (last_vacuum IS NOT NULL) AS vacuumed, (last_analyze IS NOT NULL) AS analyzed \
               FROM pg_stat_user_tables WHERE relname = 'customer_identities'";
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap().unwrap();
    assert!(row.try_get::<bool>("", "vacuumed").unwrap(), "VACUUM ran");
    assert!(row.try_get::<bool>("", "analyzed").unwrap(), "ANALYZE ran");
    db.close().await.unwrap();
}
