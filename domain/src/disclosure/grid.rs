//! The table as the system of equations an attacker solves, and the choice
//! of complementary suppressions.
//!
//! Every figure (cell, row total, column total, grand total) is an edge
//! between the two equations it appears in: a row node and a column node.
//! With margins counted negatively (`y = -x`) every node sums to zero, so a
//! change that keeps all published figures is a circulation on the hidden
//! edges, and the smallest such change, by one, runs around a simple cycle.
//! A one-way table is the same picture with two nodes and every figure a
//! parallel edge between them.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::{Cell, MergedLabel, ProtectedTable, K};

/// How many of the cheapest candidates are tried against the whole hidden
/// set, not only as a cycle of their own.
const FULL_CHECKS: usize = 16;

/// Where a figure sits in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    Cell,
    RowMargin,
    ColMargin,
    Grand,
}

#[derive(Debug, Clone)]
struct Figure {
    row: Option<String>,
    col: Option<String>,
    place: Place,
    /// Row-side and column-side node.
    u: usize,
    v: usize,
    /// Whether the figure enters its equations negated (margins).
    negated: bool,
    sensitive: bool,
    /// The table's own count, and the reference's.
    d: u64,
    r: u64,
}

pub(super) struct Grid {
    dims: Vec<String>,
    figures: Vec<Figure>,
    nodes: usize,
    /// Whether the table contains its reference (a later, larger period
    /// against an earlier published one) rather than being a part of it.
    whole: bool,
    /// Figures a reader knows from other tables (see [`Pins`]), in the
    /// table and in its reference.
    pins: Pins,
    /// Every hidden figure is marked "x", which then tells nothing but
    /// "not negative", as in tables released on the calendar. Otherwise a
    /// small one is marked "<5", and so "x" says "0 or at least K".
    x_tells_nothing: bool,
}

/// Figures of a table that other published tables print anyway: the grand
/// total (any table without nationality or age band prints it, week by
/// week), the margins over such a dimension, and the margins the one-way
/// table of a sensitive dimension shows. A pinned figure is never hidden as
/// a complement and never moves in a cycle, since a reader knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Pins {
    /// Pinned figures of the table, in figure order.
    pub(super) table: Vec<bool>,
    /// Pinned figures of the reference, in figure order.
    pub(super) reference: Vec<bool>,
    /// Figures other tables hide: hidden here too, and protected as a
    /// small figure is, or the table would print them.
    pub(super) hidden: Vec<bool>,
}

fn flag(flags: &[bool], q: usize) -> bool {
    flags.get(q).copied().unwrap_or(false)
}

/// Which published tables a candidate change must keep intact, and what
/// moves: see `Grid::can_move`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// One table alone: D moves.
    Alone,
    /// D and the difference C together; R fixed. C moves against D when D
    /// is the part (`R = D + C`), with it when D is the whole (`D = R + C`).
    Split,
    /// D and R together, inside R's hidden set; the difference fixed.
    WithReferenceD,
    /// The difference and R together, inside R's hidden set; D fixed.
    WithReferenceC,
}

fn in_reference(reference: Option<&[bool]>, q: usize) -> bool {
    reference.is_some_and(|h| h.get(q).copied().unwrap_or(false))
}

/// Whether a hidden figure of value `v` can take `v ± 1` without
/// contradicting its marking: `"<5"` means `1..K`, `"x"` means 0 or at
/// least K. A `"x"` at 0 could jump to K, but a unit step cannot show that,
/// so it is held fixed: this only makes the check stricter.
fn step_ok(v: u64, up: bool) -> bool {
    match (v, up) {
        (0, _) => false,
        (v, true) if v < K => v + 1 < K,
        (v, false) if v < K => v > 1,
        (_, true) => true,
        (v, false) => v > K,
    }
}

impl Grid {
    /// The grid of `reference` (its labels and figures) carrying the counts
    /// of `table`, a part of it (or the same).
    pub(super) fn build(
        dims: &[(String, bool)],
        table: &BTreeMap<Vec<String>, u64>,
        reference: &BTreeMap<Vec<String>, u64>,
    ) -> Self {
        Self::build_over(dims, reference, table, reference)
    }

