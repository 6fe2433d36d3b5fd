//! The operator's language: read from the cookie, set by the switch.

use super::respond::safe_back;
use super::texts::Lang;
use axum::extract::Query;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The operator's language, from the cookie the switch sets.
pub(super) fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::from_cookie_header(headers.get(header::COOKIE).and_then(|v| v.to_str().ok()))
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct SwitchQuery {
    to: String,
    back: String,
}

pub(super) async fn switch_language(Query(q): Query<SwitchQuery>) -> Response {
    let value = if q.to == "en" { "en" } else { "it" };
    (
        [(
            header::SET_COOKIE,
            format!(
                "{}={value}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict",
                Lang::COOKIE
            ),
        )],
        Redirect::to(safe_back(&q.back)),
    )
        .into_response()
}
