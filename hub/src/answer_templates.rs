//! Answer templates: one canonical body per key and language, Italian the
//! reference. Every save is checked against the reference's placeholders
//! (`domain::template`), appended to the versioned template log and pushed.

use crate::audit;
use crate::push::Push;
use crate::storage::{MinorEdit, StorageError, Store};
use domain::template::{self, TemplateError};
use domain::AnswerTemplate as Template;
use std::collections::BTreeMap;

pub const REFERENCE_LANGUAGE: &str = "it";
const MAX_KEY: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("template `{key}` has no Italian reference yet: save the Italian text first")]
    NoReference { key: String },
    #[error("the body was refused: {0}")]
    Body(#[from] TemplateError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> TemplatesError {
    TemplatesError::Invalid {
        field,
        message: message.into(),
    }
}

/// `procedure/purpose`: a lowercase path of letters, digits, `_` and `.`.
pub(crate) fn check_key(key: &str) -> Result<(), TemplatesError> {
    let ok = key.len() <= MAX_KEY
        && key
            .split_once('/')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_./".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "key",
            format!(
                "write it as procedure/purpose, e.g. permesso.rinnovo.lavoro/documenti, at most {MAX_KEY} characters of a-z, 0-9, '_', '.'"
            ),
        ))
    }
}

/// The current entry per (key, language).
pub fn current(store: &dyn Store) -> Result<BTreeMap<(String, String), Template>, StorageError> {
    let mut latest = BTreeMap::new();
    for t in store.templates_since(0)? {
        latest.insert((t.key.clone(), t.language.clone()), t);
    }
    Ok(latest)
}

/// A translation is stale when the Italian reference had a non-minor edit
/// after the version it was made from.
pub fn is_stale(translation: &Template, reference: Option<&Template>) -> bool {
    translation.language != REFERENCE_LANGUAGE
        && reference.is_some_and(|r| translation.reference_version < r.reference_version)
}

/// Checks and saves a body; returns the new template log version. `minor`
/// applies to an Italian edit that keeps the translations current.
pub fn put(
    store: &dyn Store,
    push: Option<&Push>,
    key: &str,
    language: &str,
    body: &str,
    minor: bool,
    actor: &str,
) -> Result<u64, TemplatesError> {
    check_key(key)?;
    let language = domain::normalise_language_tag(language)
        .ok_or_else(|| invalid("language", "must be a language tag such as it, en, ar, ur"))?;
    let latest = current(store)?;
    let reference = latest.get(&(key.to_string(), REFERENCE_LANGUAGE.to_string()));
    let reference_version = if language == REFERENCE_LANGUAGE {
        template::check(body, None)?;
        match (minor, reference) {
            // Keeps the major version translations are compared with.
            (true, Some(r)) => r.reference_version,
            _ => 0,
        }
    } else {
        let r = reference.ok_or_else(|| TemplatesError::NoReference { key: key.into() })?;
        template::check(body, Some(&r.body))?;
        r.version
    };
    let version = store.append_template(Template {
        key: key.into(),
        language: language.clone(),
        body: body.into(),
        version: 0,
        reference_version,
        stale: false,
    })?;
    let detail = format!(
        "{language} v{version}{}",
        if minor { " (minor)" } else { "" }
    );
    audit::record(store, actor, "template.put", key, &detail)?;
    if minor && language == REFERENCE_LANGUAGE {
        // audit: template.minor_edit (key, version, kept reference version)
        store.append_minor_edit(&MinorEdit {
            key: key.into(),
            version,
            kept_reference_version: if reference_version == 0 {
                version
            } else {
                reference_version
            },
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })?;
        tracing::info!(
            key,
            version,
            "Italian reference edited as minor: translations stay current"
        );
    }
    if let Some(p) = push {
        p.template_published(version);
    }
    Ok(version)
}
