use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

mod linked;
mod release;

fn table(dims: &[&str], cells: &[(&[&str], u64)]) -> CountTable {
    CountTable::from_cells(
        dims.iter().copied(),
        cells
            .iter()
            .map(|(v, n)| (v.iter().map(|s| (*s).to_owned()).collect(), *n)),
    )
    .expect("valid table")
}

const NO_MERGE: Options = Options {
    merge_nationality: false,
    detail: super::Detail::Asked,
};

// ---------------------------------------------------------------------------
// The attacker: written apart from grid.rs, from the published output only.

/// A figure of a published table: a cell, a total over dimension `i`, or
/// the grand total.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Id {
    Cell(Vec<String>),
    Margin(usize, String),
    All,
}

fn figures(t: &ProtectedTable) -> Vec<(Id, Cell)> {
    let mut out: Vec<(Id, Cell)> = t
        .rows()
        .iter()
        .map(|(v, c)| (Id::Cell(v.clone()), *c))
        .collect();
    for dim in 0..2 {
        for (label, c) in t.margin(dim) {
            out.push((Id::Margin(dim, label.clone()), *c));
        }
    }
    out.push((Id::All, t.total()));
    out
}

/// Linear equations `sum(coef * var) = rhs` over the hidden figures of one
/// or more published tables.
#[derive(Default)]
struct System {
    vars: Vec<(usize, Id)>,
    index: BTreeMap<(usize, Id), usize>,
    known: BTreeMap<(usize, Id), i64>,
    equations: Vec<(Vec<(usize, i64)>, i64)>,
}

impl System {
    fn add_table(&mut self, tid: usize, t: &ProtectedTable) {
        for (id, c) in figures(t) {
            match c.published() {
                Some(n) => {
                    self.known.insert((tid, id), n as i64);
                }
                None => {
                    self.index.insert((tid, id.clone()), self.vars.len());
                    self.vars.push((tid, id));
                }
            }
        }
        let all = (tid, Id::All);
        if t.dims().len() == 1 {
            let terms: Vec<_> = t
                .rows()
                .iter()
                .map(|(v, _)| ((tid, Id::Cell(v.clone())), 1))
                .chain([(all, -1)])
                .collect();
            self.equation(&terms);
            return;
        }
        for dim in 0..2 {
            for (label, _) in t.margin(dim) {
                let terms: Vec<_> = t
                    .rows()
                    .iter()
                    .filter(|(v, _)| v.get(dim) == Some(label))
                    .map(|(v, _)| ((tid, Id::Cell(v.clone())), 1))
                    .chain([((tid, Id::Margin(dim, label.clone())), -1)])
                    .collect();
                self.equation(&terms);
            }
            let terms: Vec<_> = t
                .margin(dim)
                .iter()
                .map(|(label, _)| ((tid, Id::Margin(dim, label.clone())), 1))
                .chain([(all.clone(), -1)])
                .collect();
            self.equation(&terms);
        }
    }

    /// `d + c = r` figure by figure, for a split of `r` into `d` and `c`.
    fn link(&mut self, r: usize, d: usize, c: usize, t: &ProtectedTable) {
        for (id, _) in figures(t) {
            self.equation(&[((d, id.clone()), 1), ((c, id.clone()), 1), ((r, id), -1)]);
        }
    }

    fn equation(&mut self, terms: &[((usize, Id), i64)]) {
        let mut coefs = Vec::new();
        let mut rhs = 0;
        for (key, coef) in terms {
            if let Some(&i) = self.index.get(key) {
                coefs.push((i, *coef));
            } else {
                rhs -= coef * self.known.get(key).copied().unwrap_or(0);
            }
        }
        self.equations.push((coefs, rhs));
    }

    /// The classic attack: any equation with one unknown left gives it away;
    /// repeat until nothing new comes out.
    fn subtraction_attack(&self) -> BTreeMap<usize, i64> {
        let mut solved = BTreeMap::new();
        loop {
            let mut progress = false;
            for (coefs, rhs) in &self.equations {
                let mut rest = *rhs;
                let mut open = Vec::new();
                for &(v, c) in coefs {
                    match solved.get(&v) {
                        Some(x) => rest -= c * x,
                        None => open.push((v, c)),
                    }
                }
                if let [(v, c)] = open[..] {
                    solved.insert(v, rest / c);
                    progress = true;
                }
            }
            if !progress {
                return solved;
            }
        }
    }

    /// The unknowns that the equations fix exactly, by exact elimination:
    /// an unknown is fixed when its unit vector lies in the row space.
    fn determined(&self) -> BTreeSet<usize> {
        let n = self.vars.len();
        let mut rows: Vec<Vec<i128>> = self
            .equations
            .iter()
            .map(|(coefs, _)| {
                let mut row = vec![0i128; n];
                for &(v, c) in coefs {
                    row[v] += i128::from(c);
                }
                row
            })
            .collect();
        let mut pivots = Vec::new();
        let mut r = 0;
        for col in 0..n {
            let Some(p) = (r..rows.len()).find(|&i| rows[i][col] != 0) else {
                continue;
            };
            rows.swap(r, p);
            for i in 0..rows.len() {
                if i != r && rows[i][col] != 0 {
                    let (a, b) = (rows[r][col], rows[i][col]);
                    let pivot = rows[r].clone();
                    for (x, p) in rows[i].iter_mut().zip(&pivot) {
                        *x = *x * a - p * b;
                    }
                    let g = rows[i].iter().fold(0i128, |g, &x| gcd(g, x.abs()));
                    if g > 1 {
                        rows[i].iter_mut().for_each(|x| *x /= g);
                    }
                }
            }
            pivots.push((r, col));
            r += 1;
        }
        pivots
            .into_iter()
            .filter(|&(r, col)| (0..n).all(|j| j == col || rows[r][j] == 0))
            .map(|(_, col)| col)
            .collect()
    }

