//! The guidance page: the current items with their rollout (which desks
//! have applied the version that wrote each), and the forms that publish,
//! amend and retire through `crate::guidance`, as the CLI does.

use super::auth::Signed;
use super::i18n::{Lang, Texts};
use super::{render, Chrome, Page, Shared, WebError};
use crate::guidance::{self, GuidanceError};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{GuidanceItem, Severity};

pub(crate) struct ItemView {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) severity: &'static str,
    pub(crate) severity_class: &'static str,
    pub(crate) procedures: String,
    pub(crate) legal_basis: String,
    pub(crate) effective_from: String,
    pub(crate) expires_at: String,
    pub(crate) version: u64,
    pub(crate) retired: bool,
    pub(crate) applied: Vec<String>,
    pub(crate) waiting: Vec<String>,
}

/// The form's fields, kept as typed so that a refused form comes back whole.
#[derive(Default)]
pub(crate) struct Draft {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) severity: String,
    pub(crate) procedures: Vec<String>,
    /// One law reference per line.
    pub(crate) legal_basis: String,
    pub(crate) effective_from: String,
    pub(crate) expires_at: String,
}

pub(crate) struct ProcOption {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) selected: bool,
}

#[derive(Template)]
#[template(path = "guidance.html")]
struct GuidancePage {
    c: Chrome,
    items: Vec<ItemView>,
    draft: Draft,
    options: Vec<ProcOption>,
    amending: bool,
    error: Option<String>,
    notice: Option<&'static str>,
}

fn severity_label(severity: Severity, t: &Texts) -> &'static str {
    match severity {
        Severity::Urgent => t.sev_urgent,
        Severity::Important => t.sev_important,
        Severity::Info => t.sev_info,
    }
}

fn view(app: &Shared, lang: Lang) -> Result<Vec<ItemView>, WebError> {
    let store = app.deps.store.as_ref();
    let mut desks = Vec::new();
    for d in store.desks()?.into_iter().filter(|d| !d.revoked) {
        let applied = store.push_state(&d.desk_id)?.guidance;
        desks.push((d.desk_id, applied));
    }
    let mut items: Vec<ItemView> = guidance::current(store)?
        .into_iter()
        .map(|i| {
            let (applied, waiting): (Vec<_>, Vec<_>) =
                desks.iter().partition(|(_, v)| *v >= i.version);
            ItemView {
                severity: severity_label(i.severity, lang.texts()),
                severity_class: i.severity.name(),
                procedures: i.procedures.join(", "),
                legal_basis: i.legal_basis.join("; "),
                applied: applied.into_iter().map(|(d, _)| d.clone()).collect(),
                waiting: waiting.into_iter().map(|(d, _)| d.clone()).collect(),
                id: i.id,
                title: i.title,
                body: i.body,
                effective_from: i.effective_from,
                expires_at: i.expires_at,
                version: i.version,
                retired: i.retired,
            }
        })
        .collect();
    // Newest first: what the coordinator just did is at the top.
    items.reverse();
    Ok(items)
}

fn options(app: &Shared, lang: Lang, selected: &[String]) -> Vec<ProcOption> {
    app.deps
        .push
        .active_catalogue()
        .iter()
        .map(|p| ProcOption {
            selected: selected.contains(&p.code),
            name: match lang {
                Lang::It => p.name_it.clone(),
                Lang::En => p.name_en.clone(),
            },
            code: p.code.clone(),
        })
        .collect()
}

fn page_for(
    app: &Shared,
    who: &Signed,
    draft: Draft,
    amending: bool,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    render(&GuidancePage {
        c: who.chrome(Page::Guidance),
        items: view(app, who.lang)?,
        options: options(app, who.lang, &draft.procedures),
        draft,
        amending,
        error,
        notice,
    })
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    edit: String,
    #[serde(default)]
    done: String,
}

