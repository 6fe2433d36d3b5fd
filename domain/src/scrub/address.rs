//! Street addresses: a street word (via, viale, piazza, corso, …), the
//! street's name, a civic number, then optionally the CAP, the city and the
//! province. The civic number is required: "via e-mail", "in via di
//! definizione" and "corso di italiano" are not addresses.
//!
//! Words that are also common nouns (corso, strada, largo, borgo) count
//! only when the name after them is capitalised ("Corso Zanardelli 12"),
//! and a short list of words that follow "via" in ordinary sentences
//! ("via mail", "via WhatsApp") is refused.

use std::sync::LazyLock;

use regex::Regex;

use super::{each_match, regex, Finding, Kind};

pub(super) static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let street = r"(?i:via|viale|v\.le|piazza|p\.zza|p\.za|piazzale|p\.le|piazzetta|vicolo|v\.lo|contrada|c\.da|localit[aà]|loc\.|traversa|vico|salita|lungolago|lungomare|galleria|(corso|c\.so|strada|str\.|largo|borgo))";
    // A word, or an abbreviation with its dot ("S. Faustino", "F.lli
    // Ugoni"); a dot anywhere else ends the sentence, not the street name.
    let word = r"(?:[\p{L}\d][\p{L}\d'’\-]*|\p{Lu}\p{Ll}{0,3}\.(?:\p{Ll}{1,4})?)";
    let name = format!(r"((?:{word}\s+){{0,4}}?{word})");
    let civic = r"(?i:(?:(?:n\.?|nr\.?|n°|nº|civico)\s*)?\d{1,4}(?:\s?/\s?[a-z0-9]{1,2}(?-u:\b)|[a-z](?-u:\b))?)";
    let tail =
        r"(?:\s*,?\s*\d{5}(?:\s+\p{Lu}[\p{L}'’]+(?:\s+\p{Lu}[\p{L}'’]+)?)?(?:\s*\([A-Z]{2}\))?)?";
    regex(&format!(
        r"(?-u:\b){street}\s+{name}(?:,\s*|\s+){civic}(?-u:\b){tail}"
    ))
});

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
            let name = caps.get(2)?.as_str();
            let first = name.split_whitespace().next().unwrap_or_default();
            let common_noun = caps.get(1).is_some();
            let capitalised = first
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
            // "12/12/2026" or "3.5" is a date or a number, not a civic number.
            let whole = caps.get(0)?;
            let mut after = text.get(whole.end()..).unwrap_or_default().chars();
            let number_goes_on = matches!(after.next(), Some('/' | '.' | '-' | ','))
                && after.next().is_some_and(|c| c.is_ascii_digit());
            let refused = NOT_A_STREET.contains(&first.to_lowercase().as_str())
                || (common_noun && !capitalised)
                || number_goes_on;
            (!refused).then(|| caps.get(0).map(|m| m.range())).flatten()
        },
        Kind::Indirizzo,
        out,
    );
    out.extend(ENGLISH.find_iter(text).map(|m| Finding {
        kind: Kind::Indirizzo,
        span: m.range(),
    }));
}