    /// Every value each unknown can take given the markings (`"<5"`:
    /// `1..K`; `"x"`: 0 or `K..=bound`), by exhaustive search. Small
    /// systems only.
    fn feasible_values(&self, marks: &[Cell], bound: i64) -> Vec<BTreeSet<i64>> {
        let domains: Vec<Vec<i64>> = marks.iter().map(|m| domain(*m, false, bound)).collect();
        self.feasible(&domains)
    }

    /// Exhaustive search over `domains`, unknowns taken figure by figure
    /// (all tables' copies of a figure together, totals last) so that an
    /// equation's last unknown is computed, not guessed.
    fn feasible(&self, domains: &[Vec<i64>]) -> Vec<BTreeSet<i64>> {
        let mut order: Vec<usize> = (0..self.vars.len()).collect();
        order.sort_by(|&a, &b| {
            (&self.vars[a].1, self.vars[a].0).cmp(&(&self.vars[b].1, self.vars[b].0))
        });
        let mut position = vec![0; self.vars.len()];
        for (i, &v) in order.iter().enumerate() {
            position[v] = i;
        }
        // The equations each step completes.
        let mut closes: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
        for (e, (coefs, _)) in self.equations.iter().enumerate() {
            if let Some(last) = coefs.iter().map(|&(v, _)| position[v]).max() {
                closes[last].push(e);
            }
        }
        let mut found = vec![BTreeSet::new(); self.vars.len()];
        let mut values = vec![0i64; self.vars.len()];
        self.search(0, &order, &closes, domains, &mut values, &mut found);
        found
    }

    fn search(
        &self,
        i: usize,
        order: &[usize],
        closes: &[Vec<usize>],
        domains: &[Vec<i64>],
        values: &mut Vec<i64>,
        found: &mut [BTreeSet<i64>],
    ) {
        let Some(&var) = order.get(i) else {
            for (set, &v) in found.iter_mut().zip(values.iter()) {
                set.insert(v);
            }
            return;
        };
        let forced = closes[i].first().and_then(|&e| {
            let (coefs, rhs) = &self.equations[e];
            let coef: i64 = coefs
                .iter()
                .filter(|&&(v, _)| v == var)
                .map(|&(_, c)| c)
                .sum();
            let rest: i64 = coefs
                .iter()
                .filter(|&&(v, _)| v != var)
                .map(|&(v, c)| c * values[v])
                .sum();
            (coef != 0).then(|| ((rhs - rest) % coef == 0).then(|| (rhs - rest) / coef))
        });
        let candidates: Vec<i64> = match forced {
            Some(Some(x)) if domains[var].contains(&x) => vec![x],
            Some(_) => Vec::new(),
            None => domains[var].clone(),
        };
        for x in candidates {
            values[var] = x;
            let ok = closes[i].iter().all(|&e| {
                let (coefs, rhs) = &self.equations[e];
                coefs.iter().map(|&(v, c)| c * values[v]).sum::<i64>() == *rhs
            });
            if ok {
                self.search(i + 1, order, closes, domains, values, found);
            }
        }
    }
}

