//! `m0036`: the originals of downscaled images (CAS-6): an attachment whose image was
//! downscaled, when the tenant keeps originals, names the original's blob in
//! `original_sha256`, so that blob counts as used (`attachments_by_original`, partial:
//! most attachments have none).

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// The migration.
pub(super) struct AttachmentOriginals;

impl MigrationName for AttachmentOriginals {
    fn name(&self) -> &str {
        "m0036_attachment_originals"
    }
}

/// The DDL of `m0036`, both backends.
const ATTACHMENT_ORIGINALS: &str = "
ALTER TABLE attachments ADD COLUMN original_sha256 {text};
CREATE INDEX attachments_by_original ON attachments (original_sha256) WHERE original_sha256 IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for AttachmentOriginals {
    /// In one transaction on every backend.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(ATTACHMENT_ORIGINALS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
