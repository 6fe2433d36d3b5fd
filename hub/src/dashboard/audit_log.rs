//! The audit log page: the newest entries first.

use super::auth::Signed;
use super::{render, Chrome, Page, Shared, WebError};
use crate::storage::AuditEntry;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

const SHOWN: usize = 500;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<AuditEntry>,
}

pub(crate) async fn page(State(app): State<Shared>, who: Signed) -> Result<Response, WebError> {
    let entries =
        crate::storage::blocking(&app.deps.store, |store| store.audit_recent(SHOWN)).await?;
    render(&AuditPage {
        c: who.chrome(Page::Audit),
        entries,
    })
}
