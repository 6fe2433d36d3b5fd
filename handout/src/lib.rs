//! The bilingual printable handout (issue 15): a procedure card in Italian
//! and in the visitor's language, the desk's name, the date and the
//! operator's additions for this visitor, typeset into an A4 PDF that the
//! visitor takes home.
//!
//! # Input
//!
//! A neutral document model, [`Handout`]: columns of titled sections of
//! paragraphs and lists. The caller maps a procedure card onto it (summary,
//! who can apply, steps, documents, costs, where, deadlines, legal basis,
//! common mistakes), in the order it wants them printed, with the same
//! sections in the same order in both columns: side by side, section `n` of
//! one column is set level with section `n` of the other.
//!
//! Every string is data, never markup: [`render`] serialises the handout to
//! JSON and a fixed typst template reads it from a virtual file, so a `#`,
//! `[`, `*`, `$` or `\` in a card or an addition prints as itself, and no
//! field can reach a file, a package or the network.
//!
//! # Typesetting
//!
//! [typst](https://typst.app) used as a library, with a `World` of its own
//! (two virtual files and the fonts; no disk, no packages, no clock) and
//! typst-pdf for the PDF. It shapes with rustybuzz (Arabic joining, Urdu
//! Nastaliq, Bengali conjuncts, Ethiopic syllables), applies the Unicode
//! bidi algorithm (a law reference or an amount inside Arabic text keeps its
//! order), breaks lines by the Unicode rules with dictionaries for Chinese,
//! and embeds every font as a subset. The PDF is tagged (structure, `/Lang`
//! per span) and glyph runs whose text cannot be given glyph by glyph carry
//! `/ActualText`, so copy and screen readers get the logical text.
//!
//! # Layout
//!
//! A4. Header: the desk's name and the date; footer: page `n / m`. The
//! titles, then the additions in a box, then the card. With a visitor's
//! language the card is set side by side (Italian left), except for scripts
//! that need the width, which are set one after the other (Italian first):
//! Urdu, whose Nastaliq lines are about twice as tall as Naskh ones, so half
//! the width would leave the Italian column half empty beside it. Arabic and
//! Urdu columns run right to left. [`Layout`] overrides the choice.
//!
//! # Fonts
//!
//! Noto (SIL Open Font License 1.1, `fonts/OFL.txt`), bundled in the
//! binary: Noto Sans (Latin, Cyrillic), Noto Naskh Arabic, Noto Nastaliq
//! Urdu, Noto Sans Bengali, Noto Sans Ethiopic, Regular and Bold, 3.5 MB.
//! Chinese, Japanese and Korean use the system's Noto Sans CJK (Debian
//! package `fonts-noto-cjk`), read on the first handout that needs it; when
//! it is missing, such a handout fails with [`HandoutError::CjkFontMissing`]
//! and every other handout still renders.
//!
//! # Use
//!
//! [`render`] is CPU-bound (p50 10 to 30 ms by language, p99 under 150 ms
//! for a one-page handout on a busy shared 2-core machine, see
//! `examples/render_bench.rs`): from async code, call it in
//! `tokio::task::spawn_blocking`. It may run on several threads at once.
//!
//! # Known limits
//!
//! - pdftotext cannot read Urdu back: Nastaliq sets a word's glyphs on a
//!   descending diagonal and Poppler groups glyphs into words and lines by
//!   position, so it cuts words apart. The text is in the PDF (every glyph
//!   maps to its character; glyphs shared by several characters carry
//!   `/ActualText`; spans are tagged `/Lang(ur)`), for viewers that extract
//!   in content order and for screen readers; typst offers no way to put
//!   one `/ActualText` on a whole word or line.
//! - pdftotext prints a line that mixes right-to-left and left-to-right
//!   text in the order it is drawn (with embedding marks), not in logical
//!   order; the tests check that the drawn order is the bidi algorithm's.
//! - Arabic comes back from pdftotext in presentation forms: equal to the
//!   card's text after NFKC.
//! - A character no bundled or CJK font has (an emoji in an addition) is
//!   printed as a box; [`render_report`] lists such characters.
//! - Nothing is written to disk. typst memoizes in process-wide caches;
//!   they are emptied at the end of every render, so an operator's
//!   additions stay in memory only in the returned PDF (and in the caller's
//!   [`Handout`]). A render running on another thread at that moment loses
//!   its cache too, and only takes a little longer.

