//! The printable handout: the desk's copy of a procedure card, Italian
//! beside the visitor's language, typeset by the `handout` crate at the
//! desk, offline. The operator's additions for this visitor (an appointment,
//! a document still missing) live only in this request's memory and in the
//! PDF handed back: never stored, sent or logged.

use crate::card_view::{self, CardColumn};
use crate::service::DeskService;
use domain::Card;
use std::collections::HashMap;
use std::sync::OnceLock;
use tokio::sync::Semaphore;
use tonic::Status;

/// Most additions per handout, and characters per label and value.
const MAX_ADDITIONS: usize = 10;
const MAX_LABEL: usize = 60;
const MAX_VALUE: usize = 500;

/// Typesetting takes a core for tens of milliseconds: one render per core
/// at once, the others wait their turn.
fn renders() -> &'static Semaphore {
    static RENDERS: OnceLock<Semaphore> = OnceLock::new();
    RENDERS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
}

/// Renders the handout of `code` in `language` (Italian alone when it is
/// Italian or empty).
pub async fn render(
    service: &DeskService,
    code: &str,
    language: &str,
    additions: HashMap<String, String>,
) -> Result<Vec<u8>, Status> {
    if additions.len() > MAX_ADDITIONS
        || additions
            .iter()
            .any(|(k, v)| k.chars().count() > MAX_LABEL || v.chars().count() > MAX_VALUE)
    {
        return Err(Status::invalid_argument(format!(
            "aggiunte: al massimo {MAX_ADDITIONS}, etichette di {MAX_LABEL} e testi di {MAX_VALUE} caratteri / additions: at most {MAX_ADDITIONS}, labels of {MAX_LABEL} and values of {MAX_VALUE} characters"
        )));
    }
    let found = service.find_card(code, language)?;
    let reference: Card = found
        .reference
        .map(Card::from)
        .ok_or_else(|| Status::internal("the card has no reference"))?;
    let translation = found.translation.map(Card::from);
    let catalogue = service.local.catalogue();
    let mut additions: Vec<handout::Addition> = additions
        .into_iter()
        .filter(|(k, v)| !k.trim().is_empty() && !v.trim().is_empty())
        .map(|(label, value)| handout::Addition { label, value })
        .collect();
    additions.sort_by(|a, b| a.label.cmp(&b.label));
    let doc = handout::Handout {
        desk_name: service.desk_id.clone(),
        date: italian_date(chrono::Local::now().date_naive()),
        reference: typeset(card_view::column(&reference, &reference, &catalogue)),
        visitor: translation
            .as_ref()
            .map(|t| typeset(card_view::column(t, &reference, &catalogue))),
        additions,
        layout: handout::Layout::Auto,
    };
    let _turn = renders()
        .acquire()
        .await
        .map_err(|_| Status::unavailable("the agent is shutting down"))?;
    let rendered = tokio::task::spawn_blocking(move || handout::render_report(&doc))
        .await
        .map_err(|_| Status::internal("the handout renderer stopped"))?
        .map_err(refusal)?;
    if !rendered.missing_glyphs.is_empty() {
        // Count only: the characters may come from the visitor's additions.
        tracing::warn!(
            characters = rendered.missing_glyphs.len(),
            "the handout has characters no bundled font covers; they print as boxes"
        );
    }
    Ok(rendered.pdf)
}

/// The status of a handout that could not be made: a missing font is the
/// desk's to fix, anything else a fault of the renderer.
fn refusal(e: handout::HandoutError) -> Status {
    use handout::HandoutError::*;
    match e {
        CjkFontMissing { .. } | CjkFontUnreadable { .. } => {
            Status::failed_precondition(e.to_string())
        }
        Language { .. } => Status::invalid_argument(e.to_string()),
        Typeset(_) | Pdf(_) => {
            // Not the message: it may quote the visitor's additions.
            tracing::error!("the handout could not be typeset");
            Status::internal(e.to_string())
        }
    }
}

/// The handout crate's column for a laid-out card.
fn typeset(c: CardColumn) -> handout::Column {
    let texts = |lines: Vec<card_view::Line>| lines.into_iter().map(|l| l.text).collect();
    handout::Column {
        lang: c.language,
        title: c.title,
        sections: c
            .sections
            .into_iter()
            .map(|s| handout::Section {
                heading: s.heading.to_string(),
                paragraphs: texts(s.paragraphs),
                items: texts(s.items),
                numbered: s.numbered,
            })
            .collect(),
    }
}

/// "6 dicembre 2026": the date as an Italian office prints it.
fn italian_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ];
    let month = MONTHS[d.month0() as usize % 12];
    format!("{} {month} {}", d.day(), d.year())
}
