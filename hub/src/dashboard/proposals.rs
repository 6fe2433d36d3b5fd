//! Desk proposals on the templates page: each desk's wording beside the
//! canonical text it was made against, word by word, with its similarity,
//! and accept or decline through `crate::proposals::decide`, as
//! `hub proposal accept|decline` does.

use super::answer_templates::{sides, Word};
use super::auth::Signed;
use super::{Shared, WebError};
use crate::proposals::{self, shown, ProposalError, OPEN};
use crate::storage::Store;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::BTreeMap;

pub(crate) struct ProposalView {
    pub(crate) id: String,
    pub(crate) desk_id: String,
    pub(crate) key: String,
    pub(crate) language: String,
    /// `open`, `accepted` or `declined`
    pub(crate) state: String,
    pub(crate) similarity: String,
    pub(crate) base_version: u64,
    pub(crate) received_at: String,
    pub(crate) canonical: Vec<Word>,
    pub(crate) proposed: Vec<Word>,
}

impl ProposalView {
    pub(crate) fn open(&self) -> bool {
        self.state == OPEN
    }
}

/// Open proposals first, then the decided ones, newest first in each.
pub(crate) fn views(store: &dyn Store) -> Result<Vec<ProposalView>, WebError> {
    let mut all = proposals::list(store)?;
    if all.is_empty() {
        return Ok(Vec::new());
    }
    let log: BTreeMap<u64, String> = store
        .templates_since(0)?
        .into_iter()
        .map(|t| (t.version, t.body))
        .collect();
    all.reverse();
    all.sort_by_key(|p| p.state != OPEN);
    Ok(all
        .into_iter()
        .map(|p| {
            let base = log.get(&p.base_version).map_or("", String::as_str);
            let (canonical, proposed) = sides(&domain::word_diff(base, &p.body));
            let shown_words = |words: Vec<Word>| {
                words
                    .into_iter()
                    .map(|w| Word {
                        kind: w.kind,
                        text: shown(&w.text),
                    })
                    .collect()
            };
            ProposalView {
                similarity: format!("{:.0}%", p.similarity * 100.0),
                canonical: shown_words(canonical),
                proposed: shown_words(proposed),
                key: shown(&p.key),
                id: p.id,
                desk_id: p.desk_id,
                language: p.language,
                state: p.state,
                base_version: p.base_version,
                received_at: p.received_at,
            }
        })
        .collect())
}

async fn decide(app: &Shared, who: &Signed, id: &str, accept: bool) -> Result<Response, WebError> {
    let decided = {
        let (app, id, user) = (app.clone(), id.to_owned(), who.user.clone());
        crate::storage::blocking(&app.deps.store.clone(), move |store| {
            proposals::decide(store, Some(&app.deps.push), &id, accept, &user)
        })
        .await
    };
    match decided {
        Ok(_) => {
            let done = if accept { "accepted" } else { "declined" };
            Ok(Redirect::to(&format!("/templates?done={done}#proposals")).into_response())
        }
        Err(ProposalError::Storage(e)) => Err(e.into()),
        Err(ProposalError::NotFound(m)) => Err(WebError::NotFound(m)),
        Err(e) => Err(WebError::BadRequest(e.to_string())),
    }
}

pub(crate) async fn accept(
    State(app): State<Shared>,
    who: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    decide(&app, &who, &id, true).await
}

pub(crate) async fn decline(
    State(app): State<Shared>,
    who: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    decide(&app, &who, &id, false).await
}
