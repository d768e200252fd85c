//! The console's static files, embedded in the binary and served under names that carry
//! a hash of their content (`/assets/console-<hash>.js`), so they are cached for a year
//! and a new build is fetched at once. htmx is vendored (2.0.11, BSD Zero Clause, from
//! `npm pack htmx.org@2.0.11`); `console.js` and `console.css` are ours.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
pub(crate) struct Asset {
    /// Its name in URLs (with the hash).
    pub(crate) name: String,
    content_type: &'static str,
    body: &'static [u8],
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, body: &'static [u8]) -> Self {
        let hash = hex::encode(&Sha256::digest(body)[..6]);
        Self { name: format!("{stem}-{hash}.{ext}"), content_type, body }
    }

    /// Where it is served.
    pub(crate) fn url(&self) -> String {
        format!("/assets/{}", self.name)
    }
}

/// The console's files.
pub(crate) struct Assets {
    /// htmx.
    pub(crate) htmx: Asset,
    /// Our script.
    pub(crate) js: Asset,
    /// Our style sheet.
    pub(crate) css: Asset,
}

/// The console's files, hashed once.
pub(crate) static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    htmx: Asset::new("htmx", "js", "text/javascript; charset=utf-8", include_bytes!("../../assets/htmx-2.0.11.min.js")),
    js: Asset::new("console", "js", "text/javascript; charset=utf-8", include_bytes!("../../assets/console.js")),
    css: Asset::new("console", "css", "text/css; charset=utf-8", include_bytes!("../../assets/console.css")),
});

/// `GET /assets/{name}`: a file by its hashed name, cached for a year.
pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let a = &*ASSETS;
    let Some(asset) = [&a.htmx, &a.js, &a.css].into_iter().find(|asset| asset.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        asset.body,
    )
        .into_response()
}
