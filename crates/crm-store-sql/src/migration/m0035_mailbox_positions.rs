//! `m0035`: the poll positions of mailboxes (CAS-8, EML-1; ADR 0039): per tenant and
//! account (`user@host/mailbox`), the UIDVALIDITY and the highest UID handled, with when
//! they were saved. One row per polled mailbox, read and written once per message.

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// The migration.
pub(super) struct MailboxPositions;

impl MigrationName for MailboxPositions {
    fn name(&self) -> &str {
        "m0035_mailbox_positions"
    }
}

/// The DDL of `m0035`, both backends.
const MAILBOX_POSITIONS: &str = "
CREATE TABLE mailbox_positions (
    tenant_id {uuid} NOT NULL,
    account {text} NOT NULL,
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT mailbox_positions_pkey PRIMARY KEY (tenant_id, account)
){without_rowid}";

#[async_trait::async_trait]
impl MigrationTrait for MailboxPositions {
    /// In one transaction on every backend.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(MAILBOX_POSITIONS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
