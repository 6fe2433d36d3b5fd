//! The record page: the visit form, saved through `RecordVisit`, with the
//! guidance panel for the procedure being recorded.

use super::chrome::Chrome;
use super::language::lang_of;
use super::panel::{panel_html, procedure_code, procedure_url, ProcedureQuery};
use super::respond::{agent_failure, html};
use super::texts::{self, Lang, Texts};
use super::visit_form::{intake_error_field, FieldErrors, VisitForm};
use super::Operator;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use proto::desk_server::Desk;
use tonic::Request;

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
    mediator: String,
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
                "mediator" => t.mediator,
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
                "mediator" => &mut e.mediator,
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
    c: Chrome,
    form: VisitForm,
    errs: Errs,
    saved: Option<Saved>,
    procedures: Vec<String>,
    countries: Vec<String>,
    channels: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    referrals: Vec<(&'static str, &'static str)>,
    mediators: Vec<(&'static str, String)>,
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
    let back = procedure_url("/", procedure_code(&form.procedure));
    let panel = panel_html(op, &form.procedure, &form.language, lang, &back).await?;
    Ok(RecordPage {
        t,
        c: Chrome::new(op, lang, t.title_record, "record", "/"),
        channels: domain::Channel::ALL
            .iter()
            .map(|c| (c.as_str(), texts::channel_label(*c, lang)))
            .collect(),
        outcomes: domain::Outcome::ALL
            .iter()
            .map(|o| (o.as_str(), texts::outcome_label(*o, lang)))
            .collect(),
        referrals: domain::catalogue::REFERRAL_OFFICE_LABELS.to_vec(),
        // The same names the hub's tables give them.
        mediators: domain::Mediator::ALL
            .iter()
            .map(|m| {
                let name = domain::disclosure::labels::name("mediator", m.as_str(), lang.code());
                (m.as_str(), name)
            })
            .collect(),
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
            ..Default::default()
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
