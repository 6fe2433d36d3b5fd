//! Linked tables: a new table protected against every table published
//! before it over the same dimensions (the publication register the hub
//! keeps), so that no two published tables can be differenced into a
//! hidden figure. The guarantee and its limits are in the module docs of
//! `disclosure`, "Linked tables".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::grid::{Grid, Place};
use super::{generalise, Cell, CountTable, DisclosureError, Options, ProtectedTable};

/// How a figure was shown when it was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    Published,
    /// `"<5"`.
    BelowK,
    /// `"x"`.
    Withheld,
}

impl Shown {
    fn cell(self, count: u64) -> Cell {
        match self {
            Shown::Published => Cell::Published(count),
            Shown::BelowK => Cell::Suppressed,
            Shown::Withheld => Cell::Withheld,
        }
    }

    pub(super) fn of(cell: Cell) -> Self {
        match cell {
            Cell::Published(_) => Shown::Published,
            Cell::Suppressed => Shown::BelowK,
            Cell::Withheld => Shown::Withheld,
        }
    }
}

/// One figure of a published table: where it sits, its true count at the
/// time (the hub holds every record anyway) and how it was shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedFigure {
    pub place: Place,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub col: Option<String>,
    pub count: u64,
    pub shown: Shown,
}

/// A register entry: one table as it was published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub dims: Vec<String>,
    pub figures: Vec<PublishedFigure>,
    /// The calendar period (`2026-11`), for tables released on the
    /// calendar; `None` for entries from before it (any weeks, or the whole),
    /// which keep constraining every table they are nested with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Released while its period was open (superseded, still constraining).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
}

/// A table protected against the register, and the entry to add to it;
/// `None` when an earlier entry has the very same figures and is shown again
/// unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub table: ProtectedTable,
    pub entry: Option<Publication>,
}

pub(super) type Key<'a> = (Place, Option<&'a String>, Option<&'a String>);

/// An earlier table laid on the current grid: counts and markings in
/// figure order. Figures the grid has and the entry lacks (values that
/// appeared since) counted nobody then, which is what the entry told.
pub(super) fn embed(
    entry: &Publication,
    index: &BTreeMap<Key<'_>, usize>,
    n: usize,
) -> Option<(Vec<u64>, Vec<Cell>)> {
    let mut counts = vec![0; n];
    let mut cells = vec![Cell::Published(0); n];
    for f in &entry.figures {
        // A label the grid no longer has (an M49 group that has changed):
        // the entry cannot be laid on this grid. See "Limits".
        let &q = index.get(&(f.place, f.row.as_ref(), f.col.as_ref()))?;
        counts[q] = f.count;
        cells[q] = f.shown.cell(f.count);
    }
    Some((counts, cells))
}

/// One table the new one is protected against.
struct Partner {
    cells: BTreeMap<Vec<String>, u64>,
    hidden: Vec<bool>,
    /// The new table contains the partner (rather than lying in it).
    whole: bool,
}

