//! Street addresses: a street word (via, viale, piazza, corso, …) or one of
//! its abbreviations (`v.`, `v.le`, `vle`, `p.za`, `p.zza`, `p.le`, `c.so`,
//! `l.go`, `vic.`, `loc.`, …, any case, with or without a blank after the
//! dot, or glued to a capitalised name as in `c.soTrento`), the street's
//! name, a civic number (bare or after `n.`, `nr.`, `n°`, `civ.`), then
//! optionally the CAP, the city and the province. The civic number is
//! required: "via e-mail", "in via di definizione" and "corso di italiano"
//! are not addresses, and neither is a number that goes on as a date, a
//! time or an amount ("via Roma 12/12/2026", "… 40 euro").
//!
//! Words that are also common nouns (corso, strada, largo, borgo, corte)
//! count only when the name after them is capitalised ("Corso Zanardelli
//! 12"), and a short list of words that follow "via" in ordinary sentences
//! ("via mail", "via WhatsApp") is refused.
//!
//! An abbreviation is weaker evidence: `v.` is also "vedi", and a letter
//! and a dot turn up anywhere. After one, the name must read as a street's
//! name (see `reads_as_street_name`; all in lowercase only after the
//! abbreviations that can be nothing but a street, see
//! `reads_as_lowercase_street_name`), must not be a reference ("v.
//! Allegato 3"), and the civic number has at most three digits, since a
//! four-digit number after a capitalised word is a year far more often
//! ("CAS 2026", "ISEE 2025").

use std::sync::LazyLock;

use regex::Regex;

use super::words::{
    casing, is_numbered_noun, is_particle, letters, noun_before, quantity_follows, Casing,
};
use super::{each_match, regex, work, Finding, Kind};

pub(super) static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let street = r"via|viale|piazza|piazzale|piazzetta|vicolo|contrada|localit[aà]|frazione|traversa|vico|salita|lungolago|lungomare|galleria|circonvallazione";
    let common_noun = r"corso|strada|largo|borgo|corte";
    // Abbreviations that end in a letter: a blank or a dot follows.
    let abbreviation = r"v\.le|vle|p\.zz?a|pzz?a|p\.le|ple|p\.zzale|p\.tta|v\.lo|c\.da|c\.so|cso|s\.da|l\.go|lgo|b\.go|bgo|c\.te";
    // Abbreviations that are nothing without their dot ("v. Milano",
    // "vic.Lungo"); a blank after it is optional.
    let dotted = r"v|vic|loc|fraz|trav|str|ctr";
    // Dotted abbreviations that end in a letter, typed with no blank before
    // the name ("c.soTrento", "v.leDei Mille"): only in lowercase after the
    // dot, so that the capital letter of the name shows where it starts
    // ("C.SOTRENTO" could be cut anywhere). This alternative comes before
    // `dotted`, or "v.lePiave" would be read as "v." and "lePiave".
    let glued = r"[vV]\.le|[pP]\.zz?a|[pP]\.le|[pP]\.zzale|[pP]\.tta|[vV]\.lo|[cC]\.da|[cC]\.so|[sS]\.da|[lL]\.go|[bB]\.go|[cC]\.te";
    let street = format!(
        r"(?:(?i:(?:{street})\s+|({common_noun})\s+|((?:{abbreviation})(?:\.\s*|\s+)))|({glued})|(?i:((?:{dotted})\.\s*)))"
    );
    // A word, or an abbreviation with its dot ("S. Faustino", "F.lli
    // Ugoni"); a dot anywhere else ends the sentence, not the street name.
    let word = r"(?:[\p{L}\d][\p{L}\d'’\-]*|\p{Lu}\p{Ll}{0,3}\.(?:\p{Ll}{1,4})?)";
    let name = format!(r"((?:{word}\s+){{0,4}}?{word})");
    let civic = r"(?i:(?:(?:n\.?|nr\.?|n\.ro|num\.?|n°|nº|civ\.?|civico)\s*)?(\d{1,4})(?:\s?/\s?[a-z0-9]{1,2}(?-u:\b)|[a-z](?-u:\b))?)";
    let tail =
        r"(?:\s*,?\s*\d{5}(?:\s+\p{Lu}[\p{L}'’]+(?:\s+\p{Lu}[\p{L}'’]+)?)?(?:\s*\([A-Z]{2}\))?)?";
    regex(&format!(
        r"(?-u:\b){street}{name}(?:,\s*|\s+)({civic})(?-u:\b){tail}"
    ))
});

/// Capture groups of `ADDRESS`.
const COMMON_NOUN: usize = 1;
const ABBREVIATION: usize = 2;
const GLUED: usize = 3;
const DOTTED: usize = 4;
const NAME: usize = 5;
const CIVIC: usize = 6;
const CIVIC_DIGITS: usize = 7;

/// Words after "via" that make it a preposition, not a street.
const NOT_A_STREET: [&str; 14] = [
    "mail",
    "email",
    "e-mail",
    "pec",
    "whatsapp",
    "telefono",
    "telefonica",
    "sms",
    "web",
    "internet",
    "fax",
    "posta",
    "skype",
    "zoom",
];

/// After an abbreviation, a street's name: written in title case ("v.
/// Milano", "p.za della Loggia", "v. XX Settembre") or, when the
/// abbreviation is in capitals too, all in capitals ("V. MILANO", "C.SO
/// ZANARDELLI"), never mixing the two; at least one word of two letters or
/// more besides particles and Roman numerals; and not ending on a particle.
/// Random letters ("v.ErRI", "PLe QU", "V.Aa CAS") and lowercase words
/// ("v. sopra") do not read as one.
fn reads_as_street_name(abbreviation: &str, name: &str) -> bool {
    let in_capitals = !abbreviation.chars().any(char::is_lowercase);
    let (mut title, mut capitals) = (false, false);
    let mut last = Casing::Other;
    for word in name.split_whitespace() {
        last = casing(word);
        match last {
            Casing::Title => title |= letters(word) >= 2,
            Casing::Capitals if in_capitals => capitals = true,
            Casing::Roman | Casing::Particle | Casing::Number => {}
            Casing::Capitals | Casing::Other => return false,
        }
    }
    (title != capitals) && last != Casing::Particle
}

