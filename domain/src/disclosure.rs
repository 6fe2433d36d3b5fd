//! Small-cell protection for every count the hub publishes (issue 4).
//!
//! Pure and I/O-free: a [`CountTable`] of one or two dimensions goes in, a
//! [`ProtectedTable`] comes out, ready to serialise.
//!
//! # The rule
//!
//! With [`K`] = 5, no published figure that counts a combination including
//! `nationality`, `age_band` or `mediator` lies in `1..K`. Zero is published: it says
//! nobody fits, which the k rule does not protect. Tables without either
//! dimension are published unchanged.
//!
//! # How
//!
//! 1. **Merging (nationality only).** Countries whose total in the reference
//!    population is below K climb the fixed UN M49 tree ([`m49_groups`]):
//!    country → intermediate region or sub-region → sub-region → region →
//!    "other nationalities", one level at a time and only as far as needed.
//!    A group that does not hold every present country of its node is
//!    labelled `"<node> (other)"`. Age bands are never merged, only
//!    suppressed: they are a short ordered scale where adaptive neighbour
//!    merges would give `0-24` in one table and `0-17` in another, which
//!    differ into exactly the hidden band; and `0-17` (minors) must stay
//!    apart because their procedures differ. M49 groups, by contrast, are
//!    fixed and decided once on the reference, so every table uses the same
//!    ones.
//! 2. **Primary suppression.** Every sensitive figure (cell or margin) in
//!    `1..K` is hidden.
//! 3. **Secondary suppression.** The table is read as the linear system an
//!    attacker solves: every row, column and the grand total are equations,
//!    hidden figures the unknowns, and each hidden figure's marking tells its
//!    range. A hidden figure is exposed exactly when no other solution
//!    exists. For two-way tables (margins included) and one-way tables the
//!    equations form a bipartite graph whose edges are the figures, so
//!    another solution that moves a figure by one exists if and only if that
//!    figure lies on a cycle of hidden figures that can each move one step
//!    the right way; `grid.rs` checks this with a breadth-first search.
//!    While some protected figure has no such cycle, the cheapest set of
//!    complements closing a rectangle through it (smallest reference counts
//!    first, ties by position, so the choice is deterministic) is hidden too.
//!    This is the criterion of tau-Argus' audit (no hidden cell can be
//!    recalculated exactly). For one table the unit-step check is exact, not
//!    only sufficient: the constraint matrix of a two-way table is totally
//!    unimodular, and every listed figure is known to be positive, so each
//!    marking is an interval.
//! 4. **Markings.** On its own a table marks a hidden figure in `1..K` as
//!    `"<5"` ([`Cell::Suppressed`]) and any other hidden figure, which is 0
//!    or at least K, as `"x"` ([`Cell::Withheld`]); the audit assumes the
//!    attacker reads both (`1..=4`, and `0 or >= K`). A part of a reference
//!    (below) marks every hidden figure `"x"`: a `"<5"` in both parts of a
//!    published reference 8 would pin both to 4. Tables released on the
//!    calendar (`release`) mark every hidden figure `"x"`, the year's too,
//!    and are checked against "not negative" only.
//! 5. **Consistency across tables** ([`protect_within`]). A table over a
//!    filter or a period (D) is protected against the full table (R) the
//!    hub also publishes:
//!    - groups come from R, so labels match;
//!    - every figure hidden in R is hidden in D too, so a complement of R can
//!      never be rebuilt from filtered pieces;
//!    - a sensitive figure of D is also hidden when the rest of the
//!      population, `C = R - D`, has it in `1..K`: otherwise `R - D` would
//!      print it;
//!    - the secondary search then requires every hidden small figure of D,
//!      of C and of R to move along a cycle that keeps all three tables'
//!      published figures: D and C in opposite directions (R fixed), or D or
//!      C together with R inside R's hidden set.
//!
//!    Every rule is symmetric in D and C, so `protect_within(C, R)` gives the
//!    same pattern as `protect_within(D, R)`: the three tables of a split in
//!    two can be published together.
//!
//! # Tables on the release calendar ([`release`])
//!
//! What the hub publishes goes through [`release`] (module `release`,
//! which states how): periods of the release calendar ([`calendar`]: ISO
//! week, month of ISO weeks by their Thursday, quarter, ISO year,
//! year-to-date), each table's pattern decided from its ISO year down the
//! chain year → quarter → month → week with siblings sharing one pattern,
//! recoding ([`Detail`]) decided once per year and dimensions, so that the
//! published figures are a function of the data and the calendar, not of
//! the order of questions. The register ([`Publication`], keyed by
//! dimensions and period) is the proof of what was released; its entries
//! constrain a release only when they hold other figures for the same
//! period (an open period that grew, late records) or come from before the
//! calendar. `protect_linked` below is how entries from before the
//! calendar were protected, and its pairwise rules are what a release
//! applies to each ancestor and register entry.
//!
//! # Linked tables ([`protect_linked`])
//!
//! Everything the hub publishes goes through [`protect_linked`] with the
//! hub's **publication register**: every table it has shown, with each
//! figure's place, true count and marking ([`Publication`]), kept durably in
//! the hub's store before the table is shown. A new table N (any period, any
//! filter, or the whole population now) is protected against the whole
//! population R now (rule 5) and against every register entry P over the
//! same dimensions, compared figure by figure on R's grid (a value that did
//! not exist when P was published counted 0 in P):
//!
//! - **Same figures** as P, however asked (another filter or period that
//!   selects the same records, the same query again, the same dimensions in
//!   the other order): N is shown exactly as P was.
//! - **Nested**, N ≤ P or P ≤ N in every figure (weeks 1–10 and 1–11, a
//!   desk within the whole, last week's table and today's after late
//!   records): their difference is a population the pair prints, so N is
//!   protected against the pair as rule 5 protects a part against R, with
//!   P's pattern fixed: every figure hidden in P is hidden in N; a sensitive
//!   figure whose difference is in `1..K` is hidden in N; then secondary
//!   suppression until every small figure of N, of P and of the difference
//!   can move by one along a cycle that keeps both tables' published
//!   figures (N with the difference, P fixed; N with P, the difference
//!   fixed; P with the difference, N fixed). P's moves respect what its
//!   "<5"/"x" markings tell, N's and the difference's only that counts are
//!   not negative (N marks every hidden figure `"x"`).
//! - **Neither** (weeks 1–10 and 3–12, desk A and procedure P): with
//!   `A = X + Y`, `B = X + Z` (X the records in both), any change of A along
//!   one of its own cycles is a change of Y, or of X with Z compensating,
//!   that leaves B as published; so a pair that is not nested cannot pin
//!   more than each table alone, which its own protection already covers.
//!   Treating a pair as nested when it only looks nested (every figure
//!   smaller) is safe: that system has fewer solutions than the true one.
//!
//! Each pair is checked in turn, again until none hides anything more;
//! hiding only adds cycles, so earlier pairs stay protected. Checking is
//! deterministic: the same register and counts give the same table.
//!
//! **The guarantee**: for any two tables the hub has published over the
//! same dimensions under the same M49 grouping (and for each of them with
//! the whole population and their difference, published or not), no
//! sensitive figure in `1..K` of either table or of their difference is
//! printed, and none is determined exactly by the equations of the two
//! tables (rows, columns, totals, and `larger = smaller + difference` with
//! the difference not negative) together with what their markings tell.
//! `tests/linked.rs` attacks every pair of tables published through the
//! register in property tests (periods nested and overlapping, a set of
//! weeks and its complement, the whole): linear algebra on every pair, and
//! exhaustive search within the markings where the pair is small enough.
//!
//! A filter and its complement are not nested, but with the whole they add
//! up; so a table whose figures and an earlier entry's add up to the whole
//! starts from that entry's pattern, which keeps the trio protected as two
//! parts are under rule 5 (unless another pair makes it hide more).
//!
//! # Limits
//!
//! Of the calendar release (see `release` for the rest):
//!
//! - **Shared patterns cost detail.** Siblings (the weeks of a month, the
//!   months of a quarter, the quarters of a year) hide the union of what
//!   each needs, which is what keeps their sum safe; a sparse sibling makes
//!   the others hide more. Recoding is the remedy: [`release::RECODE_ABOVE`].
//! - **A closed period can still hide more** while its year goes on (the
//!   year's or its family's pattern grows as months close); figures shown
//!   once are never shown differently for the same counts, what an earlier
//!   release of the same counts hid stays hidden.
//! - **One grid per year.** The recoding level is fixed by the year's first
//!   release (the hub keeps it), but the M49 groups of countries below K
//!   are decided on the year's records and can change while it goes on; a
//!   register entry whose labels the new grid lacks is not compared (as
//!   below), and neither is an entry from before the calendar that was
//!   grouped on the whole population.
//! - **Margins are laid on one-way tables of the same period** (step 4 of
//!   `release`), not on one-way tables of other periods beyond what the
//!   chain of each already covers, and not across two two-way tables that
//!   share one dimension (their inner cells are protected separately).
//! - **Markings "x" read as "not negative"** by the LP attacker of the
//!   tests (`tests/tests/release_calendar.rs`), which is weaker than the
//!   true "0 or at least 5"; it bounds each hidden figure by linear
//!   programming over every released table of the test, not by integer
//!   search.
//!
//! Of the pairwise rules:
//!
//! - **Pairs, not every combination.** The audit covers every pair of
//!   published tables (and each with the whole population). An attacker
//!   who combines three or more of them (weeks 1–10, 11–12 and 1–12, when
//!   1–12 is not the whole) can meet a system no pair shows; statistics
//!   offices close that with a full linked-tables audit (tau-Argus' modular
//!   or optimal method on the joint system) or with cell-key perturbation,
//!   neither of which is done here.
//! - **Same dimensions only** in the register: entries are compared with
//!   tables over the same dimensions. The calendar release closes the gap
//!   between a one-way table and the margins of a two-way one another way
//!   (step 4 of `release`); the pairwise `protect_linked` does not.
//! - **One M49 grouping.** Groups are decided on the whole population, so
//!   they can change as it grows; an entry with a label the current grid
//!   lacks cannot be laid on it and is not compared. Differences across a
//!   change of grouping are not covered.
//! - **Patterns only grow.** Every figure hidden in a nested earlier table
//!   stays hidden, so a series of nested periods (1–10, 1–11, 1–12, ...)
//!   hides more and more, and the pattern a table gets depends on what was
//!   published before it. The register grows with every distinct table;
//!   each new table is checked against every nested entry.
//! - Merging looks at a country's total only. A country above K can still
//!   have small cells, which are suppressed: merging it in some columns
//!   only would give rows that no longer add up to their totals.
//! - Filtering on `nationality` or `age_band` makes every figure sensitive;
//!   callers should make such a filter a dimension instead.
//! - Non-exactness is the bar: a hidden figure may still be narrowed to a
//!   range of two values. There are no protection intervals (tau-Argus'
//!   upper/lower protection levels).
//! - The complement choice is a greedy heuristic, not tau-Argus' optimal
//!   (minimum-loss) one; it can hide more than needed. For a part, the
//!   three kinds of joint move above are a sufficient subset of what an
//!   attacker would have to rule out, not all of it (D following R on some
//!   figures and C on others, joined by a split path, is not searched), so
//!   rarely a figure of R that is small in both parts cannot be shown safe;
//!   the part is then hidden whole. Hiding everything is always safe: then
//!   D = R, C = 0 fits every published figure.
//! - The attacker model is the published figures and their markings; one
//!   who also replays the deterministic complement choice can sometimes
//!   narrow a range further (a known weakness of every greedy suppressor).
//! - Three- and more-way tables are refused: their equations are no longer a
//!   graph and the cycle check would be unsound.

