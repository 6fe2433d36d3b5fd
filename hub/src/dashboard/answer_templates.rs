//! The templates pages: the key × language matrix (current, stale,
//! missing), the editor whose text is checked as it is typed (htmx posts it
//! to `/templates/check`, which runs `domain::template::check`, the check
//! `hub template put` runs), the stale diff, and rollout per template.

use super::auth::Signed;
use super::proposals::{self, ProposalView};
use super::{render, Chrome, Done, Page, Shared, WebError};
use crate::answer_templates::{self as tpl, TemplatesError, REFERENCE_LANGUAGE};
use crate::harmonise;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::template::{word_diff, DiffOp};
use domain::AnswerTemplate as Body;
use std::collections::BTreeMap;

pub(crate) struct Cell {
    pub(crate) lang: String,
    /// `current`, `stale` or `missing`
    pub(crate) state: &'static str,
    pub(crate) version: u64,
}

pub(crate) struct Row {
    pub(crate) key: String,
    pub(crate) cells: Vec<Cell>,
    /// Desks running a template version that holds this key's latest save.
    pub(crate) applied: usize,
}

#[derive(Template)]
#[template(path = "answer_templates.html")]
struct MatrixPage {
    c: Chrome,
    langs: Vec<String>,
    rows: Vec<Row>,
    desks: usize,
    notice: Option<&'static str>,
    proposals: Vec<ProposalView>,
}

/// A word of a diff: `same`, `del` or `ins`.
pub(crate) struct Word {
    pub(crate) kind: &'static str,
    pub(crate) text: String,
}

#[derive(Template)]
#[template(path = "answer_template_edit.html")]
struct EditorPage {
    c: Chrome,
    key: String,
    lang: String,
    body: String,
    reference: Option<String>,
    is_reference: bool,
    stale: bool,
    old_side: Vec<Word>,
    new_side: Vec<Word>,
    error: Option<String>,
}

impl MatrixPage {
    fn label(&self, state: &str) -> &'static str {
        let t = self.c.t;
        match state {
            "current" => t.templates_current,
            "stale" => t.templates_stale,
            _ => t.templates_missing,
        }
    }

    fn state_label(&self, state: &str) -> &'static str {
        let t = self.c.t;
        match state {
            "accepted" => t.proposals_accepted,
            "declined" => t.proposals_declined,
            _ => t.proposals_open,
        }
    }
}

type Current = BTreeMap<(String, String), Body>;

fn reference_of<'a>(current: &'a Current, key: &str) -> Option<&'a Body> {
    current.get(&(key.to_string(), REFERENCE_LANGUAGE.to_string()))
}

pub(crate) async fn page(
    State(app): State<Shared>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let notice = match done.done.as_str() {
        "saved" => Some(who.lang.texts().templates_saved_msg),
        "accepted" => Some(who.lang.texts().proposals_accepted_msg),
        "declined" => Some(who.lang.texts().proposals_declined_msg),
        _ => None,
    };
    super::off_async(&app, move |app| matrix(app, &who, notice)).await
}

