//! Conformance: the metadata of attachments (`AttachmentStore`, CAS-6).

use chrono::Duration;
use crm_core::attachment::{Attachment, AttachmentOrigin};
use crm_core::case::Case;
use crm_core::ids::FollowUpId;
use crm_core::ports::BlobKey;

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found};

/// A blob key of this test's own: its tenant's id, then `n` (tests share databases).
fn key(ctx: &Ctx, n: u8) -> BlobKey {
    let mut digest = [n; 32];
    digest[..16].copy_from_slice(ctx.tenant().as_uuid().as_bytes());
    BlobKey::from_digest(&digest)
}

/// An attachment of `case` named `name`, uploaded `minutes` after `now`, with the blob
/// `sha256`.
fn attachment(
    ctx: &Ctx,
    case: &Case,
    follow_up: Option<FollowUpId>,
    name: &str,
    minutes: i64,
    sha256: BlobKey,
) -> Attachment {
    Attachment {
        id: ctx.id(),
        tenant: ctx.tenant(),
        case: case.id,
        follow_up,
        filename: name.into(),
        content_type: "application/pdf".into(),
        size: 1234,
        sha256,
        origin: AttachmentOrigin::File,
        uploaded_by: ctx.t.agent.id,
        uploaded_at: ctx.now + Duration::minutes(minutes),
        original: None,
    }
}

/// Attachments round-trip, a case's are listed oldest first in its tenant only, a
/// duplicate id or a missing case is refused, and a delete tells whether the blob is still
/// used (by any tenant).
pub async fn attachments_are_stored_listed_and_deleted_with_their_blob_use(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let customer = ctx.customer("Client", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let other_case = ctx.case(&customer, |_| {}).await;
    let later = attachment(&ctx, &case, Some(ctx.id()), "b.pdf", 5, key(&ctx, 1));
    let first = attachment(&ctx, &case, None, "a.pdf", 1, key(&ctx, 1));
    let elsewhere = attachment(&ctx, &other_case, None, "c.pdf", 2, key(&ctx, 2));
    for a in [&later, &first, &elsewhere] {
        s.insert_attachment(a).await.unwrap();
    }
    assert_eq!(s.attachment(ctx.tenant(), first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(s.attachments_of_case(ctx.tenant(), case.id).await.unwrap(), vec![first.clone(), later.clone()]);

    let sibling = ctx.sibling().await;
    assert_eq!(s.attachment(sibling.tenant(), first.id).await.unwrap(), None, "another tenant's");
    assert!(s.attachments_of_case(sibling.tenant(), case.id).await.unwrap().is_empty());
    assert_not_found(s.delete_attachment(sibling.tenant(), first.id).await);

    assert_duplicate(s.insert_attachment(&first).await, "id");
    let orphan = Attachment { id: ctx.id(), case: ctx.id(), ..first.clone() };
    assert_invalid_reference(s.insert_attachment(&orphan).await, "case");
    let foreign = Attachment { id: ctx.id(), tenant: sibling.tenant(), ..first.clone() };
    assert_invalid_reference(s.insert_attachment(&foreign).await, "case");

    assert!(s.blob_in_use(&first.sha256).await.unwrap());
    assert!(s.delete_attachment(ctx.tenant(), first.id).await.unwrap(), "b.pdf still uses the blob");
    assert_eq!(s.attachment(ctx.tenant(), first.id).await.unwrap(), None);
    assert!(!s.delete_attachment(ctx.tenant(), later.id).await.unwrap(), "nothing uses the blob any more");
    assert!(!s.blob_in_use(&first.sha256).await.unwrap());
    assert_not_found(s.delete_attachment(ctx.tenant(), later.id).await);
    assert_eq!(s.attachments_of_case(ctx.tenant(), other_case.id).await.unwrap(), vec![elsewhere]);
}

/// A blob shared by two tenants stays in use while either keeps its attachment.
pub async fn a_blob_shared_across_tenants_stays_in_use(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let sibling = ctx.sibling().await;
    let s = &ctx.store;
    let mine = ctx.case(&ctx.customer("Client", vec![]).await, |_| {}).await;
    let theirs = sibling.case(&sibling.customer("Client", vec![]).await, |_| {}).await;
    let a = attachment(&ctx, &mine, None, "same.bin", 0, key(&ctx, 3));
    let b = attachment(&sibling, &theirs, None, "same.bin", 0, key(&ctx, 3));
    s.insert_attachment(&a).await.unwrap();
    s.insert_attachment(&b).await.unwrap();
    assert!(s.delete_attachment(ctx.tenant(), a.id).await.unwrap(), "the sibling's uses it");
    assert!(s.blob_in_use(&a.sha256).await.unwrap());
    assert!(!s.delete_attachment(sibling.tenant(), b.id).await.unwrap());
}

/// A downscaled image's kept original round-trips with the attachment, and its blob counts
/// as used (by that attachment, or by another one's bytes) until nothing names it.
pub async fn a_kept_original_keeps_its_blob_in_use(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let customer = ctx.customer("Client", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let original = crm_core::attachment::OriginalImage {
        sha256: key(&ctx, 7),
        content_type: "image/png".into(),
        size: 9_000_000,
        width: 6000,
        height: 4000,
    };
    let photo = Attachment {
        content_type: "image/png".into(),
        original: Some(original.clone()),
        ..attachment(&ctx, &case, None, "photo.png", 1, key(&ctx, 8))
    };
    s.insert_attachment(&photo).await.unwrap();
    assert_eq!(s.attachment(ctx.tenant(), photo.id).await.unwrap(), Some(photo.clone()));
    assert!(s.blob_in_use(&original.sha256).await.unwrap(), "the original's blob is used");
    // The same bytes uploaded as they are elsewhere: still used once the photo is gone.
    let same_bytes = attachment(&ctx, &case, None, "raw.png", 2, key(&ctx, 7));
    s.insert_attachment(&same_bytes).await.unwrap();
    assert!(!s.delete_attachment(ctx.tenant(), photo.id).await.unwrap(), "the downscaled copy is free");
    assert!(s.blob_in_use(&original.sha256).await.unwrap());
    assert!(!s.delete_attachment(ctx.tenant(), same_bytes.id).await.unwrap());
    assert!(!s.blob_in_use(&original.sha256).await.unwrap());
}
