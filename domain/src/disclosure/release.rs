//! Tables released on the calendar: the pattern of every period's table is
//! a function of the data and the calendar, never of which tables were
//! asked before, so the same figures come out in any order of questions.
//!
//! # How
//!
//! 1. **One grid per ISO year and dimensions.** Recoding ([`Detail`]) and
//!    the M49 groups are decided on the year (the recoding level on its
//!    months, see [`decide_detail`]), so every table of the year has the
//!    same labels and each is a part of the year's table, figure by figure.
//! 2. **From the year down.** The year's table is protected alone. Then,
//!    level by level down the chain to the period asked (year → quarter →
//!    month → week), every child of the period above is protected as a
//!    part of each of its ancestors (rule 5 of `disclosure`: what an
//!    ancestor hides stays hidden, a figure whose rest is in `1..K` is
//!    hidden, complements until every small figure of the child, of the
//!    ancestor and of their difference can move), and the **siblings share
//!    one pattern**: the union of what each needs, protected again until
//!    nothing changes. A shared pattern is what keeps the sum of siblings
//!    safe: any move of a child along one of its cycles can be undone in a
//!    sibling (same hidden places) with the parent unchanged, and any move
//!    of the parent can be taken by a child, since a child hides all the
//!    parent hides. Pairs alone would not: four weeks published next to
//!    their month would print a cell hidden in one week as the month's cell
//!    minus the other three.
//! 3. **The register constrains, it does not drive.** Each period's earlier
//!    register entries are read (only that period's: the register is keyed
//!    by dimensions and period). An entry with the figures the period has
//!    now keeps its pattern: what it hid stays hidden. An entry with other
//!    figures (released while the period was open, or before late records)
//!    is protected against as a nested pair, as are entries from before the
//!    calendar (no period), which keep constraining every table they are
//!    nested with. At one state of the data, every entry the hub adds has
//!    the figures and pattern this computation gives, so asking in another
//!    order adds nothing another order would not.
//!
//! 4. **Margins agree with the one-way tables.** A two-way table's row
//!    and column totals are the one-way tables over its dimensions, and
//!    the grand total is printed week by week by every table without
//!    nationality or age band. So those figures are *pinned*: the grand
//!    total and the margins over a dimension published unchanged always,
//!    and a margin over a sensitive dimension wherever the one-way table
//!    of the same period (protected first, down the same chain, on its own
//!    register) shows it. A pinned figure is never a complement and never
//!    moves in an attacker's cycle; a margin the one-way table hides is
//!    hidden too and must be able to move, as a small figure must. The
//!    one-way pattern depends only on the data and the calendar, so the
//!    two-way one does too, whichever is asked first; and a margin is
//!    never more detailed than its one-way table (the recoding is raised
//!    to it), so each one adds up whole one-way figures.
//!
//! # Open periods
//!
//! A table with nationality or age band counts only weeks that are over:
//! the current week is in no such table until it ends (tables without them
//! are published unchanged and count every week). An open month counts its closed weeks and is in no
//! larger table (it is the root of its own chain, protected alone and then
//! its weeks); an open quarter or year counts the months that are over. So
//! a family of siblings is always closed periods that add up exactly to
//! their parent, and a small, young period never drags its closed siblings
//! into its pattern. Such tables are marked provisional and registered as
//! such; when the period grows (a week or month ends, a late record
//! arrives) the next release has other figures and is protected against
//! every earlier one of the same period as a nested pair (step 3), so the
//! provisional and the final releases are safe together as nested pairs
//! are. A closed period's pattern can still grow while its year goes on
//! (its family's or the year's pattern grows); what an earlier release of
//! the same figures hid stays hidden.
//!
//! Every hidden figure is marked `"x"`, the year's too: a `"<5"` in nested
//! tables would bound their difference, and in the year's table it would
//! tell that every `"x"` beside it is 0 or at least K, which is stronger
//! than the protection can afford once the margins and the total are
//! pinned (step 4). So `"x"` says only "not negative", and that is what
//! the cycles are checked against.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

