//! The status page: what `GetStatus` says about the agent, its outbox and
//! the versions of what the hub pushed.

use super::chrome::Chrome;
use super::language::lang_of;
use super::respond::{agent_failure, html};
use super::texts::Texts;
use super::Operator;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use proto::desk_server::Desk;
use tonic::Request;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    t: &'static Texts,
    c: Chrome,
    s: proto::DeskStatus,
    guidance_version: u64,
    template_version: u64,
    catalogue_version: u64,
}

pub(super) async fn status_page(State(op): State<Operator>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let t = lang.texts();
    match op
        .desk
        .get_status(Request::new(proto::GetStatusRequest {}))
        .await
    {
        Ok(s) => {
            let s = s.into_inner();
            let v = s.versions.unwrap_or_default();
            html(
                StatusCode::OK,
                &StatusPage {
                    t,
                    c: Chrome::new(&op, lang, t.title_status, "status", "/stato"),
                    guidance_version: v.guidance,
                    template_version: v.template,
                    catalogue_version: v.catalogue,
                    s,
                },
            )
        }
        Err(s) => agent_failure(&s),
    }
}