/// The matrix and the proposals, from the same listing `hub templates`
/// prints.
pub(crate) fn matrix(
    app: &Shared,
    who: &Signed,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    let store = app.deps.store.as_ref();
    let listing = harmonise::listing(store)?;
    let mut langs = listing.languages.clone();
    langs.sort_by_key(|l| (l != REFERENCE_LANGUAGE, l.clone()));
    if !langs.iter().any(|l| l == REFERENCE_LANGUAGE) {
        langs.insert(0, REFERENCE_LANGUAGE.into());
    }
    let desks = listing
        .templates
        .first()
        .map_or(0, |k| k.rollout.current.len() + k.rollout.behind.len());
    let rows = listing
        .templates
        .into_iter()
        .map(|k| Row {
            cells: langs
                .iter()
                .map(
                    |lang| match k.languages.iter().find(|l| &l.language == lang) {
                        Some(l) => Cell {
                            lang: lang.clone(),
                            state: if l.state == "stale" {
                                "stale"
                            } else {
                                "current"
                            },
                            version: l.version,
                        },
                        None => Cell {
                            lang: lang.clone(),
                            state: "missing",
                            version: 0,
                        },
                    },
                )
                .collect(),
            applied: k.rollout.current.len(),
            key: k.key,
        })
        .collect();
    render(&MatrixPage {
        c: who.chrome(Page::Templates),
        langs,
        rows,
        desks,
        notice,
        proposals: proposals::views(store)?,
    })
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct EditQuery {
    #[serde(default)]
    key: String,
    /// Not `lang`, which switches the dashboard's own language.
    #[serde(default)]
    language: String,
}

pub(crate) fn sides(ops: &[DiffOp]) -> (Vec<Word>, Vec<Word>) {
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for op in ops {
        match op {
            DiffOp::Same(s) => {
                old.push(Word {
                    kind: "same",
                    text: s.clone(),
                });
                new.push(Word {
                    kind: "same",
                    text: s.clone(),
                });
            }
            DiffOp::Removed(s) => old.push(Word {
                kind: "del",
                text: s.clone(),
            }),
            DiffOp::Added(s) => new.push(Word {
                kind: "ins",
                text: s.clone(),
            }),
        }
    }
    (old, new)
}

fn editor_for(
    app: &Shared,
    who: &Signed,
    key: String,
    lang: String,
    body: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let store = app.deps.store.as_ref();
    let current = tpl::current(store)?;
    let reference = reference_of(&current, &key);
    let saved = current.get(&(key.clone(), lang.clone()));
    let stale = saved.is_some_and(|t| tpl::is_stale(t, reference));
    let (mut old_side, mut new_side) = (Vec::new(), Vec::new());
    if let (true, Some(t), Some(r)) = (stale, saved, reference) {
        // The Italian text the translation was made from, against today's.
        let made_from = store.templates_since(0)?.into_iter().find(|e| {
            e.key == key && e.language == REFERENCE_LANGUAGE && e.version == t.reference_version
        });
        if let Some(old) = made_from {
            (old_side, new_side) = sides(&word_diff(&old.body, &r.body));
        }
    }
    let is_reference = lang == REFERENCE_LANGUAGE;
    render(&EditorPage {
        c: who.chrome(Page::Templates),
        body: body.unwrap_or_else(|| saved.map(|t| t.body.clone()).unwrap_or_default()),
        reference: (!is_reference)
            .then(|| reference.map(|r| r.body.clone()))
            .flatten(),
        is_reference,
        stale,
        old_side,
        new_side,
        error,
        key,
        lang,
    })
}

pub(crate) async fn editor(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<EditQuery>,
) -> Result<Response, WebError> {
    let lang = if q.language.is_empty() {
        REFERENCE_LANGUAGE.to_string()
    } else {
        q.language
    };
    super::off_async(&app, move |app| {
        editor_for(app, &who, q.key, lang, None, None)
    })
    .await
}

#[derive(serde::Deserialize)]
pub(crate) struct BodyForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    minor: Option<String>,
}

/// The htmx fragment under the editor: what `hub template put` would say.
pub(crate) async fn check(
    State(app): State<Shared>,
    who: Signed,
    Form(f): Form<BodyForm>,
) -> Result<Response, WebError> {
    let lang = domain::normalise_language_tag(&f.language);
    let current = crate::storage::blocking(&app.deps.store, tpl::current).await?;
    let reference = reference_of(&current, f.key.trim()).map(|r| r.body.clone());
    let verdict = match lang.as_deref() {
        None => Err("la lingua deve essere un codice come it, en, ar / the language must be a tag such as it, en, ar".to_string()),
        Some(REFERENCE_LANGUAGE) => domain::template::check(&f.body, None).map_err(|e| e.to_string()),
        Some(_) => match &reference {
            None => Err(TemplatesError::NoReference { key: f.key.trim().chars().take(100).collect() }.to_string()),
            Some(r) => domain::template::check(&f.body, Some(r)).map_err(|e| e.to_string()),
        },
    };
    let fragment = match verdict {
        Ok(()) => format!(
            r#"<p class="ok">✓ {}</p>"#,
            who.lang.texts().templates_check_ok
        ),
        Err(message) => format!(
            r#"<p class="error">✗ {}</p>"#,
            domain::escape_html(&message)
        ),
    };
    Ok(Html(fragment).into_response())
}

pub(crate) async fn save(
    State(app): State<Shared>,
    who: Signed,
    Form(f): Form<BodyForm>,
) -> Result<Response, WebError> {
    let (key, lang) = (f.key.trim().to_string(), f.language.trim().to_string());
    let put = {
        let (app, key, lang, body, user) = (
            app.clone(),
            key.clone(),
            lang.clone(),
            f.body.clone(),
            who.user.clone(),
        );
        let minor = f.minor.is_some();
        crate::storage::blocking(&app.deps.store.clone(), move |store| {
            tpl::put(
                store,
                Some(&app.deps.push),
                &key,
                &lang,
                &body,
                minor,
                &user,
            )
        })
        .await
    };
    match put {
        Ok(_) => Ok(Redirect::to("/templates?done=saved").into_response()),
        Err(TemplatesError::Storage(e)) => Err(e.into()),
        Err(e) => {
            let error = Some(e.to_string());
            let mut resp = super::off_async(&app, move |app| {
                editor_for(app, &who, key, lang, Some(f.body), error)
            })
            .await?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
    }
}
