//! "Segnalazioni / Reports": operators' reports grouped by owner (a card's
//! owner, else the coordinator), open first, each with the item's name, the
//! version reported against, the desk, the reason and the scrubbed comment;
//! fixed (with the version) or declined (with why) through
//! `crate::reports::decide`, as `hub report fix|decline` does.

use super::auth::Signed;
use super::i18n::{Lang, Texts};
use super::{render, Chrome, Done, Page, Shared, WebError};
use crate::reports::{self, Decision, ReportError, COORDINATOR, OPEN};
use crate::storage::StoredReport;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

pub(crate) struct ReportView {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    /// The item's name where the hub knows one, else its id.
    pub(crate) label: String,
    pub(crate) item_id: String,
    pub(crate) language: String,
    pub(crate) item_version: u64,
    pub(crate) desk_id: String,
    pub(crate) reason: &'static str,
    pub(crate) comment: String,
    pub(crate) open: bool,
    pub(crate) state: String,
    pub(crate) received_at: String,
}

pub(crate) struct OwnerGroup {
    pub(crate) owner: String,
    pub(crate) open: usize,
    pub(crate) reports: Vec<ReportView>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    c: Chrome,
    groups: Vec<OwnerGroup>,
    notice: Option<&'static str>,
}

fn view(t: &Texts, names: &HashMap<String, String>, r: StoredReport) -> ReportView {
    let state = match r.state.as_str() {
        reports::FIXED => format!("{} {}", t.reports_state_fixed, r.fixed_version),
        reports::DECLINED => format!("{}: {}", t.reports_state_declined, r.note),
        _ => t.reports_state_open.to_string(),
    };
    let state = if r.state == reports::FIXED && !r.note.is_empty() {
        format!("{state}: {}", r.note)
    } else {
        state
    };
    let key = format!("{}/{}", r.kind, r.item_id);
    ReportView {
        kind: match r.kind.as_str() {
            "card" => t.reports_kind_card,
            "guidance" => t.reports_kind_guidance,
            "template" => t.reports_kind_template,
            _ => t.reports_kind_procedure,
        },
        label: names
            .get(&key)
            .cloned()
            .unwrap_or_else(|| r.item_id.clone()),
        reason: match r.reason.as_str() {
            "wrong" => t.reports_reason_wrong,
            "outdated" => t.reports_reason_outdated,
            _ => t.reports_reason_unclear,
        },
        open: r.state == OPEN,
        state,
        id: r.id,
        item_id: r.item_id,
        language: r.language,
        item_version: r.item_version,
        desk_id: r.desk_id,
        comment: r.comment,
        received_at: r.received_at,
    }
}

pub(crate) async fn page(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    let catalogue = app.deps.push.active_catalogue();
    let lang = who.lang;
    let (rows, guidance) = crate::storage::blocking(&app.deps.store, |store| {
        Ok::<_, WebError>((reports::rows(store)?, crate::guidance::current(store)?))
    })
    .await?;
    // Names by "kind/item_id": a procedure's name for cards and
    // procedures, a guidance item's title.
    let mut names: HashMap<String, String> = HashMap::new();
    for p in catalogue.iter() {
        let name = match lang {
            Lang::En if !p.name_en.is_empty() => p.name_en.clone(),
            _ => p.name_it.clone(),
        };
        names.insert(format!("card/{}", p.code), name.clone());
        names.insert(format!("procedure/{}", p.code), name);
    }
    for g in guidance {
        names.insert(format!("guidance/{}", g.id), reports::shown_text(&g.title));
    }
    let t = lang.texts();
    let mut by_owner: BTreeMap<String, Vec<StoredReport>> = BTreeMap::new();
    for r in rows {
        by_owner.entry(r.owner.clone()).or_default().push(r);
    }
    let mut groups: Vec<OwnerGroup> = by_owner
        .into_iter()
        .map(|(owner, mut list)| {
            // Open first, newest first within each.
            list.reverse();
            list.sort_by_key(|r| r.state != OPEN);
            OwnerGroup {
                owner: if owner == COORDINATOR {
                    t.reports_coordinator.to_string()
                } else {
                    owner
                },
                open: list.iter().filter(|r| r.state == OPEN).count(),
                reports: list.into_iter().map(|r| view(t, &names, r)).collect(),
            }
        })
        .collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.open));
    render(&ReportsPage {
        c: who.chrome(Page::Reports),
        groups,
        notice: match q.done.as_str() {
            "fixed" => Some(t.reports_fixed_done),
            "declined" => Some(t.reports_declined_done),
            _ => None,
        },
    })
}

#[derive(Deserialize)]
pub(crate) struct DecideForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
}

async fn decide(
    app: &Shared,
    who: &Signed,
    id: String,
    decision: Decision,
) -> Result<Response, WebError> {
    let fixed = matches!(decision, Decision::Fixed { .. });
    let (push, user) = (app.deps.push.clone(), who.user.clone());
    let decided = crate::storage::blocking(&app.deps.store, move |store| {
        reports::decide(store, Some(&push), &id, decision, &user)
    })
    .await;
    match decided {
        Ok(_) => {
            let done = if fixed { "fixed" } else { "declined" };
            Ok(Redirect::to(&format!("/reports?done={done}")).into_response())
        }
        Err(ReportError::Storage(e)) => Err(e.into()),
        Err(ReportError::NotFound(m)) => Err(WebError::NotFound(m)),
        Err(e) => Err(WebError::BadRequest(e.to_string())),
    }
}

pub(crate) async fn fix(
    State(app): State<Shared>,
    who: Signed,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Response, WebError> {
    // A version typed with spaces or a leading "v" is still the version.
    let typed = f.version.trim().trim_start_matches(['v', 'V']);
    let version = typed.parse::<u64>().map_err(|_| {
        WebError::BadRequest(
            "la versione che corregge è un numero, per esempio 12 / the fixing version is a number, e.g. 12"
                .into(),
        )
    })?;
    decide(
        &app,
        &who,
        id,
        Decision::Fixed {
            version,
            note: f.note,
        },
    )
    .await
}

pub(crate) async fn decline(
    State(app): State<Shared>,
    who: Signed,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Response, WebError> {
    decide(&app, &who, id, Decision::Declined { note: f.note }).await
}
