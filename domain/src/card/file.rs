//! The card file (`CODE.LANG.toml`): what `hub card put` reads, the seed
//! is written in and the dashboard's editor starts from, read and written
//! in one place so that every reader agrees on it.

use super::{format_euro, parse_euro, Card, Cost as CardCost, Item as CardItem, Problem};

/// Why a card file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// Not TOML of the card's shape, with the line.
    Syntax(String),
    /// Values of the wrong shape (an amount that is no euro amount).
    Problems(Vec<Problem>),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CardFile {
    #[serde(default)]
    summary: String,
    #[serde(default)]
    who_can_apply: String,
    #[serde(default)]
    deadlines: String,
    #[serde(default)]
    waiting_time: String,
    #[serde(default)]
    legal_basis: Vec<String>,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    verified_on: String,
    #[serde(default)]
    review_by: String,
    #[serde(default, rename = "where")]
    place: Place,
    #[serde(default)]
    step: Vec<ItemEntry>,
    #[serde(default)]
    document: Vec<ItemEntry>,
    #[serde(default)]
    cost: Vec<CostEntry>,
    #[serde(default)]
    mistake: Vec<ItemEntry>,
}

#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Place {
    #[serde(default)]
    office: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    booking: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemEntry {
    id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    note: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CostEntry {
    id: String,
    /// "70,46" or "€ 70,46"; a translation may leave it out.
    #[serde(default)]
    amount: Option<String>,
    #[serde(default)]
    what: String,
}

#[derive(serde::Serialize)]
struct CardOut<'a> {
    summary: &'a str,
    who_can_apply: &'a str,
    deadlines: &'a str,
    waiting_time: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    legal_basis: &'a [String],
    #[serde(skip_serializing_if = "str::is_empty")]
    owner: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    verified_on: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    review_by: &'a str,
    #[serde(rename = "where")]
    place: PlaceOut<'a>,
    step: Vec<ItemOut<'a>>,
    document: Vec<ItemOut<'a>>,
    cost: Vec<CostOut<'a>>,
    mistake: Vec<ItemOut<'a>>,
}

#[derive(serde::Serialize)]
struct PlaceOut<'a> {
    office: &'a str,
    hours: &'a str,
    booking: &'a str,
}

#[derive(serde::Serialize)]
struct ItemOut<'a> {
    id: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    note: &'a str,
}

#[derive(serde::Serialize)]
struct CostOut<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<String>,
    what: &'a str,
}

/// A card in the file format `from_toml` reads (the dashboard's editor
/// starts from it); a translation's amounts are the reference's, so left out.
pub fn to_toml(card: &Card) -> String {
    fn items(items: &[CardItem]) -> Vec<ItemOut<'_>> {
        items
            .iter()
            .map(|i| ItemOut {
                id: &i.id,
                text: &i.text,
                note: &i.note,
            })
            .collect()
    }
    let out = CardOut {
        summary: &card.summary,
        who_can_apply: &card.who_can_apply,
        deadlines: &card.deadlines,
        waiting_time: &card.waiting_time,
        legal_basis: &card.legal_basis,
        owner: &card.owner,
        verified_on: &card.verified_on,
        review_by: &card.review_by,
        place: PlaceOut {
            office: &card.office,
            hours: &card.hours,
            booking: &card.booking,
        },
        step: items(&card.steps),
        document: items(&card.documents),
        cost: card
            .costs
            .iter()
            .map(|c| CostOut {
                id: &c.id,
                amount: card
                    .is_reference()
                    .then(|| format_euro(c.cents).trim_start_matches("€ ").to_string()),
                what: &c.what,
            })
            .collect(),
        mistake: items(&card.mistakes),
    };
    toml::to_string(&out).unwrap_or_default()
}

/// Reads a card file (`hub card put CODE LANG FILE.toml`, the seed). A wrong amount
/// is a problem of its field, reported with the others by the checks.
pub fn from_toml(text: &str, code: &str, language: &str) -> Result<Card, FileError> {
    let file: CardFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .and_then(|r| text.get(..r.start))
            .map_or(1, |before| before.matches('\n').count() + 1);
        FileError::Syntax(format!("riga / line {line}: {}", e.message()))
    })?;
    let items = |entries: Vec<ItemEntry>| -> Vec<CardItem> {
        entries
            .into_iter()
            .map(|e| CardItem {
                id: e.id,
                text: e.text,
                note: e.note,
            })
            .collect()
    };
    let mut problems = Vec::new();
    let costs = file
        .cost
        .into_iter()
        .enumerate()
        .map(|(n, c)| {
            let cents = match c.amount.as_deref() {
                None => 0,
                Some(a) => parse_euro(a).unwrap_or_else(|message| {
                    problems.push(Problem {
                        field: format!("costs.{}.amount", n + 1),
                        message,
                    });
                    0
                }),
            };
            CardCost {
                id: c.id,
                cents,
                what: c.what,
            }
        })
        .collect();
    if !problems.is_empty() {
        return Err(FileError::Problems(problems));
    }
    Ok(Card {
        code: code.to_string(),
        language: language.to_string(),
        summary: file.summary,
        who_can_apply: file.who_can_apply,
        steps: items(file.step),
        documents: items(file.document),
        costs,
        office: file.place.office,
        hours: file.place.hours,
        booking: file.place.booking,
        deadlines: file.deadlines,
        waiting_time: file.waiting_time,
        legal_basis: file.legal_basis,
        mistakes: items(file.mistake),
        owner: file.owner,
        verified_on: file.verified_on,
        review_by: file.review_by,
        ..Card::default()
    })
}