pub mod calendar;
mod generalise;
mod grid;
pub mod labels;
mod m49;
mod recode;
mod register;
mod release;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

pub use calendar::{CalendarPeriod, PeriodError};
pub use grid::Place;
pub use m49::{m49_groups, M49Groups};
pub use recode::{recodable, Detail};
pub use register::{protect_linked, Linked, Publication, PublishedFigure, Shown};
pub use release::{release, Loss, Release, ReleaseInput, RECODE_ABOVE};

use grid::Grid;

/// The smallest count published for a combination that includes nationality
/// or age band.
pub const K: u64 = 5;

/// How a figure in `1..K` is shown.
pub const BELOW_K: &str = "<5";

/// How any other hidden figure is shown: on its own a table uses it for
/// figures hidden to protect another one (0 or at least K, where `"<5"`
/// would be false); a part of a reference, and every table released on the
/// calendar, uses it for every hidden figure.
pub const WITHHELD: &str = "x";

/// The record fields the hub counts, in the order of its counts keys: one
/// list for the hub's store and for the tables built from it.
///
/// `mediator` came last and stays last: the hub numbers its count cubes by
/// this order, and a field added later only adds cubes after the others.
pub const COUNTED_FIELDS: [&str; 12] = [
    "week",
    "desk_id",
    "procedure",
    "channel",
    "language",
    "outcome",
    "referral",
    "duration_band",
    "age_band",
    "sex",
    "nationality",
    "mediator",
];

