//! The tables a release must stay safe beside: its ancestors, and the
//! register entries it is nested with (see step 3 in `release`).

use std::collections::BTreeMap;

use super::super::grid::{Pins, Place};
use super::super::register::{embed, Key, Publication};
use super::YearGrid;

/// A table the one being protected must stay safe beside.
pub(super) struct Partner {
    pub(super) cells: BTreeMap<Vec<String>, u64>,
    pub(super) hidden: Vec<bool>,
    /// The protected table contains the partner (rather than lying in it).
    pub(super) whole: bool,
    /// The partner's figures a reader knows from other tables.
    pub(super) pins: Vec<bool>,
}

/// The cells of a register entry laid on the grid, as a partner table.
fn entry_cells(
    counts: &[u64],
    places: &[(Place, Option<String>, Option<String>)],
) -> BTreeMap<Vec<String>, u64> {
    places
        .iter()
        .zip(counts)
        .filter(|((place, ..), &n)| *place == Place::Cell && n > 0)
        .map(|((_, row, col), &n)| (row.iter().chain(col.iter()).cloned().collect(), n))
        .collect()
}

/// Hides more of `hidden` (the figures of `cells` on the year's grid) until
/// every partner pair is protected; hiding only adds, so earlier pairs stay
/// protected and the loop ends.
pub(super) fn protect_against(
    year: &YearGrid,
    cells: &BTreeMap<Vec<String>, u64>,
    mut hidden: Vec<bool>,
    partners: &[Partner],
    pins: &Pins,
) -> Vec<bool> {
    for p in partners {
        for (h, &ph) in hidden.iter_mut().zip(&p.hidden) {
            *h |= ph;
        }
    }
    loop {
        let before = hidden.clone();
        for p in partners {
            let grid = year
                .grid(cells, &p.cells)
                .containing(p.whole)
                .pinning(Pins {
                    reference: p.pins.clone(),
                    ..pins.clone()
                });
            hidden = grid.suppress_from(&hidden, Some(&p.hidden));
        }
        if hidden == before {
            return hidden;
        }
    }
}

/// What the register says about one period: partners to protect against,
/// and the figures earlier entries with the same counts hid.
/// An entry's figures a reader knows are taken to be those known of the
/// period now (`pins`): the entry is of the same period, and what other
/// tables print of it is the same kind of figure.
pub(super) fn register_constraints(
    entries: &[&Publication],
    counts: &[u64],
    places: &[(Place, Option<String>, Option<String>)],
    pins: &[bool],
) -> (Vec<Partner>, Vec<bool>) {
    let index: BTreeMap<Key<'_>, usize> = places
        .iter()
        .enumerate()
        .map(|(q, (p, row, col))| ((*p, row.as_ref(), col.as_ref()), q))
        .collect();
    let n = counts.len();
    let mut partners = Vec::new();
    let mut kept = vec![false; n];
    for entry in entries {
        // An entry whose labels the year's grid lacks (other M49 groups or
        // recoding) cannot be laid on it: see "Limits" in `disclosure`.
        let Some((theirs, shown)) = embed(entry, &index, n) else {
            continue;
        };
        let hidden: Vec<bool> = shown.iter().map(|c| c.is_hidden()).collect();
        if theirs == counts {
            for (k, h) in kept.iter_mut().zip(&hidden) {
                *k |= h;
            }
            continue;
        }
        let lies_in = counts.iter().zip(&theirs).all(|(a, b)| a <= b);
        let contains = counts.iter().zip(&theirs).all(|(a, b)| a >= b);
        if lies_in || contains {
            partners.push(Partner {
                cells: entry_cells(&theirs, places),
                hidden,
                whole: !lies_in,
                pins: pins.to_vec(),
            });
        }
    }
    (partners, kept)
}
