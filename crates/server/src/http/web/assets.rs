//! The web UI's static files, embedded in the binary and served under names that carry
//! a hash of their content (`/static/klaxon.3f2a9c1d0b.css`): browsers keep them for a
//! year, and a release that changes a file changes its name.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// The hashed path it is served at.
    pub path: String,
    bytes: &'static [u8],
    content_type: &'static str,
}

/// The files, by role.
pub struct Assets {
    pub css: Asset,
    pub htmx: Asset,
    pub js: Asset,
}

impl Assets {
    fn all(&self) -> [&Asset; 3] {
        [&self.css, &self.htmx, &self.js]
    }
}

fn asset(name: &str, bytes: &'static [u8], content_type: &'static str) -> Asset {
    let hash = hex::encode(&Sha256::digest(bytes)[..5]);
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    Asset {
        path: format!("/static/{stem}.{hash}.{ext}"),
        bytes,
        content_type,
    }
}

/// The embedded files.
pub static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: asset(
        "klaxon.css",
        include_bytes!("../../../static/klaxon.css"),
        "text/css; charset=utf-8",
    ),
    htmx: asset(
        "htmx-2.0.11.min.js",
        include_bytes!("../../../static/htmx-2.0.11.min.js"),
        "text/javascript; charset=utf-8",
    ),
    js: asset(
        "klaxon.js",
        include_bytes!("../../../static/klaxon.js"),
        "text/javascript; charset=utf-8",
    ),
});

/// `GET /static/{file}`: an embedded file by its hashed name.
pub async fn serve(Path(file): Path<String>) -> Response {
    let wanted = format!("/static/{file}");
    match ASSETS.all().into_iter().find(|a| a.path == wanted) {
        Some(asset) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            asset.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        let css = &ASSETS.css;
        assert!(css.path.starts_with("/static/klaxon."));
        assert!(css.path.ends_with(".css"));
        assert_eq!(css.path.len(), "/static/klaxon.".len() + 10 + ".css".len());
    }
}
