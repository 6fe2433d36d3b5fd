//! The page's static files, compiled into the binary: nothing is loaded
//! from the internet, and a desk PC needs no web server of its own.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// (name, content type, bytes). htmx is the copy both web layers share.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        runtime::assets::HTMX_JS,
    ),
    (
        "operator.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/operator.js"),
    ),
    (
        "operator.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/operator.css"),
    ),
    (
        "htmx.LICENSE",
        "text/plain; charset=utf-8",
        runtime::assets::HTMX_LICENSE,
    ),
];

pub(super) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "file non trovato / no such file").into_response(),
    }
}