/// A dimension derived from `procedure` (its first segment) rather than counted.
pub const FAMILY: &str = "family";

/// Whether a table may be counted over `name`.
pub fn is_dimension(name: &str) -> bool {
    name == FAMILY || COUNTED_FIELDS.contains(&name)
}

fn dimension_list() -> String {
    let mut all: Vec<&str> = COUNTED_FIELDS.to_vec();
    all.push(FAMILY);
    all.join(", ")
}

/// The dimensions that make every figure counting them subject to K.
/// `mediator` is one: "needed but unavailable" in a small language at one
/// desk in one week is a handful of people a colleague could name.
pub const SENSITIVE_DIMENSIONS: [&str; 3] = ["nationality", "age_band", "mediator"];

/// The label of the last nationality group, for countries left over when
/// even their M49 region is below K.
pub const OTHER_NATIONALITIES: &str = "other nationalities";

/// Why a table cannot be protected. Values are never echoed, only names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    #[error("a table needs one or two dimensions, not {0}")]
    DimensionCount(usize),
    #[error("unknown dimension `{0}`; expected one of: {list}", list = dimension_list())]
    UnknownDimension(String),
    #[error("dimension `{0}` appears twice")]
    RepeatedDimension(String),
    #[error("a cell has {got} values for {expected} dimensions")]
    CellArity { expected: usize, got: usize },
    #[error("a count does not fit in 64 bits")]
    Overflow,
    #[error("the table and its reference have different dimensions")]
    DimensionsDiffer,
    #[error("the table is not a part of its reference: some count exceeds the reference's")]
    NotASubset,
    #[error("dimension `{0}` is not one of the counted fields")]
    NotCounted(String),
}

