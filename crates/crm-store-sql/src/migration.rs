//! Forward-only schema migrations (sea-orm-migration). The first migration creates the whole
//! schema from `schema.sql`, written once for both backends: `{uuid}` becomes `UUID` on
//! PostgreSQL and `BLOB` on SQLite, `{text}` a `TEXT COLLATE "C"` on PostgreSQL so text
//! sorts byte-wise as on SQLite (and as Rust's `String` ordering), and `{without_rowid}`
//! makes SQLite store the lookup side tables clustered on their key. Run them with
//! [`crate::SqlStore::migrate`] or standalone with the `crm-store-sql-migrate` binary.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager, async_trait};

/// Every migration of the store, in order.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(InitialSchema)]
    }
}

/// The DDL of a schema file for `backend`, split into statements.
pub(crate) fn statements(ddl: &str, backend: DbBackend) -> Vec<String> {
    let (uuid, text, without_rowid) = match backend {
        DbBackend::Postgres => ("UUID", "TEXT COLLATE \"C\"", ""),
        _ => ("BLOB", "TEXT", " WITHOUT ROWID"),
    };
    ddl.replace("{uuid}", uuid)
        .replace("{text}", text)
        .replace("{without_rowid}", without_rowid)
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `m0001`: every table, constraint and index.
struct InitialSchema;

impl MigrationName for InitialSchema {
    fn name(&self) -> &str {
        "m0001_initial_schema"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InitialSchema {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for sql in statements(include_str!("schema.sql"), conn.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