mod fonts;
mod script;
mod world;

use serde::{Deserialize, Serialize};
use typst::layout::{Frame, FrameItem};
use typst_layout::PagedDocument;

pub use fonts::CJK_FONT_ENV;

/// One handout: what [`render`] typesets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handout {
    /// The desk's name, printed in the header of every page.
    pub desk_name: String,
    /// The date, already formatted as it should be printed (e.g.
    /// "6 dicembre 2026"), printed in the header.
    pub date: String,
    /// The card in Italian, the reference text.
    pub reference: Column,
    /// The card in the visitor's language; `None` when it is Italian.
    pub visitor: Option<Column>,
    /// The operator's additions for this visitor (an appointment date, a
    /// document still missing), printed in a box under the titles. They
    /// exist only in memory and in the returned PDF.
    pub additions: Vec<Addition>,
    /// Side by side or one after the other; `Auto` decides by script.
    #[serde(default)]
    pub layout: Layout,
}

/// The card in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// BCP-47-ish language tag: `it`, `en`, `fr`, `ar`, `ur`, `zh` (or
    /// `zh-Hant`), `uk`, `bn`, `ti`. It picks fonts, direction and the
    /// language of the tagged text; any other 2 or 3 letter code is set in
    /// Noto Sans, left to right.
    pub lang: String,
    /// The procedure's name, as the column's heading.
    pub title: String,
    pub sections: Vec<Section>,
}

/// A titled part of a card: paragraphs, then a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Left out when empty.
    pub heading: String,
    pub paragraphs: Vec<String>,
    /// A list after the paragraphs (steps, documents, costs).
    pub items: Vec<String>,
    /// Numbers the list (steps) instead of bullets.
    pub numbered: bool,
}

/// One of the operator's additions: a label and its value, one row each.
/// Its `Debug` leaves the value out: it is about one visitor, and a
/// `{:?}` of a [`Handout`] in a log must not carry it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addition {
    /// What it is ("Appuntamento in Questura"), printed in bold.
    pub label: String,
    /// The visitor's own detail ("12 gennaio 2027, ore 9:30").
    pub value: String,
}

impl std::fmt::Debug for Addition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Addition")
            .field("label", &self.label)
            .field(
                "value",
                &format_args!("<{} chars>", self.value.chars().count()),
            )
            .finish()
    }
}

/// How the two languages share the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Side by side, unless the visitor's script needs the width (Urdu).
    #[default]
    Auto,
    /// Two columns, Italian left.
    SideBySide,
    /// Italian, then the visitor's language, each full width.
    Stacked,
}

/// A rendered handout with what was noticed while setting it. Its `Debug`
/// gives the PDF's size, not its bytes (which hold the additions).
#[derive(Clone)]
pub struct Rendered {
    /// The PDF.
    pub pdf: Vec<u8>,
    pub pages: usize,
    /// Characters no font had, printed as empty boxes; one entry each,
    /// in order of first appearance. Empty for the languages above; an
    /// emoji in an addition would land here. Worth a warning in the log,
    /// not a refusal: the rest of the handout is still right.
    pub missing_glyphs: Vec<char>,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("pdf", &format_args!("<{} bytes>", self.pdf.len()))
            .field("pages", &self.pages)
            .field("missing_glyphs", &self.missing_glyphs)
            .finish()
    }
}