/// Counts over one or two record fields, keyed by their values in
/// dimension order. Zero counts are not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountTable {
    dims: Vec<String>,
    cells: BTreeMap<Vec<String>, u64>,
}

impl CountTable {
    /// An empty table over `dims`, which must be one or two distinct names
    /// for which [`is_dimension`] holds: a misspelt `nationalty` would otherwise escape
    /// protection.
    pub fn new<I, S>(dims: I) -> Result<Self, DisclosureError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let dims: Vec<String> = dims.into_iter().map(Into::into).collect();
        if dims.is_empty() || dims.len() > 2 {
            return Err(DisclosureError::DimensionCount(dims.len()));
        }
        for (i, d) in dims.iter().enumerate() {
            if !is_dimension(d) {
                return Err(DisclosureError::UnknownDimension(d.clone()));
            }
            if dims[..i].contains(d) {
                return Err(DisclosureError::RepeatedDimension(d.clone()));
            }
        }
        Ok(Self {
            dims,
            cells: BTreeMap::new(),
        })
    }

    /// A table from `(values, count)` pairs; repeated values add up.
    pub fn from_cells<I, S, C>(dims: I, cells: C) -> Result<Self, DisclosureError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        C: IntoIterator<Item = (Vec<String>, u64)>,
    {
        let mut table = Self::new(dims)?;
        for (values, count) in cells {
            table.add(values, count)?;
        }
        Ok(table)
    }

    /// The table over `by`, summed from cells over the wider `fields` (as
    /// the hub keeps its counts: one value per field, `fields` order). A
    /// part of the population is the same call over fewer cells, e.g.
    /// `cells.filter(|(v, _)| v[week] <= last)`.
    pub fn project<'a, I>(fields: &[&str], by: &[&str], cells: I) -> Result<Self, DisclosureError>
    where
        I: IntoIterator<Item = (&'a [String], u64)>,
    {
        let mut table = Self::new(by.iter().copied())?;
        let at = by
            .iter()
            .map(|d| {
                fields
                    .iter()
                    .position(|f| f == d)
                    .ok_or_else(|| DisclosureError::NotCounted((*d).to_owned()))
            })
            .collect::<Result<Vec<usize>, _>>()?;
        for (values, count) in cells {
            if values.len() != fields.len() {
                return Err(DisclosureError::CellArity {
                    expected: fields.len(),
                    got: values.len(),
                });
            }
            let key = at.iter().filter_map(|&i| values.get(i).cloned()).collect();
            table.add(key, count)?;
        }
        Ok(table)
    }

    /// Adds `count` to the cell `values` (one value per dimension).
    pub fn add(&mut self, values: Vec<String>, count: u64) -> Result<(), DisclosureError> {
        if values.len() != self.dims.len() {
            return Err(DisclosureError::CellArity {
                expected: self.dims.len(),
                got: values.len(),
            });
        }
        if count == 0 {
            return Ok(());
        }
        let slot = self.cells.entry(values).or_insert(0);
        *slot = slot.checked_add(count).ok_or(DisclosureError::Overflow)?;
        Ok(())
    }

    pub fn dims(&self) -> &[String] {
        &self.dims
    }

    pub fn cells(&self) -> &BTreeMap<Vec<String>, u64> {
        &self.cells
    }

    /// Whether any dimension is nationality or age band.
    pub fn is_sensitive(&self) -> bool {
        self.dims
            .iter()
            .any(|d| SENSITIVE_DIMENSIONS.contains(&d.as_str()))
    }
}