/// Abbreviations that stand for nothing but a street type, after which a
/// name typed all in lowercase ("v.le venezia 12", "p.za loggia 3") is
/// still a street's. `v.` (vedi) and the undotted forms are too often
/// something else.
const LOWERCASE_NAME_AFTER: [&str; 7] =
    ["v.le", "p.za", "p.zza", "p.zzale", "p.le", "l.go", "c.so"];

/// After one of `LOWERCASE_NAME_AFTER`, a name in lowercase: at least one
/// word of two letters or more besides particles, not ending on a
/// particle. After `c.so` the name must not start with one either, since
/// "c.so di italiano" is a course.
fn reads_as_lowercase_street_name(abbreviation: &str, name: &str) -> bool {
    let abbreviation = abbreviation.trim_end().trim_end_matches('.').to_lowercase();
    if !LOWERCASE_NAME_AFTER.contains(&abbreviation.as_str()) {
        return false;
    }
    let lowercase = |w: &str| {
        w.chars()
            .all(|c| c.is_lowercase() || matches!(c, '\'' | '’' | '-'))
    };
    let words: Vec<&str> = name.split_whitespace().collect();
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return false;
    };
    let course = abbreviation == "c.so" && is_particle(first);
    !course
        && !is_particle(last)
        && words
            .iter()
            .all(|w| lowercase(w) || casing(w) == Casing::Number)
        && words
            .iter()
            .any(|w| lowercase(w) && !is_particle(w) && letters(w) >= 2)
}

/// Whether a number in the candidate belongs to something other than the
/// street: a quantity inside the name ("via 2 figli di 3"), or a civic
/// number that a lowercase noun of its own claims ("vico classe 2A", "via
/// del protocollo n. 12").
fn numbers_something_else(text: &str, name: std::ops::Range<usize>, civic: usize) -> bool {
    let Some(name_text) = text.get(name.clone()) else {
        return false;
    };
    work::add(name_text.len());
    let quantity_inside = name_text
        .match_indices(|c: char| c.is_ascii_digit())
        .any(|(at, _)| quantity_follows(text, name.start + at + 1));
    let claimed = noun_before(text, civic).is_some_and(|(_, noun)| {
        is_numbered_noun(noun) && noun.chars().next().is_some_and(char::is_lowercase)
    });
    quantity_inside || claimed
}

pub(super) static ENGLISH: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?-u:\b)\d{1,4}[a-z]?,?\s+(?:\p{Lu}[\p{L}'’]+\s+){1,3}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Square)",
    )
});

pub(super) fn find(text: &str, out: &mut Vec<Finding>) {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return;
    }
    each_match(
        &ADDRESS,
        text,
        |caps| {
            let whole = caps.get(0)?;
            let name = caps.get(NAME)?.as_str();
            let civic = caps.get(CIVIC)?;
            let first = name.split_whitespace().next().unwrap_or_default();
            let folded = first.to_lowercase();
            let glued = caps.get(GLUED);
            let abbreviation = caps
                .get(ABBREVIATION)
                .or(glued)
                .or_else(|| caps.get(DOTTED));
            let street_ok = if let Some(abbreviation) = abbreviation {
                // "p.v. Aa 3": the letter ends another abbreviation.
                let inside_another = text.get(..whole.start()).is_some_and(|b| b.ends_with('.'));
                // Glued, the name's capital is the only sign of a word
                // boundary.
                let starts_name =
                    glued.is_none() || first.chars().next().is_some_and(char::is_uppercase);
                !inside_another
                    && starts_name
                    && !is_numbered_noun(first)
                    && (reads_as_street_name(abbreviation.as_str(), name)
                        || (glued.is_none()
                            && reads_as_lowercase_street_name(abbreviation.as_str(), name)))
                    && caps.get(CIVIC_DIGITS).is_some_and(|d| d.len() <= 3)
            } else if caps.get(COMMON_NOUN).is_some() {
                first
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
            } else {
                !NOT_A_STREET.contains(&folded.as_str())
            };
            // "12/12/2026", "3.5" or "9:00" is a date, a number or a time,
            // not a civic number.
            let mut after = text.get(whole.end()..).unwrap_or_default().chars();
            let number_goes_on = matches!(after.next(), Some('/' | '.' | '-' | ',' | ':'))
                && after.next().is_some_and(|c| c.is_ascii_digit());
            let accepted = street_ok
                && !number_goes_on
                && !quantity_follows(text, civic.end())
                && !numbers_something_else(text, caps.get(NAME)?.range(), civic.start());
            accepted.then(|| whole.range())
        },
        Kind::Indirizzo,
        out,
    );
    each_match(
        &ENGLISH,
        text,
        |caps| {
            let whole = caps.get(0)?;
            // "286/1998 GPJ St.": the number goes on from another one.
            let before = text.get(..whole.start()).unwrap_or_default().as_bytes();
            let continues_number =
                matches!(before, [.., d, b'.' | b',' | b'/' | b'-'] if d.is_ascii_digit());
            // "St.KjzjM": the abbreviation is glued to a word.
            let glued = text
                .get(whole.end()..)
                .and_then(|r| r.chars().next())
                .is_some_and(char::is_alphanumeric);
            (!continues_number && !glued).then(|| whole.range())
        },
        Kind::Indirizzo,
        out,
    );
}
