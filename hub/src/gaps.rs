//! What the network cannot yet serve (issue 16), as the "Lacune / Gaps"
//! page and `hub gaps --json` show it: the languages visitors used against
//! the languages each procedure's card and answer templates exist in; where
//! a mediator was needed and none could be found, by language and by desk;
//! the searches the desks could not answer; the cards due for review.
//!
//! Every figure counted from visits comes from [`stats::query`], so it is
//! released on the calendar and protected like every other published table
//! (`mediator` is a sensitive dimension: small figures read `<5`); the
//! searches follow the k rule of [`misses`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::misses::{self, ShownMiss};
use crate::stats::{self, Period, StatsError};
use crate::storage::Store;
use domain::disclosure::{labels, Cell};

/// Most unanswered searches listed.
pub const MAX_SEARCHES: usize = 20;

/// A value with its names for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub code: String,
    pub it: String,
    pub en: String,
}

fn named(dim: &str, code: &str) -> Named {
    let (it, en) = labels::label(dim, code).unwrap_or_else(|| (code.to_owned(), code.to_owned()));
    Named {
        code: code.to_owned(),
        it,
        en,
    }
}

/// One language visitors used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageDemand {
    pub language: Named,
    /// Visits held in it, as published: a number, `<5` or `x`.
    pub visits: String,
    /// Procedures with a card in it, of those with an Italian card.
    pub cards: usize,
    pub procedures_with_card: usize,
    /// Answer templates (keys) in it, of those with an Italian text.
    pub templates: usize,
    pub template_keys: usize,
    /// Procedures asked about in it that have no card in it.
    pub procedures_without_card: usize,
}

/// A procedure asked about in a language it has no card in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncovered {
    pub procedure: Named,
    pub language: Named,
    pub visits: String,
    /// Whether any answer template of the procedure exists in it.
    pub templates: bool,
}

/// Visits where a mediator was needed and none was available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    pub by: Named,
    /// As published: a number, `<5` or `x`.
    pub visits: String,
}

/// A card whose review is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub procedure: Named,
    pub owner: String,
    pub review_by: String,
    pub why: String,
}

/// The whole page, and what `hub gaps --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gaps {
    /// The release period the visit figures are counted over.
    pub period: Option<String>,
    /// The first and last ISO week it counts.
    pub weeks: Option<(String, String)>,
    pub provisional: bool,
    /// Languages other than Italian with visits, most visits first.
    pub languages: Vec<LanguageDemand>,
    pub uncovered: Vec<Uncovered>,
    pub mediator_unavailable_by_language: Vec<Unavailable>,
    pub mediator_unavailable_by_desk: Vec<Unavailable>,
    /// Queries asked at least `misses::K` times in the network.
    pub searches: Vec<ShownMiss>,
    pub k: u64,
    pub cards_due: Vec<Due>,
}

fn figure(cell: Cell) -> String {
    stats::figure(cell)
}

/// Sort key for a published figure: numbers by size, hidden ones last.
fn weight(f: &str) -> u64 {
    f.parse().unwrap_or(0)
}

fn shown(f: &str) -> bool {
    f != "0"
}

