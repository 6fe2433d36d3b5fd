//! E-mail addresses, including the "(at)" spellings people use to dodge
//! spam filters.

use std::sync::LazyLock;

use regex::Regex;

use super::{regex, Finding, Kind};

pub(super) static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)[a-z0-9._%+\-]{1,64}\s?(?:@|\(at\)|\[at\]|\{at\})\s?[a-z0-9\-]{1,63}(?:\.[a-z0-9\-]{1,63}){0,8}\s?(?:\.|\(dot\)|\[dot\])\s?[a-z]{2,24}\b",
    )
});

pub(super) fn find(text: &str, out: &mut Vec<Finding>) {
    if !text.contains(['@', '(', '[', '{']) {
        return;
    }
    out.extend(EMAIL.find_iter(text).map(|m| Finding {
        kind: Kind::Email,
        span: m.range(),
    }));
}