/// What a marking tells: `"<5"` is `1..K`; `"x"` is 0 or at least K on a
/// table's own, anything in a part of a reference.
fn domain(mark: Cell, part: bool, bound: i64) -> Vec<i64> {
    let k = K as i64;
    match mark {
        Cell::Suppressed => (1..k).collect(),
        _ if part => (0..=bound).collect(),
        _ => std::iter::once(0).chain(k..=bound).collect(),
    }
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The true value of every figure of a table without merging.
fn truth(t: &CountTable) -> BTreeMap<Id, u64> {
    let mut out = BTreeMap::new();
    for (values, &n) in t.cells() {
        *out.entry(Id::Cell(values.clone())).or_insert(0) += n;
        if t.dims().len() == 2 {
            for (dim, v) in values.iter().enumerate() {
                *out.entry(Id::Margin(dim, v.clone())).or_insert(0) += n;
            }
        }
        *out.entry(Id::All).or_insert(0) += n;
    }
    out
}

fn sensitive(dims: &[String], id: &Id) -> bool {
    let s = |d: &String| SENSITIVE_DIMENSIONS.contains(&d.as_str());
    match id {
        Id::Cell(_) => dims.iter().any(s),
        Id::Margin(i, _) => dims.get(*i).is_some_and(s),
        Id::All => false,
    }
}

/// Sensitive figures with a true value in `1..K` that the attacker pins.
fn exposed(
    system: &System,
    tables: &[(&ProtectedTable, BTreeMap<Id, u64>)],
) -> Vec<(usize, Id, u64)> {
    let mut out = Vec::new();
    for v in system.determined() {
        let (tid, id) = &system.vars[v];
        let (t, truth) = &tables[*tid];
        let value = truth.get(id).copied().unwrap_or(0);
        if sensitive(t.dims(), id) && value > 0 && value < K {
            out.push((*tid, id.clone(), value));
        }
    }
    out
}

fn hidden_set(t: &ProtectedTable) -> BTreeSet<Id> {
    figures(t)
        .into_iter()
        .filter(|(_, c)| c.is_hidden())
        .map(|(id, _)| id)
        .collect()
}

/// No published sensitive figure in `1..K`, and every marking is true.
fn assert_safe_marks(t: &ProtectedTable, truth: &BTreeMap<Id, u64>) {
    check_marks(t, truth, false);
}

/// The same for a part of a reference, which marks every hidden figure "x".
fn assert_safe_marks_within(
    t: &ProtectedTable,
    truth: &BTreeMap<Id, u64>,
    reference: &ProtectedTable,
) {
    assert!(hidden_set(reference).is_subset(&hidden_set(t)));
    check_marks(t, truth, true);
}

fn check_marks(t: &ProtectedTable, truth: &BTreeMap<Id, u64>, part: bool) {
    for (id, c) in figures(t) {
        let value = truth.get(&id).copied().unwrap_or(0);
        if part && c.is_hidden() {
            assert_eq!(c, Cell::Withheld, "{id:?}");
            continue;
        }
        match c {
            Cell::Published(n) => {
                assert_eq!(n, value, "{id:?}");
                if sensitive(t.dims(), &id) {
                    assert!(n == 0 || n >= K, "{id:?} published as {n}");
                }
            }
            Cell::Suppressed => assert!(value > 0 && value < K, "{id:?}"),
            Cell::Withheld => assert!(value == 0 || value >= K, "{id:?}"),
        }
    }
}

// ---------------------------------------------------------------------------

/// Nationality × outcome: one small cell in each of two rows.
fn small_table() -> CountTable {
    table(
        &["nationality", "outcome"],
        &[
            (&["MA", "answered"], 12),
            (&["MA", "referred"], 3),
            (&["MA", "appointment_booked"], 8),
            (&["AL", "answered"], 9),
            (&["AL", "referred"], 7),
            (&["AL", "appointment_booked"], 6),
            (&["UA", "answered"], 10),
            (&["UA", "referred"], 6),
            (&["UA", "appointment_booked"], 2),
        ],
    )
}

#[test]
fn dimension_names_are_checked() {
    assert_eq!(
        CountTable::new(["nationalty"]),
        Err(DisclosureError::UnknownDimension("nationalty".into()))
    );
    assert_eq!(
        CountTable::new(["sex", "sex"]),
        Err(DisclosureError::RepeatedDimension("sex".into()))
    );
    assert_eq!(
        CountTable::new(["sex", "outcome", "week"]),
        Err(DisclosureError::DimensionCount(3))
    );
    assert_eq!(
        CountTable::new(Vec::<String>::new()),
        Err(DisclosureError::DimensionCount(0))
    );
    let mut t = CountTable::new(["sex"]).expect("one dimension");
    assert_eq!(
        t.add(vec!["F".into(), "M".into()], 1),
        Err(DisclosureError::CellArity {
            expected: 1,
            got: 2
        })
    );
}

#[test]
fn a_wider_cube_projects_onto_the_asked_fields() {
    let fields = ["week", "nationality", "outcome"];
    let cube: Vec<(Vec<String>, u64)> = [
        (["2026-W01", "MA", "answered"], 4),
        (["2026-W02", "MA", "answered"], 3),
        (["2026-W02", "AL", "referred"], 6),
    ]
    .iter()
    .map(|(v, n)| (v.iter().map(|s| (*s).to_owned()).collect(), *n))
    .collect();
    let cells = || cube.iter().map(|(v, n)| (v.as_slice(), *n));
    let t = CountTable::project(&fields, &["nationality"], cells()).expect("project");
    assert_eq!(t, table(&["nationality"], &[(&["MA"], 7), (&["AL"], 6)]));
    let first = CountTable::project(
        &fields,
        &["nationality"],
        cells().filter(|(v, _)| v[0] == "2026-W01"),
    )
    .expect("project");
    assert_eq!(first, table(&["nationality"], &[(&["MA"], 4)]));
    assert_eq!(
        CountTable::project(&fields, &["family"], cells()),
        Err(DisclosureError::NotCounted("family".into()))
    );
}

#[test]
fn tables_without_nationality_or_age_band_are_published_unchanged() {
    let t = table(
        &["outcome", "channel"],
        &[
            (&["answered", "phone"], 1),
            (&["answered", "walk_in"], 40),
            (&["referred", "email"], 2),
        ],
    );
    let p = protect(&t, Options::default()).expect("protect");
    let truth = truth(&t);
    for (id, c) in figures(&p) {
        assert_eq!(c, Cell::Published(truth[&id]), "{id:?}");
    }
    assert!(p.merged().is_empty());
}

#[test]
fn small_cells_are_hidden_and_markings_are_true() {
    let t = small_table();
    let p = protect(&t, NO_MERGE).expect("protect");
    assert_safe_marks(&p, &truth(&t));
    assert_eq!(p.cell(&["MA", "referred"]), Some(Cell::Suppressed));
    assert_eq!(
        p.cell(&["UA", "appointment_booked"]),
        Some(Cell::Suppressed)
    );
    // Outcome totals do not count nationality: the rule leaves them alone,
    // and the choice of complements keeps them.
    assert_eq!(p.total(), Cell::Published(63));
}

#[test]
fn subtraction_attack_recovers_primary_only_suppression_but_not_protected_tables() {
    let t = small_table();
    let p = protect(&t, NO_MERGE).expect("protect");
    let truth = truth(&t);

    // What a naive publisher would print: only the two small cells hidden.
    let naive = ProtectedTable {
        rows: p
            .rows()
            .iter()
            .map(|(v, _)| {
                let n = truth[&Id::Cell(v.clone())];
                let c = if n < K {
                    Cell::Suppressed
                } else {
                    Cell::Published(n)
                };
                (v.clone(), c)
            })
            .collect(),
        margins: (0..2)
            .map(|dim| {
                p.margin(dim)
                    .iter()
                    .map(|(l, _)| {
                        (
                            l.clone(),
                            Cell::Published(truth[&Id::Margin(dim, l.clone())]),
                        )
                    })
                    .collect()
            })
            .collect(),
        total: Cell::Published(truth[&Id::All]),
        ..p.clone()
    };
    let mut attack = System::default();
    attack.add_table(0, &naive);
    let recovered = attack.subtraction_attack();
    assert_eq!(recovered.len(), 2, "the naive table gives both cells away");
    for (v, x) in recovered {
        assert_eq!(truth[&attack.vars[v].1] as i64, x);
    }

    let mut attack = System::default();
    attack.add_table(0, &p);
    assert!(attack.subtraction_attack().is_empty());
    assert!(attack.determined().is_empty(), "no hidden figure is fixed");
    // Even knowing what the markings say about each hidden figure, every
    // small one keeps at least two possible values.
    let marks: Vec<Cell> = attack
        .vars
        .iter()
        .map(|(_, id)| {
            figures(&p)
                .into_iter()
                .find(|(i, _)| i == id)
                .map_or(Cell::Withheld, |(_, c)| c)
        })
        .collect();
    let values = attack.feasible_values(&marks, 30);
    for (i, (_, id)) in attack.vars.iter().enumerate() {
        assert!(values[i].contains(&(truth[id] as i64)), "{id:?}");
        if marks[i] == Cell::Suppressed {
            assert!(values[i].len() >= 2, "{id:?} pinned to {:?}", values[i]);
        }
    }
}

#[test]
fn one_way_table_gives_a_lone_small_cell_a_complement() {
    let t = table(
        &["nationality"],
        &[(&["MA"], 12), (&["AL"], 3), (&["UA"], 9), (&["PK"], 20)],
    );
    let p = protect(&t, NO_MERGE).expect("protect");
    assert_safe_marks(&p, &truth(&t));
    assert_eq!(p.cell(&["AL"]), Some(Cell::Suppressed));
    // The smallest other count is the complement; the total stays.
    assert_eq!(p.cell(&["UA"]), Some(Cell::Withheld));
    assert_eq!(p.cell(&["MA"]), Some(Cell::Published(12)));
    assert_eq!(p.total(), Cell::Published(44));
    let mut attack = System::default();
    attack.add_table(0, &p);
    assert!(attack.determined().is_empty());
}

#[test]
fn a_complement_that_cannot_give_way_is_not_enough() {
    // AL = 1 can only be 2 in another solution, which needs UA = 4: but UA
    // is marked "x" (0 or at least K), so hiding UA alone would pin AL.
    let t = table(
        &["nationality"],
        &[(&["MA"], 12), (&["AL"], 1), (&["UA"], 5)],
    );
    let p = protect(&t, NO_MERGE).expect("protect");
    assert_safe_marks(&p, &truth(&t));
    assert_eq!(p.cell(&["UA"]), Some(Cell::Published(5)));
    assert_eq!(p.cell(&["MA"]), Some(Cell::Withheld));
    let mut attack = System::default();
    attack.add_table(0, &p);
    let marks: Vec<Cell> = attack
        .vars
        .iter()
        .map(|(_, id)| {
            figures(&p)
                .into_iter()
                .find(|(i, _)| i == id)
                .map_or(Cell::Withheld, |(_, c)| c)
        })
        .collect();
    let values = attack.feasible_values(&marks, 18);
    let al = attack
        .vars
        .iter()
        .position(|(_, id)| *id == Id::Cell(vec!["AL".into()]))
        .expect("AL hidden");
    assert!(values[al].len() >= 2, "AL pinned to {:?}", values[al]);
}

#[test]
fn small_countries_merge_up_the_m49_tree() {
    let t = table(
        &["nationality"],
        &[
            (&["MA"], 20),
            (&["DZ"], 3),
            (&["TN"], 3),
            (&["SN"], 2),
            (&["ML"], 2),
            (&["GN"], 1),
            (&["UA"], 2),
            (&["PE"], 1),
        ],
    );
    let p = protect(&t, Options::default()).expect("protect");
    assert_eq!(p.cell(&["MA"]), Some(Cell::Published(20)));
    assert_eq!(
        p.cell(&["Northern Africa (other)"]),
        Some(Cell::Published(6))
    );
    assert_eq!(p.cell(&["Western Africa"]), Some(Cell::Withheld));
    // Eastern Europe (2) and South America (1) climb to Europe and the
    // Americas, still below K, and end up together.
    assert_eq!(p.cell(&[OTHER_NATIONALITIES]), Some(Cell::Suppressed));
    let labels: Vec<&str> = p.merged().iter().map(|m| m.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Northern Africa (other)",
            "Western Africa",
            OTHER_NATIONALITIES
        ]
    );
    // A lone "<5" next to a published total needs a complement.
    assert_eq!(p.total(), Cell::Published(34));
    assert_eq!(p.figures().filter(|c| c.is_hidden()).count(), 2);
}

