//! Round trips on every backend: a customer found by phone and email, a case listed as
//! open, history and outbox written with the writes.

use crm_core::access::PrivateScope;
use crm_core::customer::{IdentityKey, PhoneNumber};
use crm_core::page::PageRequest;
use crm_core::ports::Store;

use crate::helpers::{Backend, store};
use crate::world::{World, email, phone};

async fn round_trip(store: &dyn Store) {
    let w = World::new(store).await;
    let tenant = w.t.tenant.id;
    let c = w.customer("Jeanne Dupont", vec![phone("01 23 45 67 89"), email("Jeanne@Example.com")]).await;
    assert_eq!(store.get_customer(tenant, c.id).await.unwrap(), Some(c.clone()));
    let key = IdentityKey::phone(&PhoneNumber::parse("+33123456789", None).unwrap());
    assert_eq!(store.find_by_identity(tenant, &key, 5).await.unwrap(), vec![c.clone()]);
    let key = IdentityKey::from_stored("email:jeanne@example.com".into());
    assert_eq!(store.find_by_identity(tenant, &key, 5).await.unwrap(), vec![c.clone()]);
    let case = w.case(&c).await;
    assert_eq!(store.open_cases_of(tenant, c.id, &PrivateScope::All, 20).await.unwrap(), vec![case.clone()]);
    assert_eq!(store.get_case_by_number(tenant, case.number).await.unwrap(), Some(case.clone()));
    assert_eq!(store.case_history(tenant, case.id).await.unwrap(), w.creation_history(&case));
    let outbox = store.list_outbox(tenant, None, &PageRequest::first()).await.unwrap();
    assert_eq!(outbox.items.len(), 2, "customer and case events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_round_trip() {
    round_trip(&store(Backend::SqliteFile).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_round_trip() {
    round_trip(&store(Backend::SqliteMemory).await).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_round_trip() {
    round_trip(&store(Backend::Postgres).await).await;
}

#[cfg(not(crm_pg))]
#[test]
fn postgres_tests_did_not_run() {
    // Fails under CI, prints a clear note otherwise.
    assert!(crate::helpers::postgres_url().is_none(), "CRM_TEST_POSTGRES_URL was set after this test binary was built");
}

#[cfg(feature = "bench")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_screen_pop_matches_the_port_lookup() {
    let s = store(Backend::SqliteFile).await;
    let w = World::new(&s).await;
    let c = w.customer("Jean Martin", vec![phone("+33 6 12 34 56 78")]).await;
    let case = w.case(&c).await;
    let key = IdentityKey::phone(&PhoneNumber::parse("+33612345678", None).unwrap());
    let (customer, cases) = s.raw_screen_pop(w.t.tenant.id, &key, 20).await.unwrap().expect("a hit");
    assert_eq!(customer, c);
    assert_eq!(cases, vec![case]);
}

#[tokio::test]
async fn unsupported_urls_are_backend_errors_and_unreachable_servers_are_unavailable() {
    use crm_core::StoreError;
    use crm_store_sql::{SqlStore, SqlStoreOptions};
    let err = SqlStore::connect("mysql://root@127.0.0.1/crm", SqlStoreOptions::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    let options = SqlStoreOptions { acquire_timeout: std::time::Duration::from_secs(2), ..SqlStoreOptions::default() };
    let err = SqlStore::connect("postgres://postgres@127.0.0.1:1/crm", options).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
