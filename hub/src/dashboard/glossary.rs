//! The desks' search glossary: the file in force in an editor, saved with
//! the same checks as `hub glossary put` and pushed with the catalogue.

use super::auth::Signed;
use super::{render, Chrome, Done, Page, Shared, WebError};
use crate::catalogue::{self, CatalogueLogError};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "glossary.html")]
struct GlossaryPage {
    c: Chrome,
    body: String,
    groups: usize,
    problem: String,
    saved: bool,
}

fn groups(body: &str) -> usize {
    domain::Glossary::from_toml(body).map_or(0, |g| g.groups.len())
}

pub(crate) async fn page(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    let body = crate::storage::blocking(&app.deps.store, catalogue::glossary).await?;
    render(&GlossaryPage {
        c: who.chrome(Page::Cards),
        groups: groups(&body),
        body,
        problem: String::new(),
        saved: q.done == "saved",
    })
}

#[derive(Deserialize)]
pub(crate) struct GlossaryForm {
    body: String,
}

pub(crate) async fn save(
    State(app): State<Shared>,
    who: Signed,
    Form(f): Form<GlossaryForm>,
) -> Result<Response, WebError> {
    let (push, user, body) = (app.deps.push.clone(), who.user.clone(), f.body.clone());
    let saved = crate::storage::blocking(&app.deps.store, move |store| {
        catalogue::put_glossary(store, Some(&push), body, &user)
    })
    .await;
    match saved {
        Ok(_) => Ok(Redirect::to("/glossary?done=saved").into_response()),
        Err(e @ CatalogueLogError::Storage(_)) => Err(WebError::Internal(e.to_string())),
        // The coordinator's text stays in the editor beside what is wrong.
        Err(e) => render(&GlossaryPage {
            c: who.chrome(Page::Cards),
            groups: groups(&f.body),
            body: f.body,
            problem: e.to_string(),
            saved: false,
        }),
    }
}
