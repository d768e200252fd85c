//! [`MailboxStore`] for [`MemoryStore`]: the poll positions of mailboxes (CAS-8).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::ids::TenantId;
use crm_core::ports::{MailboxPosition, MailboxStore, StoreResult};

use super::MemoryStore;

#[async_trait]
impl MailboxStore for MemoryStore {
    async fn mailbox_position(&self, tenant: TenantId, account: &str) -> StoreResult<Option<MailboxPosition>> {
        Ok(self.read()?.mailboxes.get(&(tenant, account.to_owned())).copied())
    }

    async fn save_mailbox_position(
        &self,
        tenant: TenantId,
        account: &str,
        position: MailboxPosition,
        _at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let slot = state.mailboxes.entry((tenant, account.to_owned())).or_insert(position);
        if slot.uid_validity != position.uid_validity || slot.last_uid < position.last_uid {
            *slot = position;
        }
        Ok(())
    }
}
