//! [`AttachmentStore`]: the metadata of attachments (CAS-6). The bytes are in the
//! [`BlobStore`](super::BlobStore); several attachments (of any tenant) may share one blob,
//! so deleting an attachment tells whether its blob is still used.

use async_trait::async_trait;

use super::blob::BlobKey;
use super::store::StoreResult;
use crate::attachment::Attachment;
use crate::ids::{AttachmentId, CaseId, TenantId};

/// The metadata of attachments.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Stores a new attachment.
    ///
    /// # Errors
    /// `Conflict::Duplicate { field: "id" }` when the id is taken; `InvalidReference { field:
    /// "case" }` when its tenant has no such case.
    async fn insert_attachment(&self, attachment: &Attachment) -> StoreResult<()>;

    /// The attachment `id` of `tenant`, if it exists there.
    ///
    /// # Errors
    /// Backend failures only.
    async fn attachment(&self, tenant: TenantId, id: AttachmentId) -> StoreResult<Option<Attachment>>;

    /// Every attachment of the case `case` of `tenant` (on the case and on its follow-ups),
    /// oldest first (by upload time, then id); another tenant's are never listed.
    ///
    /// # Errors
    /// Backend failures only.
    async fn attachments_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<Attachment>>;

    /// Deletes the attachment `id` of `tenant` and answers whether another attachment (of
    /// any tenant) still uses its blob, read in the same transaction as the delete.
    ///
    /// # Errors
    /// `NotFound` when `tenant` has no such attachment.
    async fn delete_attachment(&self, tenant: TenantId, id: AttachmentId) -> StoreResult<bool>;

    /// Whether any attachment (of any tenant) uses the blob `key`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn blob_in_use(&self, key: &BlobKey) -> StoreResult<bool>;
}
