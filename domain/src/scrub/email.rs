//! E-mail addresses, including the "(at)" and "(dot)" spellings people use
//! to dodge spam filters, and addresses with letters beyond ASCII.

use std::sync::LazyLock;

use regex::Regex;

use super::{regex, Finding, Kind};

pub(super) static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)[\p{L}\p{N}._%+\-]+(?:@|\s@\s|\s?(?:\(at\)|\[at\]|\{at\})\s?)[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*(?:\.|\s?(?:\(dot\)|\[dot\])\s?)\p{L}{2,}(?-u:\b)",
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
