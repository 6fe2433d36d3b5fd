//! Procedure cards: which are due for review and who owns them, which
//! translations are stale (with the Italian diff), "still correct" in one
//! action, and the editor that checks a card as the coordinator types with
//! the same checks as `hub card put`.

use super::auth::Signed;
use super::{render, Chrome, Done, Page, Shared, WebError};
use crate::cards::{self, CardRow, CardsError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::card::REFERENCE_LANGUAGE;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "cards.html")]
struct CardsPage {
    c: Chrome,
    /// Each card with its procedure's name in the page's language.
    rows: Vec<(String, CardRow)>,
    due: Vec<(String, CardRow)>,
    without: Vec<(String, String)>,
    notice: Option<&'static str>,
}

pub(crate) async fn page(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    let catalogue = app.deps.push.active_catalogue();
    let rows =
        crate::storage::blocking(&app.deps.store, |store| cards::listing(store, &today())).await?;
    let named: Vec<(String, CardRow)> = rows
        .iter()
        .map(|r| {
            let name = catalogue.get(&r.code).map_or_else(
                || r.code.clone(),
                |p| match who.lang {
                    super::i18n::Lang::En => p.name_en.clone(),
                    _ => p.name_it.clone(),
                },
            );
            (name, r.clone())
        })
        .collect();
    let due = named
        .iter()
        .filter(|(_, r)| r.due.is_some())
        .cloned()
        .collect();
    let without = catalogue
        .iter()
        .filter(|p| !rows.iter().any(|r| r.code == p.code))
        .map(|p| (p.code.clone(), p.name_it.clone()))
        .collect();
    let t = who.lang.texts();
    render(&CardsPage {
        c: who.chrome(Page::Cards),
        rows: named,
        due,
        without,
        notice: match q.done.as_str() {
            "saved" => Some(t.cards_saved),
            "confirmed" => Some(t.cards_confirmed),
            _ => None,
        },
    })
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// "Still correct": one action, audited with the coordinator's name.
pub(crate) async fn confirm(
    State(app): State<Shared>,
    who: Signed,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (push, user) = (app.deps.push.clone(), who.user.clone());
    let done = crate::storage::blocking(&app.deps.store, move |store| {
        cards::confirm(
            store,
            Some(&push),
            &code,
            &user,
            chrono::Utc::now().date_naive(),
        )
    })
    .await;
    match done {
        Ok(_) => Ok(Redirect::to("/cards?done=confirmed").into_response()),
        Err(e @ CardsError::Storage(_)) => Err(WebError::Internal(e.to_string())),
        Err(e) => Err(WebError::BadRequest(e.to_string())),
    }
}

#[derive(Template)]
#[template(path = "card_edit.html")]
struct EditPage {
    c: Chrome,
    code: String,
    language: String,
    body: String,
    problems: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct EditQuery {
    code: String,
    #[serde(default)]
    language: String,
}

/// The editor, holding the card as it is (or the Italian one to translate).
pub(crate) async fn editor(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<EditQuery>,
) -> Result<Response, WebError> {
    let language = if q.language.trim().is_empty() {
        REFERENCE_LANGUAGE.to_string()
    } else {
        q.language.trim().chars().take(35).collect()
    };
    let code: String = q.code.trim().chars().take(100).collect();
    let held = crate::storage::blocking(&app.deps.store, cards::current).await?;
    let body = held
        .get(&(code.clone(), language.clone()))
        .or_else(|| held.get(&(code.clone(), REFERENCE_LANGUAGE.to_string())))
        .map(cards::to_toml)
        .unwrap_or_default();
    render(&EditPage {
        c: who.chrome(Page::Cards),
        code,
        language,
        body,
        problems: Vec::new(),
    })
}

#[derive(Deserialize)]
pub(crate) struct CardForm {
    code: String,
    language: String,
    body: String,
}

/// Every problem of a draft, as the checks name them.
async fn problems(app: &Shared, f: &CardForm) -> Result<Vec<String>, WebError> {
    let card = match cards::from_toml(&f.body, f.code.trim(), f.language.trim()) {
        Ok(card) => card,
        Err(e) => return Ok(split(&e)),
    };
    let checked = crate::storage::blocking(&app.deps.store, move |store| {
        Ok::<_, CardsError>(cards::prepare(store, card))
    })
    .await;
    match checked {
        Ok(Ok(_)) => Ok(Vec::new()),
        Ok(Err(e)) | Err(e) => match e {
            CardsError::Storage(_) => Err(WebError::Internal(e.to_string())),
            e => Ok(split(&e)),
        },
    }
}

fn split(e: &CardsError) -> Vec<String> {
    match e {
        CardsError::Problems(list) => list.iter().map(ToString::to_string).collect(),
        other => vec![other.to_string()],
    }
}

/// The htmx fragment under the editor: what `hub card put` would say.
pub(crate) async fn check(
    State(app): State<Shared>,
    who: Signed,
    Form(f): Form<CardForm>,
) -> Result<Response, WebError> {
    let found = problems(&app, &f).await?;
    let fragment = if found.is_empty() {
        format!(r#"<p class="ok">✓ {}</p>"#, who.lang.texts().cards_check_ok)
    } else {
        let items: String = found
            .iter()
            .map(|p| format!("<li>{}</li>", domain::escape_html(p)))
            .collect();
        format!(r#"<ul class="error">{items}</ul>"#)
    };
    Ok(Html(fragment).into_response())
}

pub(crate) async fn save(
    State(app): State<Shared>,
    who: Signed,
    Form(f): Form<CardForm>,
) -> Result<Response, WebError> {
    let found = problems(&app, &f).await?;
    if found.is_empty() {
        let card = cards::from_toml(&f.body, f.code.trim(), f.language.trim())
            .map_err(|e| WebError::BadRequest(e.to_string()))?;
        let (push, user) = (app.deps.push.clone(), who.user.clone());
        let saved = crate::storage::blocking(&app.deps.store, move |store| {
            cards::put(store, Some(&push), card, &user)
        })
        .await;
        match saved {
            Ok(_) => return Ok(Redirect::to("/cards?done=saved").into_response()),
            Err(e @ CardsError::Storage(_)) => return Err(WebError::Internal(e.to_string())),
            Err(e) => return render_edit(who, f, split(&e)),
        }
    }
    render_edit(who, f, found)
}

fn render_edit(who: Signed, f: CardForm, problems: Vec<String>) -> Result<Response, WebError> {
    render(&EditPage {
        c: who.chrome(Page::Cards),
        code: f.code,
        language: f.language,
        body: f.body,
        problems,
    })
}
