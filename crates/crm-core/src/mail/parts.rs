//! The stored attachments a notify carries (CAS-6, CAS-7): attached files, or inline images
//! the HTML shows through `cid:<attachment id>` (a `multipart/related` part with that
//! `Content-ID`). The mail keeps only their references (id, name, type, size, blob key);
//! the `mail` worker reads the bytes from the blob store when it sends.

use serde::{Deserialize, Serialize};

use crate::attachment::Attachment;
use crate::error::{FieldError, Validator};
use crate::ids::AttachmentId;
use crate::ports::BlobKey;

/// The most attachments one mail carries.
pub const MAX_MAIL_ATTACHMENTS: usize = 20;
/// The most bytes of attachments one mail carries together (base64 adds a third on the
/// wire; relays commonly refuse mails over 25 MB).
pub const MAX_MAIL_ATTACHMENT_BYTES: u64 = 18 * 1024 * 1024;

/// A stored attachment a mail carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailAttachment {
    /// The stored attachment (of the case or one of its follow-ups).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: AttachmentId,
    /// Its file name.
    pub filename: String,
    /// Its (sniffed) media type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its content in the blob store.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub blob: BlobKey,
    /// Shown by the HTML (`<img src="cid:<id>">`, an image) rather than attached.
    pub inline: bool,
}

impl MailAttachment {
    /// The `Content-ID` of the part (without angle brackets): the attachment's id.
    pub fn content_id(&self) -> String {
        self.id.to_string()
    }
}

/// The requested attachments, checked against those of the case (`found`), in the
/// request's order: each known and named once, at most [`MAX_MAIL_ATTACHMENTS`] and
/// [`MAX_MAIL_ATTACHMENT_BYTES`] together; an image the sanitised `html` shows through
/// `cid:<id>` is inline.
pub(super) fn mail_attachments(
    v: &mut Validator,
    requested: &[AttachmentId],
    found: &[Attachment],
    html: &str,
) -> Vec<MailAttachment> {
    if requested.len() > MAX_MAIL_ATTACHMENTS {
        v.push(FieldError::new(
            "attachments",
            format!("at most {MAX_MAIL_ATTACHMENTS} per mail, got {}", requested.len()),
        ));
        return Vec::new();
    }
    let mut out: Vec<MailAttachment> = Vec::with_capacity(requested.len());
    for (i, id) in requested.iter().enumerate() {
        if out.iter().any(|a| a.id == *id) {
            v.push(FieldError::new(format!("attachments[{i}]"), "is named twice"));
            continue;
        }
        let Some(a) = found.iter().find(|a| a.id == *id) else {
            v.push(FieldError::new(format!("attachments[{i}]"), "is not an attachment of this case"));
            continue;
        };
        let inline = a.content_type.starts_with("image/") && html.contains(&format!("cid:{id}"));
        out.push(MailAttachment {
            id: a.id,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            blob: a.sha256.clone(),
            inline,
        });
    }
    let total: u64 = out.iter().map(|a| a.size).sum();
    if total > MAX_MAIL_ATTACHMENT_BYTES {
        v.push(FieldError::new(
            "attachments",
            format!("at most {MAX_MAIL_ATTACHMENT_BYTES} bytes together, got {total}"),
        ));
    }
    out
}