mod clock;
mod partners;

use clock::{table_of_weeks, Clock};
use partners::{protect_against, register_constraints, Partner};

use super::calendar::CalendarPeriod;
use super::generalise::{self, Labeller, Prepared};
use super::grid::{Grid, Pins, Place};
use super::recode::{recodable, Detail};
use super::register::{Publication, PublishedFigure, Shown};
use super::{Cell, CountTable, DisclosureError, Options, ProtectedTable, K};

/// Recoding goes one level coarser while more than this share of the
/// year's monthly cells are below K. Each small cell costs about one more
/// hidden as its complement, and siblings share their pattern, so 10% of
/// small cells is about the 20% of hidden cells the issue sets as the
/// bar; deciding on small cells rather than on the protected tables keeps
/// the decision cheap.
pub const RECODE_ABOVE: f64 = 0.10;

/// What a release needs: the counts of its ISO year and the register
/// entries of the periods it is computed from.
pub struct ReleaseInput<'a> {
    /// The table's dimensions (not `week`), in their canonical order.
    pub dims: &'a [String],
    /// Count cells: the ISO week first, then one value per dimension.
    /// Cells outside the period's ISO year are ignored.
    pub cells: &'a [(Vec<String>, u64)],
    pub period: CalendarPeriod,
    /// Earlier register entries over `dims`, by period name; only the
    /// periods of the chain and their siblings are read.
    pub earlier: &'a BTreeMap<String, Vec<Publication>>,
    /// Register entries from before the calendar (no period) over `dims`.
    pub legacy: &'a [Publication],
    /// This ISO week: it decides which periods are over (see `Clock`).
    pub current_week: &'a str,
    /// Recode before suppressing (the hub always does; off only to measure
    /// what recoding saves).
    pub recode: bool,
    /// The recoding level the year's first release fixed (the hub keeps
    /// it), so that every table of the year stays on one grid and each can
    /// be laid on the others; `None` decides it from the data.
    pub detail: Option<Detail>,
    pub options: Options,
    /// The one-way tables over the dimensions of a two-way table, on the
    /// same period, whose figures its margins must agree with (see
    /// "Margins"); empty for a one-way table.
    pub margins: &'a [ReleaseInput<'a>],
}

/// The information a table loses to protection, as published beside it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Loss {
    /// Inner cells hidden, of all inner cells of the table.
    pub hidden_cells: usize,
    pub cells: usize,
    /// Visits in hidden cells, and their share of all visits: only when the
    /// total is published (otherwise they would print it).
    pub hidden_visits: Option<u64>,
    pub hidden_share: Option<f64>,
}

/// A released table, the register entry to add (`None` when an entry with
/// the same figures and pattern is already there), the recoding applied
/// and the information loss.
#[derive(Debug, Clone)]
pub struct Release {
    pub table: ProtectedTable,
    pub entry: Option<Publication>,
    pub detail: Detail,
    pub loss: Loss,
    /// The first and last week the table counts (an open period counts
    /// only weeks, or months, that are over); `None` when it counts none.
    pub counted: Option<(String, String)>,
    /// The recoding of each one-way table in `ReleaseInput::margins`.
    pub margin_details: Vec<Detail>,
}

/// The year's table and the grid every table of the year is laid on.
struct YearGrid {
    dims: Vec<(String, bool)>,
    universe: BTreeMap<Vec<String>, u64>,
    merged: Vec<super::MergedLabel>,
    year: CountTable,
    options: Options,
}

impl YearGrid {
    fn prepared(&self, table: &CountTable) -> Result<Prepared, DisclosureError> {
        Ok(generalise::apply(table, &self.year, self.options)?.0)
    }

    /// On the calendar every hidden figure is "x" (see the module docs).
    fn grid(&self, table: &BTreeMap<Vec<String>, u64>, other: &BTreeMap<Vec<String>, u64>) -> Grid {
        Grid::build_over(&self.dims, &self.universe, table, other).reading_x_as_nothing()
    }
}

