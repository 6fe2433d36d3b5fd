//! Dates of birth, as people write them after a cue: "nato il 3/4/1990",
//! "nata a Dakar il 03.04.1990", "born 3 April 1990", "DOB 1990-04-03",
//! "data di nascita 3 aprile 1990", "nato il 3 aprile del 1990", "d.n.
//! 03/04/1990", or right after the short cues `b.` and `n.` ("b. 3 mar.
//! 90", "n. 03-04-1990"), or with the cue after it in brackets or after a
//! blank ("03/04/1990 (data di nascita)"). A date that
//! stands right after the visitor's name ("Rossi Mario 03/04/1990",
//! "Mario Rossi (3.4.90)") is one too: notes list people that way. Only the
//! date is replaced; the cue stays so the note still reads.
//!
//! A date with no such cue (an appointment, a deadline) is not personal
//! data and stays, and so does one whose day or month cannot be a day or a
//! month ("9.00-12.30" is office hours).

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::words::{is_numbered_noun, noun_before};
use super::{each_match, regex, work, Finding, Kind};

const MONTHS: &str = "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|gen|feb|mar|apr|mag|giu|lug|ago|set|sett|ott|nov|dic|january|february|march|april|may|june|july|august|september|october|november|december|jan|jun|jul|aug|sep|sept|oct|dec";

/// A date in any of the shapes notes use, with no capture group:
/// `3/4/90`, `03-04-1990`, `03.04.1990`, `1990-04-03`, `3 marzo 1990`,
/// `3 mar. 90`, `3 marzo del 1990`, `3rd of March 1990`, `April 3, 1990`,
/// `03-MAR-1990`. Blanks inside are bounded, so that the longest date is
/// `LONGEST_DATE` bytes and an anchored search reads no further.
fn date() -> String {
    let numeric = r"\d{1,2}\s?[./\-]\s?\d{1,2}\s?[./\-]\s?(?:\d{4}|\d{2})(?-u:\b)|\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}(?-u:\b)";
    let year = r"(?:['’]\s?)?(?:\d{4}|\d{2})(?-u:\b)";
    let gap = r"(?:\s{1,3}|\s?-\s?)";
    let day_first = format!(
        r"\d{{1,2}}(?:st|nd|rd|th|°|º)?{gap}(?:of\s{{1,3}})?(?:{MONTHS})\.?,?{gap}(?:del\s{{1,3}})?{year}"
    );
    let month_first =
        format!(r"(?:{MONTHS})\.?\s{{1,3}}\d{{1,2}}(?:st|nd|rd|th)?,?\s{{1,3}}{year}");
    format!(r"(?i:{numeric}|{day_first}|{month_first})")
}

pub(super) static BIRTH_DATE: LazyLock<Regex> = LazyLock::new(|| {
    let cue = r"(?-u:\b)(?:nat[oaie]|nato/a|nata/o|born|dob|d\.o\.b|data\s+(?:di\s+)?nascita|date\s+of\s+birth|birth\s*date|birthday|nascita|compleanno|d\.\s?n\.?|ddn)(?-u:\b)";
    regex(&format!(r"(?i){cue}[^\d\n;]{{0,40}}?(?-u:\b)({})", date()))
});

/// `b.` (born) and `n.` (nato), with nothing but a blank or a colon before
/// the date: "n." is also "numero", so it only counts right before a date.
pub(super) static SHORT_CUE: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"(?i)(?-u:\b)[bn]\.\s*:?\s*({})", date())));

/// A date with its cue after it, in brackets or after a blank only: after a
/// comma the cue may start another sentence ("scade il 03/04/2027, data di
/// nascita sbagliata sul passaporto").
pub(super) static CUE_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(?i)(?-u:\b)({})(?:\s*[(\[]\s*|\s+)(?:data\s+(?:di\s+)?nascita|d\.\s?n\.|dob|d\.o\.b|date\s+of\s+birth)(?-u:\b)",
        date()
    ))
});

/// A date at the very start of the text it is matched against.
pub(super) static DATE_FIRST: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"\A(?:{})", date())));

/// Words between the cue and a date that show the date is about something
/// else: "nata in Senegal, arrivata il 3/4/2015".
const OTHER_EVENT: [&str; 12] = [
    "appunt", "appoint", "scad", "expir", "entro", "rinnov", "arriv", "ingress", "dal ", "since",
    "rilasc", "issued",
];

/// More bytes than the longest date `date()` matches ("30th   of
/// September.,   del ’ 1990" with its blanks all three bytes long), for
/// counting the work of an anchored search.
const LONGEST_DATE: usize = 80;

/// Bytes before a date whose cue comes after it that are searched for
/// another event.
const LOOK_BEHIND: usize = 40;

/// What may stand between a name and its date of birth: "Rossi Mario,
/// 3.4.90", "Mario Rossi (03/04/1990)", "Rossi – 3 marzo 1990".
const NAME_GAP: usize = 4;

