//! The free-text notes scrubber: personal data in an operator's note is
//! replaced by a typed token (`[TELEFONO]`, `[NOME]`, …) before the note
//! leaves the desk, and the hub runs the same detectors again on what it
//! receives.
//!
//! Every detector is either a `regex` (linear time by construction) or a
//! single pass over the text with a bounded look-ahead, and merging the
//! findings walks the text's words and tokens once, so scrubbing is linear
//! in the note's length whatever it contains. The `work` counter below lets
//! a test show it on adversarial input without timing anything. Each
//! detector lives in its own module; this one merges their findings and
//! writes the tokens.
//!
//! Findings always cover whole words: a token never leaves half a word
//! behind, which would both leak a fragment and garble the note.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

mod address;
mod birth_date;
mod codice_fiscale;
mod comment;
mod compact;
mod document;
mod email;
pub(crate) mod fold;
mod iban;
mod names;
mod phone;
mod words;

#[cfg(test)]
mod tests;

pub use codice_fiscale::is_valid_codice_fiscale;
pub use comment::{scrub_comment, StillPersonal, MAX_COMMENT_CHARS};
pub use iban::is_valid_iban;

/// Counts the scrubber's work in units that grow with the input: bytes a
/// regex search is handed, characters a hand-written loop steps over,
/// candidates it weighs. A test compares the counts at two input sizes to
/// show that scrubbing stays linear whatever the input, which timing cannot
/// show reliably on a shared machine. Outside tests it compiles to nothing.
pub(crate) mod work {
    #[cfg(test)]
    thread_local! {
        static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    #[cfg(test)]
    pub(crate) fn add(steps: usize) {
        STEPS.with(|s| s.set(s.get() + steps as u64));
    }

    #[cfg(not(test))]
    #[inline(always)]
    pub(crate) fn add(_: usize) {}

    /// The work counted on this thread since the last call.
    #[cfg(test)]
    pub(crate) fn take() -> u64 {
        STEPS.with(|s| s.replace(0))
    }
}

/// What a finding is; each kind has its own token in the scrubbed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    CodiceFiscale,
    Iban,
    Email,
    Documento,
    Telefono,
    DataNascita,
    Indirizzo,
    Nome,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::CodiceFiscale,
        Kind::Iban,
        Kind::Email,
        Kind::Documento,
        Kind::Telefono,
        Kind::DataNascita,
        Kind::Indirizzo,
        Kind::Nome,
    ];

    /// The label used in tokens and in the notes corpus, e.g. `TELEFONO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CodiceFiscale => "CODICE_FISCALE",
            Kind::Iban => "IBAN",
            Kind::Email => "EMAIL",
            Kind::Documento => "DOCUMENTO",
            Kind::Telefono => "TELEFONO",
            Kind::DataNascita => "DATA_NASCITA",
            Kind::Indirizzo => "INDIRIZZO",
            Kind::Nome => "NOME",
        }
    }

    /// The text that replaces a finding, e.g. `[TELEFONO]`.
    pub fn token(self) -> &'static str {
        match self {
            Kind::CodiceFiscale => "[CODICE_FISCALE]",
            Kind::Iban => "[IBAN]",
            Kind::Email => "[EMAIL]",
            Kind::Documento => "[DOCUMENTO]",
            Kind::Telefono => "[TELEFONO]",
            Kind::DataNascita => "[DATA_NASCITA]",
            Kind::Indirizzo => "[INDIRIZZO]",
            Kind::Nome => "[NOME]",
        }
    }

    /// The inverse of `as_str`.
    pub fn from_label(label: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == label)
    }
}

/// Personal data found in a text: what it is and where, as a byte range
/// that starts and ends on character (and word) boundaries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Finding {
    pub kind: Kind,
    pub span: Range<usize>,
}

/// Enough passes for any input: a pass only inserts tokens, which no
/// detector matches, so the second pass (run only when the first replaced
/// something) finds nothing in practice; the bound keeps the cost linear
/// even if that ever stopped being true.
const MAX_PASSES: usize = 3;