/// The table of `period` over `dims` from the count cells (week first).
fn table_of(
    dims: &[String],
    cells: &[(Vec<String>, u64)],
    period: CalendarPeriod,
) -> Result<CountTable, DisclosureError> {
    let mut table = CountTable::new(dims.iter().cloned())?;
    for (values, n) in cells {
        let Some((week, rest)) = values.split_first() else {
            continue;
        };
        if period.contains_week(week) {
            table.add(rest.to_vec(), *n)?;
        }
    }
    Ok(table)
}

/// The recoding level of a year: the most detailed one at which at most
/// [`RECODE_ABOVE`] of the non-zero cells of the year's closed monthly
/// tables are below K (when none is, the one with the fewest small cells,
/// the most detailed among equals). Decided on the months,
/// the usual release, so that one level serves the whole year's grid; a
/// month still open is left out while a closed one has records, since its
/// first days would always look small.
fn decide_detail(
    input: &ReleaseInput<'_>,
    year: CalendarPeriod,
    year_table: &CountTable,
) -> Result<Detail, DisclosureError> {
    let (dims, cells, options) = (input.dims, input.cells, input.options);
    if !year_table.is_sensitive() || !recodable(dims) {
        return Ok(Detail::Asked);
    }
    let all: Vec<(bool, CountTable)> = year
        .children()
        .into_iter()
        .flat_map(CalendarPeriod::children)
        .map(|m| {
            let closed = m
                .weeks()
                .last()
                .is_some_and(|w| w.as_str() < input.current_week);
            Ok((closed, table_of(dims, cells, m)?))
        })
        .collect::<Result<_, DisclosureError>>()?;
    let any_closed = all.iter().any(|(c, t)| *c && !t.cells().is_empty());
    let months: Vec<CountTable> = all
        .into_iter()
        .filter(|(closed, _)| *closed || !any_closed)
        .map(|(_, t)| t)
        .collect();
    let mut best: Option<(f64, Detail)> = None;
    for detail in Detail::ALL {
        let options = Options { detail, ..options };
        let (mut nonzero, mut small) = (0usize, 0usize);
        for month in &months {
            let (prepared, _) = generalise::apply(month, year_table, options)?;
            for &n in prepared.cells.values() {
                nonzero += 1;
                if n < K {
                    small += 1;
                }
            }
        }
        let share = if nonzero == 0 {
            0.0
        } else {
            small as f64 / nonzero as f64
        };
        if share <= RECODE_ABOVE {
            return Ok(detail);
        }
        // Coarser only where it helps: a level that leaves as many small
        // cells loses detail for nothing.
        if best.is_none_or(|(b, _)| share < b) {
            best = Some((share, detail));
        }
    }
    Ok(best.map_or(Detail::Asked, |(_, d)| d))
}

/// A period's table protected down its chain, before it is shown.
struct Protected {
    year: YearGrid,
    labeller: Labeller,
    places: Vec<(Place, Option<String>, Option<String>)>,
    /// The hidden figures at each level of the chain, the root first.
    levels: Vec<Vec<bool>>,
    /// The period's cells and figures.
    cells: BTreeMap<Vec<String>, u64>,
    counts: Vec<u64>,
    detail: Detail,
}

/// What a level's tables must respect: the figures other tables print
/// (`pinned`) and those they hide (`forced`), in figure order.
#[derive(Clone, Default)]
struct LevelPins {
    pinned: Vec<bool>,
    forced: Vec<bool>,
}