/// Why a handout could not be made. The messages are for the operator:
/// Italian first, then English.
#[derive(Debug, thiserror::Error)]
pub enum HandoutError {
    /// A Chinese (or Japanese, Korean) text needs the system's CJK font.
    #[error(
        "Manca il font per il cinese: installare il pacchetto Debian fonts-noto-cjk \
         (apt-get install fonts-noto-cjk), cercato in: {looked_in}. Le altre lingue \
         funzionano senza. / The Chinese font is missing: install the Debian package \
         fonts-noto-cjk (apt-get install fonts-noto-cjk), looked in: {looked_in}. \
         Other languages work without it."
    )]
    CjkFontMissing { looked_in: String },
    #[error(
        "Il font per il cinese {path} non si legge ({reason}): reinstallare il pacchetto \
         fonts-noto-cjk. / The Chinese font {path} cannot be read ({reason}): reinstall \
         the package fonts-noto-cjk."
    )]
    CjkFontUnreadable { path: String, reason: String },
    #[error(
        "Codice di lingua non valido «{lang}»: serve un codice di 2 o 3 lettere come it, \
         ar, zh. / Invalid language code «{lang}»: a 2 or 3 letter code such as it, ar, \
         zh is needed."
    )]
    Language { lang: String },
    /// A fault of this crate (the template), not of the input: worth a bug
    /// report with the message.
    #[error(
        "Impaginazione del foglio non riuscita, errore interno: {0}. / Typesetting the \
         handout failed, internal error: {0}."
    )]
    Typeset(String),
    #[error(
        "Scrittura del PDF non riuscita, errore interno: {0}. / Writing the PDF failed, \
         internal error: {0}."
    )]
    Pdf(String),
}

/// Typesets `handout` into an A4 PDF.
pub fn render(handout: &Handout) -> Result<Vec<u8>, HandoutError> {
    render_report(handout).map(|rendered| rendered.pdf)
}