/// Protects `table`, a part of `reference` (the whole population now) or
/// the whole itself, against `reference` and against every entry of
/// `earlier` (the register, over any dimensions: only entries over the same
/// ones are read) that is nested with it: an entry that it lies in or that
/// lies in it, figure by figure. A table with the figures of an earlier
/// entry is shown exactly as that entry was.
pub fn protect_linked(
    table: &CountTable,
    reference: &CountTable,
    earlier: &[Publication],
    options: Options,
) -> Result<Linked, DisclosureError> {
    if table.dims != reference.dims {
        return Err(DisclosureError::DimensionsDiffer);
    }
    let (r, merged) = generalise::apply(reference, reference, options)?;
    let (d, _) = generalise::apply(table, reference, options)?;
    if d.cells
        .iter()
        .any(|(k, n)| r.cells.get(k).is_none_or(|m| n > m))
    {
        return Err(DisclosureError::NotASubset);
    }
    let universe = &r.cells;
    let alone = Grid::build_over(&d.dims, universe, &d.cells, &d.cells);
    let counts = alone.counts();
    let places: Vec<(Place, Option<String>, Option<String>)> = alone
        .places()
        .map(|(p, row, col)| (p, row.cloned(), col.cloned()))
        .collect();
    let index: BTreeMap<Key<'_>, usize> = places
        .iter()
        .enumerate()
        .map(|(q, (p, row, col))| ((*p, row.as_ref(), col.as_ref()), q))
        .collect();
    let n = counts.len();
    let key_of = |q: usize| -> Vec<String> {
        places
            .get(q)
            .map(|(_, row, col)| row.iter().chain(col.iter()).cloned().collect())
            .unwrap_or_default()
    };

    let same_dims: Vec<(Vec<u64>, Vec<Cell>)> = earlier
        .iter()
        .filter(|e| e.dims == table.dims)
        .filter_map(|e| embed(e, &index, n))
        .collect();
    // The same figures asked again, through whatever filter: the same
    // pattern, so that the two answers agree on every figure.
    if let Some((_, cells)) = same_dims.iter().find(|(c, _)| *c == counts) {
        return Ok(Linked {
            table: alone.publish_cells(cells, merged),
            entry: None,
        });
    }

    // A table whose figures add up with an earlier entry's to the whole
    // (a filter and its complement) starts from that entry's pattern: with
    // one pattern for both parts the three tables R, P and N are protected
    // together, as two parts under rule 5 are.
    let whole_counts = Grid::build(&r.dims, &r.cells, &r.cells).counts();
    let mut hidden = vec![false; n];
    for (theirs, cells) in &same_dims {
        let complement = (0..n).all(|q| {
            let (a, b) = (counts.get(q), theirs.get(q));
            a.zip(b).and_then(|(a, b)| a.checked_add(*b)) == whole_counts.get(q).copied()
        });
        if complement {
            for (h, c) in hidden.iter_mut().zip(cells) {
                *h |= c.is_hidden();
            }
        }
    }

    let mut partners = Vec::new();
    if d.cells != r.cells {
        let whole_grid = Grid::build(&r.dims, &r.cells, &r.cells);
        partners.push(Partner {
            cells: r.cells.clone(),
            hidden: whole_grid.suppress(None),
            whole: false,
        });
    }
    for (theirs, cells) in &same_dims {
        let lies_in = counts.iter().zip(theirs).all(|(a, b)| a <= b);
        let contains = counts.iter().zip(theirs).all(|(a, b)| a >= b);
        if !lies_in && !contains {
            // Neither lies in the other: their difference is no
            // population, and each one's own cycles move it without
            // touching the other (see "Linked tables").
            continue;
        }
        let partner_cells = (0..n)
            .filter(|&q| places.get(q).is_some_and(|p| p.0 == Place::Cell))
            .filter(|&q| theirs.get(q).is_some_and(|&c| c > 0))
            .map(|q| (key_of(q), theirs.get(q).copied().unwrap_or(0)))
            .collect();
        partners.push(Partner {
            cells: partner_cells,
            hidden: cells.iter().map(|c| c.is_hidden()).collect(),
            whole: !lies_in,
        });
    }

    let shown: Vec<Cell> = if partners.is_empty() && !hidden.contains(&true) {
        // Nothing published it could be differenced with: the table alone,
        // with its "<5" markings.
        let hidden = alone.suppress(None);
        alone.publish(&hidden, None, Vec::new()).figures().collect()
    } else {
        // Every figure hidden in a partner stays hidden, so that no partner
        // figure can be rebuilt from this table; then each pair in turn,
        // until no pair hides anything more (hiding only adds, so this
        // ends, and every pair checked earlier stays protected).
        for p in &partners {
            for (h, &ph) in hidden.iter_mut().zip(&p.hidden) {
                *h |= ph;
            }
        }
        loop {
            let before = hidden.clone();
            for p in &partners {
                let grid =
                    Grid::build_over(&d.dims, universe, &d.cells, &p.cells).containing(p.whole);
                hidden = grid.suppress_from(&hidden, Some(&p.hidden));
            }
            if hidden == before {
                break;
            }
        }
        // Every hidden figure is "x": a "<5" in two nested tables would
        // bound their difference.
        (0..n)
            .map(|q| {
                if hidden.get(q).copied().unwrap_or(true) {
                    Cell::Withheld
                } else {
                    Cell::Published(counts.get(q).copied().unwrap_or(0))
                }
            })
            .collect()
    };
    let entry = Publication {
        period: None,
        provisional: false,
        dims: table.dims.clone(),
        figures: places
            .iter()
            .zip(&counts)
            .zip(&shown)
            .map(|(((place, row, col), &count), &cell)| PublishedFigure {
                place: *place,
                row: row.clone(),
                col: col.clone(),
                count,
                shown: Shown::of(cell),
            })
            .collect(),
    };
    Ok(Linked {
        table: alone.publish_cells(&shown, merged),
        entry: Some(entry),
    })
}