/// Protects the table of `input.period` down its chain; `margins` are the
/// one-way tables over each dimension, already protected, whose figures
/// the margins must agree with (see "Margins" in `release`).
fn protect(
    input: &ReleaseInput<'_>,
    margins: &[(usize, &Protected)],
) -> Result<Protected, DisclosureError> {
    let period = input.period.canonical();
    let year_period = CalendarPeriod::Year(period.year());
    // Labels, groups and recoding come from every record of the year, so
    // every table of the year lies on one grid.
    let year_table = table_of(input.dims, input.cells, year_period)?;
    // A table without nationality or age band is published unchanged, so
    // it counts every week, the current one too.
    let clock = Clock {
        current_week: if year_table.is_sensitive() {
            input.current_week
        } else {
            "9999-W99"
        },
    };
    let decided = match (input.recode, input.detail) {
        (false, _) => Detail::Asked,
        (true, Some(fixed)) => fixed,
        (true, None) => decide_detail(input, year_period, &year_table)?,
    };
    // A margin is never more detailed than the one-way table it agrees
    // with, or it could split a figure that table hides.
    let detail = margins
        .iter()
        .map(|(_, m)| m.detail)
        .fold(decided, Detail::max);
    let options = Options {
        detail,
        ..input.options
    };
    let labeller = Labeller::new(input.dims, &year_table, options)?;
    let (r, merged) = generalise::apply(&year_table, &year_table, options)?;
    let year = YearGrid {
        dims: r.dims,
        universe: r.cells,
        merged,
        year: year_table,
        options,
    };
    let shape = year.grid(&year.universe, &year.universe);
    let places: Vec<(Place, Option<String>, Option<String>)> = shape
        .places()
        .map(|(p, row, col)| (p, row.cloned(), col.cloned()))
        .collect();
    let sensitive = year.dims.iter().any(|d| d.1);
    let entries_of = |p: CalendarPeriod| -> Vec<&Publication> {
        let own = input.earlier.get(&p.to_string()).into_iter().flatten();
        own.chain(input.legacy.iter()).collect()
    };
    let cells_of = |p: CalendarPeriod| -> Result<BTreeMap<Vec<String>, u64>, DisclosureError> {
        let mut weeks = clock.counted(p);
        weeks.sort();
        let table = table_of_weeks(input.dims, input.cells, &weeks)?;
        Ok(year.prepared(&table)?.cells)
    };
    let chain = clock.chain(period);
    let pins = level_pins(input, &year, &labeller, &places, chain.len(), margins);
    let pins_at = |i: usize| pins.get(i).cloned().unwrap_or_default();
    let grid_pins = |table: &LevelPins, reference: &[bool]| Pins {
        table: table.pinned.clone(),
        reference: reference.to_vec(),
        hidden: table.forced.clone(),
    };

    // The root (the year, or an open month), alone, then against its own
    // earlier entries.
    let root = chain.first().copied().unwrap_or(year_period);
    let root_pins = pins_at(0);
    let mut cells = cells_of(root)?;
    let root_grid = year
        .grid(&cells, &cells)
        .pinning(grid_pins(&root_pins, &[]));
    let mut counts = root_grid.counts();
    let mut hidden = root_grid.suppress_from(&root_pins.forced, None);
    if sensitive {
        let (partners, kept) =
            register_constraints(&entries_of(root), &counts, &places, &root_pins.pinned);
        if !partners.is_empty() || kept.contains(&true) {
            for (h, k) in hidden.iter_mut().zip(&kept) {
                *h |= k;
            }
            hidden = protect_against(
                &year,
                &cells,
                hidden,
                &partners,
                &grid_pins(&root_pins, &[]),
            );
        }
    }
    let mut levels = vec![hidden.clone()];
    let mut ancestors = vec![Partner {
        cells: cells.clone(),
        hidden: hidden.clone(),
        whole: false,
        pins: root_pins.pinned.clone(),
    }];

    for (depth, level) in chain.iter().copied().enumerate().skip(1) {
        let Some(parent) = level.parent() else { break };
        let here = pins_at(depth);
        let mut family = clock.family(parent);
        if !family.contains(&level) {
            family.push(level);
        }
        let siblings: Vec<(CalendarPeriod, BTreeMap<Vec<String>, u64>)> = family
            .into_iter()
            .map(|s| Ok((s, cells_of(s)?)))
            .collect::<Result<_, DisclosureError>>()?;
        let mut shared = hidden.clone();
        for (h, f) in shared.iter_mut().zip(&here.forced) {
            *h |= f;
        }
        if sensitive {
            let mut constraints = Vec::new();
            for (s, s_cells) in &siblings {
                let s_counts = year.grid(s_cells, s_cells).counts();
                let (partners, kept) =
                    register_constraints(&entries_of(*s), &s_counts, &places, &here.pinned);
                for (h, k) in shared.iter_mut().zip(&kept) {
                    *h |= k;
                }
                constraints.push(partners);
            }
            // Each sibling against its ancestors and its own register
            // entries, all from the shared pattern, until it holds for all.
            loop {
                let before = shared.clone();
                for ((_, s_cells), own) in siblings.iter().zip(&constraints) {
                    for p in ancestors.iter().chain(own.iter()) {
                        let grid = year
                            .grid(s_cells, &p.cells)
                            .containing(p.whole)
                            .pinning(grid_pins(&here, &p.pins));
                        shared = grid.suppress_from(&shared, Some(&p.hidden));
                    }
                }
                if shared == before {
                    break;
                }
            }
        }
        cells = siblings
            .iter()
            .find(|(s, _)| *s == level)
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        counts = year.grid(&cells, &cells).counts();
        ancestors.push(Partner {
            cells: cells.clone(),
            hidden: shared.clone(),
            whole: false,
            pins: here.pinned.clone(),
        });
        levels.push(shared.clone());
        hidden = shared;
    }
    Ok(Protected {
        year,
        labeller,
        places,
        levels,
        cells,
        counts,
        detail,
    })
}

