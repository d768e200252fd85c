//! `MailboxStore` (CAS-8): the poll positions of mailboxes (`mailbox_positions`, migration
//! `m0035`). The save is one statement: an upsert whose update applies only under a new
//! UIDVALIDITY or to a higher UID, so two pollers of one mailbox never move it back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crm_core::ids::TenantId;
use crm_core::ports::{MailboxPosition, MailboxStore, StoreResult};

use crate::connect::SqlStore;
use crate::error::db;
use crate::sql::{col, exec, int, one, text, ts, uid};

#[async_trait]
impl MailboxStore for SqlStore {
    async fn mailbox_position(&self, tenant: TenantId, account: &str) -> StoreResult<Option<MailboxPosition>> {
        let row = one(
            &self.read,
            "SELECT uid_validity, last_uid FROM mailbox_positions WHERE tenant_id = ? AND account = ?",
            vec![uid(tenant), text(account)],
        )
        .await
        .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let number = |name: &str| -> StoreResult<u32> {
            let v: i64 = col(&row, name)?;
            Ok(u32::try_from(v).unwrap_or(u32::MAX))
        };
        Ok(Some(MailboxPosition { uid_validity: number("uid_validity")?, last_uid: number("last_uid")? }))
    }

    async fn save_mailbox_position(
        &self,
        tenant: TenantId,
        account: &str,
        position: MailboxPosition,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO mailbox_positions (tenant_id, account, uid_validity, last_uid, updated_at) \
                   VALUES (?, ?, ?, ?, ?) \
                   ON CONFLICT (tenant_id, account) DO UPDATE SET uid_validity = excluded.uid_validity, \
                   last_uid = excluded.last_uid, updated_at = excluded.updated_at \
                   WHERE mailbox_positions.uid_validity <> excluded.uid_validity \
                   OR mailbox_positions.last_uid < excluded.last_uid";
        let values = vec![
            uid(tenant),
            text(account),
            int(u64::from(position.uid_validity)),
            int(u64::from(position.last_uid)),
            sea_orm::Value::BigInt(Some(ts(at))),
        ];
        exec(&self.write, sql, values).await.map_err(db)?;
        Ok(())
    }
}
