//! The answer for the visitor: the desk's template for a procedure in the
//! visitor's language, rendered by `RenderTemplate` with the details the
//! operator fills in (escaped, right-to-left where the language is), and
//! the form that proposes a better wording through `ProposeTemplate`.

use super::chrome::Chrome;
use super::language::lang_of;
use super::respond::{agent_failure, html};
use super::texts::{self, Lang, Texts};
use super::Operator;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use proto::desk_server::Desk;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use tonic::Request;

/// Longest proposal body; templates are short letters, not documents.
pub(super) const MAX_PROPOSAL_CHARS: usize = 10_000;
const MAX_VARIABLES: usize = 50;

#[derive(Template)]
#[template(path = "answer.html")]
struct AnswerPage {
    t: &'static Texts,
    c: Chrome,
    keys: Vec<String>,
    key: String,
    languages: Vec<(String, String)>,
    language: String,
    language_label: String,
    variables: Vec<(String, String)>,
    html: String,
    direction: String,
    stale: bool,
    message: String,
    proposal: String,
    propose_message: String,
    propose_ok: bool,
}

/// What the operator asked for: procedure or key, language, and the
/// details (`v.NAME`) to fill in. The details are the visitor's (a name, an
/// amount), so they come only in a POST body: a URL would keep them in the
/// browser's history on the desk's disk.
#[derive(Default)]
struct Ask {
    procedure: String,
    key: String,
    language: String,
    values: BTreeMap<String, String>,
}

impl Ask {
    fn from_fields(q: HashMap<String, String>, details: bool) -> Result<Self, &'static str> {
        if q.len() > MAX_VARIABLES + 3
            || q.iter()
                .any(|(k, v)| k.len() > 100 || v.chars().count() > 1000)
        {
            return Err("troppi dati o troppo lunghi / too many or too long values");
        }
        let mut ask = Ask::default();
        for (k, v) in q {
            match k.as_str() {
                "procedure" => ask.procedure = v,
                "key" => ask.key = v,
                "language" => ask.language = v,
                _ if details => {
                    if let Some(name) = k.strip_prefix("v.") {
                        ask.values.insert(name.to_string(), v);
                    }
                }
                _ => {}
            }
        }
        Ok(ask)
    }
}

async fn answer_view(op: &Operator, lang: Lang, ask: Ask) -> Result<AnswerPage, tonic::Status> {
    let t = lang.texts();
    let mut keys = op.desk.local.template_keys(&ask.procedure)?;
    if keys.is_empty() && !ask.procedure.is_empty() {
        keys = op.desk.local.template_keys("")?;
    }
    let key = if keys.contains(&ask.key) {
        ask.key
    } else {
        keys.first().cloned().unwrap_or_default()
    };
    let held = if key.is_empty() {
        Vec::new()
    } else {
        op.desk.local.template_languages(&key)?
    };
    let language = if held.contains(&ask.language) {
        ask.language
    } else if held.iter().any(|l| l == "it") {
        "it".to_string()
    } else {
        held.first().cloned().unwrap_or_default()
    };
    let mut page = AnswerPage {
        t,
        c: Chrome::new(op, lang, t.title_answer, "answer", "/risposta"),
        languages: held
            .iter()
            .map(|l| (l.clone(), texts::language_name(l, lang)))
            .collect(),
        language_label: texts::language_name(&language, lang),
        keys,
        key: key.clone(),
        language: language.clone(),
        variables: Vec::new(),
        html: String::new(),
        direction: "ltr".into(),
        stale: false,
        message: String::new(),
        proposal: String::new(),
        propose_message: String::new(),
        propose_ok: false,
    };
    if key.is_empty() || language.is_empty() {
        return Ok(page);
    }
    let template = op
        .desk
        .get_template(Request::new(proto::GetTemplateRequest {
            key: key.clone(),
            language: language.clone(),
        }))
        .await?
        .into_inner();
    page.stale = template.stale;
    page.proposal = template.body.clone();
    let names = domain::placeholders(&template.body).unwrap_or_default();
    page.variables = names
        .iter()
        .map(|n| (n.clone(), ask.values.get(n).cloned().unwrap_or_default()))
        .collect();
    let variables = page
        .variables
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let rendered = op
        .desk
        .render_template(Request::new(proto::RenderTemplateRequest {
            key,
            language,
            variables,
        }))
        .await;
    match rendered {
        Ok(r) => {
            let r = r.into_inner();
            page.html = r.html;
            page.direction = r.direction;
        }
        Err(s) if s.code() == tonic::Code::InvalidArgument => {
            page.message = format!("{} ({})", t.answer_fill, s.message());
        }
        Err(s) => return Err(s),
    }
    Ok(page)
}

/// The page for a procedure or key and a language named in the URL (links
/// from the visit panel); details in the URL are ignored.
pub(super) async fn answer_page(
    State(op): State<Operator>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    answer(&op, &headers, Ask::from_fields(q, false)).await
}

/// The answer rendered with the details the operator filled in.
pub(super) async fn answer_filled(
    State(op): State<Operator>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    answer(&op, &headers, Ask::from_fields(f, true)).await
}

async fn answer(op: &Operator, headers: &HeaderMap, ask: Result<Ask, &'static str>) -> Response {
    let ask = match ask {
        Ok(a) => a,
        Err(m) => return (StatusCode::UNPROCESSABLE_ENTITY, m).into_response(),
    };
    match answer_view(op, lang_of(headers), ask).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(s) => agent_failure(&s),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct ProposeForm {
    key: String,
    language: String,
    body: String,
}

/// Sends a proposal with `ProposeTemplate`; whatever the answer, the page
/// comes back with the text as typed and the agent's own words about it.
pub(super) async fn propose(
    State(op): State<Operator>,
    headers: HeaderMap,
    Form(f): Form<ProposeForm>,
) -> Response {
    let lang = lang_of(&headers);
    let ask = Ask {
        key: f.key.chars().take(100).collect(),
        language: f.language.chars().take(35).collect(),
        ..Default::default()
    };
    let mut page = match answer_view(&op, lang, ask).await {
        Ok(p) => p,
        Err(s) => return agent_failure(&s),
    };
    let (status, message, ok) = if f.body.chars().count() > MAX_PROPOSAL_CHARS {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("al massimo {MAX_PROPOSAL_CHARS} caratteri / at most {MAX_PROPOSAL_CHARS} characters"),
            false,
        )
    } else {
        let answer = op
            .desk
            .propose_template(Request::new(proto::ProposeTemplateRequest {
                key: f.key.clone(),
                language: f.language.clone(),
                body: f.body.clone(),
            }))
            .await;
        match answer {
            Ok(r) => (
                StatusCode::OK,
                format!("{} ({})", page.t.propose_sent, r.into_inner().proposal_id),
                true,
            ),
            Err(s) => (
                crate::status::http_status(s.code()),
                s.message().to_string(),
                false,
            ),
        }
    };
    page.proposal = f.body;
    page.propose_message = message;
    page.propose_ok = ok;
    html(status, &page)
}
