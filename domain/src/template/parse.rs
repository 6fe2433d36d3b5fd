//! Splitting a body into text and fields, and the checks built on it.

use std::collections::BTreeSet;

use super::TemplateError;

/// Longest body accepted, in characters: far above any answer a desk reads
/// out, low enough that checking, rendering and diffing stay cheap.
pub const MAX_BODY_CHARS: usize = 20_000;

/// Longest field name, in characters.
pub const MAX_NAME_CHARS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Segment<'a> {
    Text(&'a str),
    Field(&'a str),
}

/// Every structural rule is enforced here, once, so that `placeholders`,
/// `check` and `render` can never disagree on what a body means.
pub(super) fn parse(body: &str) -> Result<Vec<Segment<'_>>, TemplateError> {
    if body.trim().is_empty() {
        return Err(TemplateError::Empty);
    }
    let chars = body.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(TemplateError::TooLong {
            chars,
            max: MAX_BODY_CHARS,
        });
    }
    // Positions are reported in characters, 1-based, because that is what
    // an editor shows; byte offsets would be wrong for every accented letter.
    let at = |byte: usize| body[..byte].chars().count() + 1;

    let mut segments = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let tail = &body[pos..];
        let open = tail.find("{{");
        let close = tail.find("}}");
        let open = match (open, close) {
            (None, None) => {
                segments.push(Segment::Text(tail));
                break;
            }
            (Some(o), Some(c)) if c < o => {
                return Err(TemplateError::StrayClose { at: at(pos + c) })
            }
            (None, Some(c)) => return Err(TemplateError::StrayClose { at: at(pos + c) }),
            (Some(o), _) => pos + o,
        };
        if open > pos {
            segments.push(Segment::Text(&body[pos..open]));
        }
        let inner_start = open + 2;
        let Some(len) = body[inner_start..].find("}}") else {
            return Err(TemplateError::Unclosed { at: at(open) });
        };
        let inner = &body[inner_start..inner_start + len];
        if inner.contains("{{") {
            return Err(TemplateError::Unclosed { at: at(open) });
        }
        let name = inner.trim_matches([' ', '\t']);
        if !is_name(name) {
            return Err(TemplateError::InvalidName {
                at: at(open),
                name: shorten(inner),
            });
        }
        segments.push(Segment::Field(name));
        pos = inner_start + len + 2;
    }
    Ok(segments)
}

fn is_name(s: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Enough of a refused name to find it, without copying a whole paragraph
/// into the message when a `}}` went missing.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_NAME_CHARS).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// The field names a body uses, each once.
pub fn placeholders(body: &str) -> Result<BTreeSet<String>, TemplateError> {
    Ok(parse(body)?
        .into_iter()
        .filter_map(|s| match s {
            Segment::Field(name) => Some(name.to_owned()),
            Segment::Text(_) => None,
        })
        .collect())
}

/// Whether a body may be published. With `reference` (the Italian body it
/// translates), the translation must use exactly the reference's fields: a
/// missing one would silently drop a fact the visitor needs, an extra one
/// would have no value at any desk.
pub fn check(body: &str, reference: Option<&str>) -> Result<(), TemplateError> {
    let fields = placeholders(body)?;
    let Some(reference) = reference else {
        return Ok(());
    };
    let expected = placeholders(reference).map_err(|e| TemplateError::Reference(Box::new(e)))?;
    let missing: Vec<String> = expected.difference(&fields).cloned().collect();
    let unknown: Vec<String> = fields.difference(&expected).cloned().collect();
    if missing.is_empty() && unknown.is_empty() {
        Ok(())
    } else {
        Err(TemplateError::Mismatch { missing, unknown })
    }
}