/// Choices a caller may make; the default merges nationalities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Merge countries below K up the M49 tree before suppressing.
    pub merge_nationality: bool,
    /// How far values are recoded before suppressing (`recode`); the
    /// calendar release decides it, other callers keep `Asked`.
    pub detail: Detail,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            merge_nationality: true,
            detail: Detail::Asked,
        }
    }
}

/// One published figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Published(u64),
    /// Hidden, and the figure is in `1..K`; serialises to `"<5"`.
    Suppressed,
    /// Hidden, value not told; serialises to `"x"`. See [`WITHHELD`].
    Withheld,
}

impl Cell {
    pub fn published(self) -> Option<u64> {
        match self {
            Cell::Published(n) => Some(n),
            Cell::Suppressed | Cell::Withheld => None,
        }
    }

    pub fn is_hidden(self) -> bool {
        !matches!(self, Cell::Published(_))
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Published(n) => serializer.serialize_u64(*n),
            Cell::Suppressed => serializer.serialize_str(BELOW_K),
            Cell::Withheld => serializer.serialize_str(WITHHELD),
        }
    }
}

/// A label that stands for several values of a dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedLabel {
    pub dim: String,
    pub label: String,
    /// The M49 level the label names, e.g. `"sub-region"`.
    pub level: &'static str,
}

/// A table fit to publish: every figure either published or hidden, with
/// row and column totals and the grand total.
///
/// Serialises as
/// `{"dims":[..],"k":5,"rows":[{"<dim>":"<value>",..,"count":12|"<5"|"x"}],
/// "totals":{"<dim>":[{"<dim>":"<value>","count":..}],"all":..},"merged":[..]}`;
/// a one-way table's `totals` holds only `all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedTable {
    dims: Vec<String>,
    rows: Vec<(Vec<String>, Cell)>,
    margins: Vec<Vec<(String, Cell)>>,
    total: Cell,
    merged: Vec<MergedLabel>,
}

impl ProtectedTable {
    pub fn dims(&self) -> &[String] {
        &self.dims
    }

    /// Every cell of the reference's grid, in label order.
    pub fn rows(&self) -> &[(Vec<String>, Cell)] {
        &self.rows
    }

    /// The totals over dimension `dim` (by position), one per value; empty
    /// for a one-way table, whose cells are their own totals.
    pub fn margin(&self, dim: usize) -> &[(String, Cell)] {
        self.margins.get(dim).map_or(&[], Vec::as_slice)
    }

    pub fn total(&self) -> Cell {
        self.total
    }

    pub fn merged(&self) -> &[MergedLabel] {
        &self.merged
    }

    /// The cell with these values (merged labels, as published).
    pub fn cell(&self, values: &[&str]) -> Option<Cell> {
        self.rows
            .iter()
            .find(|(v, _)| v.iter().map(String::as_str).eq(values.iter().copied()))
            .map(|(_, c)| *c)
    }

