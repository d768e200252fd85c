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
        vec![Box::new(InitialSchema), Box::new(OutboxPendingInClaimOrder)]
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

/// `m0002`: the pending outbox entries indexed in the order they are claimed (`at, id`), so
/// a claim reads the first due entries in order and stops at its limit. The first index
/// (`topic, next_attempt_at, at`) made PostgreSQL collect every due entry, then sort: with
/// the dead index entries of delivered rows not yet vacuumed, a claim visited ~100,000 of
/// them (22 ms) to find 40; an ordered index scan also marks dead entries as it passes.
struct OutboxPendingInClaimOrder;

impl MigrationName for OutboxPendingInClaimOrder {
    fn name(&self) -> &str {
        "m0002_outbox_pending_in_claim_order"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxPendingInClaimOrder {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX outbox_pending").await?;
        conn.execute_unprepared("CREATE INDEX outbox_pending ON outbox (topic, at, id) WHERE status = 'pending'")
            .await?;
        Ok(())
    }
}
