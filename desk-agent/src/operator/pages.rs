//! The record, guidance and status pages, and the language switch. Each
//! handler calls the `Desk` service the gRPC API serves.

use super::texts::{self, Lang, Texts};
use super::visit_form::{intake_error_field, FieldErrors, VisitForm};
use super::Operator;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use proto::desk_server::Desk;
use serde::Deserialize;
use tonic::Request;

/// The operator's language, from the cookie the switch sets.
pub(super) fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::from_cookie_header(headers.get(header::COOKIE).and_then(|v| v.to_str().ok()))
}

/// A page as HTML with `status`, or a plain 500 saying why it failed.
pub(super) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "operator page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("la pagina non si è potuta comporre / the page failed to render: {e}"),
            )
                .into_response()
        }
    }
}

/// A failure of the agent itself (not of what the operator typed).
pub(super) fn agent_failure(s: &tonic::Status) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("errore dello sportello / desk error: {}", s.message()),
    )
        .into_response()
}

/// A local path to come back to; anything else goes home.
pub(super) fn safe_back(back: &str) -> &str {
    if back.starts_with('/') && !back.starts_with("//") && back.len() <= 500 {
        back
    } else {
        "/"
    }
}

/// One guidance item as the page shows it.
pub(super) struct ItemView {
    id: String,
    version: u64,
    title: String,
    body: String,
    severity: &'static str,
    severity_label: &'static str,
    effective_from: String,
    expires_at: String,
    procedures: String,
    is_new: bool,
}

#[derive(Template)]
#[template(path = "guidance_list.html")]
pub(super) struct GuidanceList {
    t: &'static Texts,
    items: Vec<ItemView>,
    back: String,
}

/// The guidance in force for `procedure` (all when empty), urgent first, as
/// `ListGuidance` returns it, rendered as the list the page and the live
/// stream share.
pub(super) async fn guidance_list(
    op: &Operator,
    procedure: &str,
    lang: Lang,
    back: &str,
) -> Result<String, tonic::Status> {
    let list = op
        .desk
        .list_guidance(Request::new(proto::ListGuidanceRequest {
            procedure: procedure.into(),
        }))
        .await?
        .into_inner();
    let t = lang.texts();
    let items = list
        .items
        .into_iter()
        .map(|i| {
            let (severity, severity_label) = match proto::Severity::try_from(i.severity) {
                Ok(proto::Severity::Urgent) => ("urgent", t.urgent),
                Ok(proto::Severity::Important) => ("important", t.important),
                _ => ("info", t.info),
            };
            ItemView {
                is_new: !op.is_read(&i.id, i.version),
                procedures: i.procedures.join(", "),
                id: i.id,
                version: i.version,
                title: i.title,
                body: i.body,
                severity,
                severity_label,
                effective_from: i.effective_from,
                expires_at: i.expires_at,
            }
        })
        .collect();
    GuidanceList {
        t,
        items,
        back: back.into(),
    }
    .render()
    .map_err(|e| tonic::Status::internal(e.to_string()))
}

#[derive(Template)]
#[template(path = "panel.html")]
struct Panel {
    t: &'static Texts,
    procedure_code: String,
    procedure_name: String,
    visit_language: String,
    events_url: String,
    list: String,
}

/// The live guidance panel for a procedure (as typed or picked).
async fn panel_html(
    op: &Operator,
    procedure: &str,
    visit_language: &str,
    lang: Lang,
    back: &str,
) -> Result<String, tonic::Status> {
    let found = op
        .desk
        .local
        .catalogue()
        .get(procedure_code(procedure))
        .map(|p| {
            let name = if lang == Lang::En {
                &p.name_en
            } else {
                &p.name_it
            };
            (p.code.clone(), name.clone())
        });
    let (code, name) = found.unwrap_or_default();
    let list = guidance_list(op, &code, lang, back).await?;
    let events_url = format!("/indicazioni/eventi?procedure={}", form_urlencoded(&code));
    Panel {
        t: lang.texts(),
        procedure_code: code,
        procedure_name: name,
        visit_language: visit_language.into(),
        events_url,
        list,
    }
    .render()
    .map_err(|e| tonic::Status::internal(e.to_string()))
}

/// The code inside a picked `Name (code)`, or the text itself.
fn procedure_code(input: &str) -> &str {
    let input = input.trim();
    input
        .strip_suffix(')')
        .and_then(|s| s.rfind('(').map(|i| s[i + 1..].trim()))
        .unwrap_or(input)
}

pub(super) fn form_urlencoded(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct ProcedureQuery {
    procedure: String,
    language: String,
}

pub(super) async fn panel(
    State(op): State<Operator>,
    headers: HeaderMap,
    Query(q): Query<ProcedureQuery>,
) -> Response {
    if q.procedure.chars().count() > 200 || q.language.len() > 35 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "procedura troppo lunga / procedure too long",
        )
            .into_response();
    }
    let back = format!(
        "/?procedure={}",
        form_urlencoded(procedure_code(&q.procedure))
    );
    match panel_html(&op, &q.procedure, &q.language, lang_of(&headers), &back).await {
        Ok(body) => Html(body).into_response(),
        Err(s) => agent_failure(&s),
    }
}

