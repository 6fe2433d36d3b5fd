//! Offline search at the desk (issue 16): one search over the procedures,
//! their cards in every language held, the guidance and the answer
//! templates, answered from the local copy with no hub.
//!
//! - [`normalise`]: text → search keys (pure functions): case, accents,
//!   double letters, endings, stopwords and question words.
//! - [`index`]: the `fst` term dictionary, the postings, fuzzy and prefix
//!   expansion, scoring, "did you mean".
//!
//! The engine is `fst` with its Levenshtein automata rather than tantivy:
//! the desk holds a few hundred items, an in-memory index rebuilds in
//! milliseconds, and `fst` costs under a second of build time where tantivy
//! costs minutes of CI. The index is rebuilt lazily: the first search after
//! the local copy's versions (or the day, which expires guidance) change.

pub mod index;
pub mod miss;
pub mod normalise;

pub use index::{Document, Hit, Index, Kind, Outcome};

use crate::local::{LocalCopy, LocalError, REFERENCE_LANGUAGE};
use domain::{Card, Glossary, Procedure};
use proto::{GuidanceItem, Template};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most hits one search returns.
pub const MAX_LIMIT: u32 = 50;
/// Hits returned when the caller asks for none in particular.
pub const DEFAULT_LIMIT: u32 = 10;

/// What the desk holds, as the index reads it.
#[derive(Debug, Clone, Default)]
pub struct Content {
    pub procedures: Vec<Procedure>,
    pub cards: Vec<Card>,
    pub guidance: Vec<GuidanceItem>,
    pub templates: Vec<Template>,
}

/// A code's words ("permesso.rinnovo.lavoro" → "permesso rinnovo lavoro"),
/// so that a desk that speaks in codes finds them too.
fn code_words(code: &str) -> String {
    code.replace(['.', '_'], " ")
}

fn names(p: Option<&Procedure>, code: &str) -> Vec<(String, String)> {
    match p {
        Some(p) => vec![
            ("it".to_string(), p.name_it.clone()),
            ("en".to_string(), p.name_en.clone()),
        ],
        None => vec![(REFERENCE_LANGUAGE.to_string(), code.to_string())],
    }
}

/// Turns the desk's content into documents, with the weight of each text:
/// names first, then summaries, then the rest of a card.
pub fn documents(content: &Content) -> Vec<Document> {
    let procedure = |code: &str| content.procedures.iter().find(|p| p.code == code);
    let name_fields = |code: &str, weight: f32| -> Vec<(f32, String)> {
        names(procedure(code), code)
            .into_iter()
            .map(|(_, n)| (weight, n))
            .collect()
    };
    let mut docs = Vec::new();
    for p in &content.procedures {
        let mut fields = name_fields(&p.code, 3.0);
        fields.push((1.5, code_words(&p.code)));
        fields.push((0.5, p.office.clone()));
        docs.push(Document {
            kind: Kind::Procedure,
            code: p.code.clone(),
            id: p.code.clone(),
            language: None,
            titles: names(Some(p), &p.code),
            fields,
        });
    }
    for c in &content.cards {
        // Both catalogue names, whatever the card's language, so that an
        // Italian term finds the English card and the reverse.
        let mut fields = name_fields(&c.code, 3.0);
        fields.push((1.5, c.summary.clone()));
        for (key, text) in c.fields() {
            if key != "summary" {
                fields.push((1.0, text));
            }
        }
        fields.extend(c.legal_basis.iter().map(|l| (0.5, l.clone())));
        docs.push(Document {
            kind: Kind::Card,
            code: c.code.clone(),
            id: c.code.clone(),
            language: Some(c.language.clone()),
            titles: names(procedure(&c.code), &c.code),
            fields,
        });
    }
    for g in &content.guidance {
        let code = g.procedures.first().cloned().unwrap_or_default();
        let mut fields = vec![(2.0, g.title.clone()), (1.0, g.body.clone())];
        for p in &g.procedures {
            fields.extend(name_fields(p, 1.0));
        }
        fields.extend(g.legal_basis.iter().map(|l| (0.5, l.clone())));
        docs.push(Document {
            kind: Kind::Guidance,
            code,
            id: g.id.clone(),
            language: None,
            titles: vec![(REFERENCE_LANGUAGE.to_string(), g.title.clone())],
            fields,
        });
    }
    for t in &content.templates {
        let (code, purpose) = t.key.split_once('/').unwrap_or((t.key.as_str(), ""));
        let mut fields = name_fields(code, 2.0);
        fields.push((2.0, code_words(purpose)));
        fields.push((1.0, t.body.clone()));
        let titles = names(procedure(code), code)
            .into_iter()
            .map(|(l, n)| (l, format!("{n} — {}", code_words(purpose))))
            .collect();
        docs.push(Document {
            kind: Kind::Template,
            code: code.to_string(),
            id: t.key.clone(),
            language: Some(t.language.clone()),
            titles,
            fields,
        });
    }
    docs
}

