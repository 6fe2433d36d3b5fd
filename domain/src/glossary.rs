//! The search glossary: groups of terms a desk treats as the same thing
//! when searching ("pds" and "permesso di soggiorno", "ricongiungimento" and
//! "family reunification").
//!
//! It is data, not code: the default is `search_glossary.toml`, compiled in,
//! and the same `Glossary::from_toml` reads a version the coordinator edits
//! and the hub pushes, so that one can replace the other without a release.
//! Matching (how terms are normalised) belongs to the desk's search engine;
//! this type only holds the groups and checks their shape.

use serde::Deserialize;

/// The glossary compiled into every binary, used until a pushed one arrives.
pub const DEFAULT_GLOSSARY: &str = include_str!("search_glossary.toml");

/// Bounds on a pushed glossary, so that a wrong file cannot make every
/// search at every desk slow.
pub const MAX_GROUPS: usize = 2_000;
pub const MAX_TERMS_PER_GROUP: usize = 32;
pub const MAX_TERM_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Glossary {
    /// The glossary's own version (0 for the compiled default).
    #[serde(default)]
    pub version: u64,
    #[serde(default, rename = "group")]
    pub groups: Vec<SynonymGroup>,
}

/// Terms that mean the same thing, in any language. A search that contains
/// one of them also looks for the others.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynonymGroup {
    pub terms: Vec<String>,
    /// Why the group exists, for the coordinator who edits it; not searched.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GlossaryError {
    #[error("glossario non leggibile / glossary does not parse: {0}")]
    Parse(String),
    #[error("gruppo {group}: {message}")]
    Group { group: usize, message: String },
    #[error("troppi gruppi (massimo {MAX_GROUPS}) / too many groups (at most {MAX_GROUPS})")]
    TooManyGroups,
}

impl Glossary {
    /// Reads and checks a glossary file. Every group needs two or more
    /// non-empty terms of at most `MAX_TERM_CHARS` characters.
    pub fn from_toml(text: &str) -> Result<Self, GlossaryError> {
        let g: Glossary =
            toml::from_str(text).map_err(|e| GlossaryError::Parse(e.message().to_string()))?;
        if g.groups.len() > MAX_GROUPS {
            return Err(GlossaryError::TooManyGroups);
        }
        for (n, group) in g.groups.iter().enumerate() {
            let bad = |message: &str| GlossaryError::Group {
                group: n + 1,
                message: message.to_string(),
            };
            if group.terms.len() < 2 {
                return Err(bad(
                    "servono almeno due termini / at least two terms are needed",
                ));
            }
            if group.terms.len() > MAX_TERMS_PER_GROUP {
                return Err(bad("troppi termini / too many terms"));
            }
            if group.terms.iter().any(|t| t.trim().is_empty()) {
                return Err(bad("termine vuoto / empty term"));
            }
            if group
                .terms
                .iter()
                .any(|t| t.chars().count() > MAX_TERM_CHARS)
            {
                return Err(bad("termine troppo lungo / term too long"));
            }
        }
        Ok(g)
    }

    /// The compiled default. Its file is checked by a unit test, so a
    /// failure here is a build mistake; an empty glossary keeps search
    /// working (without synonyms) rather than stopping the desk.
    pub fn compiled() -> Self {
        Self::from_toml(DEFAULT_GLOSSARY).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_glossary_parses_and_has_the_desk_terms() {
        let g = Glossary::from_toml(DEFAULT_GLOSSARY).expect("default glossary");
        let all: Vec<&str> = g
            .groups
            .iter()
            .flat_map(|g| g.terms.iter().map(String::as_str))
            .collect();
        for term in [
            "pds",
            "codice fiscale",
            "carta di soggiorno",
            "isee",
            "spid",
            "nulla osta",
            "family reunification",
        ] {
            assert!(all.contains(&term), "{term} missing");
        }
    }

    #[test]
    fn a_group_of_one_or_an_unknown_key_is_refused() {
        assert!(matches!(
            Glossary::from_toml("[[group]]\nterms = [\"pds\"]\n"),
            Err(GlossaryError::Group { group: 1, .. })
        ));
        assert!(matches!(
            Glossary::from_toml("[[group]]\nterms = [\"a\", \"b\"]\nweight = 2\n"),
            Err(GlossaryError::Parse(_))
        ));
    }
}