/// What left the desk after a save: the record's fields and its JSON.
struct Saved {
    rows: Vec<(&'static str, String)>,
    json: String,
}

/// Messages next to each field, empty when the field is fine.
#[derive(Default)]
struct Errs {
    any: Vec<(&'static str, String)>,
    procedure: String,
    channel: String,
    language: String,
    outcome: String,
    referral: String,
    minutes: String,
    age: String,
    birth_date: String,
    sex: String,
    nationality: String,
    notes: String,
}

impl Errs {
    fn from_map(errors: FieldErrors, t: &Texts) -> Self {
        let mut e = Errs::default();
        for (field, message) in errors {
            let label = match field {
                "procedure" => t.procedure,
                "channel" => t.channel,
                "language" => t.language,
                "outcome" => t.outcome,
                "referral" => t.referral,
                "minutes" => t.minutes,
                "age" => t.age,
                "birth_date" => t.birth_date,
                "sex" => t.sex,
                "nationality" => t.nationality,
                "notes" => t.notes,
                _ => "",
            };
            let slot = match field {
                "procedure" => &mut e.procedure,
                "channel" => &mut e.channel,
                "language" => &mut e.language,
                "outcome" => &mut e.outcome,
                "referral" => &mut e.referral,
                "minutes" => &mut e.minutes,
                "age" => &mut e.age,
                "birth_date" => &mut e.birth_date,
                "sex" => &mut e.sex,
                "nationality" => &mut e.nationality,
                "notes" => &mut e.notes,
                _ => {
                    e.any.push(("procedure", message));
                    continue;
                }
            };
            e.any.push((field, format!("{label}: {message}")));
            *slot = message;
        }
        e
    }
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    t: &'static Texts,
    lang: &'static str,
    title: &'static str,
    nav: &'static str,
    here: String,
    desk_id: String,
    form: VisitForm,
    errs: Errs,
    saved: Option<Saved>,
    procedures: Vec<String>,
    countries: Vec<String>,
    channels: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    referrals: Vec<(&'static str, &'static str)>,
    languages: Vec<(&'static str, String)>,
    scrub_notes: bool,
    panel: String,
}

async fn record_view(
    op: &Operator,
    lang: Lang,
    form: VisitForm,
    errs: Errs,
    saved: Option<Saved>,
) -> Result<RecordPage, tonic::Status> {
    let t = lang.texts();
    let en = lang == Lang::En;
    // The catalogue the agent serves through `ListProcedures`.
    let procedures = op
        .desk
        .list_procedures(Request::new(proto::ListProceduresRequest::default()))
        .await?
        .into_inner()
        .procedures
        .into_iter()
        .map(|p| {
            let name = if en { p.name_en } else { p.name_it };
            format!("{name} ({})", p.code)
        })
        .collect();
    let countries = domain::COUNTRIES
        .iter()
        .map(|c| format!("{} ({})", c.name(lang.code()), c.code))
        .collect();
    let back = format!(
        "/?procedure={}",
        form_urlencoded(procedure_code(&form.procedure))
    );
    let panel = panel_html(op, &form.procedure, &form.language, lang, &back).await?;
    Ok(RecordPage {
        t,
        lang: lang.code(),
        title: t.title_record,
        nav: "record",
        here: "/".into(),
        desk_id: op.desk.desk_id.clone(),
        channels: domain::Channel::ALL
            .iter()
            .map(|c| (c.as_str(), texts::channel_label(*c, lang)))
            .collect(),
        outcomes: domain::Outcome::ALL
            .iter()
            .map(|o| (o.as_str(), texts::outcome_label(*o, lang)))
            .collect(),
        referrals: domain::catalogue::REFERRAL_OFFICE_LABELS.to_vec(),
        languages: texts::VISIT_LANGUAGES
            .iter()
            .map(|l| (l.0, texts::language_name(l.0, lang)))
            .collect(),
        scrub_notes: op.scrub_notes,
        form,
        errs,
        saved,
        procedures,
        countries,
        panel,
    })
}

pub(super) async fn record_page(
    State(op): State<Operator>,
    headers: HeaderMap,
    Query(q): Query<ProcedureQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let mut form = VisitForm::fresh();
    if q.procedure.chars().count() <= 200 {
        form.procedure = q.procedure;
    }
    match record_view(&op, lang, form, Errs::default(), None).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(s) => agent_failure(&s),
    }
}

/// Saves a visit through `RecordVisit`. A refusal comes back as the same
/// form with every value kept and the message beside its field (422).
pub(super) async fn record_visit(
    State(op): State<Operator>,
    headers: HeaderMap,
    Form(form): Form<VisitForm>,
) -> Response {
    let lang = lang_of(&headers);
    let t = lang.texts();
    let today = chrono::Local::now().date_naive();
    let refused = |errors: FieldErrors, form: VisitForm| {
        let op = op.clone();
        async move {
            match record_view(&op, lang, form, Errs::from_map(errors, t), None).await {
                Ok(page) => html(StatusCode::UNPROCESSABLE_ENTITY, &page),
                Err(s) => agent_failure(&s),
            }
        }
    };
    let visit = match form.to_visit(&op.desk.local.catalogue(), today, lang) {
        Ok(v) => v,
        Err(errors) => return refused(errors, form).await,
    };
    let answer = op
        .desk
        .record_visit(Request::new(proto::RecordVisitRequest {
            visit: Some(visit),
        }))
        .await;
    let record = match answer {
        Ok(r) => r.into_inner().record.unwrap_or_default(),
        Err(s) if s.code() == tonic::Code::InvalidArgument => {
            let (field, message) = intake_error_field(s.message());
            let field = if field == "visited_at" {
                "visit"
            } else {
                field
            };
            return refused(FieldErrors::from([(field, message)]), form).await;
        }
        Err(s) => return agent_failure(&s),
    };
    let json = crate::intake::record_json(&record);
    let rows = json
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| {
                    let key = crate::intake::RECORD_KEYS.iter().find(|rk| **rk == k)?;
                    Some((*key, v.as_str().unwrap_or("—").to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let saved = Saved {
        rows,
        json: serde_json::to_string_pretty(&json).unwrap_or_default(),
    };
    match record_view(&op, lang, form.next(), Errs::default(), Some(saved)).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(s) => agent_failure(&s),
    }
}

#[derive(Template)]
#[template(path = "guidance.html")]
struct GuidancePage {
    t: &'static Texts,
    lang: &'static str,
    title: &'static str,
    nav: &'static str,
    here: String,
    desk_id: String,
    panel: String,
}

pub(super) async fn guidance_page(
    State(op): State<Operator>,
    headers: HeaderMap,
    Query(q): Query<ProcedureQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let t = lang.texts();
    let procedure = if q.procedure.chars().count() <= 200 {
        q.procedure
    } else {
        String::new()
    };
    let here = format!("/indicazioni?procedure={}", form_urlencoded(&procedure));
    match panel_html(&op, &procedure, "it", lang, &here).await {
        Ok(panel) => html(
            StatusCode::OK,
            &GuidancePage {
                t,
                lang: lang.code(),
                title: t.title_guidance,
                nav: "guidance",
                here,
                desk_id: op.desk.desk_id.clone(),
                panel,
            },
        ),
        Err(s) => agent_failure(&s),
    }
}

#[derive(Deserialize)]
pub(super) struct ReadForm {
    id: String,
    version: u64,
    #[serde(default)]
    back: String,
}

pub(super) async fn mark_read(State(op): State<Operator>, Form(f): Form<ReadForm>) -> Response {
    if f.id.len() > domain::anonymise::MAX_FIELD_LEN {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "id troppo lungo / id too long",
        )
            .into_response();
    }
    op.mark_read(f.id, f.version);
    Redirect::to(safe_back(&f.back)).into_response()
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    t: &'static Texts,
    lang: &'static str,
    title: &'static str,
    nav: &'static str,
    here: String,
    desk_id: String,
    s: proto::DeskStatus,
    guidance_version: u64,
    template_version: u64,
    catalogue_version: u64,
}

pub(super) async fn status_page(State(op): State<Operator>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let t = lang.texts();
    match op
        .desk
        .get_status(Request::new(proto::GetStatusRequest {}))
        .await
    {
        Ok(s) => {
            let s = s.into_inner();
            let v = s.versions.unwrap_or_default();
            html(
                StatusCode::OK,
                &StatusPage {
                    t,
                    lang: lang.code(),
                    title: t.title_status,
                    nav: "status",
                    here: "/stato".into(),
                    desk_id: op.desk.desk_id.clone(),
                    guidance_version: v.guidance,
                    template_version: v.template,
                    catalogue_version: v.catalogue,
                    s,
                },
            )
        }
        Err(s) => agent_failure(&s),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct SwitchQuery {
    to: String,
    back: String,
}

pub(super) async fn switch_language(Query(q): Query<SwitchQuery>) -> Response {
    let value = if q.to == "en" { "en" } else { "it" };
    (
        [(
            header::SET_COOKIE,
            format!(
                "{}={value}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict",
                Lang::COOKIE
            ),
        )],
        Redirect::to(safe_back(&q.back)),
    )
        .into_response()
}

pub(super) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Pagina non trovata / page not found").into_response()
}
