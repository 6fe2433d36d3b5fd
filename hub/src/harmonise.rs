//! Harmonisation: for every template key and language whether the text is
//! the reference, current, stale (with the word diff of the Italian
//! reference since the version it was made from, so a translator sees what
//! to change) or missing; which desks run the current version of each key
//! (rollout per template); and the minor reference edits a coordinator made.
//!
//! Plain functions returning serialisable structs, so that the CLI, the
//! Coordinator API and the dashboard show one computation.

use crate::answer_templates::{is_stale, REFERENCE_LANGUAGE};
use crate::proposals::shown;
use crate::storage::{MinorEdit, StorageError, Store};
use domain::AnswerTemplate as Template;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Listing {
    pub template_version: u64,
    /// Every language some key has: a key lacking one lists it as missing.
    pub languages: Vec<String>,
    pub templates: Vec<KeyStatus>,
    pub minor_edits: Vec<MinorEdit>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyStatus {
    pub key: String,
    /// The template log version of the key's newest text, in any language:
    /// a desk that has applied it runs the current version of this key.
    pub current_version: u64,
    /// The Italian version translations are compared with (0: no Italian yet).
    pub reference_version: u64,
    pub languages: Vec<LanguageStatus>,
    pub missing: Vec<String>,
    pub rollout: KeyRollout,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LanguageStatus {
    pub language: String,
    /// `reference` | `current` | `stale`
    pub state: &'static str,
    pub version: u64,
    /// For a translation, the Italian version it was made from.
    pub made_from: Option<u64>,
    /// For a stale translation, `kept [-removed-] {+added+}` from the
    /// Italian text it was made from to today's.
    pub reference_diff: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeyRollout {
    pub current: Vec<String>,
    pub behind: Vec<String>,
}

/// The whole listing, from the store; desks are the enrolled, not revoked.
pub fn listing(store: &dyn Store) -> Result<Listing, StorageError> {
    let log = store.templates_since(0)?;
    let by_version: BTreeMap<u64, &Template> = log.iter().map(|t| (t.version, t)).collect();
    let mut latest: BTreeMap<&str, BTreeMap<&str, &Template>> = BTreeMap::new();
    for t in &log {
        latest
            .entry(t.key.as_str())
            .or_default()
            .insert(t.language.as_str(), t);
    }
    let languages: BTreeSet<&str> = latest.values().flat_map(|l| l.keys().copied()).collect();
    let mut desks = Vec::new();
    for d in store.desks()?.into_iter().filter(|d| !d.revoked) {
        let applied = store.push_state(&d.desk_id)?.template;
        desks.push((d.desk_id, applied));
    }

    let mut templates = Vec::new();
    for (key, per_language) in &latest {
        let reference = per_language.get(REFERENCE_LANGUAGE).copied();
        let current_version = per_language.values().map(|t| t.version).max().unwrap_or(0);
        let mut rows = Vec::new();
        for (language, t) in per_language {
            let row = if *language == REFERENCE_LANGUAGE {
                LanguageStatus {
                    language: language.to_string(),
                    state: "reference",
                    version: t.version,
                    made_from: None,
                    reference_diff: None,
                }
            } else {
                let stale = is_stale(t, reference);
                let reference_diff = match (stale, reference) {
                    (true, Some(r)) => {
                        let old = by_version
                            .get(&t.reference_version)
                            .map_or("", |o| o.body.as_str());
                        Some(shown(&domain::diff_text(&domain::word_diff(old, &r.body))))
                    }
                    _ => None,
                };
                LanguageStatus {
                    language: language.to_string(),
                    state: if stale { "stale" } else { "current" },
                    version: t.version,
                    made_from: Some(t.reference_version),
                    reference_diff,
                }
            };
            rows.push(row);
        }
        let missing = languages
            .iter()
            .filter(|l| !per_language.contains_key(*l))
            .map(|l| l.to_string())
            .collect();
        let (current, behind): (Vec<_>, Vec<_>) =
            desks.iter().partition(|(_, v)| *v >= current_version);
        templates.push(KeyStatus {
            key: shown(key),
            current_version,
            reference_version: reference.map_or(0, |r| r.reference_version),
            languages: rows,
            missing,
            rollout: KeyRollout {
                current: current.into_iter().map(|(d, _)| d.clone()).collect(),
                behind: behind.into_iter().map(|(d, _)| d.clone()).collect(),
            },
        });
    }
    Ok(Listing {
        template_version: store.template_version()?,
        languages: languages.into_iter().map(String::from).collect(),
        templates,
        minor_edits: store.minor_edits()?,
    })
}
