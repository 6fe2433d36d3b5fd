//! The procedure card page: the desk's card for a procedure in Italian and
//! in the visitor's language side by side (right-to-left where the language
//! is), the fields changed in Italian since the translation marked, the
//! guidance panel beside it, and the form that makes the printable handout.
//! The handout's additions come only in a POST body and go only into the
//! PDF: a URL would keep them in the browser's history on the desk's disk.

use super::chrome::Chrome;
use super::language::lang_of;
use super::panel::{panel_html, procedure_code, procedure_url};
use super::respond::{agent_failure, html};
use super::texts::{self, Lang, Texts};
use super::Operator;
use crate::card_view;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use domain::card::REFERENCE_LANGUAGE;
use domain::Card;
use serde::Deserialize;
use std::collections::HashMap;

pub(super) struct ColumnView {
    language: String,
    dir: &'static str,
    label: String,
    title: String,
    sections: Vec<SectionView>,
}

pub(super) struct SectionView {
    heading: &'static str,
    /// (text, stale)
    paragraphs: Vec<(String, bool)>,
    items: Vec<(String, bool)>,
    numbered: bool,
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    t: &'static Texts,
    c: Chrome,
    procedures: Vec<(String, String)>,
    procedure: String,
    procedure_name: String,
    languages: Vec<(String, String)>,
    language: String,
    columns: Vec<ColumnView>,
    owner: String,
    verified_on: String,
    stale: bool,
    message: String,
    panel: String,
}

#[derive(Deserialize, Default)]
pub(super) struct CardQuery {
    #[serde(default)]
    procedure: String,
    #[serde(default)]
    language: String,
}

pub(super) async fn card_page(
    State(op): State<Operator>,
    headers: HeaderMap,
    Query(q): Query<CardQuery>,
) -> Response {
    let lang = lang_of(&headers);
    if q.procedure.chars().count() > 200 || q.language.chars().count() > 35 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "procedura o lingua troppo lunga / procedure or language too long",
        )
            .into_response();
    }
    match card_view_page(&op, lang, q).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(s) => agent_failure(&s),
    }
}

async fn card_view_page(
    op: &Operator,
    lang: Lang,
    q: CardQuery,
) -> Result<CardPage, tonic::Status> {
    let t = lang.texts();
    let local = &op.desk.local;
    let catalogue = local.catalogue();
    let mut procedures = Vec::new();
    for p in catalogue.iter() {
        if local.card(&p.code, REFERENCE_LANGUAGE)?.is_some() {
            let name = if lang == Lang::En {
                &p.name_en
            } else {
                &p.name_it
            };
            procedures.push((p.code.clone(), name.clone()));
        }
    }
    let asked = procedure_code(&q.procedure).to_string();
    let procedure = if procedures.iter().any(|(c, _)| *c == asked) {
        asked
    } else {
        procedures
            .first()
            .map(|(c, _)| c.clone())
            .unwrap_or_default()
    };
    let held = if procedure.is_empty() {
        Vec::new()
    } else {
        local.card_languages(&procedure)?
    };
    let language = domain::normalise_language_tag(&q.language)
        .filter(|l| held.contains(l))
        .unwrap_or_else(|| REFERENCE_LANGUAGE.to_string());
    let here = format!(
        "/scheda?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("procedure", &procedure)
            .append_pair("language", &language)
            .finish()
    );
    let panel = panel_html(
        op,
        &procedure,
        &language,
        lang,
        &procedure_url("/scheda", &procedure),
    )
    .await?;
    let mut page = CardPage {
        t,
        c: Chrome::new(op, lang, t.title_card, "card", here),
        procedure_name: procedures
            .iter()
            .find(|(c, _)| *c == procedure)
            .map(|(_, n)| n.clone())
            .unwrap_or_default(),
        procedures,
        languages: held
            .iter()
            .map(|l| (l.clone(), texts::language_name(l, lang)))
            .collect(),
        procedure: procedure.clone(),
        language: language.clone(),
        columns: Vec::new(),
        owner: String::new(),
        verified_on: String::new(),
        stale: false,
        message: String::new(),
        panel,
    };
    if procedure.is_empty() {
        page.message = t.card_none.into();
        return Ok(page);
    }
    let found = op.desk.find_card(&procedure, &language)?;
    let Some(reference) = found.reference.map(Card::from) else {
        page.message = t.card_none.into();
        return Ok(page);
    };
    let stale: Vec<String> = found.stale_fields;
    page.stale = !stale.is_empty();
    page.owner = reference.owner.clone();
    page.verified_on = reference.verified_on.clone();
    page.columns.push(view(
        card_view::column(&reference, &reference, &catalogue),
        &[],
        lang,
    ));
    if let Some(t) = found.translation.map(Card::from) {
        page.columns.push(view(
            card_view::column(&t, &reference, &catalogue),
            &stale,
            lang,
        ));
    }
    Ok(page)
}

fn view(c: card_view::CardColumn, stale: &[String], lang: Lang) -> ColumnView {
    let mark = |lines: Vec<card_view::Line>| {
        lines
            .into_iter()
            .map(|l| {
                let is_stale = stale.contains(&l.field);
                (l.text, is_stale)
            })
            .collect()
    };
    ColumnView {
        dir: domain::template::direction(&c.language).as_str(),
        label: texts::language_name(&c.language, lang),
        language: c.language,
        title: c.title,
        sections: c
            .sections
            .into_iter()
            .map(|s| SectionView {
                heading: s.heading,
                paragraphs: mark(s.paragraphs),
                items: mark(s.items),
                numbered: s.numbered,
            })
            .collect(),
    }
}

/// The handout as a PDF. The additions are the visitor's: they stay in
/// this request and the PDF, and a refusal never repeats them.
pub(super) async fn handout_pdf(
    State(op): State<Operator>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let t = lang_of(&headers).texts();
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (code, language) = (field("procedure"), field("language"));
    let mut additions = HashMap::new();
    for (name, label) in [
        ("appointment", t.handout_appointment),
        ("missing", t.handout_missing),
        ("note", t.handout_note),
    ] {
        let value = field(name);
        if !value.is_empty() {
            additions.insert(label.to_string(), value);
        }
    }
    match crate::handout::render(&op.desk, &code, &language, additions).await {
        Ok(pdf) => {
            let name = format!(
                "inline; filename=\"scheda-{}-{}.pdf\"",
                code.replace(
                    |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '_',
                    ""
                ),
                language.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
            );
            (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                pdf,
            )
                .into_response()
        }
        Err(s) => agent_failure(&s),
    }
}