/// [`render`], with the page count and the characters no font had.
pub fn render_report(handout: &Handout) -> Result<Rendered, HandoutError> {
    let handout = printable(handout);
    let data = document_data(&handout)?;
    let json = serde_json::to_vec(&data.json).map_err(|e| HandoutError::Typeset(e.to_string()))?;
    let world = world::HandoutWorld::new(json, data.fonts).map_err(HandoutError::Typeset)?;
    // typst memoizes layout and PDF export in process-wide caches, whose
    // entries hold the additions' text: they are emptied when this render
    // ends, however it ends, so that the visitor's details live only in the
    // returned PDF. Rendering from scratch costs a few milliseconds more.
    let _evict = EvictCaches;
    let compiled = typst::compile::<PagedDocument>(&world).output;
    let document = compiled.map_err(|errors| {
        HandoutError::Typeset(
            errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let pdf = typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).map_err(|errors| {
        HandoutError::Pdf(
            errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let mut missing_glyphs = Vec::new();
    for page in document.pages() {
        collect_missing(&page.frame, &mut missing_glyphs);
    }
    Ok(Rendered {
        pdf,
        pages: document.pages().len(),
        missing_glyphs,
    })
}

struct EvictCaches;

impl Drop for EvictCaches {
    fn drop(&mut self) {
        typst::comemo::evict(0);
    }
}

/// Glyph 0 is a font's `.notdef`, the empty box typst falls back to when no
/// font in the list has a character.
fn collect_missing(frame: &Frame, missing: &mut Vec<char>) {
    for (_, item) in frame.items() {
        match item {
            FrameItem::Group(group) => collect_missing(&group.frame, missing),
            FrameItem::Text(text) => {
                for glyph in text.glyphs.iter().filter(|g| g.id == 0) {
                    let chars = text.text.get(glyph.range()).unwrap_or_default().chars();
                    for c in chars.filter(|c| !c.is_whitespace()) {
                        if !missing.contains(&c) {
                            missing.push(c);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// What the template reads, and the fonts the world needs for it.
struct DocumentData<'a> {
    json: JsonDocument<'a>,
    fonts: fonts::FontSet,
}

/// The JSON the template reads: the handout plus the script decisions.
#[derive(Serialize)]
struct JsonDocument<'a> {
    title: &'a str,
    desk_name: &'a str,
    date: &'a str,
    stacked: bool,
    /// Fonts for text outside a column: header, footer, additions.
    fallback: Vec<&'static str>,
    columns: Vec<JsonColumn<'a>>,
    additions: &'a [Addition],
}

#[derive(Serialize)]
struct JsonColumn<'a> {
    lang: String,
    rtl: bool,
    fonts: Vec<&'static str>,
    size: f64,
    leading: f64,
    top_edge: &'static str,
    bottom_edge: &'static str,
    title: &'a str,
    sections: &'a [Section],
}

fn document_data(handout: &Handout) -> Result<DocumentData<'_>, HandoutError> {
    let mut columns = vec![(
        &handout.reference,
        script::profile(&handout.reference.lang)?,
    )];
    if let Some(visitor) = &handout.visitor {
        columns.push((visitor, script::profile(&visitor.lang)?));
    }

    let cjk = columns
        .iter()
        .find_map(|(_, p)| p.cjk)
        .or_else(|| any_text(handout, script::has_cjk).then_some(fonts::Cjk::SimplifiedChinese));
    let mut fonts = fonts::BUNDLED_FONTS.clone();
    let mut fallback: Vec<&'static str> = fonts::BUNDLED_FAMILIES.to_vec();
    if let Some(cjk) = cjk {
        let cjk_fonts = fonts::cjk_fonts()?;
        fonts.extend(&cjk_fonts);
        fallback.push(cjk.family());
    }

    let stacked = match handout.layout {
        Layout::SideBySide => false,
        Layout::Stacked => true,
        Layout::Auto => columns.get(1).is_some_and(|(_, p)| p.needs_width),
    };

    let json_columns = columns
        .into_iter()
        .map(|(column, profile)| {
            let mut col_fonts = profile.primary.clone();
            col_fonts.extend(profile.cjk.map(fonts::Cjk::family));
            for family in &fallback {
                if !col_fonts.contains(family) {
                    col_fonts.push(family);
                }
            }
            JsonColumn {
                lang: profile.lang.clone(),
                rtl: profile.rtl,
                fonts: col_fonts,
                size: profile.size_pt,
                leading: profile.leading_em,
                top_edge: profile.top_edge,
                bottom_edge: profile.bottom_edge,
                title: &column.title,
                sections: &column.sections,
            }
        })
        .collect::<Vec<_>>();

    Ok(DocumentData {
        json: JsonDocument {
            title: &handout.reference.title,
            desk_name: &handout.desk_name,
            date: &handout.date,
            stacked,
            fallback,
            columns: json_columns,
            additions: &handout.additions,
        },
        fonts,
    })
}

/// A copy with what would print as boxes taken out of every string: text
/// pasted into a form brings tabs, carriage returns and other control
/// characters. Line breaks stay (an addition typed on several lines); a tab
/// becomes a space.
fn printable(handout: &Handout) -> Handout {
    fn clean(s: &mut String) {
        if s.chars().any(|c| c.is_control() && c != '\n') {
            *s = s
                .replace("\r\n", "\n")
                .chars()
                .filter_map(|c| match c {
                    '\t' | '\r' => Some(' '),
                    '\n' => Some('\n'),
                    c if c.is_control() => None,
                    c => Some(c),
                })
                .collect();
        }
    }
    let mut copy = handout.clone();
    clean(&mut copy.desk_name);
    clean(&mut copy.date);
    for column in std::iter::once(&mut copy.reference).chain(copy.visitor.as_mut()) {
        clean(&mut column.title);
        for section in &mut column.sections {
            clean(&mut section.heading);
            section.paragraphs.iter_mut().for_each(clean);
            section.items.iter_mut().for_each(clean);
        }
    }
    for addition in &mut copy.additions {
        clean(&mut addition.label);
        clean(&mut addition.value);
    }
    copy
}

/// Whether any printed string of the handout satisfies `test`.
fn any_text(handout: &Handout, test: fn(&str) -> bool) -> bool {
    let columns = std::iter::once(&handout.reference).chain(handout.visitor.as_ref());
    let mut strings: Vec<&str> = vec![&handout.desk_name, &handout.date];
    for column in columns {
        strings.push(&column.title);
        for section in &column.sections {
            strings.push(&section.heading);
            strings.extend(section.paragraphs.iter().map(String::as_str));
            strings.extend(section.items.iter().map(String::as_str));
        }
    }
    for addition in &handout.additions {
        strings.push(&addition.label);
        strings.push(&addition.value);
    }
    strings.into_iter().any(test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_the_visitors_details_out() {
        let handout = Handout {
            additions: vec![Addition {
                label: "Documento mancante".into(),
                value: "passaporto di Amina".into(),
            }],
            ..Handout::default()
        };
        let printed = format!("{handout:?}");
        assert!(printed.contains("Documento mancante"), "{printed}");
        assert!(!printed.contains("Amina"), "{printed}");
        assert!(printed.contains("<19 chars>"), "{printed}");
    }
}