/// The gaps over `period` (the current year so far by default).
pub fn build(store: &dyn Store, period: &Period, today: &str) -> Result<Gaps, StatsError> {
    let by_language = stats::query(store, &["language"], period)?;
    let by_procedure = stats::query(store, &["procedure", "language"], period)?;
    let mediator_language = stats::query(store, &["language", "mediator"], period)?;
    let mediator_desk = stats::query(store, &["desk_id", "mediator"], period)?;

    let cards = crate::cards::listing(store, today)?;
    // (procedure, language) pairs with a card; every listed code has its Italian one.
    let mut card_in: BTreeSet<(String, String)> = BTreeSet::new();
    for row in &cards {
        card_in.insert((
            row.code.clone(),
            domain::card::REFERENCE_LANGUAGE.to_owned(),
        ));
        for l in &row.languages {
            card_in.insert((row.code.clone(), l.language.clone()));
        }
    }
    let templates = crate::answer_templates::current(store)?;
    let template_keys: BTreeSet<&str> = templates.keys().map(|(k, _)| k.as_str()).collect();
    let mut template_in: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (key, language) in templates.keys() {
        template_in
            .entry(language.as_str())
            .or_default()
            .insert(key.as_str());
    }
    let procedure_templates = |code: &str, language: &str| {
        template_in.get(language).is_some_and(|keys| {
            keys.iter()
                .any(|k| k.split_once('/').map_or(*k, |(p, _)| p) == code)
        })
    };

    let mut uncovered = Vec::new();
    let mut without_card: BTreeMap<String, usize> = BTreeMap::new();
    for (values, cell) in by_procedure.table.rows() {
        let (Some(procedure), Some(language)) = (values.first(), values.get(1)) else {
            continue;
        };
        let visits = figure(*cell);
        if language == domain::card::REFERENCE_LANGUAGE
            || !shown(&visits)
            || card_in.contains(&(procedure.clone(), language.clone()))
        {
            continue;
        }
        *without_card.entry(language.clone()).or_default() += 1;
        uncovered.push(Uncovered {
            procedure: named("procedure", procedure),
            language: named("language", language),
            templates: procedure_templates(procedure, language),
            visits,
        });
    }
    uncovered.sort_by(|a, b| {
        weight(&b.visits)
            .cmp(&weight(&a.visits))
            .then_with(|| a.language.code.cmp(&b.language.code))
            .then_with(|| a.procedure.code.cmp(&b.procedure.code))
    });

    let mut languages: Vec<LanguageDemand> = by_language
        .table
        .rows()
        .iter()
        .filter_map(|(values, cell)| {
            let language = values.first()?;
            let visits = figure(*cell);
            (language != domain::card::REFERENCE_LANGUAGE && shown(&visits)).then(|| {
                LanguageDemand {
                    language: named("language", language),
                    cards: cards
                        .iter()
                        .filter(|r| card_in.contains(&(r.code.clone(), language.clone())))
                        .count(),
                    procedures_with_card: cards.len(),
                    templates: template_in.get(language.as_str()).map_or(0, BTreeSet::len),
                    template_keys: template_keys.len(),
                    procedures_without_card: without_card.get(language).copied().unwrap_or(0),
                    visits,
                }
            })
        })
        .collect();
    languages.sort_by(|a, b| {
        weight(&b.visits)
            .cmp(&weight(&a.visits))
            .then_with(|| a.language.code.cmp(&b.language.code))
    });

    let unavailable = |published: &stats::Published, dim: &str| -> Vec<Unavailable> {
        let mut out: Vec<Unavailable> = published
            .table
            .rows()
            .iter()
            .filter(|(v, _)| v.get(1).map(String::as_str) == Some("needed_unavailable"))
            .filter_map(|(v, cell)| {
                let visits = figure(*cell);
                shown(&visits).then(|| Unavailable {
                    by: named(dim, v.first().map_or("", String::as_str)),
                    visits,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            weight(&b.visits)
                .cmp(&weight(&a.visits))
                .then_with(|| a.by.code.cmp(&b.by.code))
        });
        out
    };

    let searches = misses::shown(&store.miss_counts()?, MAX_SEARCHES);
    let cards_due = cards
        .iter()
        .filter_map(|r| {
            r.due.as_ref().map(|why| Due {
                procedure: named("procedure", &r.code),
                owner: r.owner.clone(),
                review_by: r.review_by.clone(),
                why: why.clone(),
            })
        })
        .collect();
    Ok(Gaps {
        period: by_language.period.clone(),
        weeks: by_language.weeks.clone(),
        provisional: by_language.provisional,
        languages,
        uncovered,
        mediator_unavailable_by_language: unavailable(&mediator_language, "language"),
        mediator_unavailable_by_desk: unavailable(&mediator_desk, "desk_id"),
        searches,
        k: misses::K,
        cards_due,
    })
}
