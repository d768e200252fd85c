//! `m0021`: the outbox read as the change feed of every tenant in the order (time, id), by
//! each replica's search indexer (`OutboxStore::events_after`): one index on `(at, id)`,
//! so a round reads its next events in order and stops at its batch.

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

/// The migration.
pub(super) struct OutboxFeed;

impl MigrationName for OutboxFeed {
    fn name(&self) -> &str {
        "m0021_outbox_feed"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxFeed {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("CREATE INDEX outbox_feed ON outbox (at, id)").await?;
        Ok(())
    }
}
