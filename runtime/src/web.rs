//! The response headers both web layers (the operator page and the
//! dashboard) send with every page: a page that shows a visitor's details
//! must not be cached, framed, sniffed or named in another site's referrer.

use axum::http::{header, HeaderMap, HeaderValue};

/// Only the page's own scripts, styles and forms; never inside a frame.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Sets the headers on a response; a `Cache-Control` the handler chose (a
/// static asset's) is kept.
pub fn harden(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Never to another site; `no-referrer` would also make browsers send
    // `Origin: null` with the page's own forms, which the operator page's
    // same-site check must then refuse.
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
}

/// [`harden`] as an axum middleware (`axum::middleware::from_fn`).
pub async fn hardened(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut resp = next.run(req).await;
    harden(resp.headers_mut());
    resp
}
