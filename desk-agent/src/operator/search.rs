//! The search page: one box over procedures, cards, guidance and answer
//! templates, with results as the operator types (htmx) and the same form
//! working without script. The query goes in a POST body, never in the
//! address, so that it stays out of the browser's history.

use super::chrome::Chrome;
use super::language::lang_of;
use super::respond::{agent_failure, html};
use super::texts::Texts;
use super::Operator;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

/// One result as the page shows it, with where it leads.
pub(super) struct Row {
    kind: &'static str,
    title: String,
    language: String,
    href: String,
}

#[derive(Template)]
#[template(path = "search_results.html")]
struct Results {
    t: &'static Texts,
    asked: bool,
    rows: Vec<Row>,
    did_you_mean: Vec<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: &'static Texts,
    c: Chrome,
    query: String,
    results: String,
}

#[derive(Deserialize, Default)]
pub(super) struct SearchForm {
    #[serde(default)]
    q: String,
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn row(t: &'static Texts, h: proto::SearchHit) -> Row {
    let (kind, href) = match h.kind.as_str() {
        "procedure" | "card" => (
            if h.kind == "card" {
                t.search_kind_card
            } else {
                t.search_kind_procedure
            },
            format!(
                "/scheda?procedure={}&language={}",
                enc(&h.code),
                enc(&h.language)
            ),
        ),
        "guidance" => (
            t.search_kind_guidance,
            format!("/indicazioni?procedure={}", enc(&h.code)),
        ),
        _ => (
            t.search_kind_template,
            format!(
                "/risposta?procedure={}&key={}&language={}",
                enc(&h.code),
                enc(&h.id),
                enc(&h.language)
            ),
        ),
    };
    Row {
        kind,
        title: h.title,
        language: h.language,
        href,
    }
}

async fn results_html(
    op: &Operator,
    t: &'static Texts,
    page_lang: &str,
    q: &str,
    sent: bool,
) -> Result<String, tonic::Status> {
    let asked = !q.trim().is_empty();
    let found = if asked && sent {
        op.desk.search_counted(q, page_lang, 10)?
    } else if asked {
        op.desk.run_search(q, page_lang, 10)?
    } else {
        proto::SearchResponse::default()
    };
    Results {
        t,
        asked,
        rows: found.hits.into_iter().map(|h| row(t, h)).collect(),
        did_you_mean: found.did_you_mean,
    }
    .render()
    .map_err(|e| tonic::Status::internal(format!("search results did not render: {e}")))
}

/// The empty page.
pub(super) async fn search_page(State(op): State<Operator>, headers: HeaderMap) -> Response {
    page(&op, &headers, String::new()).await
}

/// The page with the results of a search sent without script.
pub(super) async fn search_sent(
    State(op): State<Operator>,
    headers: HeaderMap,
    Form(f): Form<SearchForm>,
) -> Response {
    page(&op, &headers, f.q).await
}

async fn page(op: &Operator, headers: &HeaderMap, q: String) -> Response {
    let lang = lang_of(headers);
    let t = lang.texts();
    // Only a search the operator sent counts as one that found nothing.
    match results_html(op, t, lang.code(), &q, true).await {
        Ok(results) => html(
            StatusCode::OK,
            &SearchPage {
                t,
                c: Chrome::new(op, lang, t.title_search, "search", "/cerca"),
                query: q,
                results,
            },
        ),
        Err(s) => agent_failure(&s),
    }
}

/// The results alone, for the box as the operator types.
pub(super) async fn search_results(
    State(op): State<Operator>,
    headers: HeaderMap,
    Form(f): Form<SearchForm>,
) -> Response {
    let t = lang_of(&headers).texts();
    match results_html(&op, t, lang_of(&headers).code(), &f.q, false).await {
        Ok(body) => (StatusCode::OK, axum::response::Html(body)).into_response(),
        Err(s) => agent_failure(&s),
    }
}