#[test]
fn m49_covers_every_country_code() {
    for code in crate::fields::COUNTRY_CODES {
        assert!(m49_groups(code).is_some(), "{code}");
    }
    let g = |c: &str| m49_groups(c).map(|g| (g.area, g.sub_region, g.region));
    assert_eq!(
        g("MA"),
        Some(("Northern Africa", "Northern Africa", "Africa"))
    );
    assert_eq!(
        g("SN"),
        Some(("Western Africa", "Sub-Saharan Africa", "Africa"))
    );
    assert_eq!(
        g("BO"),
        Some((
            "South America",
            "Latin America and the Caribbean",
            "Americas"
        ))
    );
    assert_eq!(
        g("UA"),
        Some(("Eastern Europe", "Eastern Europe", "Europe"))
    );
    assert_eq!(g("PK"), Some(("Southern Asia", "Southern Asia", "Asia")));
    assert_eq!(g("TR"), Some(("Western Asia", "Western Asia", "Asia")));
    assert_eq!(
        g("SD"),
        Some(("Northern Africa", "Northern Africa", "Africa"))
    );
    assert_eq!(
        g("JE"),
        Some(("Channel Islands", "Northern Europe", "Europe"))
    );
    assert_eq!(g("XK"), None);
}

#[test]
fn age_bands_are_suppressed_not_merged() {
    let t = table(
        &["age_band", "sex"],
        &[
            (&["0-17", "F"], 2),
            (&["0-17", "M"], 6),
            (&["18-24", "F"], 9),
            (&["18-24", "M"], 11),
            (&["25-34", "F"], 14),
            (&["25-34", "M"], 3),
        ],
    );
    let p = protect(&t, Options::default()).expect("protect");
    assert!(p.merged().is_empty());
    assert_safe_marks(&p, &truth(&t));
    let mut attack = System::default();
    attack.add_table(0, &p);
    assert!(exposed(&attack, &[(&p, truth(&t))]).is_empty());
}

