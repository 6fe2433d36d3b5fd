//! Answer templates (issue 5): the checks the hub runs before pushing a
//! template, the rendering a desk does in the visitor's language, and the
//! word diff the coordinators use to harmonise translations.
//!
//! Pure and I/O-free, like the rest of the crate.
//!
//! # Syntax
//!
//! A body is plain text with `{{name}}` fields; spaces or tabs inside the
//! braces are tolerated (`{{ nome }}`). A name is 1 to
//! [`MAX_NAME_CHARS`] of `a-z`, `0-9`, `_`, so that names read the same in
//! every language and never need escaping.
//!
//! Single braces are ordinary text (`{x}`, `}`), because prose and
//! addresses use them and nothing else in the syntax does. Double braces are
//! reserved: a `{{` must close with `}}` before the next `{{`, and a `}}`
//! outside a field is refused rather than printed, since it is nearly always
//! a mistyped field (`{nome}}`) that would otherwise reach the visitor as
//! broken text. The price is that a template cannot print `{{` or `}}`
//! literally, which answer texts have no use for.
//!
//! The body is text, not HTML: [`render`] escapes it as well as the values,
//! so a template cannot smuggle markup onto a desk's screen either. Line
//! breaks are kept as they are; the desk shows the result with
//! `white-space: pre-line`.

mod diff;
mod log;
mod parse;
mod render;

pub use diff::{diff_text, similarity, word_diff, DiffOp};
pub use log::{AnswerTemplate, TemplateProposal};
pub use parse::{check, placeholders, MAX_BODY_CHARS, MAX_NAME_CHARS};
pub use render::{direction, escape_html, render, Direction, Rendered};

/// Why a template was refused or could not be rendered.
///
/// Messages name fields and positions, never a value: values are a
/// visitor's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template is empty")]
    Empty,
    #[error("the template is {chars} characters long; at most {max} are allowed")]
    TooLong { chars: usize, max: usize },
    #[error("the `{{{{` at character {at} is never closed by `}}}}`")]
    Unclosed { at: usize },
    #[error("the `}}}}` at character {at} closes no `{{{{`")]
    StrayClose { at: usize },
    #[error(
        "the field {name:?} at character {at} is not a valid name \
         (1 to 40 characters among a-z, 0-9 and _)"
    )]
    InvalidName { at: usize, name: String },
    /// A translation whose fields differ from the Italian reference's; both
    /// lists are sorted and complete so that one round of corrections is
    /// enough.
    #[error("{}", mismatch_message(.missing, .unknown))]
    Mismatch {
        missing: Vec<String>,
        unknown: Vec<String>,
    },
    #[error("the Italian reference is not valid: {0}")]
    Reference(Box<TemplateError>),
    #[error("no value given for {}", field_list(.0))]
    MissingValues(Vec<String>),
}

fn field_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{{{{{n}}}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mismatch_message(missing: &[String], unknown: &[String]) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "the translation lacks {} from the Italian text",
            field_list(missing)
        ));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "the translation uses {}, unknown to the Italian text",
            field_list(unknown)
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests;