pub(super) fn find(text: &str, out: &mut Vec<Finding>) {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return;
    }
    each_match(
        &BIRTH_DATE,
        text,
        |caps| {
            let whole = caps.get(0)?;
            let date = caps.get(1)?;
            let between = text.get(whole.start()..date.start())?.to_lowercase();
            work::add(between.len());
            let other_event = OTHER_EVENT.iter().any(|w| between.contains(w));
            (!other_event && plausible(text, date.range())).then(|| date.range())
        },
        Kind::DataNascita,
        out,
    );
    each_match(
        &CUE_AFTER,
        text,
        |caps| {
            let date = caps.get(1)?;
            // "scade il 12/12/2026 (data di nascita da correggere)": the
            // words before the date say what it is.
            let mut from = date.start().saturating_sub(LOOK_BEHIND);
            while !text.is_char_boundary(from) {
                from += 1;
            }
            let before = text.get(from..date.start())?.to_lowercase();
            work::add(before.len());
            let other_event = OTHER_EVENT.iter().any(|w| before.contains(w));
            (!other_event && plausible(text, date.range())).then(|| date.range())
        },
        Kind::DataNascita,
        out,
    );
    each_match(
        &SHORT_CUE,
        text,
        |caps| {
            let whole = caps.get(0)?;
            let date = caps.get(1)?;
            // "prot. n. 12/03/2026": the number of a file, not a birth.
            let numbered =
                noun_before(text, whole.start()).is_some_and(|(_, noun)| is_numbered_noun(noun));
            (!numbered && plausible(text, date.range())).then(|| date.range())
        },
        Kind::DataNascita,
        out,
    );
}

/// Dates right after one of the visitor's names (`names`: where they are in
/// `text`, found or already replaced by `[NOME]`), unless followed by a
/// time, which makes it an appointment ("Rossi 12/03/2026 ore 10:30").
pub(super) fn find_after_names(text: &str, names: &[Range<usize>], out: &mut Vec<Finding>) {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return;
    }
    for name in names {
        let Some(rest) = text.get(name.end..) else {
            continue;
        };
        let gap: usize = rest
            .chars()
            .take(NAME_GAP)
            .take_while(|c| matches!(c, ' ' | '\t' | ',' | ':' | '(' | '[' | '-' | '–' | '—'))
            .map(char::len_utf8)
            .sum();
        let start = name.end + gap;
        let found = text.get(start..).and_then(|r| DATE_FIRST.find(r));
        // An anchored search reads no further than the longest date.
        work::add(gap + found.map_or(LONGEST_DATE, |m| m.end()));
        let Some(m) = found else {
            continue;
        };
        let span = start..start + m.end();
        if plausible(text, span.clone()) && !followed_by_time(text, span.end) {
            out.push(Finding {
                kind: Kind::DataNascita,
                span,
            });
        }
    }
}

/// The day and month of a date found by `date()` can be a day and a month
/// (in either order, for dates written the American way), and the date does
/// not go on as a longer number ("12.03.2026.1").
fn plausible(text: &str, span: Range<usize>) -> bool {
    let Some(date) = text.get(span.clone()) else {
        return false;
    };
    let goes_on = {
        let mut after = text.get(span.end..).unwrap_or_default().chars();
        matches!(after.next(), Some('/' | '.' | '-' | ':'))
            && after.next().is_some_and(|c| c.is_ascii_digit())
    };
    if goes_on {
        return false;
    }
    let numbers: Vec<u32> = date
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    let day = |d: u32| (1..=31).contains(&d);
    let month = |m: u32| (1..=12).contains(&m);
    match numbers[..] {
        [y, m, d] if y >= 1000 => month(m) && day(d),
        [a, b, _] => (day(a) && month(b)) || (month(a) && day(b)),
        // Spelled month: the day is the one number of one or two digits.
        [a, b] => day(if a < 100 { a } else { b }),
        _ => false,
    }
}

/// "12/03/2026 ore 10:30", "12/03/2026, 9.30", "12/03/2026 alle 11".
fn followed_by_time(text: &str, at: usize) -> bool {
    let rest = text.get(at..).unwrap_or_default();
    let rest = rest.trim_start_matches([' ', ',']).to_lowercase();
    let rest = rest.as_str();
    let after_word = ["ore ", "alle ", "h ", "h.", "at "]
        .iter()
        .find_map(|w| rest.strip_prefix(w))
        .map(str::trim_start);
    let clock = after_word.unwrap_or(rest);
    let digits = clock.bytes().take_while(u8::is_ascii_digit).count();
    after_word.is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        || ((1..=2).contains(&digits)
            && matches!(clock.as_bytes().get(digits), Some(b':' | b'.'))
            && clock
                .as_bytes()
                .get(digits + 1)
                .is_some_and(u8::is_ascii_digit))
}
