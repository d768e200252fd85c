//! Attachments (CAS-6): upload (streamed to the blob store, counted and sniffed on the
//! way), list, download and delete, with the case's visibility and the permissions decided
//! here.

use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;

use super::Crm;
use crate::access::{Actor, Permission};
use crate::attachment::{
    Attachment, AttachmentLimits, AttachmentOrigin, AttachmentScope, AttachmentSort, OriginalImage, SNIFF_PREFIX,
    Sniffed, sanitize_filename, sniff,
};
use crate::error::{Error, Result, StoreError};
use crate::ids::{AttachmentId, CaseId, FollowUpId};
use crate::ports::{BlobError, BlobKey, BlobStore, BlobStream, ByteStream, ImageShrinker, StoredBlob};
use crate::time::next_id;

/// What a caller sends with the bytes of an upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttachment {
    /// The file name as the client gave it (cleaned before it is stored).
    pub filename: String,
    /// How it arrived.
    pub origin: AttachmentOrigin,
    /// The follow-up of the case to attach it to (none: the case itself).
    pub follow_up: Option<FollowUpId>,
}

/// What the upload's stream showed on its way to the blob store.
#[derive(Debug, Default)]
struct Probe {
    prefix: Vec<u8>,
    size: u64,
    over: bool,
}

/// The upload refused for passing its limit (the blob store sees this error and stops).
#[derive(Debug, thiserror::Error)]
#[error("the upload passed its limit of {0} bytes")]
struct OverLimit(u64);

impl From<BlobError> for Error {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound(key) => Error::not_found("attachment content", key),
            BlobError::Source(e) => Error::invalid("file", format!("the upload was interrupted: {e}")),
            BlobError::Unavailable(e) => Error::Store(StoreError::Unavailable(e)),
            BlobError::Backend(e) => Error::Store(StoreError::Backend(e)),
        }
    }
}

impl Crm {
    /// The same use cases keeping attachments' bytes in `blobs`.
    #[must_use]
    pub fn with_blob_store(&self, blobs: Arc<dyn BlobStore>) -> Self {
        Self { blobs: Some(blobs), ..self.clone() }
    }

    /// The same use cases downscaling large images with `images` (as the limits say).
    #[must_use]
    pub fn with_image_shrinker(&self, images: Arc<dyn ImageShrinker>) -> Self {
        Self { images: Some(images), ..self.clone() }
    }

    /// The same use cases holding uploads to `limits`.
    #[must_use]
    pub fn with_attachment_limits(&self, limits: AttachmentLimits) -> Self {
        Self { attachment_limits: limits, ..self.clone() }
    }

    /// The limits uploads are held to.
    pub fn attachment_limits(&self) -> AttachmentLimits {
        self.attachment_limits
    }

    fn blobs(&self) -> Result<&Arc<dyn BlobStore>> {
        self.blobs
            .as_ref()
            .ok_or_else(|| Error::Store(StoreError::Unavailable("no blob store is configured for attachments".into())))
    }

    /// Checks that the actor may attach to `case` (and to its follow-up), before any byte
    /// is read: the transport calls it before it starts streaming, [`Crm::upload_attachment`]
    /// calls it again.
    ///
    /// # Errors
    /// `Forbidden` without `case.edit`; `NotFound` for a case the actor cannot see or a
    /// follow-up not of that case.
    pub async fn check_attachment_target(
        &self,
        actor: &Actor,
        case: CaseId,
        follow_up: Option<FollowUpId>,
    ) -> Result<()> {
        actor.require(Permission::CaseEdit)?;
        self.get_case(actor, case).await?;
        if let Some(f) = follow_up {
            self.ensure_follow_up_of(actor, case, f).await?;
        }
        Ok(())
    }

