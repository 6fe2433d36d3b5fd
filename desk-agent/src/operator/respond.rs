//! How every operator handler answers: a rendered page, a failure of the
//! agent, a page that does not exist, a safe place to go back to.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A page as HTML with `status`, or a plain 500 saying why it failed.
pub(super) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "operator page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("la pagina non si è potuta comporre / the page failed to render: {e}"),
            )
                .into_response()
        }
    }
}

/// A failure of the agent itself (not of what the operator typed).
pub(super) fn agent_failure(s: &tonic::Status) -> Response {
    (
        crate::status::http_status(s.code()),
        format!("errore dello sportello / desk error: {}", s.message()),
    )
        .into_response()
}

/// A local path to come back to; anything else goes home.
pub(super) fn safe_back(back: &str) -> &str {
    if back.starts_with('/') && !back.starts_with("//") && back.len() <= 500 {
        back
    } else {
        "/"
    }
}

pub(super) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Pagina non trovata / page not found").into_response()
}