/// What each level of a table's chain must respect (see "Margins" in
/// `release`): the grand total and the margins over a dimension without
/// nationality or age band are printed by tables published unchanged;
/// a margin over a sensitive dimension shows what the one-way table over
/// it shows at that level, and hides what that table hides.
fn level_pins(
    input: &ReleaseInput<'_>,
    year: &YearGrid,
    labeller: &Labeller,
    places: &[(Place, Option<String>, Option<String>)],
    levels: usize,
    margins: &[(usize, &Protected)],
) -> Vec<LevelPins> {
    let n = places.len();
    let mut base = vec![false; n];
    for (q, (place, ..)) in places.iter().enumerate() {
        let dim = match place {
            Place::Grand => {
                base[q] = true;
                continue;
            }
            Place::RowMargin => 0,
            Place::ColMargin => 1,
            Place::Cell => continue,
        };
        base[q] = year.dims.get(dim).is_some_and(|d| !d.1);
    }
    let mut out = vec![
        LevelPins {
            pinned: base,
            forced: vec![false; n],
        };
        levels
    ];
    for &(dim, one) in margins {
        // Which one-way labels each margin adds up, from the values of the
        // year's records; a one-way label split over several margins
        // would print sums the one-way table hides.
        let mut adds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut split: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (values, _) in input.cells {
            let Some(raw) = values.get(1..) else { continue };
            let (Some(mine), Some(value)) = (labeller.label(raw).get(dim).cloned(), raw.get(dim))
            else {
                continue;
            };
            let Some(theirs) = one
                .labeller
                .label(std::slice::from_ref(value))
                .first()
                .cloned()
            else {
                continue;
            };
            adds.entry(mine.clone()).or_default().insert(theirs.clone());
            split.entry(theirs).or_default().insert(mine);
        }
        let one_way: BTreeMap<&String, usize> = one
            .places
            .iter()
            .enumerate()
            .filter(|(_, (place, ..))| *place == Place::Cell)
            .filter_map(|(q, (_, row, _))| row.as_ref().map(|r| (r, q)))
            .collect();
        for (depth, level) in out.iter_mut().enumerate() {
            let theirs = one.levels.get(depth).filter(|_| one.levels.len() == levels);
            for (q, (place, row, col)) in places.iter().enumerate() {
                let label = match (place, dim) {
                    (Place::RowMargin, 0) => row,
                    (Place::ColMargin, 1) => col,
                    _ => continue,
                };
                let shown = label
                    .as_ref()
                    .and_then(|l| adds.get(l))
                    .is_some_and(|group| {
                        group.iter().all(|l1| {
                            split.get(l1).is_some_and(|m| m.len() == 1)
                                && one_way.get(l1).zip(theirs).is_some_and(|(&q1, hidden)| {
                                    !hidden.get(q1).copied().unwrap_or(true)
                                })
                        })
                    });
                level.pinned[q] = shown;
                level.forced[q] = !shown;
            }
        }
    }
    out
}