    /// The same table with its two dimensions swapped, so that a table asked
    /// for as `outcome,nationality` is the one published as
    /// `nationality,outcome`, shown the other way round.
    pub fn transposed(&self) -> Self {
        if self.dims.len() != 2 {
            return self.clone();
        }
        let mut rows: Vec<(Vec<String>, Cell)> = self
            .rows
            .iter()
            .map(|(v, c)| (v.iter().rev().cloned().collect(), *c))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Self {
            dims: self.dims.iter().rev().cloned().collect(),
            rows,
            margins: self.margins.iter().rev().cloned().collect(),
            total: self.total,
            merged: self.merged.clone(),
        }
    }

    /// Every figure with its place, for audits and tests.
    pub fn figures(&self) -> impl Iterator<Item = Cell> + '_ {
        self.rows
            .iter()
            .map(|(_, c)| *c)
            .chain(self.margins.iter().flatten().map(|(_, c)| *c))
            .chain(std::iter::once(self.total))
    }
}

struct Labelled<'a> {
    dims: &'a [String],
    values: &'a [String],
    count: Cell,
}

impl Serialize for Labelled<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.dims.len() + 1))?;
        for (d, v) in self.dims.iter().zip(self.values) {
            map.serialize_entry(d, v)?;
        }
        map.serialize_entry("count", &self.count)?;
        map.end()
    }
}

struct Rows<'a>(&'a [String], &'a [(Vec<String>, Cell)]);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.1.len()))?;
        for (values, count) in self.1 {
            seq.serialize_element(&Labelled {
                dims: self.0,
                values,
                count: *count,
            })?;
        }
        seq.end()
    }
}

struct Totals<'a>(&'a ProtectedTable);

impl Serialize for Totals<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut map = serializer.serialize_map(Some(t.margins.len() + 1))?;
        for (dim, margin) in t.dims.iter().zip(&t.margins) {
            let rows: Vec<(Vec<String>, Cell)> =
                margin.iter().map(|(v, c)| (vec![v.clone()], *c)).collect();
            map.serialize_entry(dim, &Rows(std::slice::from_ref(dim), &rows))?;
        }
        map.serialize_entry("all", &t.total)?;
        map.end()
    }
}

impl Serialize for ProtectedTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("dims", &self.dims)?;
        map.serialize_entry("k", &K)?;
        map.serialize_entry("rows", &Rows(&self.dims, &self.rows))?;
        map.serialize_entry("totals", &Totals(self))?;
        map.serialize_entry("merged", &self.merged)?;
        map.end()
    }
}

/// Protects one table on its own: merging, primary and secondary
/// suppression. Equivalent to `protect_within(table, table, options)`.
pub fn protect(table: &CountTable, options: Options) -> Result<ProtectedTable, DisclosureError> {
    let (prepared, merged) = generalise::apply(table, table, options)?;
    let grid = Grid::build(&prepared.dims, &prepared.cells, &prepared.cells);
    let hidden = grid.suppress(None);
    Ok(grid.publish(&hidden, None, merged))
}

/// Protects `table`, a part of `reference` (another period, desk or
/// procedure of the same population), so that it can be published next to
/// `reference` and to `reference − table` without any of the three being
/// differenced into a hidden figure. `reference` should be the full,
/// unfiltered table the hub publishes for the same dimensions.
pub fn protect_within(
    table: &CountTable,
    reference: &CountTable,
    options: Options,
) -> Result<ProtectedTable, DisclosureError> {
    if table.dims != reference.dims {
        return Err(DisclosureError::DimensionsDiffer);
    }
    if table.cells == reference.cells {
        // The whole population is no part: its rest is empty and R's own
        // markings already say all there is.
        return protect(reference, options);
    }
    let (r, merged) = generalise::apply(reference, reference, options)?;
    let (d, _) = generalise::apply(table, reference, options)?;
    if d.cells
        .iter()
        .any(|(k, n)| r.cells.get(k).is_none_or(|m| n > m))
    {
        return Err(DisclosureError::NotASubset);
    }
    let reference_grid = Grid::build(&r.dims, &r.cells, &r.cells);
    let reference_hidden = reference_grid.suppress(None);
    let grid = Grid::build(&d.dims, &d.cells, &r.cells);
    let hidden = grid.suppress(Some(&reference_hidden));
    Ok(grid.publish(&hidden, Some(&reference_hidden), merged))
}