    /// The grid with the labels of `universe` (the whole population, of
    /// which `table` and `reference` are both parts) carrying the counts of
    /// `table` and `reference`, so that grids of one universe number their
    /// figures alike.
    pub(super) fn build_over(
        dims: &[(String, bool)],
        universe: &BTreeMap<Vec<String>, u64>,
        table: &BTreeMap<Vec<String>, u64>,
        reference: &BTreeMap<Vec<String>, u64>,
    ) -> Self {
        let sensitive_dim = |i: usize| dims.get(i).is_some_and(|d| d.1);
        let any_sensitive = dims.iter().any(|d| d.1);
        let names = dims.iter().map(|d| d.0.clone()).collect();
        let get = |m: &BTreeMap<Vec<String>, u64>, k: &Vec<String>| m.get(k).copied().unwrap_or(0);
        let mut figures = Vec::new();
        if dims.len() == 1 {
            let (mut d_all, mut r_all) = (0u64, 0u64);
            for key in universe.keys() {
                let r = get(reference, key);
                let d = get(table, key);
                d_all = d_all.saturating_add(d);
                r_all = r_all.saturating_add(r);
                figures.push(Figure {
                    row: key.first().cloned(),
                    col: None,
                    place: Place::Cell,
                    u: 0,
                    v: 1,
                    negated: false,
                    sensitive: any_sensitive,
                    d,
                    r,
                });
            }
            figures.push(Figure {
                row: None,
                col: None,
                place: Place::Grand,
                u: 0,
                v: 1,
                negated: true,
                sensitive: false,
                d: d_all,
                r: r_all,
            });
            return Self {
                dims: names,
                figures,
                nodes: 2,
                whole: false,
                pins: Pins::default(),
                x_tells_nothing: false,
            };
        }

        let mut rows: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut cols: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for key in universe.keys() {
            let r = get(reference, key);
            let d = get(table, key);
            for (slot, label) in [(&mut rows, key.first()), (&mut cols, key.get(1))] {
                if let Some(label) = label {
                    let e = slot.entry(label.clone()).or_insert((0, 0));
                    e.0 = e.0.saturating_add(d);
                    e.1 = e.1.saturating_add(r);
                }
            }
        }
        let row_index: BTreeMap<&String, usize> =
            rows.keys().enumerate().map(|(i, k)| (k, i)).collect();
        let col_index: BTreeMap<&String, usize> = cols
            .keys()
            .enumerate()
            .map(|(j, k)| (k, rows.len() + 1 + j))
            .collect();
        let total_row = rows.len();
        let total_col = rows.len() + 1 + cols.len();
        for key in universe.keys() {
            let r = get(reference, key);
            let (Some(a), Some(b)) = (key.first(), key.get(1)) else {
                continue;
            };
            let (Some(&u), Some(&v)) = (row_index.get(a), col_index.get(b)) else {
                continue;
            };
            figures.push(Figure {
                row: Some(a.clone()),
                col: Some(b.clone()),
                place: Place::Cell,
                u,
                v,
                negated: false,
                sensitive: any_sensitive,
                d: get(table, key),
                r,
            });
        }
        let (mut d_all, mut r_all) = (0u64, 0u64);
        for (label, &(d, r)) in &rows {
            d_all = d_all.saturating_add(d);
            r_all = r_all.saturating_add(r);
            figures.push(Figure {
                row: Some(label.clone()),
                col: None,
                place: Place::RowMargin,
                u: row_index.get(label).copied().unwrap_or(total_row),
                v: total_col,
                negated: true,
                sensitive: sensitive_dim(0),
                d,
                r,
            });
        }
        for (label, &(d, r)) in &cols {
            figures.push(Figure {
                row: None,
                col: Some(label.clone()),
                place: Place::ColMargin,
                u: total_row,
                v: col_index.get(label).copied().unwrap_or(total_col),
                negated: true,
                sensitive: sensitive_dim(1),
                d,
                r,
            });
        }
        figures.push(Figure {
            row: None,
            col: None,
            place: Place::Grand,
            u: total_row,
            v: total_col,
            negated: false,
            sensitive: false,
            d: d_all,
            r: r_all,
        });
        Self {
            dims: names,
            figures,
            nodes: total_col + 1,
            whole: false,
            pins: Pins::default(),
            x_tells_nothing: false,
        }
    }

