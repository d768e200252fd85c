//! [`ImageShrinker`] on the `image` crate: PNG and JPEG uploads larger than the configured
//! side are decoded (within the crate's allocation limits, after the core has refused any
//! image declaring too many pixels), resized with a triangle filter to fit, and encoded
//! again: JPEG at quality 85, PNG as PNG (it may carry transparency). The work runs on
//! tokio's blocking pool, never on an async worker.

use std::io::Cursor;

use async_trait::async_trait;
use crm_core::ports::{ImageShrinker, ShrunkImage};
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader};

/// JPEG quality of a downscaled photo.
const JPEG_QUALITY: u8 = 85;

/// Downscales PNG and JPEG images.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImageCrateShrinker;

#[async_trait]
impl ImageShrinker for ImageCrateShrinker {
    async fn shrink(&self, image: Vec<u8>, content_type: &str, max_side: u32) -> Option<ShrunkImage> {
        let format = match content_type {
            "image/png" => ImageFormat::Png,
            "image/jpeg" => ImageFormat::Jpeg,
            _ => return None,
        };
        match tokio::task::spawn_blocking(move || shrink_now(&image, format, max_side)).await {
            Ok(Ok(shrunk)) => shrunk,
            Ok(Err(e)) => {
                tracing::info!(error = %e, "an uploaded image could not be downscaled; kept as uploaded");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "the image downscaling task failed; kept as uploaded");
                None
            }
        }
    }
}

/// The work itself: `None` when the image already fits.
fn shrink_now(bytes: &[u8], format: ImageFormat, max_side: u32) -> image::ImageResult<Option<ShrunkImage>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(image::Limits::default());
    let decoded = reader.decode()?;
    if decoded.width().max(decoded.height()) <= max_side {
        return Ok(None);
    }
    let resized = decoded.resize(max_side, max_side, FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    let content_type = match format {
        ImageFormat::Jpeg => {
            let rgb = DynamicImage::ImageRgb8(resized.to_rgb8());
            rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))?;
            "image/jpeg"
        }
        _ => {
            resized.write_to(&mut out, ImageFormat::Png)?;
            "image/png"
        }
    };
    Ok(Some(ShrunkImage {
        bytes: out.into_inner(),
        content_type: content_type.to_owned(),
        width: resized.width(),
        height: resized.height(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w` × `h` image with some detail (a gradient), encoded as `format`.
    fn picture(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img).write_to(&mut out, format).expect("encode");
        out.into_inner()
    }

    fn dimensions(bytes: &[u8]) -> (u32, u32) {
        let img = image::load_from_memory(bytes).expect("decodes");
        (img.width(), img.height())
    }

    #[tokio::test]
    async fn a_large_jpeg_fits_the_side_keeps_its_ratio_and_shrinks() {
        let photo = picture(3000, 2000, ImageFormat::Jpeg);
        let shrunk = ImageCrateShrinker.shrink(photo.clone(), "image/jpeg", 1200).await.expect("shrunk");
        assert_eq!((shrunk.width, shrunk.height), (1200, 800));
        assert_eq!(dimensions(&shrunk.bytes), (1200, 800));
        assert_eq!(shrunk.content_type, "image/jpeg");
        assert!(shrunk.bytes.len() < photo.len(), "{} ≥ {}", shrunk.bytes.len(), photo.len());
    }

    #[tokio::test]
    async fn a_tall_png_stays_a_png() {
        let scan = picture(900, 2400, ImageFormat::Png);
        let shrunk = ImageCrateShrinker.shrink(scan, "image/png", 1200).await.expect("shrunk");
        assert_eq!((shrunk.width, shrunk.height), (450, 1200));
        assert_eq!(shrunk.content_type, "image/png");
        assert_eq!(dimensions(&shrunk.bytes), (450, 1200));
    }

    #[tokio::test]
    async fn small_unknown_and_broken_images_are_left_alone() {
        let small = picture(800, 600, ImageFormat::Png);
        assert_eq!(ImageCrateShrinker.shrink(small.clone(), "image/png", 1200).await, None);
        assert_eq!(ImageCrateShrinker.shrink(small.clone(), "image/gif", 10).await, None);
        let mut broken = picture(3000, 2000, ImageFormat::Jpeg);
        broken.truncate(200);
        assert_eq!(ImageCrateShrinker.shrink(broken, "image/jpeg", 1200).await, None);
        // A PNG announced as a JPEG (the sniffer would never say so): not decoded as one.
        assert_eq!(ImageCrateShrinker.shrink(small, "image/jpeg", 10).await, None);
    }
}
