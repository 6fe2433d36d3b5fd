//! The guidance panel beside the record form and on the guidance page: the
//! items in force for a procedure, as `ListGuidance` returns them, and the
//! address of their live stream.

use super::language::lang_of;
use super::respond::agent_failure;
use super::texts::{Lang, Texts};
use super::Operator;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use proto::desk_server::Desk;
use serde::Deserialize;
use tonic::Request;

/// One guidance item as the page shows it.
pub(super) struct ItemView {
    id: String,
    version: u64,
    title: String,
    body: String,
    severity: &'static str,
    severity_label: &'static str,
    effective_from: String,
    expires_at: String,
    procedures: String,
    is_new: bool,
}

#[derive(Template)]
#[template(path = "guidance_list.html")]
pub(super) struct GuidanceList {
    t: &'static Texts,
    items: Vec<ItemView>,
    back: String,
}

/// The guidance in force for `procedure` (all when empty), urgent first, as
/// `ListGuidance` returns it, rendered as the list the page and the live
/// stream share.
pub(super) async fn guidance_list(
    op: &Operator,
    procedure: &str,
    lang: Lang,
    back: &str,
) -> Result<String, tonic::Status> {
    let list = op
        .desk
        .list_guidance(Request::new(proto::ListGuidanceRequest {
            procedure: procedure.into(),
        }))
        .await?
        .into_inner();
    let t = lang.texts();
    let items = list
        .items
        .into_iter()
        .map(|i| {
            let (severity, severity_label) = match proto::Severity::try_from(i.severity) {
                Ok(proto::Severity::Urgent) => ("urgent", t.urgent),
                Ok(proto::Severity::Important) => ("important", t.important),
                _ => ("info", t.info),
            };
            ItemView {
                is_new: !op.is_read(&i.id, i.version),
                procedures: i.procedures.join(", "),
                id: i.id,
                version: i.version,
                title: i.title,
                body: i.body,
                severity,
                severity_label,
                effective_from: i.effective_from,
                expires_at: i.expires_at,
            }
        })
        .collect();
    GuidanceList {
        t,
        items,
        back: back.into(),
    }
    .render()
    .map_err(crate::status::page_failed)
}

#[derive(Template)]
#[template(path = "panel.html")]
struct Panel {
    t: &'static Texts,
    procedure_code: String,
    procedure_name: String,
    visit_language: String,
    events_url: String,
    list: String,
}

/// The live guidance panel for a procedure (as typed or picked).
pub(super) async fn panel_html(
    op: &Operator,
    procedure: &str,
    visit_language: &str,
    lang: Lang,
    back: &str,
) -> Result<String, tonic::Status> {
    let found = op
        .desk
        .local
        .catalogue()
        .get(procedure_code(procedure))
        .map(|p| {
            let name = if lang == Lang::En {
                &p.name_en
            } else {
                &p.name_it
            };
            (p.code.clone(), name.clone())
        });
    let (code, name) = found.unwrap_or_default();
    let list = guidance_list(op, &code, lang, back).await?;
    let events_url = procedure_url("/indicazioni/eventi", &code);
    Panel {
        t: lang.texts(),
        procedure_code: code,
        procedure_name: name,
        visit_language: visit_language.into(),
        events_url,
        list,
    }
    .render()
    .map_err(crate::status::page_failed)
}

/// The code inside a picked `Name (code)`, or the text itself.
pub(super) fn procedure_code(input: &str) -> &str {
    let input = input.trim();
    input
        .strip_suffix(')')
        .and_then(|s| s.rfind('(').map(|i| s[i + 1..].trim()))
        .unwrap_or(input)
}

/// `path` asking for `procedure`, as the record page, the guidance page
/// and the live stream link to one another.
pub(super) fn procedure_url(path: &str, procedure: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("procedure", procedure)
        .finish();
    format!("{path}?{query}")
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct ProcedureQuery {
    pub(super) procedure: String,
    pub(super) language: String,
}

pub(super) async fn panel(
    State(op): State<Operator>,
    headers: HeaderMap,
    Query(q): Query<ProcedureQuery>,
) -> Response {
    if q.procedure.chars().count() > 200 || q.language.len() > 35 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "procedura troppo lunga / procedure too long",
        )
            .into_response();
    }
    let back = procedure_url("/", procedure_code(&q.procedure));
    match panel_html(&op, &q.procedure, &q.language, lang_of(&headers), &back).await {
        Ok(body) => Html(body).into_response(),
        Err(s) => agent_failure(&s),
    }
}
