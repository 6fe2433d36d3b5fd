//! Procedure cards: the whole answer for one catalogue code, in structured
//! fields, so that every desk gives the same complete answer and a
//! translation can go stale field by field.
//!
//! Italian is the reference. It holds the fields that do not depend on the
//! language (amounts, law references, owner, dates); a translation holds
//! only text, under the reference's item ids. Each reference card carries,
//! per translatable field, the card version at which its Italian text last
//! changed (`field_versions`): a translated field is stale when that
//! version is newer than the Italian version the translation was made from,
//! which a desk can tell from the latest cards alone.
//!
//! Checks return every problem at once, each naming its field, so that the
//! dashboard can show them beside the form as the coordinator types.

use std::collections::BTreeMap;

mod checks;
mod file;
mod law;
mod money;

pub use checks::{check_reference, check_translation, Problem};
pub use file::{from_toml, to_toml, FileError};
pub use law::{law_act, shares_law_reference};
pub use money::{format_euro, parse_euro};

/// The reference language every translation follows.
pub const REFERENCE_LANGUAGE: &str = "it";

/// One step, document or common mistake, with an id that stays the same
/// across edits and languages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub text: String,
    /// A short note (for documents: "copia di tutte le pagine").
    pub note: String,
}

/// An amount in euro cents and what it pays for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cost {
    pub id: String,
    pub cents: u64,
    pub what: String,
}

/// A procedure card in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    pub code: String,
    pub language: String,
    pub summary: String,
    pub who_can_apply: String,
    pub steps: Vec<Item>,
    pub documents: Vec<Item>,
    pub costs: Vec<Cost>,
    /// Where: the office, its opening hours and how to book, as the
    /// coordinator keeps them (empty until filled: never invented).
    pub office: String,
    pub hours: String,
    pub booking: String,
    pub deadlines: String,
    pub waiting_time: String,
    pub legal_basis: Vec<String>,
    pub mistakes: Vec<Item>,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub verified_on: String,
    /// Who last confirmed the card ("still correct").
    pub verified_by: String,
    /// `YYYY-MM-DD`.
    pub review_by: String,
    /// The card log version that wrote this card (0 before it is stored).
    pub version: u64,
    /// For a translation: the Italian card version it was made from.
    pub reference_version: u64,
    /// For the reference: per field key, the version at which its text last
    /// changed.
    pub field_versions: BTreeMap<String, u64>,
}

impl Card {
    pub fn is_reference(&self) -> bool {
        self.language == REFERENCE_LANGUAGE
    }

    /// The translatable text of the card under stable keys: `summary`,
    /// `who_can_apply`, `steps.ID`, `documents.ID`, `costs.ID`,
    /// `mistakes.ID`, `office`, `hours`, `booking`, `deadlines`,
    /// `waiting_time`. Empty fields are left out.
    pub fn fields(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut put = |key: String, text: String| {
            if !text.trim().is_empty() {
                out.insert(key, text);
            }
        };
        put("summary".into(), self.summary.clone());
        put("who_can_apply".into(), self.who_can_apply.clone());
        for (group, items) in [
            ("steps", &self.steps),
            ("documents", &self.documents),
            ("mistakes", &self.mistakes),
        ] {
            for i in items {
                let text = if i.note.is_empty() {
                    i.text.clone()
                } else {
                    format!("{} — {}", i.text, i.note)
                };
                put(format!("{group}.{}", i.id), text);
            }
        }
        for c in &self.costs {
            put(format!("costs.{}", c.id), c.what.clone());
        }
        put("office".into(), self.office.clone());
        put("hours".into(), self.hours.clone());
        put("booking".into(), self.booking.clone());
        put("deadlines".into(), self.deadlines.clone());
        put("waiting_time".into(), self.waiting_time.clone());
        out
    }

    /// The per-field versions of a reference card saved as `version` after
    /// `previous`: a field keeps its version while its text is unchanged.
    pub fn next_field_versions(
        &self,
        previous: Option<&Card>,
        version: u64,
    ) -> BTreeMap<String, u64> {
        let before = previous.map(Card::fields).unwrap_or_default();
        self.fields()
            .into_iter()
            .map(|(key, text)| {
                let kept = previous
                    .and_then(|p| p.field_versions.get(&key))
                    .filter(|_| before.get(&key) == Some(&text));
                (key, kept.copied().unwrap_or(version))
            })
            .collect()
    }

    /// The fields of this translation whose Italian text changed after the
    /// version it was made from, in key order.
    pub fn stale_fields(&self, reference: &Card) -> Vec<String> {
        if self.is_reference() {
            return Vec::new();
        }
        let mine = self.fields();
        reference
            .field_versions
            .iter()
            .filter(|(key, v)| **v > self.reference_version && mine.contains_key(*key))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// The reference's fields this translation lacks, in key order.
    pub fn missing_fields(&self, reference: &Card) -> Vec<String> {
        let mine = self.fields();
        reference
            .fields()
            .into_keys()
            .filter(|k| !mine.contains_key(k))
            .collect()
    }

    /// Why a reference card is due for review on `today`, if it is: its
    /// review-by date has passed, or guidance newer than its verified-on
    /// date names one of its law references. `guidance` is
    /// (date, title, law references) of the guidance in force.
    pub fn review_due(
        &self,
        today: &str,
        guidance: &[(String, String, Vec<String>)],
    ) -> Option<String> {
        if !self.review_by.is_empty() && self.review_by.as_str() < today {
            return Some(format!(
                "revisione scaduta il {} / review was due on {}",
                self.review_by, self.review_by
            ));
        }
        guidance
            .iter()
            .filter(|(date, _, _)| date.as_str() > self.verified_on.as_str())
            .find_map(|(date, title, refs)| {
                let shared = refs
                    .iter()
                    .find(|r| self.legal_basis.iter().any(|l| shares_law_reference(l, r)))?;
                Some(format!(
                    "indicazione del {date} «{title}» cita {shared} / guidance of {date} cites it"
                ))
            })
    }
}

#[cfg(test)]
mod tests;
