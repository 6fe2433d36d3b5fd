//! Every check a card passes before it is stored, each problem naming its
//! field in Italian and English. Bounds keep one card far below a push
//! message (about 200 KB at the worst).

use super::{Card, Item};
use std::collections::HashSet;

const MAX_TEXT: usize = 2_000;
const MAX_FIELD: usize = 1_000;
const MAX_ITEM: usize = 500;
const MAX_NOTE: usize = 300;
const MAX_ID: usize = 32;
const MAX_OWNER: usize = 100;
const MAX_REFERENCE: usize = 200;
const MAX_STEPS: usize = 30;
const MAX_DOCUMENTS: usize = 40;
const MAX_COSTS: usize = 20;
const MAX_MISTAKES: usize = 20;
const MAX_REFERENCES: usize = 20;

/// One thing wrong with a card, for the form and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `summary`, `steps.2.text`, `costs.bollo.amount`, ...
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Length in characters and no control characters but line breaks.
    fn text(&mut self, field: impl Into<String>, text: &str, max: usize) {
        let field = field.into();
        if text.chars().count() > max {
            self.add(
                field,
                format!("al massimo {max} caratteri / at most {max} characters"),
            );
        } else if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            self.add(
                field,
                "contiene caratteri di controllo / contains control characters",
            );
        }
    }

    fn required(&mut self, field: &str, text: &str, max: usize) {
        if text.trim().is_empty() {
            self.add(field, "obbligatorio / required");
        } else {
            self.text(field, text, max);
        }
    }

    fn date(&mut self, field: &str, text: &str) {
        if text.trim().is_empty() {
            self.add(field, "obbligatoria (AAAA-MM-GG) / required (YYYY-MM-DD)");
        } else if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() {
            self.add(
                field,
                "non è una data valida: scrivere AAAA-MM-GG, es. 2027-06-30 / not a valid date: write YYYY-MM-DD",
            );
        }
    }

    fn items(&mut self, group: &str, items: &[Item], max: usize, known: Option<&[Item]>) {
        if items.len() > max {
            self.add(
                group,
                format!("al massimo {max} voci / at most {max} entries"),
            );
        }
        let mut seen = HashSet::new();
        for (n, item) in items.iter().enumerate() {
            let at = format!("{group}.{}", n + 1);
            self.id(&at, &item.id, &mut seen);
            if let Some(known) = known {
                if !item.id.is_empty() && !known.iter().any(|k| k.id == item.id) {
                    self.add(
                        format!("{at}.id"),
                        format!(
                            "la scheda italiana non ha la voce «{}» / the Italian card has no entry with this id",
                            item.id
                        ),
                    );
                }
            }
            if item.text.trim().is_empty() {
                self.add(
                    format!("{at}.text"),
                    "non può essere vuota / may not be empty",
                );
            } else {
                self.text(format!("{at}.text"), &item.text, MAX_ITEM);
            }
            self.text(format!("{at}.note"), &item.note, MAX_NOTE);
        }
    }

    fn id(&mut self, at: &str, id: &str, seen: &mut HashSet<String>) {
        let ok = !id.is_empty()
            && id.len() <= MAX_ID
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            self.add(
                format!("{at}.id"),
                format!("un identificativo di 1-{MAX_ID} caratteri a-z, 0-9, _ o - / an id of 1-{MAX_ID} characters a-z, 0-9, _ or -"),
            );
        } else if !seen.insert(id.to_string()) {
            self.add(
                format!("{at}.id"),
                format!("«{id}» è già usato / is used twice"),
            );
        }
    }

    fn done(self) -> Result<(), Vec<Problem>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

fn common(p: &mut Problems, card: &Card, reference: Option<&Card>) {
    p.text("who_can_apply", &card.who_can_apply, MAX_TEXT);
    for (field, text) in [
        ("office", &card.office),
        ("hours", &card.hours),
        ("booking", &card.booking),
        ("deadlines", &card.deadlines),
        ("waiting_time", &card.waiting_time),
    ] {
        p.text(field, text, MAX_FIELD);
    }
    p.items(
        "steps",
        &card.steps,
        MAX_STEPS,
        reference.map(|r| r.steps.as_slice()),
    );
    p.items(
        "documents",
        &card.documents,
        MAX_DOCUMENTS,
        reference.map(|r| r.documents.as_slice()),
    );
    p.items(
        "mistakes",
        &card.mistakes,
        MAX_MISTAKES,
        reference.map(|r| r.mistakes.as_slice()),
    );
    if card.costs.len() > MAX_COSTS {
        p.add(
            "costs",
            format!("al massimo {MAX_COSTS} voci / at most {MAX_COSTS} entries"),
        );
    }
    let mut seen = HashSet::new();
    for (n, cost) in card.costs.iter().enumerate() {
        let at = format!("costs.{}", n + 1);
        p.id(&at, &cost.id, &mut seen);
        if cost.what.trim().is_empty() {
            p.add(
                format!("{at}.what"),
                "dire a cosa serve l'importo / say what the amount is for",
            );
        } else {
            p.text(format!("{at}.what"), &cost.what, MAX_ITEM);
        }
        if let Some(r) = reference {
            match r.costs.iter().find(|c| c.id == cost.id) {
                None => p.add(
                    format!("{at}.id"),
                    format!("la scheda italiana non ha il costo «{}» / the Italian card has no cost with this id", cost.id),
                ),
                Some(held) if held.cents != cost.cents => p.add(
                    format!("{at}.amount"),
                    "gli importi si cambiano nella scheda italiana / amounts are changed on the Italian card",
                ),
                Some(_) => {}
            }
        }
    }
}

/// Checks an Italian reference card.
pub fn check_reference(card: &Card) -> Result<(), Vec<Problem>> {
    let mut p = Problems::default();
    if !card.is_reference() {
        p.add(
            "language",
            "la scheda di riferimento è in italiano (it) / the reference card is in Italian (it)",
        );
    }
    p.required("summary", &card.summary, MAX_TEXT);
    common(&mut p, card, None);
    if card.legal_basis.len() > MAX_REFERENCES {
        p.add(
            "legal_basis",
            format!(
                "al massimo {MAX_REFERENCES} riferimenti / at most {MAX_REFERENCES} references"
            ),
        );
    }
    for (n, r) in card.legal_basis.iter().enumerate() {
        p.required(&format!("legal_basis.{}", n + 1), r, MAX_REFERENCE);
    }
    p.required("owner", &card.owner, MAX_OWNER);
    p.text("verified_by", &card.verified_by, MAX_OWNER);
    p.date("verified_on", &card.verified_on);
    p.date("review_by", &card.review_by);
    let dated = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    if let (Some(v), Some(r)) = (dated(&card.verified_on), dated(&card.review_by)) {
        if r < v {
            p.add(
                "review_by",
                "viene prima della verifica / comes before verified_on",
            );
        }
    }
    p.done()
}

/// Checks a translation against the Italian reference it follows: only
/// text, under the reference's ids, with the reference's amounts.
pub fn check_translation(card: &Card, reference: &Card) -> Result<(), Vec<Problem>> {
    let mut p = Problems::default();
    if card.is_reference() {
        p.add(
            "language",
            "questa è la scheda italiana / this is the Italian card",
        );
    }
    p.text("summary", &card.summary, MAX_TEXT);
    common(&mut p, card, Some(reference));
    if card.fields().is_empty() {
        p.add(
            "summary",
            "la traduzione è vuota / the translation is empty",
        );
    }
    p.done()
}
