//! The audit chain against someone with write access to the database (ADM-4): a row
//! changed, a row removed, or a row changed with its hash recomputed, by direct SQL, and
//! `Crm::verify_audit` names the first entry that does not verify.

use std::sync::Arc;

use crm_core::ports::Store;
use crm_core::service::Crm;
use crm_core::time::{SystemClock, UuidV7Generator};
use crm_store_sql::SqlStore;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::helpers::{Backend, options, postgres_database, sqlite_file_url};
use crate::world::World;

/// A fresh store on `backend` and a raw connection to the same database.
async fn store_and_raw(backend: Backend) -> (Arc<SqlStore>, sea_orm::DatabaseConnection) {
    let url = match backend {
        Backend::Postgres => postgres_database().await.to_owned(),
        _ => sqlite_file_url(),
    };
    let store = SqlStore::connect(&url, options()).await.unwrap();
    if backend != Backend::Postgres {
        store.migrate().await.unwrap();
    }
    (Arc::new(store), sea_orm::Database::connect(&url).await.unwrap())
}

/// Runs `sql` (with `?` marks) on the raw connection.
async fn raw(db: &sea_orm::DatabaseConnection, sql: &str, values: Vec<Value>) {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        let mut n = 0;
        sql.chars()
            .map(|c| {
                if c == '?' {
                    n += 1;
                    format!("${n}")
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        sql.to_owned()
    };
    db.execute_raw(Statement::from_sql_and_values(backend, &sql, values)).await.unwrap();
}

async fn tampering_is_named(backend: Backend) {
    let (store, db) = store_and_raw(backend).await;
    let crm = Crm::new(store.clone() as Arc<dyn Store>, Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let w = World::new(&*store).await;
    let tenant = w.t.tenant.id;
    for name in ["One", "Two", "Three", "Four"] {
        let c = w.customer(name, vec![]).await;
        w.case(&c).await;
    }
    let report = crm.verify_audit(tenant, &mut |_| {}).await.unwrap();
    assert_eq!((report.checked, report.broken), (8, None));
    let t = Value::Uuid(Some(tenant.as_uuid()));

    // A column changed.
    raw(&db, "UPDATE audit_log SET action = 'customer_deleted' WHERE tenant_id = ? AND seq = 3", vec![t.clone()]).await;
    let broken = crm.verify_audit(tenant, &mut |_| {}).await.unwrap().broken.expect("a break");
    assert_eq!(broken.seq, 3);
    assert!(broken.id.is_some() && broken.reason.contains("does not match its hash"), "{broken}");
    raw(&db, "UPDATE audit_log SET action = 'customer_created' WHERE tenant_id = ? AND seq = 3", vec![t.clone()]).await;
    assert_eq!(crm.verify_audit(tenant, &mut |_| {}).await.unwrap().broken, None);

    // The document changed and its hash replaced.
    raw(
        &db,
        "UPDATE audit_log SET doc = REPLACE(doc, '\"rule\"', '\"api\"'), hash = ? WHERE tenant_id = ? AND seq = 5",
        vec![Value::String(Some("f".repeat(64))), t.clone()],
    )
    .await;
    let broken = crm.verify_audit(tenant, &mut |_| {}).await.unwrap().broken.expect("a break");
    assert_eq!(broken.seq, 5, "{broken}");

    // A row removed (on a second tenant, whose chain is its own).
    let w2 = World::new(&*store).await;
    let c = w2.customer("Other", vec![]).await;
    w2.case(&c).await;
    w2.customer("Third", vec![]).await;
    let t2 = Value::Uuid(Some(w2.t.tenant.id.as_uuid()));
    assert_eq!(crm.verify_audit(w2.t.tenant.id, &mut |_| {}).await.unwrap().checked, 3);
    raw(&db, "DELETE FROM audit_log WHERE tenant_id = ? AND seq = 2", vec![t2.clone()]).await;
    let broken = crm.verify_audit(w2.t.tenant.id, &mut |_| {}).await.unwrap().broken.expect("a break");
    assert_eq!((broken.seq, broken.id), (2, None));
    assert!(broken.reason.contains("missing"), "{broken}");

    // The last row removed: the head still names it.
    raw(&db, "DELETE FROM audit_log WHERE tenant_id = ? AND seq = 3", vec![t2]).await;
    let broken = crm.verify_audit(w2.t.tenant.id, &mut |_| {}).await.unwrap().broken.expect("a break");
    assert_eq!(broken.seq, 2);
}

#[test]
fn sqlite_tampering_with_the_audit_log_is_named() {
    crm_testkit::conformance::block_on(tampering_is_named(Backend::SqliteFile));
}

#[cfg(crm_pg)]
#[test]
fn postgres_tampering_with_the_audit_log_is_named() {
    crm_testkit::conformance::block_on(tampering_is_named(Backend::Postgres));
}