#[test]
fn serialises_to_the_documented_shape() {
    let t = table(
        &["nationality"],
        &[(&["MA"], 12), (&["AL"], 3), (&["UA"], 9)],
    );
    let p = protect(&t, NO_MERGE).expect("protect");
    let json = serde_json::to_value(&p).expect("serialise");
    assert_eq!(
        json,
        serde_json::json!({
            "dims": ["nationality"],
            "k": 5,
            "rows": [
                {"nationality": "AL", "count": "<5"},
                {"nationality": "MA", "count": 12},
                {"nationality": "UA", "count": "x"},
            ],
            "totals": {"all": 24},
            "merged": [],
        })
    );
    let p = protect(&small_table(), NO_MERGE).expect("protect");
    let json = serde_json::to_value(&p).expect("serialise");
    assert_eq!(json["dims"], serde_json::json!(["nationality", "outcome"]));
    assert_eq!(
        json["rows"][0],
        serde_json::json!({"nationality": "AL", "outcome": "answered", "count": 9})
    );
    assert!(json["totals"]["nationality"].is_array());
    assert!(json["totals"]["outcome"].is_array());
    assert_eq!(json["totals"]["all"], 63);
    assert_eq!(BELOW_K, format!("<{K}"));
}

/// All weeks (R), the first ten (D) and the rest (C): each alone looks safe.
fn split() -> (CountTable, CountTable, CountTable) {
    let d = table(
        &["nationality", "outcome"],
        &[
            (&["MA", "answered"], 10),
            (&["MA", "referred"], 6),
            (&["AL", "answered"], 8),
            (&["AL", "referred"], 9),
            (&["UA", "answered"], 7),
            (&["UA", "referred"], 12),
        ],
    );
    let c = table(
        &["nationality", "outcome"],
        &[
            (&["MA", "answered"], 2),
            (&["MA", "referred"], 7),
            (&["AL", "answered"], 9),
            (&["AL", "referred"], 8),
            (&["UA", "answered"], 6),
            (&["UA", "referred"], 5),
        ],
    );
    let mut r = d.clone();
    for (v, &n) in c.cells() {
        r.add(v.clone(), n).expect("add");
    }
    (r, d, c)
}

fn trio_attack(r: &ProtectedTable, d: &ProtectedTable, c: &ProtectedTable) -> System {
    let mut s = System::default();
    s.add_table(0, r);
    s.add_table(1, d);
    s.add_table(2, c);
    s.link(0, 1, 2, r);
    s
}

