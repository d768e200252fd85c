//! What an upload is, read from its first bytes (never from what the client claims): the
//! media type from magic numbers (`infer`), plain text when it is UTF-8 without NULs, and
//! for PNG, JPEG and GIF the pixel size their header declares, so an image that would
//! decompress to gigabytes (a "zip bomb" image) is refused before anything decodes it.

/// How many leading bytes of an upload are kept to sniff it (a JPEG's size comes after its
/// EXIF segments, which may be long).
pub const SNIFF_PREFIX: usize = 256 * 1024;

/// The media type of bytes that are neither a known format nor text.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// What the first bytes of an upload say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// The media type (`image/png`, `text/plain`, `application/octet-stream` …).
    pub content_type: String,
    /// Width and height in pixels, for an image whose header could be read.
    pub dimensions: Option<(u32, u32)>,
}

impl Sniffed {
    /// Whether the bytes are an image.
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }

    /// The pixels the image declares (width × height).
    pub fn pixels(&self) -> Option<u64> {
        self.dimensions.map(|(w, h)| u64::from(w) * u64::from(h))
    }
}

/// Sniffs `prefix`, the first (up to [`SNIFF_PREFIX`]) bytes of an upload.
pub fn sniff(prefix: &[u8]) -> Sniffed {
    let content_type = match infer::get(prefix) {
        Some(kind) => kind.mime_type().to_owned(),
        None if looks_like_text(prefix) => "text/plain".to_owned(),
        None => OCTET_STREAM.to_owned(),
    };
    let dimensions = match content_type.as_str() {
        "image/png" => png_size(prefix),
        "image/gif" => gif_size(prefix),
        "image/jpeg" => jpeg_size(prefix),
        _ => None,
    };
    Sniffed { content_type, dimensions }
}

/// UTF-8 (a character cut by the end of the prefix allowed) without NUL bytes; empty counts.
fn looks_like_text(prefix: &[u8]) -> bool {
    if prefix.contains(&0) {
        return false;
    }
    match std::str::from_utf8(prefix) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && prefix.len() - e.valid_up_to() < 4,
    }
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

/// PNG: the `IHDR` chunk, always first, holds width and height.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    (b.get(12..16)? == b"IHDR").then_some(())?;
    Some((be32(b, 16)?, be32(b, 20)?))
}

/// GIF: the logical screen's width and height, little-endian, after the signature.
fn gif_size(b: &[u8]) -> Option<(u32, u32)> {
    let le16 = |at: usize| Some(u32::from(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?])));
    Some((le16(6)?, le16(8)?))
}

/// JPEG: walks the segments to the first start-of-frame marker (`SOF0`…`SOF15` but the
/// `DHT`, `JPG` and `DAC` markers that share the range), which holds height then width.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        while *b.get(at)? != 0xFF {
            at += 1;
        }
        while *b.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *b.get(at)?;
        at += 1;
        match marker {
            0xD0..=0xD9 | 0x01 => {}
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return Some((be16(b, at + 5)?, be16(b, at + 3)?));
            }
            _ => at += usize::try_from(be16(b, at)?).ok()?,
        }
    }
}

#[cfg(test)]
pub(crate) mod samples {
    //! Headers of images, as tests build them.

    /// A PNG signature and `IHDR` declaring `w` × `h` (enough for sniffing).
    pub(crate) fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    /// A JPEG start with an APP0 segment and a baseline frame of `w` × `h`.
    pub(crate) fn jpeg_header(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::samples::{jpeg_header, png_header};
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(
            sniff(&png_header(640, 480)),
            Sniffed { content_type: "image/png".into(), dimensions: Some((640, 480)) }
        );
        assert_eq!(sniff(&jpeg_header(1024, 768)).dimensions, Some((1024, 768)));
        assert_eq!(sniff(&jpeg_header(1024, 768)).content_type, "image/jpeg");
        assert_eq!(sniff(b"GIF89a\x40\x01\xf0\x00rest").dimensions, Some((320, 240)));
        assert_eq!(sniff(b"%PDF-1.7\n...").content_type, "application/pdf");
        assert_eq!(sniff("Bonjour, voilà le relevé".as_bytes()).content_type, "text/plain");
        assert_eq!(sniff(&"é".as_bytes()[..1]).content_type, "text/plain", "a character cut by the prefix's end");
        // Said as it is; downloads are never rendered (the server sends them as attachments).
        assert_eq!(sniff(b"<html><script>alert(1)</script>").content_type, "text/html");
        assert_eq!(sniff(&[0, 1, 2, 3, 0xFF]).content_type, OCTET_STREAM);
    }

    #[test]
    fn a_truncated_header_has_no_size() {
        let png = png_header(5, 5);
        assert_eq!(sniff(&png[..18]).dimensions, None);
        let jpeg = jpeg_header(5, 5);
        assert_eq!(sniff(&jpeg[..24]).dimensions, None);
    }
}
