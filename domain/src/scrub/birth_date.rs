//! Dates of birth, as people write them after a cue: "nato il 3/4/1990",
//! "nata a Dakar il 03.04.1990", "born 3 April 1990", "DOB 1990-04-03",
//! "data di nascita 3 aprile 1990", "d.n. 03/04/1990". Only the date is replaced; the cue
//! stays so the note still reads. A date with no such cue (an appointment,
//! a deadline) is not personal data and stays.

use std::sync::LazyLock;

use regex::Regex;

use super::{each_match, regex, Finding, Kind};

const MONTHS: &str = "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|gen|feb|mar|apr|mag|giu|lug|ago|set|sett|ott|nov|dic|january|february|march|april|may|june|july|august|september|october|november|december|jan|jun|jul|aug|sep|sept|oct|dec";

pub(super) static BIRTH_DATE: LazyLock<Regex> = LazyLock::new(|| {
    let cue = r"(?-u:\b)(?:nat[oaie]|nato/a|nata/o|born|dob|d\.o\.b|data\s+(?:di\s+)?nascita|date\s+of\s+birth|birth\s*date|birthday|nascita|compleanno|d\.\s?n\.?|ddn)(?-u:\b)";
    let numeric = r"\d{1,2}\s?[./\-]\s?\d{1,2}\s?[./\-]\s?(?:\d{4}|\d{2})(?-u:\b)|\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}(?-u:\b)";
    let spelled_day_first =
        format!(r"\d{{1,2}}(?:st|nd|rd|th|°|º)?\s+(?:of\s+)?(?:{MONTHS})\.?,?\s+\d{{4}}(?-u:\b)");
    let spelled_month_first =
        format!(r"(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}(?-u:\b)");
    regex(&format!(
        r"(?i){cue}[^\d\n;]{{0,40}}?(?-u:\b)({numeric}|{spelled_day_first}|{spelled_month_first})"
    ))
});

/// Words between the cue and a date that show the date is about something
/// else: "nata in Senegal, arrivata il 3/4/2015".
const OTHER_EVENT: [&str; 12] = [
    "appunt", "appoint", "scad", "expir", "entro", "rinnov", "arriv", "ingress", "dal ", "since",
    "rilasc", "issued",
];

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
            (!OTHER_EVENT.iter().any(|w| between.contains(w))).then(|| date.range())
        },
        Kind::DataNascita,
        out,
    );
}
