//! The desks page: who is connected, how far behind each desk is, and the
//! forms that enrol (with the bundle as a download) and revoke a desk.

use super::auth::Signed;
use super::i18n::Lang;
use super::{render, Chrome, Done, Page, Shared, WebError};
use crate::admin::{self, AdminError, AppliedVersions, DeskRow};
use crate::connections::DeskSide;
use crate::storage::StorageError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

/// A desk with records waiting this long after its last acknowledged batch
/// is not keeping up.
const ACK_LAG: chrono::Duration = chrono::Duration::minutes(5);

pub(crate) struct DeskView {
    pub(crate) id: String,
    pub(crate) connected: bool,
    pub(crate) revoked: bool,
    pub(crate) lagging: bool,
    pub(crate) last_seen: String,
    pub(crate) last_ack: String,
    pub(crate) pending: String,
    pub(crate) records: u64,
    pub(crate) versions: String,
    pub(crate) rejection: Option<String>,
    /// The outbox's incarnation, short, and how many the hub has seen.
    pub(crate) incarnation: String,
    /// Why the desk is flagged as back with older data, if it is.
    pub(crate) older_state: Option<String>,
    /// What was lost, said plainly, when the hub no longer holds records it
    /// had acknowledged and the desk no longer keeps them.
    pub(crate) lost: Option<String>,
}

/// How long ago, in the operator's language.
pub(crate) fn ago(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (chrono::Utc::now() - at).num_seconds().max(0);
    let amount = match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h", secs / 3600),
        _ => format!(
            "{} {}",
            secs / 86_400,
            if lang == Lang::It { "g" } else { "d" }
        ),
    };
    match lang {
        Lang::It => format!("{amount} fa"),
        Lang::En => format!("{amount} ago"),
    }
}

fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// A desk stands out when it is not connected, runs old versions, or has
/// records waiting with no acknowledgement for a while.
pub(crate) fn lagging(row: &DeskRow, side: &DeskSide, current: &AppliedVersions) -> bool {
    if row.revoked {
        return false;
    }
    let pending = side.outbox_last_seq.saturating_sub(row.last_seq);
    let stuck = pending > 0
        && side
            .last_ack
            .is_none_or(|t| chrono::Utc::now() - t > ACK_LAG);
    let behind =
        row.versions.guidance < current.guidance || row.versions.template < current.template;
    !row.connected || behind || stuck
}

pub(crate) fn current_versions(app: &Shared) -> AppliedVersions {
    AppliedVersions {
        guidance: app.deps.push.guidance_version(),
        template: app.deps.push.template_version(),
        ..Default::default()
    }
}

