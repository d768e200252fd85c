//! Migrations run from an empty database on both backends, and running them again is a
//! no-op (forward only, recorded in `seaql_migrations`).

use crm_store_sql::{Migrator, SqlStore, SqlStoreOptions};
use sea_orm_migration::MigratorTrait;

async fn migrations_apply_once_from_empty(url: &str) {
    let store = SqlStore::connect(url, SqlStoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let db = sea_orm::Database::connect(url).await.unwrap();
    let applied = Migrator::get_applied_migrations(&db).await.unwrap();
    assert_eq!(applied.len(), Migrator::migrations().len());
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_migrations_apply_once_from_an_empty_file() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("crm-migrate-{}.db", uuid::Uuid::now_v7().simple()));
    migrations_apply_once_from_empty(&format!("sqlite://{}?mode=rwc", path.display())).await;
}

#[cfg(crm_pg)]
#[tokio::test]
async fn postgres_migrations_apply_once_from_an_empty_schema() {
    use sea_orm::ConnectionTrait;
    // A fresh database of its own, so the migration starts from nothing.
    let base = crate::helpers::postgres_url().unwrap();
    let name = format!(
        "crm_test_{}_m{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    );
    let admin = sea_orm::Database::connect(&base).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    let url = crate::helpers::with_database(&base, &name);
    migrations_apply_once_from_empty(&url).await;
    admin.execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await.unwrap();
}
