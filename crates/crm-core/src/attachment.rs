//! Attachments (CAS-6): files on a case or on one of its follow-ups. The metadata is a
//! record ([`Attachment`], stored through the
//! [`AttachmentStore`](crate::ports::AttachmentStore)); the bytes are a blob keyed by their
//! SHA-256 (the [`BlobStore`](crate::ports::BlobStore)). The rules: a size limit per
//! upload ([`AttachmentLimits`]: 20 MB, 10 MB for a pasted image), a file name cleaned
//! ([`sanitize_filename`]), the media type sniffed from the bytes ([`sniff`]), never taken
//! from the client, and an image refused when its header declares more pixels than
//! [`AttachmentLimits::max_image_pixels`] (a decompression bomb).

mod name;
mod sniff;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use name::{MAX_FILENAME_BYTES, sanitize_filename};
pub use sniff::{OCTET_STREAM, SNIFF_PREFIX, Sniffed, sniff};

use crate::access::{Actor, Permission};
use crate::error::{Error, Result};
use crate::ids::{AgentId, AttachmentId, CaseId, FollowUpId, TenantId};
use crate::ports::BlobKey;

/// One mebibyte.
const MB: u64 = 1024 * 1024;

/// The largest attachment, unless configured otherwise.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * MB;

/// The largest pasted or dropped image, unless configured otherwise.
pub const MAX_PASTED_IMAGE_BYTES: u64 = 10 * MB;

/// The most pixels an image may declare, unless configured otherwise (100 megapixels: a
/// 12 000 × 8 000 photo passes; a 100 000 × 100 000 PNG of a few kilobytes does not).
pub const MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// How an attachment arrived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentOrigin {
    /// A file chosen by the user.
    #[default]
    File,
    /// An image pasted or dropped into the editor (it must be an image, with a smaller limit).
    Pasted,
}

impl AttachmentOrigin {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Pasted => "pasted",
        }
    }
}

impl std::str::FromStr for AttachmentOrigin {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "file" => Ok(Self::File),
            "pasted" => Ok(Self::Pasted),
            other => Err(format!("{other:?} is not file or pasted")),
        }
    }
}

/// An attachment: the metadata of a stored file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// Its id.
    pub id: AttachmentId,
    /// Its tenant.
    pub tenant: TenantId,
    /// The case it belongs to.
    pub case: CaseId,
    /// The follow-up it is attached to (none: attached to the case itself).
    pub follow_up: Option<FollowUpId>,
    /// The cleaned file name.
    pub filename: String,
    /// The media type sniffed from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// The SHA-256 of the bytes (lowercase hexadecimal): the key of its blob.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-f]{64}$"))]
    pub sha256: BlobKey,
    /// How it arrived.
    pub origin: AttachmentOrigin,
    /// Who uploaded it.
    pub uploaded_by: AgentId,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// The image as uploaded, when it was downscaled and the tenant keeps originals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<OriginalImage>,
}

/// An uploaded image kept beside its downscaled copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OriginalImage {
    /// The SHA-256 of its bytes: the key of its blob.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-f]{64}$"))]
    pub sha256: BlobKey,
    /// Its media type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

impl Attachment {
    /// Whether `actor` may delete it: its uploader with `case.edit`, anyone else with
    /// `case.delete`.
    ///
    /// # Errors
    /// `Forbidden`, naming the missing permission.
    pub fn check_delete(&self, actor: &Actor) -> Result<()> {
        actor.require(Permission::CaseEdit)?;
        if self.uploaded_by == actor.agent { Ok(()) } else { actor.require(Permission::CaseDelete) }
    }
}

/// Which attachments of a case a list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AttachmentScope {
    /// Every one.
    #[default]
    All,
    /// Those attached to the case itself.
    Case,
    /// Those attached to any of its follow-ups.
    FollowUps,
    /// Those of one follow-up.
    FollowUp(FollowUpId),
}

impl AttachmentScope {
    /// Whether `a` is in the scope.
    pub fn matches(self, a: &Attachment) -> bool {
        match self {
            Self::All => true,
            Self::Case => a.follow_up.is_none(),
            Self::FollowUps => a.follow_up.is_some(),
            Self::FollowUp(f) => a.follow_up == Some(f),
        }
    }
}

