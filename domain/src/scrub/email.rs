//! E-mail addresses, including the spellings people use to dodge spam
//! filters or to write down an address read out to them: "(at)", "[at]",
//! "(dot)", a blank on either side of the @, and the bare words "at" /
//! "dot" and "chiocciola" / "punto" ("mario.rossi at gmail dot com"), and
//! addresses with letters beyond ASCII.

use std::sync::LazyLock;

use regex::Regex;

use super::{regex, work, Finding, Kind};

/// Top-level domains taken after a bare "at" or "chiocciola": the word "at"
/// is ordinary English, and "was at school.It" must not read as an address,
/// so the ending must be one that visitors' mail providers use, written in
/// lowercase or in capitals.
const WORD_FORM_TLDS: &str =
    "com|it|net|org|eu|info|fr|de|es|uk|ru|ro|ua|al|ma|tn|dz|sn|ng|gh|pk|in|bd|cn|ch|be|me|co|io";

/// Mail providers visitors use. After a bare "at" the address is taken when
/// its domain is one of these, its dots are spelled ("dot", "punto"), or
/// its user part has a digit or a dot in it; otherwise "look at
/// comune.brescia.it" is a sentence, not an address.
const PROVIDERS: [&str; 24] = [
    "gmail",
    "googlemail",
    "libero",
    "hotmail",
    "yahoo",
    "outlook",
    "live",
    "msn",
    "icloud",
    "virgilio",
    "alice",
    "tim",
    "tiscali",
    "fastwebnet",
    "email",
    "pec",
    "legalmail",
    "gmx",
    "yandex",
    "mail",
    "ukr",
    "qq",
    "163",
    "proton",
];

pub(super) static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let user = r"[\p{L}\p{N}._%+\-]+";
    let label = r"[\p{L}\p{N}\-]+";
    regex(&format!(
        r"(?i){user}(?:\s?@\s?|\s?(?:\(at\)|\[at\]|\{{at\}})\s?){label}(?:\.{label})*(?:\.|\s?(?:\(dot\)|\[dot\])\s?)\p{{L}}{{2,}}(?-u:\b)"
    ))
});

/// The bare-word spelling: user, the word for "at", then the domain.
pub(super) static SPELLED: LazyLock<Regex> = LazyLock::new(|| {
    let user = r"[\p{L}\p{N}._%+\-]+";
    let label = r"[\p{L}\p{N}\-]+";
    let dot = r"(?:\.|\s+(?:dot|punto)\s+|\s?(?:\(dot\)|\[dot\]|\(punto\)|\[punto\])\s?)";
    let upper = WORD_FORM_TLDS.to_uppercase();
    regex(&format!(
        r"(?-u:\b)(?i:({user})\s+(at|chiocciola)\s+({label})((?:{dot}{label})*?{dot}))(?:{WORD_FORM_TLDS}|{upper})(?-u:\b)"
    ))
});

pub(super) fn find(text: &str, out: &mut Vec<Finding>) {
    work::add(text.len());
    if text.contains(['@', '(', '[', '{']) {
        work::add(text.len());
        out.extend(EMAIL.find_iter(text).map(|m| Finding {
            kind: Kind::Email,
            span: m.range(),
        }));
    }
    let lower = text.to_ascii_lowercase();
    if !lower.contains(" at ") && !lower.contains("chiocciola") {
        return;
    }
    // Matches are taken one after the other, not retried inside a refused
    // one: what refuses a match (its domain, its dots, no digit or dot in
    // its user) refuses every later start inside its user too, and
    // retrying each would be quadratic in a long user part.
    work::add(text.len());
    for caps in SPELLED.captures_iter(text) {
        let accept = || {
            let whole = caps.get(0)?;
            let user = caps.get(1)?.as_str();
            let at = caps.get(2)?.as_str();
            let domain = caps.get(3)?.as_str().to_ascii_lowercase();
            let dots = caps.get(4)?.as_str();
            let spelled_dot = dots
                .split(|c: char| !c.is_alphabetic())
                .any(|w| w.eq_ignore_ascii_case("dot") || w.eq_ignore_ascii_case("punto"));
            let address_like_user = user.contains(|c: char| c.is_ascii_digit() || c == '.');
            let accepted = domain != "www"
                && (at.eq_ignore_ascii_case("chiocciola")
                    || spelled_dot
                    || address_like_user
                    || PROVIDERS.contains(&domain.as_str()));
            accepted.then(|| whole.range())
        };
        if let Some(span) = accept() {
            out.push(Finding {
                kind: Kind::Email,
                span,
            });
        }
    }
}