#[test]
fn periods_protected_alone_can_be_differenced() {
    let (r, d, c) = split();
    let (pr, pd, pc) = (
        protect(&r, NO_MERGE).expect("r"),
        protect(&d, NO_MERGE).expect("d"),
        protect(&c, NO_MERGE).expect("c"),
    );
    // R and D hide nothing: every figure is at least K. C hides MA/answered
    // = 2 with complements, and all three are safe one by one ...
    assert!(hidden_set(&pr).is_empty());
    assert!(hidden_set(&pd).is_empty());
    assert_eq!(pc.cell(&["MA", "answered"]), Some(Cell::Suppressed));
    // ... but R − D prints it.
    let s = trio_attack(&pr, &pd, &pc);
    let exposed = exposed(&s, &[(&pr, truth(&r)), (&pd, truth(&d)), (&pc, truth(&c))]);
    assert!(exposed.contains(&(2, Id::Cell(vec!["MA".into(), "answered".into()]), 2)));
}

#[test]
fn brute_force_sees_the_differencing_attack() {
    // The exhaustive search used by the split property is able to find a
    // pinned figure when there is one.
    let (r, d, c) = split();
    let (pr, pd, pc) = (
        protect(&r, NO_MERGE).expect("r"),
        protect(&d, NO_MERGE).expect("d"),
        protect(&c, NO_MERGE).expect("c"),
    );
    let s = trio_attack(&pr, &pd, &pc);
    let tables = [&pr, &pd, &pc];
    let domains: Vec<Vec<i64>> = s
        .vars
        .iter()
        .map(|(tid, id)| {
            let mark = figures(tables[*tid])
                .into_iter()
                .find(|(i, _)| i == id)
                .map_or(Cell::Withheld, |(_, c)| c);
            domain(mark, false, 60)
        })
        .collect();
    let values = s.feasible(&domains);
    let ma = s
        .vars
        .iter()
        .position(|v| *v == (2, Id::Cell(vec!["MA".into(), "answered".into()])))
        .expect("hidden in C");
    assert_eq!(values[ma], BTreeSet::from([2]));
}

#[test]
fn periods_protected_within_the_reference_cannot_be_differenced() {
    let (r, d, c) = split();
    let pr = protect(&r, NO_MERGE).expect("r");
    let pd = protect_within(&d, &r, NO_MERGE).expect("d");
    let pc = protect_within(&c, &r, NO_MERGE).expect("c");
    assert_eq!(pd.cell(&["MA", "answered"]), Some(Cell::Withheld));
    assert_eq!(pc.cell(&["MA", "answered"]), Some(Cell::Withheld));
    assert_eq!(
        hidden_set(&pd),
        hidden_set(&pc),
        "one pattern for both parts"
    );
    assert_safe_marks_within(&pd, &truth(&d), &pr);
    assert_safe_marks_within(&pc, &truth(&c), &pr);
    let s = trio_attack(&pr, &pd, &pc);
    assert_eq!(
        exposed(&s, &[(&pr, truth(&r)), (&pd, truth(&d)), (&pc, truth(&c))]),
        []
    );
}

#[test]
fn figures_hidden_in_the_reference_stay_hidden_in_every_part() {
    let r = small_table();
    let d = table(
        &["nationality", "outcome"],
        &[
            (&["MA", "answered"], 12),
            (&["AL", "answered"], 9),
            (&["UA", "answered"], 10),
            (&["UA", "referred"], 6),
        ],
    );
    let pr = protect(&r, NO_MERGE).expect("r");
    let pd = protect_within(&d, &r, NO_MERGE).expect("d");
    assert!(hidden_set(&pr).is_subset(&hidden_set(&pd)));
    // Cells of R absent from D are printed (as 0) or hidden, never dropped,
    // so an absent cell cannot stand for a hidden one.
    assert_eq!(pd.rows().len(), pr.rows().len());
}

#[test]
fn a_table_within_itself_is_protected_as_alone() {
    let t = small_table();
    assert_eq!(protect_within(&t, &t, NO_MERGE), protect(&t, NO_MERGE));
    let merged = table(
        &["nationality"],
        &[(&["DZ"], 2), (&["TN"], 4), (&["MA"], 30)],
    );
    assert_eq!(
        protect_within(&merged, &merged, Options::default()),
        protect(&merged, Options::default())
    );
}

#[test]
fn a_part_larger_than_its_reference_is_refused() {
    let r = table(&["nationality"], &[(&["MA"], 5)]);
    let d = table(&["nationality"], &[(&["MA"], 6)]);
    assert_eq!(
        protect_within(&d, &r, NO_MERGE),
        Err(DisclosureError::NotASubset)
    );
    let d = table(&["age_band"], &[(&["0-17"], 1)]);
    assert_eq!(
        protect_within(&d, &r, NO_MERGE),
        Err(DisclosureError::DimensionsDiffer)
    );
}

// ---------------------------------------------------------------------------

const COUNTRIES: [&str; 6] = ["MA", "AL", "UA", "PK", "SN", "DZ"];
const OUTCOMES: [&str; 4] = ["answered", "referred", "appointment_booked", "out_of_scope"];