/// Replaces the personal data in `text` with typed tokens. `visitor_names`
/// are the visitor's own name and surname (one or more words each), which
/// are replaced wherever they appear, in any case and with or without
/// accents.
pub fn scrub(text: &str, visitor_names: &[&str]) -> String {
    let first = detect(text, visitor_names);
    if first.is_empty() {
        return text.to_owned();
    }
    let mut out = replace(text, &first);
    for _ in 1..MAX_PASSES {
        let findings = detect(&out, visitor_names);
        if findings.is_empty() {
            break;
        }
        out = replace(&out, &findings);
    }
    out
}

/// Personal data that needs no knowledge of the visitor: everything but
/// names. Sorted and non-overlapping. The hub's re-check refuses notes for
/// which this is not empty; tokens and the keep-list (law references,
/// amounts, procedure codes, office hours, appointment dates) are never
/// reported. Names are the one kind the hub cannot check again: it never
/// learns them, and any capitalised word could be one; they are replaced at
/// the desk, where the visitor's name is known.
pub fn find_personal_data(text: &str) -> Vec<Finding> {
    detect(text, &[])
}

/// Like `find_personal_data`, and the visitor's names too: what `scrub`
/// replaces, in order.
pub fn find_personal_data_with_names(text: &str, visitor_names: &[&str]) -> Vec<Finding> {
    detect(text, visitor_names)
}

fn detect(text: &str, visitor_names: &[&str]) -> Vec<Finding> {
    let mut found = Vec::new();
    let runs = compact::runs(text);
    codice_fiscale::find(text, &runs, &mut found);
    iban::find(text, &runs, &mut found);
    email::find(text, &mut found);
    document::find(text, &mut found);
    phone::find(text, &mut found);
    birth_date::find(text, &mut found);
    address::find(text, &mut found);
    let before_names = found.len();
    names::find(text, visitor_names, &mut found);
    // A name already replaced still marks where a date of birth may
    // follow, so the hub's re-check sees what the desk saw.
    let names: Vec<Range<usize>> = found[before_names..]
        .iter()
        .map(|f| f.span.clone())
        .chain(
            text.match_indices(Kind::Nome.token())
                .map(|(at, t)| at..at + t.len()),
        )
        .collect();
    work::add(text.len());
    birth_date::find_after_names(text, &names, &mut found);
    merge(text, found)
}

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    let labels: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    regex(&format!(r"\[(?:{})\]", labels.join("|")))
});

/// Compiles one of this module's constant patterns; a unit test compiles
/// every one, so a failure here is a bug caught before release.
#[allow(clippy::expect_used)]
pub(crate) fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the scrubber's patterns are constants covered by tests")
}

/// Letters and digits of scripts that separate words with spaces. Ideographs
/// and kana are left out: a Chinese sentence has no spaces, and widening a
/// finding to its "word" would swallow the whole sentence.
pub(crate) fn is_word_char(c: char) -> bool {
    (c.is_alphanumeric() || fold::is_combining(c)) && !is_unspaced_script(c)
}

/// Scripts written without spaces between words.
pub(crate) fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{2FDF}'   // CJK radicals
        | '\u{3040}'..='\u{30FF}' // hiragana, katakana
        | '\u{3100}'..='\u{312F}' // bopomofo
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility
        | '\u{0E00}'..='\u{0E7F}' // Thai
        | '\u{20000}'..='\u{2FA1F}')
}