    /// Uploads an attachment: `data` streams to the blob store, counted (past the limit of
    /// its origin the upload stops) and its first bytes kept to sniff its media type; then
    /// the bytes are checked (a pasted upload must be an image; no image may declare too
    /// many pixels) and the metadata stored. A refused upload's blob is deleted unless
    /// another attachment uses the same bytes.
    ///
    /// # Errors
    /// As [`Crm::check_attachment_target`]; a validation error on `filename` or `file`;
    /// `TooLarge` on `file`; storage failures.
    pub async fn upload_attachment(
        &self,
        actor: &Actor,
        case: CaseId,
        input: NewAttachment,
        data: ByteStream<'_>,
    ) -> Result<Attachment> {
        self.check_attachment_target(actor, case, input.follow_up).await?;
        let filename = sanitize_filename(&input.filename).map_err(|reason| Error::invalid("filename", reason))?;
        let blobs = self.blobs()?;
        let limit = self.attachment_limits.max_for(input.origin);
        let probe = Arc::new(Mutex::new(Probe::default()));
        let seen = Arc::clone(&probe);
        let counted = data.map(move |chunk| {
            let chunk = chunk?;
            let mut p = seen.lock().unwrap_or_else(PoisonError::into_inner);
            p.size += chunk.len() as u64;
            if p.size > limit {
                p.over = true;
                return Err(BlobError::Source(Box::new(OverLimit(limit))));
            }
            let room = SNIFF_PREFIX.saturating_sub(p.prefix.len()).min(chunk.len());
            p.prefix.extend_from_slice(&chunk[..room]);
            Ok(chunk)
        });
        let stored = blobs.put(counted.boxed()).await;
        let (prefix, over) = {
            let mut p = probe.lock().unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut p.prefix), p.over)
        };
        let stored = match stored {
            Ok(stored) => stored,
            Err(_) if over => return Err(self.attachment_limits.too_large(input.origin)),
            Err(e) => return Err(e.into()),
        };
        let sniffed = sniff(&prefix);
        if let Err(e) = self.attachment_limits.check_content(input.origin, &sniffed, stored.size) {
            self.release_blob(&stored.key).await;
            return Err(e);
        }
        let (stored, content_type, original) = self.downscaled(stored, sniffed).await?;
        let attachment = Attachment {
            id: next_id(&*self.ids),
            tenant: actor.tenant,
            case,
            follow_up: input.follow_up,
            filename,
            content_type,
            size: stored.size,
            sha256: stored.key,
            origin: input.origin,
            uploaded_by: actor.agent,
            uploaded_at: self.clock.now(),
            original,
        };
        if let Err(e) = self.store.insert_attachment(&attachment).await {
            self.release_blob(&attachment.sha256).await;
            if let Some(original) = &attachment.original {
                self.release_blob(&original.sha256).await;
            }
            return Err(e.into());
        }
        Ok(attachment)
    }

    /// An uploaded image wider or taller than the limits allow, downscaled and recompressed
    /// into a blob of its own: the blob to attach, its media type, and the original when it
    /// is kept (otherwise its blob is released). Anything else, an image the shrinker
    /// cannot read, or a copy no smaller than the upload, is kept as it came.
    async fn downscaled(
        &self,
        stored: StoredBlob,
        sniffed: Sniffed,
    ) -> Result<(StoredBlob, String, Option<OriginalImage>)> {
        let as_uploaded = |stored, sniffed: Sniffed| Ok((stored, sniffed.content_type, None));
        let (Some(images), Some(max_side), Some((width, height))) =
            (&self.images, self.attachment_limits.downscale_to(sniffed.dimensions), sniffed.dimensions)
        else {
            return as_uploaded(stored, sniffed);
        };
        let blobs = self.blobs()?;
        let mut bytes = Vec::with_capacity(usize::try_from(stored.size).unwrap_or(0));
        let mut stream = blobs.get(&stored.key).await?;
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        let Some(shrunk) = images.shrink(bytes, &sniffed.content_type, max_side).await else {
            return as_uploaded(stored, sniffed);
        };
        if shrunk.bytes.len() as u64 >= stored.size {
            return as_uploaded(stored, sniffed);
        }
        let copy = blobs.put(futures::stream::iter([Ok(bytes::Bytes::from(shrunk.bytes))]).boxed()).await?;
        let original = OriginalImage {
            sha256: stored.key.clone(),
            content_type: sniffed.content_type,
            size: stored.size,
            width,
            height,
        };
        if self.attachment_limits.keep_original_images {
            Ok((copy, shrunk.content_type, Some(original)))
        } else {
            self.release_blob(&stored.key).await;
            Ok((copy, shrunk.content_type, None))
        }
    }

    /// The original of a downscaled image attachment (when the tenant keeps originals).
    ///
    /// # Errors
    /// As [`Crm::attachment`]; `NotFound` (`attachment original`) when none was kept.
    pub async fn attachment_original(
        &self,
        actor: &Actor,
        case: CaseId,
        id: AttachmentId,
    ) -> Result<(Attachment, OriginalImage, BlobStream)> {
        let attachment = self.attachment(actor, case, id).await?;
        let original = attachment.original.clone().ok_or_else(|| Error::not_found("attachment original", id))?;
        let bytes = self.blobs()?.get(&original.sha256).await?;
        Ok((attachment, original, bytes))
    }

    /// `NotFound` unless `f` is a follow-up of `case`.
    async fn ensure_follow_up_of(&self, actor: &Actor, case: CaseId, f: FollowUpId) -> Result<()> {
        if self.store.follow_ups_of(actor.tenant, case).await?.iter().any(|x| x.id == f) {
            Ok(())
        } else {
            Err(Error::not_found("follow_up", f))
        }
    }

    /// Deletes the blob `key` unless an attachment uses it (best effort: a blob left behind
    /// costs space, never correctness).
    async fn release_blob(&self, key: &BlobKey) {
        if let (Ok(false), Ok(blobs)) = (self.store.blob_in_use(key).await, self.blobs()) {
            let _ = blobs.delete(key).await;
        }
    }

    /// The attachments of a case the actor can see, in `scope` and `sort` order.
    ///
    /// # Errors
    /// As [`Crm::get_case`](crate::service::Crm::get_case); `NotFound` for a follow-up
    /// scope naming a follow-up not of the case.
    pub async fn attachments(
        &self,
        actor: &Actor,
        case: CaseId,
        scope: AttachmentScope,
        sort: AttachmentSort,
    ) -> Result<Vec<Attachment>> {
        self.get_case(actor, case).await?;
        if let AttachmentScope::FollowUp(f) = scope {
            self.ensure_follow_up_of(actor, case, f).await?;
        }
        let mut list = self.store.attachments_of_case(actor.tenant, case).await?;
        list.retain(|a| scope.matches(a));
        sort.sort(&mut list);
        Ok(list)
    }

    /// One attachment of a case the actor can see.
    ///
    /// # Errors
    /// As [`Crm::get_case`](crate::service::Crm::get_case); `NotFound` when the case has no
    /// such attachment.
    pub async fn attachment(&self, actor: &Actor, case: CaseId, id: AttachmentId) -> Result<Attachment> {
        self.get_case(actor, case).await?;
        match self.store.attachment(actor.tenant, id).await? {
            Some(a) if a.case == case => Ok(a),
            _ => Err(Error::not_found("attachment", id)),
        }
    }

    /// An attachment and its bytes, streamed.
    ///
    /// # Errors
    /// As [`Crm::attachment`]; `NotFound` when its bytes are missing; storage failures.
    pub async fn download_attachment(
        &self,
        actor: &Actor,
        case: CaseId,
        id: AttachmentId,
    ) -> Result<(Attachment, BlobStream)> {
        let attachment = self.attachment(actor, case, id).await?;
        let bytes = self.blobs()?.get(&attachment.sha256).await?;
        Ok((attachment, bytes))
    }

    /// Deletes an attachment: its uploader with `case.edit`, anyone else with `case.delete`
    /// ([`Attachment::check_delete`]); its blob goes too unless another attachment uses it.
    ///
    /// # Errors
    /// As [`Crm::attachment`]; `Forbidden`; storage failures.
    pub async fn delete_attachment(&self, actor: &Actor, case: CaseId, id: AttachmentId) -> Result<()> {
        let attachment = self.attachment(actor, case, id).await?;
        attachment.check_delete(actor)?;
        let still_used = self.store.delete_attachment(actor.tenant, id).await?;
        if !still_used {
            // The metadata is gone; a blob that cannot be deleted now is only space.
            let _ = self.blobs()?.delete(&attachment.sha256).await;
        }
        if let Some(original) = &attachment.original {
            self.release_blob(&original.sha256).await;
        }
        Ok(())
    }
}