/// A two-way or one-way table split into two parts, as cell lists.
fn arb_split() -> impl Strategy<Value = (bool, Vec<(usize, usize, u64, u64)>)> {
    (
        any::<bool>(),
        prop::collection::vec(
            (0..COUNTRIES.len(), 0..OUTCOMES.len(), 0u64..12, 0u64..12),
            1..16,
        ),
    )
}

fn build(
    two_way: bool,
    cells: &[(usize, usize, u64, u64)],
) -> (CountTable, CountTable, CountTable) {
    let dims: &[&str] = if two_way {
        &["nationality", "outcome"]
    } else {
        &["nationality"]
    };
    let key = |a: usize, b: usize| {
        let mut k = vec![COUNTRIES[a].to_owned()];
        if two_way {
            k.push(OUTCOMES[b].to_owned());
        }
        k
    };
    let mut r = CountTable::new(dims.iter().copied()).expect("dims");
    let mut d = r.clone();
    let mut c = r.clone();
    for &(a, b, x, y) in cells {
        d.add(key(a, b), x).expect("add");
        c.add(key(a, b), y).expect("add");
        r.add(key(a, b), x + y).expect("add");
    }
    (r, d, c)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_small_figure_is_published_or_recoverable((two_way, cells) in arb_split()) {
        let (r, d, c) = build(two_way, &cells);
        let pr = protect(&r, NO_MERGE).expect("r");
        let pd = protect_within(&d, &r, NO_MERGE).expect("d");
        let pc = protect_within(&c, &r, NO_MERGE).expect("c");
        let (tr, td, tc) = (truth(&r), truth(&d), truth(&c));
        assert_safe_marks(&pr, &tr);
        // A part that is the whole population is the reference itself.
        let whole = d.cells() == r.cells() || c.cells() == r.cells();
        if !whole {
            assert_safe_marks_within(&pd, &td, &pr);
            assert_safe_marks_within(&pc, &tc, &pr);
            prop_assert_eq!(hidden_set(&pd), hidden_set(&pc));
        }

        let mut alone = System::default();
        alone.add_table(0, &pr);
        prop_assert_eq!(exposed(&alone, &[(&pr, tr.clone())]), vec![]);
        let s = trio_attack(&pr, &pd, &pc);
        prop_assert_eq!(exposed(&s, &[(&pr, tr), (&pd, td), (&pc, tc)]), vec![]);
    }

    #[test]
    fn merged_tables_publish_nothing_small((two_way, cells) in arb_split()) {
        let (r, d, c) = build(two_way, &cells);
        let pr = protect(&r, Options::default()).expect("r");
        let pd = protect_within(&d, &r, Options::default()).expect("d");
        let pc = protect_within(&c, &r, Options::default()).expect("c");
        for p in [&pr, &pd, &pc] {
            for (id, c) in figures(p) {
                if let (true, Some(n)) = (sensitive(p.dims(), &id), c.published()) {
                    prop_assert!(n == 0 || n >= K, "{:?} = {}", id, n);
                }
            }
            let labels: Vec<_> = p.rows().iter().map(|(v, _)| v.clone()).collect();
            let reference: Vec<_> = pr.rows().iter().map(|(v, _)| v.clone()).collect();
            prop_assert_eq!(labels, reference, "one set of groups for all three");
        }
        if d.cells() != r.cells() && c.cells() != r.cells() {
            prop_assert_eq!(hidden_set(&pd), hidden_set(&pc));
            let s = trio_attack(&pr, &pd, &pc);
            prop_assert_eq!(s.determined().iter().filter(|&&v| {
                let (tid, id) = &s.vars[v];
                // Merged labels have no truth map here: any small sensitive
                // figure pinned would show as a hidden "<5" of R being fixed.
                *tid == 0 && sensitive(pr.dims(), id)
                    && figures(&pr).iter().any(|(i, c)| i == id && *c == Cell::Suppressed)
            }).count(), 0);
        }
    }

    #[test]
    fn insensitive_tables_pass_unchanged(cells in prop::collection::vec((0..4usize, 0..3usize, 1u64..9), 1..12)) {
        let channels = ["walk_in", "phone", "email", "online"];
        let mut t = CountTable::new(["channel", "outcome"]).expect("dims");
        for (a, b, n) in cells {
            t.add(vec![channels[a].into(), OUTCOMES[b].into()], n).expect("add");
        }
        let p = protect(&t, Options::default()).expect("protect");
        let truth = truth(&t);
        for (id, c) in figures(&p) {
            prop_assert_eq!(c, Cell::Published(truth[&id]));
        }
    }
}

