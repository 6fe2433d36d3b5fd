//! Filling a template for one visitor, in their language and direction.

use std::collections::{BTreeMap, BTreeSet};

use super::parse::{parse, Segment};
use super::TemplateError;

/// Writing direction of a rendered answer; the desk puts it in the `dir`
/// attribute of the element holding [`Rendered::html`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Ltr,
    Rtl,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
        }
    }
}

/// A filled template: escaped HTML text (no elements except `<bdi>`) and the
/// direction to show it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub direction: Direction,
}

/// Languages whose usual script runs right to left (CLDR's likely script),
/// sorted for `binary_search`. `ku` is absent on purpose: Kurmanji is
/// written in Latin script unless the tag says `ku-Arab`.
const RTL_LANGUAGES: &[&str] = &[
    "ar", "arc", "azb", "bal", "bqi", "ckb", "dv", "fa", "glk", "he", "iw", "ji", "khw", "ks",
    "lrc", "mzn", "nqo", "pnb", "prs", "ps", "sd", "skr", "syr", "ug", "ur", "yi",
];

/// Right-to-left scripts (ISO 15924, lowercase), sorted. A script subtag
/// decides over the language: `pa-Arab` and `ku-Arab` are RTL, `az-Latn` is
/// not.
const RTL_SCRIPTS: &[&str] = &[
    "adlm", "arab", "aran", "hebr", "mand", "mend", "nkoo", "rohg", "samr", "syrc", "thaa", "yezi",
];

/// Direction for a BCP 47 tag (`ar`, `ur-PK`, `ku-Arab`, `pa_Arab`); an
/// unreadable tag gets LTR, the direction of the Italian fallback text.
pub fn direction(language: &str) -> Direction {
    let tag = language.trim().to_ascii_lowercase().replace('_', "-");
    let mut subtags = tag.split('-');
    let primary = subtags.next().unwrap_or_default();
    // A singleton first (`x-…`, `i-…`) makes the whole tag private or
    // grandfathered: nothing in it says how the text runs.
    if primary.len() < 2 {
        return Direction::Ltr;
    }
    // The script is the one four-letter alphabetic subtag before any
    // singleton (`-u-`, `-x-`), which starts extensions and private use.
    let script = subtags
        .take_while(|s| s.len() > 1)
        .find(|s| s.len() == 4 && s.bytes().all(|b| b.is_ascii_alphabetic()));
    let rtl = match script {
        Some(script) => RTL_SCRIPTS.binary_search(&script).is_ok(),
        None => RTL_LANGUAGES.binary_search(&primary).is_ok(),
    };
    if rtl {
        Direction::Rtl
    } else {
        Direction::Ltr
    }
}

/// Fills `body` with `vars` for a reader of `language`.
///
/// Every field needs a value: a missing one is an error naming all of them,
/// because an answer with a hole in it (a date, an office) misleads. Values
/// for fields the body does not use are ignored, so a desk can pass one set
/// of values to every template. Values are inserted once and never read as
/// template text, so a value containing `{{x}}` prints as such.
///
/// In an RTL language each value is wrapped in `<bdi>`: a Latin name, a
/// file number or a date inside Arabic text would otherwise be reordered
/// together with the neutral characters around it (slashes, dashes,
/// punctuation). `<bdi>` rather than U+2068…U+2069 because the output is
/// HTML anyway, the isolate stays visible in the markup, and an escaped
/// value can never close it early, whereas a value could carry its own
/// U+2069. LTR renderings are not wrapped, so their values must not be
/// able to turn the line around either: embedding, override and isolate
/// controls (U+202A–U+202E, U+2066–U+2069) are dropped from values in
/// every language, as an unclosed U+202E in a name would reverse the rest
/// of the line.
pub fn render(
    body: &str,
    language: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Rendered, TemplateError> {
    let segments = parse(body)?;
    let missing: BTreeSet<&str> = segments
        .iter()
        .filter_map(|s| match s {
            Segment::Field(name) if !vars.contains_key(*name) => Some(*name),
            _ => None,
        })
        .collect();
    if !missing.is_empty() {
        return Err(TemplateError::MissingValues(
            missing.into_iter().map(str::to_owned).collect(),
        ));
    }
    let direction = direction(language);
    let mut html = String::with_capacity(body.len() + body.len() / 4);
    for segment in segments {
        match segment {
            Segment::Text(text) => push_escaped(&mut html, text),
            Segment::Field(name) => {
                let value = vars.get(name).map(String::as_str).unwrap_or_default();
                if direction == Direction::Rtl {
                    html.push_str("<bdi>");
                    push_value(&mut html, value);
                    html.push_str("</bdi>");
                } else {
                    push_value(&mut html, value);
                }
            }
        }
    }
    Ok(Rendered { html, direction })
}

/// Marks (U+200E, U+200F, U+061C) are kept: unlike the controls dropped
/// here they affect only their neighbours, and names may need them.
fn push_value(out: &mut String, value: &str) {
    for c in value.chars() {
        if !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
            push_escaped_char(out, c);
        }
    }
}

fn push_escaped(out: &mut String, text: &str) {
    text.chars().for_each(|c| push_escaped_char(out, c));
}

/// `text` made safe inside HTML text and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

fn push_escaped_char(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}
