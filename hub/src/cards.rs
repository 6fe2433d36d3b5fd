//! Procedure cards as a versioned log, pushed to every desk like the
//! catalogue: each save (an Italian reference or a translation) is one new
//! version. The seed (`hub/seed/cards/`, facts from CATALOGUE.md) is written
//! on the hub's first start. The rules a card obeys are `domain::card`'s;
//! this module adds what needs the log: the catalogue code, the reference a
//! translation follows, the word diff of a stale field, review due dates.

use crate::audit;
use crate::push::Push;
use crate::storage::{StorageError, Store};
use domain::card::{self, Card, Problem, REFERENCE_LANGUAGE};
use std::collections::BTreeMap;

/// Most bytes of a card file: far above any real card, far below a message.
pub const MAX_FILE_BYTES: usize = 256 << 10;

#[derive(Debug, thiserror::Error)]
pub enum CardsError {
    #[error("la scheda non è valida / the card was refused: {}", list(.0))]
    Problems(Vec<Problem>),
    #[error("«{0}» non è una procedura del catalogo in vigore / is not a procedure in force in the catalogue")]
    UnknownCode(String),
    #[error("la procedura «{code}» non ha ancora la scheda italiana: salvare prima quella / has no Italian card yet: save it first")]
    NoReference { code: String },
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The latest card per (code, language).
pub fn current(store: &dyn Store) -> Result<BTreeMap<(String, String), Card>, StorageError> {
    let mut latest = BTreeMap::new();
    for c in store.cards_since(0)? {
        latest.insert((c.code.clone(), c.language.clone()), c);
    }
    Ok(latest)
}

/// Checks a card and appends it as a new version, pushed at once when
/// `push` is given. A translation takes the reference's amounts and
/// follows its current version; the fields only the reference holds are
/// dropped from it.
pub fn put(
    store: &dyn Store,
    push: Option<&Push>,
    card: Card,
    actor: &str,
) -> Result<u64, CardsError> {
    let card = prepare(store, card)?;
    let (code, language) = (card.code.clone(), card.language.clone());
    let version = store.append_card(card)?;
    audit::record(
        store,
        actor,
        "card.put",
        &code,
        &format!("{language} v{version}"),
    )?;
    if let Some(p) = push {
        p.card_published(version);
    }
    Ok(version)
}

/// Every check `put` makes, and the card as it would be stored: what the
/// dashboard's editor shows as the coordinator types.
pub fn prepare(store: &dyn Store, mut card: Card) -> Result<Card, CardsError> {
    card.code = card.code.trim().to_string();
    card.language = domain::normalise_language_tag(&card.language).ok_or_else(|| {
        CardsError::Problems(vec![Problem {
            field: "language".into(),
            message:
                "un codice di lingua come it, en, ar, ur / a language tag such as it, en, ar, ur"
                    .into(),
        }])
    })?;
    let (_, active) = crate::catalogue::catalogues(store)?;
    if !active.contains(&card.code) {
        return Err(CardsError::UnknownCode(
            card.code.chars().take(80).collect(),
        ));
    }
    let latest = current(store)?;
    let reference = latest.get(&(card.code.clone(), REFERENCE_LANGUAGE.to_string()));
    card.version = 0;
    if card.is_reference() {
        card::check_reference(&card).map_err(CardsError::Problems)?;
        card.reference_version = 0;
        card.field_versions = card.next_field_versions(reference, 0);
    } else {
        let r = reference.ok_or_else(|| CardsError::NoReference {
            code: card.code.clone(),
        })?;
        for cost in &mut card.costs {
            if cost.cents == 0 {
                if let Some(held) = r.costs.iter().find(|c| c.id == cost.id) {
                    cost.cents = held.cents;
                }
            }
        }
        card::check_translation(&card, r).map_err(CardsError::Problems)?;
        card.reference_version = r.version;
        card.field_versions.clear();
        card.legal_basis.clear();
        card.owner.clear();
        card.verified_on.clear();
        card.verified_by.clear();
        card.review_by.clear();
    }
    Ok(card)
}

/// "Still correct": stamps the Italian card as verified today by `actor`
/// and moves its review date on by the interval it had (at least 30
/// days), as a new version; the translations stay current.
pub fn confirm(
    store: &dyn Store,
    push: Option<&Push>,
    code: &str,
    actor: &str,
    today: chrono::NaiveDate,
) -> Result<u64, CardsError> {
    let latest = current(store)?;
    let mut card = latest
        .get(&(code.to_string(), REFERENCE_LANGUAGE.to_string()))
        .cloned()
        .ok_or_else(|| CardsError::NoReference {
            code: code.chars().take(80).collect(),
        })?;
    let parse = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let interval = match (parse(&card.verified_on), parse(&card.review_by)) {
        (Some(v), Some(r)) => (r - v).max(chrono::Duration::days(30)),
        _ => chrono::Duration::days(180),
    };
    card.verified_on = today.format("%Y-%m-%d").to_string();
    card.review_by = (today + interval).format("%Y-%m-%d").to_string();
    card.verified_by = actor.chars().take(100).collect();
    let previous = card.clone();
    card.version = 0;
    card.reference_version = 0;
    card.field_versions = card.next_field_versions(Some(&previous), 0);
    let version = store.append_card(card)?;
    audit::record(store, actor, "card.confirm", code, &format!("v{version}"))?;
    if let Some(p) = push {
        p.card_published(version);
    }
    Ok(version)
}

/// One card's state for the coordinator (`hub cards --json`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CardRow {
    pub code: String,
    pub owner: String,
    pub verified_on: String,
    pub verified_by: String,
    pub review_by: String,
    /// The Italian card's version.
    pub version: u64,
    /// Why it is due for review, when it is.
    pub due: Option<String>,
    pub languages: Vec<LanguageRow>,
    /// Which desks have applied this card's latest save (in any language).
    pub rollout: CardRollout,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CardRollout {
    pub current: Vec<String>,
    pub behind: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LanguageRow {
    pub language: String,
    pub version: u64,
    /// The Italian version the translation was made from.
    pub reference_version: u64,
    pub stale: Vec<StaleField>,
    pub missing: Vec<String>,
}

/// A translated field whose Italian changed, with the Italian word diff
/// since the text the translation was made from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StaleField {
    pub field: String,
    pub diff: String,
}

/// Every code with an Italian card, its translations, what is stale and
/// what is due on `today`.
pub fn listing(store: &dyn Store, today: &str) -> Result<Vec<CardRow>, StorageError> {
    let history = store.cards_since(0)?;
    let mut latest: BTreeMap<(String, String), &Card> = BTreeMap::new();
    for c in &history {
        latest.insert((c.code.clone(), c.language.clone()), c);
    }
    let guidance = guidance_laws(store)?;
    let mut applied = Vec::new();
    for d in store.desks()?.into_iter().filter(|d| !d.revoked) {
        let held = store.push_state(&d.desk_id)?.card;
        applied.push((d.desk_id, held));
    }
    let mut rows: Vec<CardRow> = Vec::new();
    for ((code, language), reference) in &latest {
        if language != REFERENCE_LANGUAGE {
            continue;
        }
        let now = reference.fields();
        let languages = latest
            .iter()
            .filter(|((c, l), _)| c == code && l != REFERENCE_LANGUAGE)
            .map(|((_, l), t)| {
                // The Italian as it was when the translation was made.
                let then = history
                    .iter()
                    .rfind(|h| {
                        h.code == *code
                            && h.language == REFERENCE_LANGUAGE
                            && h.version <= t.reference_version
                    })
                    .map(Card::fields)
                    .unwrap_or_default();
                let stale = t
                    .stale_fields(reference)
                    .into_iter()
                    .map(|field| {
                        let old = then.get(&field).map_or("", String::as_str);
                        let new = now.get(&field).map_or("", String::as_str);
                        let diff = domain::diff_text(&domain::word_diff(old, new));
                        StaleField { field, diff }
                    })
                    .collect();
                LanguageRow {
                    language: l.clone(),
                    version: t.version,
                    reference_version: t.reference_version,
                    stale,
                    missing: t.missing_fields(reference),
                }
            })
            .collect();
        let latest = latest
            .iter()
            .filter(|((c, _), _)| c == code)
            .map(|(_, c)| c.version)
            .max()
            .unwrap_or(reference.version);
        let (current, behind): (Vec<_>, Vec<_>) =
            applied.iter().partition(|(_, held)| *held >= latest);
        rows.push(CardRow {
            rollout: CardRollout {
                current: current.into_iter().map(|(d, _)| d.clone()).collect(),
                behind: behind.into_iter().map(|(d, _)| d.clone()).collect(),
            },
            code: code.clone(),
            owner: reference.owner.clone(),
            verified_on: reference.verified_on.clone(),
            verified_by: reference.verified_by.clone(),
            review_by: reference.review_by.clone(),
            version: reference.version,
            due: reference.review_due(today, &guidance),
            languages,
        });
    }
    Ok(rows)
}

/// (date, title, law references) of the guidance in force that names laws.
fn guidance_laws(store: &dyn Store) -> Result<Vec<(String, String, Vec<String>)>, StorageError> {
    let mut latest: BTreeMap<String, domain::GuidanceItem> = BTreeMap::new();
    for item in store.guidance_since(0)? {
        latest.insert(item.id.clone(), item);
    }
    Ok(latest
        .into_values()
        .filter(|i| !i.retired && !i.legal_basis.is_empty())
        .map(|i| (i.effective_from, i.title, i.legal_basis))
        .collect())
}

/// Writes the seed cards (Italian and English) when the card log is empty;
/// returns the card log version.
pub fn ensure_seeded(store: &dyn Store) -> Result<u64, CardsError> {
    let held = store.card_version()?;
    if held > 0 {
        return Ok(held);
    }
    // Italian first: every translation follows its reference.
    let mut seed: Vec<&(&str, &str, &str)> = SEED.iter().collect();
    seed.sort_by_key(|(_, lang, _)| *lang != REFERENCE_LANGUAGE);
    for (code, lang, text) in seed {
        let card = from_toml(text, code, lang)?;
        put(store, None, card, audit::SEED)?;
    }
    let version = store.card_version()?;
    tracing::info!(version, "procedure cards seeded");
    Ok(version)
}

/// The seed cards, compiled in: (code, language, TOML).
const SEED: &[(&str, &str, &str)] = &include!(concat!(env!("OUT_DIR"), "/seed_cards.rs"));

pub use domain::card::to_toml;

/// Reads a card file (`hub card put CODE LANG FILE.toml`), bounded in
/// bytes; the format is `domain::card::file`'s. A wrong amount is a problem
/// of its field, reported with the others.
pub fn from_toml(text: &str, code: &str, language: &str) -> Result<Card, CardsError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(CardsError::File(format!(
            "il file supera {} KiB / the file is larger than {} KiB",
            MAX_FILE_BYTES >> 10,
            MAX_FILE_BYTES >> 10
        )));
    }
    card::from_toml(text, code, language).map_err(|e| match e {
        card::FileError::Syntax(message) => CardsError::File(message),
        card::FileError::Problems(problems) => CardsError::Problems(problems),
    })
}

#[cfg(test)]
mod tests;