/// Widens findings to whole words, sorts, drops findings inside existing
/// tokens and merges overlaps (and names separated only by spaces, so that
/// "Giuseppina Verdastri" becomes one `[NOME]`).
fn merge(text: &str, mut found: Vec<Finding>) -> Vec<Finding> {
    let tokens: Vec<Range<usize>> = TOKEN.find_iter(text).map(|m| m.range()).collect();
    work::add(text.len());
    widen_to_words(text, &mut found);
    found.retain(|f| !f.span.is_empty());
    found.sort_by_key(|f| (f.span.start, std::cmp::Reverse(f.span.end)));
    // Tokens are sorted and disjoint, and findings are sorted by start: the
    // one token that can hold a finding is the first that ends after the
    // finding's start, and it only moves forward. Checking every token for
    // every finding would be quadratic in a note full of both.
    let mut next_token = 0;
    found.retain(|f| {
        while tokens
            .get(next_token)
            .is_some_and(|t| t.end <= f.span.start)
        {
            work::add(1);
            next_token += 1;
        }
        work::add(1);
        !tokens
            .get(next_token)
            .is_some_and(|t| t.start <= f.span.start && f.span.end <= t.end)
    });
    let mut merged: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        if let Some(last) = merged.last_mut() {
            let joins_names = last.kind == Kind::Nome
                && f.kind == Kind::Nome
                && text
                    .get(last.span.end..f.span.start)
                    .is_some_and(|gap| gap.chars().all(|c| c == ' ' || c == '-' || c == '\''));
            if f.span.start < last.span.end || joins_names {
                // The longer finding names the union: an address that
                // contains a name is an address.
                if f.span.len() > last.span.len() {
                    last.kind = f.kind;
                }
                last.span.end = last.span.end.max(f.span.end);
                continue;
            }
        }
        merged.push(f);
    }
    merged
}

/// Widens every finding to the words it touches. One long word can hold
/// many findings ("xRSSMRA85T10A562SxRSSMRA85T10A562S…"), so the text's
/// words are found in one pass and each finding's edges are looked up in
/// order of position, rather than each finding walking the whole word.
fn widen_to_words(text: &str, found: &mut [Finding]) {
    if found.is_empty() {
        return;
    }
    let words = word_runs(text);
    let mut by_start: Vec<usize> = (0..found.len()).collect();
    by_start.sort_by_key(|&i| found[i].span.start);
    let mut k = 0;
    for i in by_start {
        let at = found[i].span.start;
        while words.get(k).is_some_and(|w| w.end < at) {
            k += 1;
        }
        work::add(1);
        // A word char just before the start: the word began earlier.
        if let Some(w) = words.get(k).filter(|w| w.start < at) {
            found[i].span.start = w.start;
        }
    }
    let mut by_end: Vec<usize> = (0..found.len()).collect();
    by_end.sort_by_key(|&i| found[i].span.end);
    let mut k = 0;
    for i in by_end {
        let at = found[i].span.end;
        while words.get(k).is_some_and(|w| w.end <= at) {
            k += 1;
        }
        work::add(1);
        // A word char at the end: the word goes on.
        if let Some(w) = words.get(k).filter(|w| w.start <= at) {
            found[i].span.end = w.end;
        }
    }
}

/// The maximal runs of word characters in `text`, in order.
fn word_runs(text: &str) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        work::add(1);
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push(s..text.len());
    }
    runs
}

fn replace(text: &str, findings: &[Finding]) -> String {
    let mut out = String::with_capacity(text.len() + 16 * findings.len());
    let mut at = 0;
    for f in findings {
        out.push_str(text.get(at..f.span.start).unwrap_or_default());
        out.push_str(f.kind.token());
        at = f.span.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Calls `found` for each match of `re` in `text`, starting again just after
/// the start of a refused match so that a refusal cannot hide a later match
/// inside it. Every pattern using this has a bounded match length, so the
/// re-scanning stays linear.
pub(crate) fn each_match(
    re: &Regex,
    text: &str,
    mut accept: impl FnMut(&regex::Captures<'_>) -> Option<Range<usize>>,
    kind: Kind,
    out: &mut Vec<Finding>,
) {
    let mut at = 0;
    while at <= text.len() {
        let Some(caps) = re.captures_at(text, at) else {
            work::add(text.len() - at);
            break;
        };
        let Some(whole) = caps.get(0) else { break };
        work::add(whole.end() - at + 1);
        match accept(&caps) {
            Some(span) => {
                out.push(Finding { kind, span });
                at = whole.end().max(whole.start() + 1);
            }
            None => at = whole.start() + 1,
        }
        while at < text.len() && !text.is_char_boundary(at) {
            at += 1;
        }
    }
}
