//! The guidance page: every item in force (or a procedure's), and marking
//! one as read.

use super::chrome::Chrome;
use super::language::lang_of;
use super::panel::{panel_html, procedure_url, ProcedureQuery};
use super::respond::{agent_failure, html, safe_back};
use super::texts::Texts;
use super::Operator;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "guidance.html")]
struct GuidancePage {
    t: &'static Texts,
    c: Chrome,
    panel: String,
}

pub(super) async fn guidance_page(
    State(op): State<Operator>,
    headers: HeaderMap,
    Query(q): Query<ProcedureQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let t = lang.texts();
    let procedure = if q.procedure.chars().count() <= 200 {
        q.procedure
    } else {
        String::new()
    };
    let here = procedure_url("/indicazioni", &procedure);
    match panel_html(&op, &procedure, "it", lang, &here).await {
        Ok(panel) => html(
            StatusCode::OK,
            &GuidancePage {
                t,
                c: Chrome::new(&op, lang, t.title_guidance, "guidance", here),
                panel,
            },
        ),
        Err(s) => agent_failure(&s),
    }
}

#[derive(Deserialize)]
pub(super) struct ReadForm {
    id: String,
    version: u64,
    #[serde(default)]
    back: String,
}

pub(super) async fn mark_read(State(op): State<Operator>, Form(f): Form<ReadForm>) -> Response {
    if f.id.len() > domain::anonymise::MAX_FIELD_LEN {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "id troppo lungo / id too long",
        )
            .into_response();
    }
    op.mark_read(f.id, f.version);
    Redirect::to(safe_back(&f.back)).into_response()
}