/// The order of a list of attachments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentSort {
    /// Newest first (then by id).
    #[default]
    Date,
    /// By file name, ignoring case (then newest first).
    Name,
}

impl AttachmentSort {
    /// Sorts `list` in this order.
    pub fn sort(self, list: &mut [Attachment]) {
        let newest = |a: &Attachment, b: &Attachment| b.uploaded_at.cmp(&a.uploaded_at).then(b.id.cmp(&a.id));
        match self {
            Self::Date => list.sort_by(newest),
            Self::Name => list.sort_by_cached_key(|a| {
                (a.filename.to_lowercase(), a.filename.clone(), std::cmp::Reverse((a.uploaded_at, a.id)))
            }),
        }
    }
}

/// Images wider or taller than this are downscaled to fit it, unless configured otherwise.
pub const DOWNSCALE_IMAGES_OVER: u32 = 2_560;

/// The limits uploads are held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachmentLimits {
    /// The largest attachment, in bytes.
    pub max_bytes: u64,
    /// The largest pasted or dropped image, in bytes.
    pub max_pasted_image_bytes: u64,
    /// The most pixels an image's header may declare.
    pub max_image_pixels: u64,
    /// An image wider or taller than this many pixels is downscaled to fit it and
    /// recompressed (none: images are kept as uploaded).
    pub downscale_images_over: Option<u32>,
    /// Whether a downscaled image's original is kept too (and downloadable).
    pub keep_original_images: bool,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        Self {
            max_bytes: MAX_ATTACHMENT_BYTES,
            max_pasted_image_bytes: MAX_PASTED_IMAGE_BYTES,
            max_image_pixels: MAX_IMAGE_PIXELS,
            downscale_images_over: Some(DOWNSCALE_IMAGES_OVER),
            keep_original_images: false,
        }
    }
}

impl AttachmentLimits {
    /// The most bytes an upload of `origin` may have.
    pub fn max_for(&self, origin: AttachmentOrigin) -> u64 {
        match origin {
            AttachmentOrigin::File => self.max_bytes,
            AttachmentOrigin::Pasted => self.max_pasted_image_bytes.min(self.max_bytes),
        }
    }

    /// The side to downscale an image of `dimensions` to, when it is over the limit.
    pub fn downscale_to(&self, dimensions: Option<(u32, u32)>) -> Option<u32> {
        let (w, h) = dimensions?;
        self.downscale_images_over.filter(|&max| max > 0 && w.max(h) > max)
    }

    /// The error for an upload of `origin` past its limit, naming `file`.
    pub fn too_large(&self, origin: AttachmentOrigin) -> Error {
        let what = match origin {
            AttachmentOrigin::File => "an attachment",
            AttachmentOrigin::Pasted => "a pasted image",
        };
        Error::TooLarge {
            field: "file".into(),
            reason: format!("{what} may have at most {} bytes", self.max_for(origin)),
        }
    }

    /// Checks what the bytes are against the upload's origin: a pasted upload must be an
    /// image, and no image may declare more than [`Self::max_image_pixels`].
    ///
    /// # Errors
    /// A validation error on `file`.
    pub fn check_content(&self, origin: AttachmentOrigin, sniffed: &Sniffed, size: u64) -> Result<()> {
        if size == 0 {
            return Err(Error::invalid("file", "is empty"));
        }
        if origin == AttachmentOrigin::Pasted && !sniffed.is_image() {
            return Err(Error::invalid(
                "file",
                format!("a pasted upload must be an image, not {}", sniffed.content_type),
            ));
        }
        if let (Some(pixels), Some((w, h))) = (sniffed.pixels(), sniffed.dimensions)
            && (pixels > self.max_image_pixels || w == 0 || h == 0)
        {
            return Err(Error::invalid(
                "file",
                format!(
                    "the image declares {w} × {h} pixels: more than {} pixels, or none, is refused",
                    self.max_image_pixels
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