/// Releases the table of `input.period` over `input.dims`.
pub fn release(input: &ReleaseInput<'_>) -> Result<Release, DisclosureError> {
    let one_ways: Vec<(usize, Protected)> = input
        .margins
        .iter()
        .filter_map(|m| {
            let dim = input.dims.iter().position(|d| m.dims.first() == Some(d))?;
            Some(protect(m, &[]).map(|p| (dim, p)))
        })
        .collect::<Result<_, _>>()?;
    let margins: Vec<(usize, &Protected)> = one_ways.iter().map(|(d, p)| (*d, p)).collect();
    let margin_details = one_ways.iter().map(|(_, p)| p.detail).collect();
    let Protected {
        year,
        places,
        levels,
        cells,
        counts,
        detail,
        ..
    } = protect(input, &margins)?;
    let hidden = levels.last().cloned().unwrap_or_default();
    let period = input.period.canonical();
    let now = Clock {
        current_week: input.current_week,
    };
    let clock = Clock {
        current_week: if year.year.is_sensitive() {
            input.current_week
        } else {
            "9999-W99"
        },
    };

    let shown: Vec<Cell> = counts
        .iter()
        .zip(&hidden)
        .map(|(&n, &h)| {
            if h {
                Cell::Withheld
            } else {
                Cell::Published(n)
            }
        })
        .collect();
    let table = year
        .grid(&cells, &cells)
        .publish_cells(&shown, year.merged.clone());
    let loss = loss(&places, &counts, &shown);
    let figures: Vec<PublishedFigure> = places
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
        .collect();
    let label = period.to_string();
    let open = !now.closed(period);
    let known = input
        .earlier
        .get(&label)
        .into_iter()
        .flatten()
        .any(|e| e.figures == figures && e.provisional == open);
    let entry = (!known).then(|| Publication {
        dims: input.dims.to_vec(),
        figures,
        period: Some(label),
        provisional: open,
    });
    let mut weeks = clock.counted(period);
    weeks.sort();
    Ok(Release {
        table,
        entry,
        detail,
        loss,
        counted: weeks.first().cloned().zip(weeks.last().cloned()),
        margin_details,
    })
}

fn loss(
    places: &[(Place, Option<String>, Option<String>)],
    counts: &[u64],
    shown: &[Cell],
) -> Loss {
    let (mut cells, mut hidden_cells, mut hidden_visits) = (0usize, 0usize, 0u64);
    let mut total = None;
    for ((place, ..), (&n, cell)) in places.iter().zip(counts.iter().zip(shown)) {
        match place {
            Place::Cell => {
                cells += 1;
                if cell.is_hidden() {
                    hidden_cells += 1;
                    hidden_visits = hidden_visits.saturating_add(n);
                }
            }
            Place::Grand => total = cell.published(),
            Place::RowMargin | Place::ColMargin => {}
        }
    }
    // With the total published, the hidden visits are the total minus the
    // published cells anyway; without it they would print the total.
    let hidden_visits = total.map(|_| hidden_visits);
    let hidden_share = total.zip(hidden_visits).map(|(t, h)| {
        if t == 0 {
            0.0
        } else {
            (h as f64 / t as f64 * 1000.0).round() / 1000.0
        }
    });
    Loss {
        hidden_cells,
        cells,
        hidden_visits,
        hidden_share,
    }
}