pub(crate) async fn page(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let notice = match q.done.as_str() {
        "published" => Some(who.lang.texts().guidance_published_msg),
        "retired" => Some(who.lang.texts().guidance_retired_msg),
        _ => None,
    };
    super::off_async(&app, move |app| {
        let mut draft = Draft::default();
        let mut amending = false;
        if !q.edit.is_empty() {
            let item = guidance::current(app.deps.store.as_ref())?
                .into_iter()
                .find(|i| i.id == q.edit)
                .ok_or_else(|| {
                    WebError::NotFound(format!(
                        "nessuna indicazione `{0}` / no guidance item `{0}`",
                        q.edit
                    ))
                })?;
            amending = true;
            draft = Draft {
                severity: item.severity.name().into(),
                id: item.id,
                title: item.title,
                body: item.body,
                procedures: item.procedures,
                legal_basis: item.legal_basis.join("\n"),
                effective_from: item.effective_from,
                expires_at: item.expires_at,
            };
        }
        page_for(app, &who, draft, amending, None, notice)
    })
    .await
}

fn parse_draft(body: &[u8]) -> Result<Draft, WebError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| WebError::BadRequest(format!("modulo illeggibile / unreadable form: {e}")))?;
    let mut d = Draft::default();
    for (k, v) in pairs {
        match k.as_str() {
            "id" => d.id = v,
            "title" => d.title = v,
            "body" => d.body = v,
            "severity" => d.severity = v,
            "procedures" if !v.is_empty() => d.procedures.push(v),
            "legal_basis" => d.legal_basis = v,
            "effective_from" => d.effective_from = v,
            "expires_at" => d.expires_at = v,
            _ => {}
        }
    }
    Ok(d)
}

pub(crate) async fn publish(
    State(app): State<Shared>,
    who: Signed,
    body: Bytes,
) -> Result<Response, WebError> {
    let draft = parse_draft(&body)?;
    // The form offers the three names only; anything else is the default.
    let severity = Severity::from_name(&draft.severity).unwrap_or_default();
    let item = GuidanceItem {
        id: draft.id.clone(),
        title: draft.title.clone(),
        body: draft.body.clone(),
        procedures: draft.procedures.clone(),
        severity,
        effective_from: draft.effective_from.clone(),
        expires_at: draft.expires_at.clone(),
        version: 0,
        retired: false,
        legal_basis: draft.legal_basis.lines().map(str::to_string).collect(),
    };
    let result = {
        let (app, user) = (app.clone(), who.user.clone());
        crate::storage::blocking(&app.deps.store.clone(), move |store| {
            let catalogue = app.deps.push.active_catalogue();
            guidance::publish(store, Some(&app.deps.push), &catalogue, item, &user)
        })
        .await
    };
    match result {
        Ok(version) => {
            tracing::info!(version, user = %who.user, "guidance published from the dashboard");
            Ok(Redirect::to("/guidance?done=published").into_response())
        }
        Err(e @ GuidanceError::Invalid { .. }) => {
            let amending = !draft.id.trim().is_empty();
            let error = Some(e.to_string());
            let mut resp = super::off_async(&app, move |app| {
                page_for(app, &who, draft, amending, error, None)
            })
            .await?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(WebError::Internal(e.to_string())),
    }
}

pub(crate) async fn retire(
    State(app): State<Shared>,
    who: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let retired = {
        let (app, id, user) = (app.clone(), id.clone(), who.user.clone());
        crate::storage::blocking(&app.deps.store.clone(), move |store| {
            guidance::retire(store, Some(&app.deps.push), &id, &user)
        })
        .await
    };
    match retired {
        Ok(_) => Ok(Redirect::to("/guidance?done=retired").into_response()),
        Err(e @ (GuidanceError::NotFound(_) | GuidanceError::AlreadyRetired(_))) => {
            Err(WebError::BadRequest(e.to_string()))
        }
        Err(e) => Err(WebError::Internal(e.to_string())),
    }
}
