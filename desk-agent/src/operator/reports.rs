//! "Segnala un problema": the small form under a card, a guidance item and
//! an answer posts here (POST, so that the comment never sits in a URL or
//! the browser's history), and `/segnalazioni` lists the desk's reports
//! with where each stands, in words. Both go through `DeskService`, as the
//! local API does.

use super::chrome::Chrome;
use super::language::lang_of;
use super::respond::{agent_failure, html, safe_back};
use super::texts::{Lang, Texts};
use super::Operator;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub(super) struct ReportForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    item_id: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    back: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    t: &'static Texts,
    c: Chrome,
    ok: bool,
    /// The comment as stored, scrubbed.
    saved: String,
    message: String,
    /// Whether the form is worth showing again (the item exists).
    retry: bool,
    kind: String,
    item_id: String,
    language: String,
    reason: String,
    comment: String,
    back: String,
}

/// Most characters kept of a field the page echoes back.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

pub(super) async fn report_sent(
    State(op): State<Operator>,
    headers: HeaderMap,
    Form(f): Form<ReportForm>,
) -> Response {
    let lang = lang_of(&headers);
    let t = lang.texts();
    let back = safe_back(&f.back).to_string();
    let asked = proto::ReportItemRequest {
        kind: f.kind.clone(),
        item_id: f.item_id.clone(),
        language: f.language.clone(),
        reason: f.reason.clone(),
        comment: f.comment.clone(),
    };
    let mut page = ReportPage {
        t,
        c: Chrome::new(&op, lang, t.report_title, "reports", "/segnalazioni"),
        ok: false,
        saved: String::new(),
        message: String::new(),
        retry: false,
        kind: cut(&f.kind, 20),
        item_id: cut(&f.item_id, 200),
        language: cut(&f.language, 35),
        reason: cut(&f.reason, 20),
        comment: cut(&f.comment, domain::scrub::MAX_COMMENT_CHARS),
        back,
    };
    match op.desk.report_item_now(asked).await {
        Ok(report) => {
            page.ok = true;
            page.saved = report.comment;
            page.comment.clear();
            html(StatusCode::OK, &page)
        }
        Err(s) => {
            // The operator's words are kept for another try, unless the
            // item itself is gone (nothing to report on) or the desk failed.
            page.retry = matches!(
                s.code(),
                tonic::Code::InvalidArgument | tonic::Code::ResourceExhausted
            );
            page.message = s.message().to_string();
            html(crate::status::http_status(s.code()), &page)
        }
    }
}

/// One report as the list shows it.
struct Row {
    kind: &'static str,
    label: String,
    language: String,
    version: u64,
    reason: &'static str,
    comment: String,
    state: String,
    state_class: &'static str,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    t: &'static Texts,
    c: Chrome,
    rows: Vec<Row>,
}

pub(super) async fn reports_page(State(op): State<Operator>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let t = lang.texts();
    let local = std::sync::Arc::clone(&op.desk.local);
    let held = match tokio::task::spawn_blocking(move || local.reports()).await {
        Ok(Ok(held)) => held,
        Ok(Err(e)) => return agent_failure(&e.into()),
        Err(e) => return agent_failure(&crate::status::lost_task(e)),
    };
    let rows = held.into_iter().map(|s| row(&op, lang, s)).collect();
    html(
        StatusCode::OK,
        &ReportsPage {
            t,
            c: Chrome::new(&op, lang, t.title_reports, "reports", "/segnalazioni"),
            rows,
        },
    )
}

fn row(op: &Operator, lang: Lang, s: proto::DeskReportState) -> Row {
    let t = lang.texts();
    let r = s.report.unwrap_or_default();
    let (state, state_class) = state_in_words(t, &s.refused, s.sent, s.status.as_ref());
    Row {
        kind: match r.kind.as_str() {
            "card" => t.kind_card,
            "guidance" => t.kind_guidance,
            "template" => t.kind_template,
            _ => t.kind_procedure,
        },
        label: label(op, lang, &r),
        language: r.language.clone(),
        version: r.item_version,
        reason: match r.reason.as_str() {
            "wrong" => t.reason_wrong,
            "outdated" => t.reason_outdated,
            _ => t.reason_unclear,
        },
        comment: r.comment,
        state,
        state_class,
    }
}

/// The item's name where the desk knows one (a procedure's name, a
/// guidance item's title), else its id.
fn label(op: &Operator, lang: Lang, r: &proto::DeskReport) -> String {
    let local = &op.desk.local;
    match r.kind.as_str() {
        "guidance" => match local.guidance_item(&r.item_id) {
            Ok(Some(item)) if !item.title.is_empty() => item.title,
            _ => r.item_id.clone(),
        },
        "template" => r.item_id.clone(),
        _ => match local.catalogue().get(&r.item_id) {
            Some(p) if lang == Lang::En && !p.name_en.is_empty() => p.name_en.clone(),
            Some(p) => p.name_it.clone(),
            None => r.item_id.clone(),
        },
    }
}

/// "aperta", "corretta nella versione N", "respinta: motivo".
pub(super) fn state_in_words(
    t: &Texts,
    refused: &str,
    sent: bool,
    status: Option<&proto::ReportStatus>,
) -> (String, &'static str) {
    if !refused.is_empty() {
        return (format!("{}: {refused}", t.state_refused), "refused");
    }
    let with_note = |head: String, note: &str| {
        if note.is_empty() {
            head
        } else {
            format!("{head}: {note}")
        }
    };
    match status {
        Some(st) if st.state == "fixed" => (
            with_note(format!("{} {}", t.state_fixed, st.fixed_version), &st.note),
            "fixed",
        ),
        Some(st) if st.state == "declined" => (
            with_note(t.state_declined.to_string(), &st.note),
            "declined",
        ),
        Some(_) => (t.state_open.to_string(), "open"),
        None if sent => (t.state_open.to_string(), "open"),
        None => (t.state_waiting.to_string(), "waiting"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::texts::IT;

    #[test]
    fn states_read_as_words() {
        let st = |state: &str, v, note: &str| proto::ReportStatus {
            report_id: String::new(),
            state: state.into(),
            fixed_version: v,
            note: note.into(),
        };
        assert_eq!(state_in_words(&IT, "", false, None).0, "in attesa di invio");
        assert_eq!(state_in_words(&IT, "", true, None).0, "aperta");
        assert_eq!(
            state_in_words(&IT, "", true, Some(&st("fixed", 12, ""))).0,
            "corretta nella versione 12"
        );
        assert_eq!(
            state_in_words(&IT, "", true, Some(&st("declined", 0, "già giusto"))).0,
            "respinta: già giusto"
        );
    }
}