    /// Reads "x" as telling nothing (see `x_tells_nothing`).
    pub(super) fn reading_x_as_nothing(mut self) -> Self {
        self.x_tells_nothing = true;
        self
    }

    /// Pins the figures other tables print (see [`Pins`]).
    pub(super) fn pinning(mut self, pins: Pins) -> Self {
        self.pins = pins;
        self
    }

    /// Marks the table as containing its reference instead of lying in it.
    pub(super) fn containing(mut self, whole: bool) -> Self {
        self.whole = whole;
        self
    }

    /// The difference between the table and its reference, `R - D` for a
    /// part and `D - R` for a table containing its reference: the figures
    /// of a population nobody published, which the two tables would print.
    fn c(&self, f: &Figure) -> u64 {
        if self.whole {
            f.d.saturating_sub(f.r)
        } else {
            f.r.saturating_sub(f.d)
        }
    }

    /// Where each figure sits, in figure order.
    pub(super) fn places(&self) -> impl Iterator<Item = (Place, Option<&String>, Option<&String>)> {
        self.figures
            .iter()
            .map(|f| (f.place, f.row.as_ref(), f.col.as_ref()))
    }

    /// The table's count of each figure, in figure order.
    pub(super) fn counts(&self) -> Vec<u64> {
        self.figures.iter().map(|f| f.d).collect()
    }

    /// Whether figure `q` can take one step of `y` (its signed value) in
    /// direction `up` under `mv`, given R's hidden set.
    fn can_move(&self, q: usize, y_up: bool, mv: Move, reference: Option<&[bool]>) -> bool {
        let Some(f) = self.figures.get(q) else {
            return false;
        };
        // A figure a reader knows cannot move: the table's in the moves
        // that change it, the reference's in those that change that.
        let known_d = flag(&self.pins.table, q);
        let known_r = flag(&self.pins.reference, q);
        let moves_d = matches!(mv, Move::Alone | Move::Split | Move::WithReferenceD);
        let moves_r = matches!(mv, Move::WithReferenceD | Move::WithReferenceC);
        if (known_d && moves_d) || (known_r && moves_r) {
            return false;
        }
        let x_up = y_up != f.negated;
        let in_reference = in_reference(reference, q);
        // A part marks every hidden figure "x", whatever its value, so the
        // marking says nothing but "not negative". (Telling "<5" from "x"
        // there would pin both parts of a published 8 hidden as "<5".)
        let part = |v: u64, up: bool| up || v > 0;
        let marked = |v: u64, up: bool| {
            if self.x_tells_nothing {
                part(v, up)
            } else {
                step_ok(v, up)
            }
        };
        // The difference follows the larger table and opposes the smaller.
        let c = self.c(f);
        match mv {
            Move::Alone => marked(f.d, x_up),
            Move::Split => part(f.d, x_up) && part(c, x_up == self.whole),
            Move::WithReferenceD => in_reference && part(f.d, x_up) && marked(f.r, x_up),
            Move::WithReferenceC => {
                in_reference && part(c, x_up != self.whole) && marked(f.r, x_up)
            }
        }
    }

