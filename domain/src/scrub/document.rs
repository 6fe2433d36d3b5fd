//! Identity document numbers. The shapes accepted on their own, because
//! ordinary words and codes never take them:
//!
//! - Carta d'identità elettronica (CIE): 2 letters, 5 digits, 2 letters
//!   (`CA12345AB`).
//! - Paper identity card and Italian passport: 2 letters and 7 digits
//!   (`AB1234567`, `YA1234567`); many foreign passports use 2 letters and
//!   6 to 8 digits, so that whole range is taken.
//! - Permesso di soggiorno (electronic card) and passports of several
//!   countries: 1 letter and 7 or 8 digits (`I12345678`, `S1234567`).
//!
//! Any case when written as one word; a space between the letters and
//! the digits only in capitals ("YA 1234567"), so that "di 250000" stays.
//!
//! Any other shape is caught only after a document word ("passaporto",
//! "permesso", "carta d'identità", "documento", "ricevuta", "tessera", …),
//! with or without a number marker ("n.", "nr", "numero", "no.", "#"): a
//! code of 5 to 20 letters and digits (20 for the tessera sanitaria), at
//! least 4 of them digits, within 30 characters of the word. Years, dates,
//! amounts and law numbers are shorter than that or broken by punctuation.
//! A number that belongs to a nearer noun of its own ("documenti
//! consegnati, protocollo n. 12345") or is followed by a unit ("permesso:
//! pagati 12500 euro") is no document's.

use std::sync::LazyLock;

use regex::Regex;

use super::words::{is_numbered_noun, noun_before, quantity_follows};
use super::{each_match, regex, work, Finding, Kind};

pub(super) static SHAPED: LazyLock<Regex> = LazyLock::new(|| {
    // Written as one word in any case; with a space after the letters only
    // in capitals, since "di 250000" is an amount, not a document.
    regex(
        r"(?-u:\b)(?:(?i:[a-z]{2}\d{5}[a-z]{2}|[a-z]{2}\d{6,8}|[a-z]\d{7,8})|[A-Z]{2} \d{5} ?[A-Z]{2}|[A-Z]{2} \d{6,8}|[A-Z] \d{7,8})(?-u:\b)",
    )
});

pub(super) static AFTER_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?-u:\b)(?:passaporto|passport|permesso|pds|p\.d\.s|carta\s+(?:d['’]\s?)?identit[aà]|identity\s+card|c\.i|cie|documento|document|doc|ricevuta|receipt|tessera|cedolino|card)(?-u:\b)[^\n\d]{0,30}?(?:(?:(?-u:\b)n\.?|(?-u:\b)nr\.?|(?-u:\b)no\.|(?-u:\b)num\.?|(?-u:\b)numero|(?-u:\b)number|#|n°|nº)\s*:?\s*)?(?-u:\b)([a-z0-9]*\d[a-z0-9]*)(?-u:\b)",
    )
});

pub(super) fn find(text: &str, out: &mut Vec<Finding>) {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return;
    }
    work::add(text.len());
    out.extend(SHAPED.find_iter(text).map(|m| Finding {
        kind: Kind::Documento,
        span: m.range(),
    }));
    each_match(
        &AFTER_KEYWORD,
        text,
        |caps| {
            let whole = caps.get(0)?;
            let id = caps.get(1)?;
            let digits = id.as_str().bytes().filter(u8::is_ascii_digit).count();
            // The document word itself may be a numbered noun ("ricevuta
            // n. …"); another one between it and the number takes the number.
            let other_noun = noun_before(text, id.start())
                .is_some_and(|(at, noun)| at > whole.start() && is_numbered_noun(noun));
            let accepted = (5..=20).contains(&id.len())
                && digits >= 4
                && !other_noun
                && !quantity_follows(text, id.end());
            accepted.then(|| id.range())
        },
        Kind::Documento,
        out,
    );
}
