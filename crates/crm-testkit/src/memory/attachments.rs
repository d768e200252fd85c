//! [`AttachmentStore`] for [`MemoryStore`]: the metadata of attachments (CAS-6).

use async_trait::async_trait;
use crm_core::attachment::Attachment;
use crm_core::error::StoreError;
use crm_core::ids::{AttachmentId, CaseId, TenantId};
use crm_core::ports::{AttachmentStore, BlobKey, StoreResult};

use super::MemoryStore;

#[async_trait]
impl AttachmentStore for MemoryStore {
    async fn insert_attachment(&self, attachment: &Attachment) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.attachments.contains_key(&attachment.id) {
            return Err(StoreError::duplicate("id", attachment.id.to_string()));
        }
        if state.cases.get(&attachment.case).is_none_or(|c| c.tenant != attachment.tenant) {
            return Err(StoreError::InvalidReference {
                field: "case".into(),
                reason: format!("case {} does not exist", attachment.case),
            });
        }
        state.attachments.insert(attachment.id, attachment.clone());
        Ok(())
    }

    async fn attachment(&self, tenant: TenantId, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        Ok(self.read()?.attachments.get(&id).filter(|a| a.tenant == tenant).cloned())
    }

    async fn attachments_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<Attachment>> {
        let mut list: Vec<Attachment> =
            self.read()?.attachments.values().filter(|a| a.tenant == tenant && a.case == case).cloned().collect();
        list.sort_by_key(|a| (a.uploaded_at, a.id));
        Ok(list)
    }

    async fn delete_attachment(&self, tenant: TenantId, id: AttachmentId) -> StoreResult<bool> {
        let mut state = self.write()?;
        let Some(gone) = state.attachments.get(&id).filter(|a| a.tenant == tenant).cloned() else {
            return Err(StoreError::not_found("attachment", id));
        };
        state.attachments.remove(&id);
        Ok(state.attachments.values().any(|a| uses(a, &gone.sha256)))
    }

    async fn blob_in_use(&self, key: &BlobKey) -> StoreResult<bool> {
        Ok(self.read()?.attachments.values().any(|a| uses(a, key)))
    }
}

/// Whether `a` uses the blob `key`, as its bytes or as its kept original.
fn uses(a: &Attachment, key: &BlobKey) -> bool {
    &a.sha256 == key || a.original.as_ref().is_some_and(|o| &o.sha256 == key)
}
