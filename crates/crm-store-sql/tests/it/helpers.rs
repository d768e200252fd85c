//! Store factories for every backend, and the PostgreSQL test database.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crm_core::ports::Store;
use crm_store_sql::{SqlStore, SqlStoreOptions};
use sea_orm::ConnectionTrait;
use tokio::sync::OnceCell;

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A SQLite file in a fresh temporary path.
    SqliteFile,
    /// An in-memory SQLite database.
    SqliteMemory,
    /// The PostgreSQL test database.
    Postgres,
}

pub(crate) fn options() -> SqlStoreOptions {
    SqlStoreOptions { max_connections: 4, ..SqlStoreOptions::default() }
}

fn unique_suffix() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The URL of a SQLite file in a fresh temporary path (created on first connect).
pub(crate) fn sqlite_file_url() -> String {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("crm-{}.db", unique_suffix()));
    format!("sqlite://{}?mode=rwc", path.display())
}

/// A fresh, migrated store on `backend` (PostgreSQL: a new pool on this process's database).
pub(crate) async fn store(backend: Backend) -> SqlStore {
    let url = match backend {
        Backend::SqliteFile => sqlite_file_url(),
        Backend::SqliteMemory => "sqlite::memory:".to_owned(),
        Backend::Postgres => postgres_database().await.to_owned(),
    };
    let store = SqlStore::connect(&url, options()).await.expect("connect the test store");
    if backend != Backend::Postgres {
        store.migrate().await.expect("migrate the test store");
    }
    store
}

/// A store factory for the conformance suite.
pub(crate) async fn dyn_store(backend: Backend) -> Arc<dyn Store> {
    Arc::new(store(backend).await)
}

/// The PostgreSQL server URL, when set. Panics under `CI` when it is not.
pub(crate) fn postgres_url() -> Option<String> {
    match std::env::var("CRM_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CRM_TEST_POSTGRES_URL is not set but CI is: the PostgreSQL store tests must run in CI")
        }
        _ => {
            eprintln!("NOTE: CRM_TEST_POSTGRES_URL is not set: the PostgreSQL store tests did NOT run");
            None
        }
    }
}

/// `url` with its database name replaced.
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let server = match base.rsplit_once('/') {
        Some((server, _)) if server.contains("://") && !server.ends_with('/') => server,
        _ => base.trim_end_matches('/'),
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// This process's PostgreSQL test database, created and migrated on first use. Databases
/// of runs older than 15 minutes are dropped first.
pub(crate) async fn postgres_database() -> &'static str {
    static DATABASE: OnceCell<String> = OnceCell::const_new();
    DATABASE
        .get_or_init(|| async {
            // Runs on whichever test's runtime comes first; everything it opens is closed
            // before returning, so later runtimes only ever see the URL.
            let url = postgres_url().expect("CRM_TEST_POSTGRES_URL");
            let admin = sea_orm::Database::connect(&url).await.expect("connect to the PostgreSQL test server");
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
            let rows = admin
                .query_all_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT datname FROM pg_database WHERE datname LIKE 'crm_test_%'",
                ))
                .await
                .expect("list test databases");
            for row in rows {
                let name: String = row.try_get("", "datname").expect("datname");
                let created = name.split('_').nth(2).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
                if created + 900 < now {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                }
            }
            let name = format!("crm_test_{now}_{}", &unique_suffix()[20..]);
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create the test database");
            admin.close().await.expect("close the admin connection");
            let db_url = with_database(&url, &name);
            let store = SqlStore::connect(&db_url, options()).await.expect("connect the test database");
            store.migrate().await.expect("migrate the test database");
            store.close().await.expect("close the migration pool");
            db_url
        })
        .await
}

#[test]
fn database_names_replace_the_path_of_the_url() {
    assert_eq!(with_database("postgres://postgres@127.0.0.1:5432/test", "x"), "postgres://postgres@127.0.0.1:5432/x");
    assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
}