    /// Whether figure `p` lies on a cycle through `edges` (other hidden
    /// figures) that can all take a unit step under `mv`: then another
    /// table consistent with everything published has `p` one higher or
    /// lower.
    fn on_cycle(&self, p: usize, edges: &[usize], mv: Move, reference: Option<&[bool]>) -> bool {
        let Some(fp) = self.figures.get(p) else {
            return false;
        };
        let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); self.nodes];
        for &q in edges {
            let Some(f) = self.figures.get(q) else {
                continue;
            };
            if q == p {
                continue;
            }
            // Raising y walks row → column, lowering it column → row, so
            // a directed cycle alternates raises and lowers at every node
            // and leaves every equation balanced.
            if self.can_move(q, true, mv, reference) {
                adjacency[f.u].push(f.v);
            }
            if self.can_move(q, false, mv, reference) {
                adjacency[f.v].push(f.u);
            }
        }
        let reaches = |from: usize, to: usize| {
            let mut seen = vec![false; self.nodes];
            let mut queue = VecDeque::from([from]);
            seen[from] = true;
            while let Some(n) = queue.pop_front() {
                if n == to {
                    return true;
                }
                for &m in &adjacency[n] {
                    if !seen[m] {
                        seen[m] = true;
                        queue.push_back(m);
                    }
                }
            }
            false
        };
        (self.can_move(p, true, mv, reference) && reaches(fp.v, fp.u))
            || (self.can_move(p, false, mv, reference) && reaches(fp.u, fp.v))
    }

    /// The moves of which at least one must reach figure `p`, for each
    /// reason `p` needs protecting; empty when it needs none.
    fn requirements(&self, p: usize, reference: Option<&[bool]>) -> Vec<[Move; 2]> {
        let Some(f) = self.figures.get(p) else {
            return Vec::new();
        };
        // A pinned figure is printed by another table, which protected it.
        if flag(&self.pins.table, p) {
            return Vec::new();
        }
        let small = |n: u64| f.sensitive && n > 0 && n < K;
        let hidden_elsewhere = flag(&self.pins.hidden, p) && f.d > 0;
        let mut needs = Vec::new();
        match reference {
            None => {
                if small(f.d) || hidden_elsewhere {
                    needs.push([Move::Alone, Move::Alone]);
                }
            }
            Some(_) => {
                if small(f.d) || hidden_elsewhere {
                    needs.push([Move::Split, Move::WithReferenceD]);
                }
                if small(self.c(f)) {
                    needs.push([Move::Split, Move::WithReferenceC]);
                }
                if small(f.r) {
                    needs.push([Move::WithReferenceD, Move::WithReferenceC]);
                }
            }
        }
        needs
    }

    /// Whether every reason `p` needs protecting is met by a cycle through
    /// `edges`.
    fn protected_by(&self, p: usize, edges: &[usize], reference: Option<&[bool]>) -> bool {
        self.requirements(p, reference).iter().all(|moves| {
            moves
                .iter()
                .any(|&mv| self.on_cycle(p, edges, mv, reference))
        })
    }

    fn protected(&self, p: usize, hidden: &[bool], reference: Option<&[bool]>) -> bool {
        let edges: Vec<usize> = (0..self.figures.len())
            .filter(|&q| hidden.get(q).copied().unwrap_or(false))
            .collect();
        self.protected_by(p, &edges, reference)
    }

    /// Sets of figures that, hidden together with `p`, close a cycle through
    /// it: the other three corners of a rectangle in a two-way table, any
    /// other figure in a one-way one. Only sets that hide something new.
    fn candidates(&self, p: usize, hidden: &[bool]) -> Vec<(u128, Vec<usize>)> {
        let Some(fp) = self.figures.get(p) else {
            return Vec::new();
        };
        let is_hidden = |q: usize| hidden.get(q).copied().unwrap_or(false);
        // Hiding a pinned figure would protect nothing: a reader knows it.
        let usable = |set: &[usize]| !set.iter().any(|&q| flag(&self.pins.table, q));
        let cost = |set: &[usize]| -> u128 {
            set.iter()
                .filter(|&&q| !is_hidden(q))
                .map(|&q| self.figures.get(q).map_or(0, |f| u128::from(f.r)))
                .sum()
        };
        let mut out = Vec::new();
        if self.nodes == 2 {
            for q in 0..self.figures.len() {
                if q != p && !is_hidden(q) && usable(&[q]) {
                    out.push((cost(&[q]), vec![q]));
                }
            }
        } else {
            let at: BTreeMap<(usize, usize), usize> = self
                .figures
                .iter()
                .enumerate()
                .map(|(q, f)| ((f.u, f.v), q))
                .collect();
            let same_row: Vec<usize> = (0..self.figures.len())
                .filter(|&q| q != p && self.figures[q].u == fp.u)
                .collect();
            let same_col: Vec<usize> = (0..self.figures.len())
                .filter(|&q| q != p && self.figures[q].v == fp.v)
                .collect();
            for &a in &same_row {
                for &b in &same_col {
                    let corner = (self.figures[b].u, self.figures[a].v);
                    let Some(&c) = at.get(&corner) else { continue };
                    let mut set = vec![a, b, c];
                    set.sort_unstable();
                    if set.iter().any(|&q| !is_hidden(q)) && usable(&set) {
                        out.push((cost(&set), set));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether some figure that needs protecting has none under `hidden`:
    /// then `suppress_from` gave up, and a marking that bounds a hidden
    /// figure (`"<5"`) could pin it.
    pub(super) fn exposed(&self, hidden: &[bool], reference: Option<&[bool]>) -> bool {
        (0..self.figures.len()).any(|p| !self.protected(p, hidden, reference))
    }

    /// The hidden set: the reference's, the primary figures, then
    /// complements until every figure that needs protection has it.
    pub(super) fn suppress(&self, reference: Option<&[bool]>) -> Vec<bool> {
        self.suppress_from(&[], reference)
    }

    /// The same, starting from the figures already `hidden` for other
    /// reasons (other published tables): the result only adds to them.
    pub(super) fn suppress_from(&self, hidden: &[bool], reference: Option<&[bool]>) -> Vec<bool> {
        let n = self.figures.len();
        let mut hidden: Vec<bool> = (0..n)
            .map(|q| {
                hidden.get(q).copied().unwrap_or(false)
                    || reference.is_some_and(|h| h.get(q).copied().unwrap_or(false))
                    || !self.requirements(q, reference).is_empty()
            })
            .collect();
        // Hiding more only adds edges, so a figure once protected stays
        // protected and one pass in figure order suffices.
        for p in 0..n {
            while !self.protected(p, &hidden, reference) {
                let candidates = self.candidates(p, &hidden);
                // A candidate closing a cycle on its own is enough; checking
                // it against the whole hidden set too finds cheaper fixes,
                // but costs a search each, so only for the cheapest few.
                let fixes = candidates.iter().enumerate().find(|(i, (_, set))| {
                    self.protected_by(p, set, reference)
                        || (*i < FULL_CHECKS && {
                            let mut trial = hidden.clone();
                            for &q in set {
                                trial[q] = true;
                            }
                            self.protected(p, &trial, reference)
                        })
                });
                let fixes = fixes.map(|(_, c)| c);
                match fixes.or(candidates.first()) {
                    Some((_, set)) => {
                        for &q in set {
                            hidden[q] = true;
                        }
                    }
                    None => {
                        // Nothing left to hide around `p`: the table as a
                        // whole cannot be published safely; only what
                        // other tables print stays shown.
                        return (0..n).map(|q| !flag(&self.pins.table, q)).collect();
                    }
                }
            }
        }
        hidden
    }

    /// The published table. A part of a reference marks every hidden
    /// figure `"x"`: see `can_move`.
    pub(super) fn publish(
        &self,
        hidden: &[bool],
        reference: Option<&[bool]>,
        merged: Vec<MergedLabel>,
    ) -> ProtectedTable {
        // A table that could not be protected tells nothing of what it
        // hides: every hidden figure is "x".
        let exposed = self.exposed(hidden, reference);
        let cells: Vec<Cell> = self
            .figures
            .iter()
            .enumerate()
            .map(|(q, f)| {
                if !hidden.get(q).copied().unwrap_or(true) {
                    Cell::Published(f.d)
                } else if f.d > 0 && f.d < K && reference.is_none() && !exposed {
                    Cell::Suppressed
                } else {
                    Cell::Withheld
                }
            })
            .collect();
        self.publish_cells(&cells, merged)
    }

    /// The published table with every figure shown as `cells` says, in
    /// figure order.
    pub(super) fn publish_cells(&self, cells: &[Cell], merged: Vec<MergedLabel>) -> ProtectedTable {
        let mut rows = Vec::new();
        let mut margins = vec![Vec::new(); if self.nodes == 2 { 0 } else { 2 }];
        let mut total = Cell::Withheld;
        for (q, f) in self.figures.iter().enumerate() {
            let c = cells.get(q).copied().unwrap_or(Cell::Withheld);
            match f.place {
                Place::Cell => {
                    let values = f.row.iter().chain(f.col.iter()).cloned().collect();
                    rows.push((values, c));
                }
                Place::RowMargin => {
                    if let (Some(m), Some(label)) = (margins.get_mut(0), &f.row) {
                        m.push((label.clone(), c));
                    }
                }
                Place::ColMargin => {
                    if let (Some(m), Some(label)) = (margins.get_mut(1), &f.col) {
                        m.push((label.clone(), c));
                    }
                }
                Place::Grand => total = c,
            }
        }
        ProtectedTable {
            dims: self.dims.clone(),
            rows,
            margins,
            total,
            merged,
        }
    }
}
