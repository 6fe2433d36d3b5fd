//! E-mail addresses, including the spellings people use to dodge spam
//! filters or to write down an address read out to them: "(at)", "[at]",
//! "(dot)", and the bare words "at" / "dot" and "chiocciola" / "punto"
//! ("mario.rossi at gmail dot com"), and addresses with letters beyond
//! ASCII.

use std::sync::LazyLock;

use regex::Regex;

use super::{regex, work, Finding, Kind};

/// Top-level domains taken after a bare "at" or "chiocciola": the word "at"
/// is ordinary English, and "was at school.It" must not read as an address,
/// so the ending must be one that visitors' mail providers use, written in
/// lowercase or in capitals.
const WORD_FORM_TLDS: &str =
    "com|it|net|org|eu|info|fr|de|es|uk|ru|ro|ua|al|ma|tn|dz|sn|ng|gh|pk|in|bd|cn|ch|be|me|co|io";

pub(super) static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let user = r"[\p{L}\p{N}._%+\-]+";
    let label = r"[\p{L}\p{N}\-]+";
    let symbols = format!(
        r"(?i){user}(?:\s?@\s?|\s?(?:\(at\)|\[at\]|\{{at\}})\s?){label}(?:\.{label})*(?:\.|\s?(?:\(dot\)|\[dot\])\s?)\p{{L}}{{2,}}(?-u:\b)"
    );
    let dot = r"(?:\.|\s+(?:dot|punto)\s+|\s?(?:\(dot\)|\[dot\]|\(punto\)|\[punto\])\s?)";
    let upper = WORD_FORM_TLDS.to_uppercase();
    let words = format!(
        r"(?i:{user}\s+(?:at|chiocciola)\s+{label}(?:{dot}{label})*?{dot})(?:{WORD_FORM_TLDS}|{upper})(?-u:\b)"
    );
    regex(&format!("(?:{symbols})|(?:{words})"))
});

pub(super) fn find(text: &str, out: &mut Vec<Finding>) {
    work::add(text.len());
    let spelled = || {
        work::add(text.len());
        let lower = text.to_ascii_lowercase();
        lower.contains(" at ") || lower.contains("chiocciola")
    };
    if !text.contains(['@', '(', '[', '{']) && !spelled() {
        return;
    }
    work::add(text.len());
    out.extend(EMAIL.find_iter(text).map(|m| Finding {
        kind: Kind::Email,
        span: m.range(),
    }));
}