pub(crate) fn views(app: &Shared, lang: Lang) -> Result<Vec<DeskView>, WebError> {
    let rows = admin::list_desks(app.deps.store.as_ref(), Some(&app.deps.connections))?;
    let current = current_versions(app);
    Ok(rows
        .into_iter()
        .map(|r| {
            let side = app.deps.connections.desk_side(&r.desk_id);
            let never = lang.texts().never.to_string();
            DeskView {
                lagging: lagging(&r, &side, &current),
                last_seen: r
                    .last_seen
                    .as_deref()
                    .and_then(parse_time)
                    .map_or(never.clone(), |t| ago(lang, t)),
                last_ack: side.last_ack.map_or(never, |t| ago(lang, t)),
                pending: if side.outbox_last_seq == 0 {
                    lang.texts().unknown.to_string()
                } else {
                    side.outbox_last_seq.saturating_sub(r.last_seq).to_string()
                },
                records: r.records,
                versions: format!(
                    "{} / {} / {}",
                    r.versions.guidance, r.versions.template, r.versions.catalogue
                ),
                rejection: r.last_rejection,
                incarnation: match r.incarnations {
                    0 => lang.texts().unknown.to_string(),
                    1 => r.incarnation.chars().take(8).collect(),
                    n => format!(
                        "{} (#{n})",
                        r.incarnation.chars().take(8).collect::<String>()
                    ),
                },
                older_state: r.older_state.as_ref().map(|o| {
                    lang.texts()
                        .desks_older_state_detail
                        .replace("{desk}", &o.desk_held.to_string())
                        .replace("{hub}", &o.hub_held.to_string())
                }),
                lost: (r.records_lost > 0).then(|| {
                    lang.texts()
                        .desks_lost_detail
                        .replace("{n}", &r.records_lost.to_string())
                }),
                connected: r.connected,
                revoked: r.revoked,
                id: r.desk_id,
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "desks.html")]
struct DesksPage {
    c: Chrome,
    rows: Vec<DeskView>,
    current: String,
    error: Option<String>,
    notice: Option<&'static str>,
    new_id: String,
    hub_address: String,
}

fn page_for(
    app: &Shared,
    who: &Signed,
    error: Option<String>,
    notice: Option<&'static str>,
    new_id: String,
    hub_address: String,
) -> Result<Response, WebError> {
    let current = current_versions(app);
    render(&DesksPage {
        c: who.chrome(Page::Desks),
        rows: views(app, who.lang)?,
        current: format!(
            "{} / {} / {}",
            current.guidance, current.template, current.catalogue
        ),
        error,
        notice,
        new_id,
        hub_address,
    })
}

pub(crate) async fn page(
    State(app): State<Shared>,
    who: Signed,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let notice = (done.done == "revoked").then(|| who.lang.texts().desks_revoked_msg);
    let addr = if app.deps.desk_addresses.is_empty() {
        crate::client::dial_address(&app.deps.federation_addr)
    } else {
        app.deps.desk_addresses.join(", ")
    };
    super::off_async(&app, move |app| {
        page_for(app, &who, None, notice, String::new(), addr)
    })
    .await
}

#[derive(serde::Deserialize)]
pub(crate) struct AddForm {
    #[serde(default)]
    desk_id: String,
    #[serde(default)]
    hub_address: String,
}

/// Enrols the desk and answers with its bundle as a file to save.
pub(crate) async fn add(
    State(app): State<Shared>,
    who: Signed,
    Form(form): Form<AddForm>,
) -> Result<Response, WebError> {
    let (id, addr) = (
        form.desk_id.trim().to_string(),
        form.hub_address.trim().to_string(),
    );
    let result = {
        let app = app.clone();
        let (id, addr, user) = (id.clone(), addr.clone(), who.user.clone());
        crate::storage::blocking(&app.deps.store.clone(), move |store| {
            let addresses = runtime::bundle::split_hub_addresses(&addr);
            admin::add_desk(store, &app.deps.ca, &id, &addresses, &user)
        })
        .await
    };
    match result {
        Ok(bundle) => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/toml; charset=utf-8".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{id}.bundle\""),
                ),
            ],
            bundle.to_toml(),
        )
            .into_response()),
        Err(
            e @ (AdminError::InvalidDeskId(_)
            | AdminError::InvalidAddress(_)
            | AdminError::NoAddress
            | AdminError::NoCaKey
            | AdminError::Storage(StorageError::DeskExists(_))),
        ) => {
            let error = Some(e.to_string());
            let mut resp =
                super::off_async(&app, move |app| page_for(app, &who, error, None, id, addr))
                    .await?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn revoke(
    State(app): State<Shared>,
    who: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let revoked = {
        let (app, id, user) = (app.clone(), id.clone(), who.user.clone());
        crate::storage::blocking(&app.deps.store.clone(), move |store| {
            admin::revoke_desk(store, Some(&app.deps.connections), &id, &user)
        })
        .await
    };
    match revoked {
        Ok(()) => Ok(Redirect::to("/desks?done=revoked").into_response()),
        Err(AdminError::Storage(StorageError::UnknownDesk(_))) => Err(WebError::NotFound(format!(
            "lo sportello `{id}` non è registrato / desk `{id}` is not enrolled"
        ))),
        Err(e) => Err(e.into()),
    }
}