#[test]
fn a_full_size_table_is_protected_quickly() {
    // Every country code against the six outcomes, counts skewed towards
    // small ones as at a real desk network; a fixed generator keeps the
    // test repeatable.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let outcomes = crate::fields::Outcome::TEXTS;
    let mut r = CountTable::new(["nationality", "outcome"]).expect("dims");
    let mut d = r.clone();
    for code in crate::fields::COUNTRY_CODES.iter().step_by(2) {
        for outcome in outcomes {
            let n = match next() % 10 {
                0..=3 => 0,
                4..=6 => next() % 5,
                _ => next() % 40,
            };
            let part = if n == 0 { 0 } else { next() % (n + 1) };
            r.add(vec![(*code).into(), (*outcome).into()], n)
                .expect("add");
            d.add(vec![(*code).into(), (*outcome).into()], part)
                .expect("add");
        }
    }
    let started = std::time::Instant::now();
    let pr = protect(&r, NO_MERGE).expect("r");
    let pd = protect_within(&d, &r, NO_MERGE).expect("d");
    let merged = protect_within(&d, &r, Options::default()).expect("merged");
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 20, "took {elapsed:?}");
    assert_safe_marks(&pr, &truth(&r));
    assert_safe_marks_within(&pd, &truth(&d), &pr);
    let mut s = System::default();
    s.add_table(0, &pr);
    assert_eq!(exposed(&s, &[(&pr, truth(&r))]), []);
    let hidden = pd.figures().filter(|c| c.is_hidden()).count();
    let hidden_merged = merged.figures().filter(|c| c.is_hidden()).count();
    eprintln!(
        "{} figures; hidden alone {}, within {}, within merged {} of {}; {elapsed:?}",
        pr.figures().count(),
        pr.figures().filter(|c| c.is_hidden()).count(),
        hidden,
        hidden_merged,
        merged.figures().count()
    );
}

fn marks_of(system: &System, t: &ProtectedTable) -> Vec<Cell> {
    let all = figures(t);
    system
        .vars
        .iter()
        .map(|(_, id)| {
            all.iter()
                .find(|(i, _)| i == id)
                .map_or(Cell::Withheld, |(_, c)| *c)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The cycle audit against brute force: with what the markings say
    /// (`"<5"`: 1..=4, `"x"`: 0 or at least K), every `"<5"` figure keeps at
    /// least two possible values.
    #[test]
    fn markings_never_pin_a_small_figure(
        two_way in any::<bool>(),
        counts in prop::collection::vec(0u64..9, 4),
    ) {
        let cells: Vec<(usize, usize, u64, u64)> = counts
            .iter()
            .enumerate()
            .map(|(i, &n)| if two_way { (i / 2, i % 2, n, 0) } else { (i, 0, n, 0) })
            .collect();
        let (r, _, _) = build(two_way, &cells);
        let p = protect(&r, NO_MERGE).expect("protect");
        let truth = truth(&r);
        let mut attack = System::default();
        attack.add_table(0, &p);
        let marks = marks_of(&attack, &p);
        // Hidden figures may be larger than the true total, when it is hidden.
        let bound = 2 * truth.get(&Id::All).copied().unwrap_or(0) as i64 + K as i64;
        // A table that cannot be protected marks its small figures "x"
        // too: there "x" tells nothing but "not negative".
        let withheld_small = attack
            .vars
            .iter()
            .zip(&marks)
            .any(|((_, id), m)| *m == Cell::Withheld && (1..K).contains(&truth[id]));
        let domains: Vec<Vec<i64>> = marks
            .iter()
            .map(|m| domain(*m, withheld_small, bound))
            .collect();
        let values = attack.feasible(&domains);
        for (i, (_, id)) in attack.vars.iter().enumerate() {
            prop_assert!(values[i].contains(&(truth[id] as i64)));
            if marks[i] == Cell::Suppressed {
                prop_assert!(values[i].len() >= 2, "{:?} pinned to {:?}", id, values[i]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The joint audit against brute force: R, D and C = R - D published
    /// together, each figure bounded by what its marking tells, and every
    /// figure small in any of the three keeps at least two possible values.
    #[test]
    fn split_markings_never_pin_a_small_figure(
        parts in prop::collection::vec((0u64..7, 0u64..7), 2..=3),
    ) {
        let cells: Vec<(usize, usize, u64, u64)> =
            parts.iter().enumerate().map(|(i, &(x, y))| (i, 0, x, y)).collect();
        let (r, d, c) = build(false, &cells);
        prop_assume!(d.cells() != r.cells() && c.cells() != r.cells());
        let pr = protect(&r, NO_MERGE).expect("r");
        let pd = protect_within(&d, &r, NO_MERGE).expect("d");
        let pc = protect_within(&c, &r, NO_MERGE).expect("c");
        let truths = [truth(&r), truth(&d), truth(&c)];
        let tables = [&pr, &pd, &pc];
        let s = trio_attack(&pr, &pd, &pc);
        let bound = truths[0].get(&Id::All).copied().unwrap_or(0) as i64 + K as i64;
        let domains: Vec<Vec<i64>> = s
            .vars
            .iter()
            .map(|(tid, id)| {
                let mark = figures(tables[*tid])
                    .into_iter()
                    .find(|(i, _)| i == id)
                    .map_or(Cell::Withheld, |(_, c)| c);
                domain(mark, *tid > 0, bound)
            })
            .collect();
        let values = s.feasible(&domains);
        for (i, (tid, id)) in s.vars.iter().enumerate() {
            let value = truths[*tid].get(id).copied().unwrap_or(0);
            prop_assert!(values[i].contains(&(value as i64)), "{:?} {:?}", tid, id);
            if sensitive(tables[*tid].dims(), id) && value > 0 && value < K {
                prop_assert!(values[i].len() >= 2, "table {} {:?} pinned to {:?}", tid, id, values[i]);
            }
        }
    }
}