/// Reads everything searchable from the desk's local copy: the catalogue in
/// force, every card in every language held, the guidance in force today
/// and every template.
pub fn content_from(local: &LocalCopy, today: chrono::NaiveDate) -> Result<Content, LocalError> {
    let catalogue = local.catalogue();
    let procedures: Vec<Procedure> = catalogue.iter().cloned().collect();
    let mut cards = Vec::new();
    for p in &procedures {
        for language in local.card_languages(&p.code)? {
            if let Some(c) = local.card(&p.code, &language)? {
                cards.push(c);
            }
        }
    }
    let guidance = local.guidance("", today)?;
    let mut templates = Vec::new();
    for key in local.template_keys("")? {
        for language in local.template_languages(&key)? {
            if let Some(t) = local.template(&key, &language)? {
                templates.push(t);
            }
        }
    }
    Ok(Content {
        procedures,
        cards,
        guidance,
        templates,
    })
}

/// What the built index was built from: when any of it moves, the next
/// search rebuilds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    guidance: u64,
    template: u64,
    catalogue: u64,
    card: u64,
    day: chrono::NaiveDate,
    /// The catalogue version the glossary came with. Not implied by
    /// `catalogue`: a push landing between reading the glossary and the
    /// versions would otherwise cache an index built with the old glossary
    /// under the new version.
    glossary: u64,
}

/// The desk's search: the index over its local copy, rebuilt after a push.
pub struct Search {
    local: Arc<LocalCopy>,
    built: Mutex<Option<(Stamp, Arc<Index>)>>,
}

impl Search {
    pub fn new(local: Arc<LocalCopy>) -> Self {
        Self {
            local,
            built: Mutex::new(None),
        }
    }

    fn stamp(&self, glossary: &Glossary) -> Result<Stamp, LocalError> {
        Ok(Stamp {
            guidance: self.local.guidance_version(),
            template: self.local.template_version()?,
            catalogue: self.local.catalogue_version(),
            card: self.local.card_version()?,
            day: chrono::Local::now().date_naive(),
            glossary: glossary.version,
        })
    }

    /// The index for what the desk holds now, rebuilt first when a push
    /// changed it.
    pub fn index(&self) -> Result<Arc<Index>, LocalError> {
        let glossary = self.local.glossary();
        let stamp = self.stamp(&glossary)?;
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, index)) = built.as_ref() {
            if *s == stamp {
                return Ok(Arc::clone(index));
            }
        }
        let started = Instant::now();
        let index = Arc::new(Index::build(
            documents(&content_from(&self.local, stamp.day)?),
            &glossary,
        ));
        tracing::info!(
            documents = index.documents(),
            terms = index.terms(),
            bytes = index.size_bytes(),
            millis = duration_ms(started.elapsed()),
            "search index rebuilt"
        );
        *built = Some((stamp, Arc::clone(&index)));
        Ok(index)
    }
}

fn duration_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Checks a request's bounds. The messages never repeat the query, which
/// may hold personal data typed by mistake.
pub fn check_request(query: &str, limit: u32) -> Result<usize, String> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(format!(
            "la ricerca supera {MAX_QUERY_CHARS} caratteri / the query is longer than {MAX_QUERY_CHARS} characters"
        ));
    }
    if limit > MAX_LIMIT {
        return Err(format!(
            "il limite massimo è {MAX_LIMIT} / limit is at most {MAX_LIMIT}"
        ));
    }
    Ok(if limit == 0 { DEFAULT_LIMIT } else { limit } as usize)
}

#[cfg(test)]
mod tests;
