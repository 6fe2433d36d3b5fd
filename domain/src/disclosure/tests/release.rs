//! The release calendar and tables released on it: periods nest as the
//! calendar says, the weeks of an arbitrary run are refused with the
//! nearest periods, and the published figures do not depend on the order
//! in which tables are asked.

use super::*;
use crate::disclosure::calendar::CalendarPeriod;
use crate::disclosure::{release, Detail, Publication, ReleaseInput};

fn period(s: &str) -> CalendarPeriod {
    CalendarPeriod::parse(s).expect("a period")
}

#[test]
fn months_are_the_iso_weeks_whose_thursday_falls_in_them() {
    // 1 January 2026 is a Thursday: W01 is January's, and 2026 has 53 weeks.
    let cases = [
        ("2026-01", "2026-W01", "2026-W05"),
        ("2026-02", "2026-W06", "2026-W09"),
        ("2026-11", "2026-W45", "2026-W48"),
        ("2026-12", "2026-W49", "2026-W53"),
        ("2026-Q1", "2026-W01", "2026-W13"),
        ("2026-Q4", "2026-W40", "2026-W53"),
        ("2026", "2026-W01", "2026-W53"),
        ("2026-YTD", "2026-W01", "2026-W53"),
        ("2027", "2027-W01", "2027-W52"),
        ("2026-W47", "2026-W47", "2026-W47"),
    ];
    for (name, first, last) in cases {
        let p = period(name);
        assert_eq!(p.to_string(), name);
        let weeks = p.weeks();
        assert_eq!(weeks.first().map(String::as_str), Some(first), "{name}");
        assert_eq!(weeks.last().map(String::as_str), Some(last), "{name}");
    }
    // Every week of the year lies in exactly one month.
    let months: Vec<String> = (1..=12)
        .flat_map(|m| period(&format!("2026-{m:02}")).weeks())
        .collect();
    assert_eq!(months, period("2026").weeks());
    assert_eq!(
        period("2026-W47").chain(),
        vec![
            period("2026"),
            period("2026-Q4"),
            period("2026-11"),
            period("2026-W47")
        ]
    );
    assert_eq!(period("2026-YTD").canonical(), period("2026"));
    for bad in [
        "2026-13", "2026-W54", "2027-W53", "2026-Q5", "26", "2026-", "x",
    ] {
        assert!(CalendarPeriod::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_run_of_weeks_is_a_period_only_when_it_is_one() {
    assert_eq!(
        CalendarPeriod::matching("2026-W45", "2026-W48"),
        Ok(period("2026-11"))
    );
    assert_eq!(
        CalendarPeriod::matching("2026-W47", "2026-W47"),
        Ok(period("2026-W47"))
    );
    assert_eq!(
        CalendarPeriod::matching("2026-W01", "2026-W10"),
        Err(vec![
            period("2026-Q1"),
            period("2026-01"),
            period("2026-02")
        ])
    );
    assert_eq!(
        CalendarPeriod::matching("2026-W45", "2026-W47"),
        Err(vec![
            period("2026-11"),
            period("2026-W45"),
            period("2026-W46")
        ])
    );
}

#[test]
fn a_period_is_open_until_its_last_week_has_passed() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).expect("date");
    assert!(period("2026-12").is_open(today));
    assert!(period("2026").is_open(today));
    assert!(period("2026-W49").is_open(today));
    assert!(!period("2026-11").is_open(today));
    assert!(!period("2026-W48").is_open(today));
}

const NATIONS: [&str; 6] = ["MA", "AL", "UA", "SN", "PE", "RO"];
const RESULTS: [&str; 3] = ["answered", "referred", "out_of_scope"];

/// Count cells of Q4 2026 (week first): a few large countries and a tail
/// of small ones, seeded.
fn quarter_cells(seed: u64) -> Vec<(Vec<String>, u64)> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % 100
    };
    let mut cells = Vec::new();
    for week in 40..=53 {
        for (i, n) in NATIONS.iter().enumerate() {
            for r in RESULTS {
                let scale = [12, 6, 3, 1, 1, 1][i];
                let count = next() * scale / 100;
                if count > 0 {
                    cells.push((
                        vec![format!("2026-W{week:02}"), (*n).to_owned(), r.to_owned()],
                        count,
                    ));
                }
            }
        }
    }
    cells
}

/// Releases `asked` in order through one register, as the hub does.
fn release_in_order(
    cells: &[(Vec<String>, u64)],
    asked: &[&str],
) -> BTreeMap<String, ProtectedTable> {
    release_at(cells, asked, "2027-W01")
        .into_iter()
        .map(|(k, (t, _))| (k, t))
        .collect()
}

/// The same, with `current_week` as this week; each table with the weeks
/// it counts.
fn release_at(
    cells: &[(Vec<String>, u64)],
    asked: &[&str],
    current_week: &str,
) -> BTreeMap<String, (ProtectedTable, Option<(String, String)>)> {
    let dims = vec!["nationality".to_owned(), "outcome".to_owned()];
    let mut register: BTreeMap<String, Vec<Publication>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for name in asked {
        let released = release(&ReleaseInput {
            dims: &dims,
            cells,
            period: period(name),
            earlier: &register,
            legacy: &[],
            current_week,
            recode: true,
            detail: None,
            options: Options::default(),
            margins: &[],
        })
        .expect("released");
        if let Some(entry) = released.entry {
            register.entry((*name).to_owned()).or_default().push(entry);
        }
        out.insert((*name).to_owned(), (released.table, released.counted));
    }
    out
}

fn permutations(items: &[&'static str]) -> Vec<Vec<&'static str>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first);
            out.push(p);
        }
    }
    out
}

#[test]
fn the_same_tables_come_out_whatever_the_order_they_are_asked_in() {
    let tables = ["2026-W45", "2026-W46", "2026-W47", "2026-11", "2026-Q4"];
    for seed in [1, 7] {
        let cells = quarter_cells(seed);
        let first = release_in_order(&cells, &tables);
        let hidden: usize = first
            .values()
            .map(|t| t.figures().filter(|c| c.is_hidden()).count())
            .sum();
        assert!(hidden > 0, "the data must need protecting: {first:?}");
        for order in permutations(&tables) {
            assert_eq!(release_in_order(&cells, &order), first, "order {order:?}");
        }
        // Asked again, nothing changes and nothing new is registered.
        let again = release_in_order(&cells, &[&tables[..], &tables[..]].concat());
        assert_eq!(again, first);
    }
}

#[test]
fn siblings_share_their_pattern_so_their_sum_prints_no_hidden_cell() {
    let cells = quarter_cells(3);
    let weeks: Vec<String> = period("2026-11").weeks();
    let mut names: Vec<&str> = weeks.iter().map(String::as_str).collect();
    names.push("2026-11");
    let out = release_in_order(&cells, &names);
    let hidden =
        |t: &ProtectedTable| -> Vec<bool> { t.rows().iter().map(|(_, c)| c.is_hidden()).collect() };
    let pattern = hidden(&out["2026-W45"]);
    for w in &weeks {
        assert_eq!(hidden(&out[w.as_str()]), pattern, "{w}");
    }
    // What the month hides, every week hides.
    for (m, w) in hidden(&out["2026-11"]).iter().zip(&pattern) {
        assert!(!m || *w);
    }
}

#[test]
fn recoding_hides_fewer_visits_than_suppressing_alone() {
    // Many nationalities of one region, each small every month.
    let african = ["SN", "GH", "NG", "CI", "ML", "BF", "GM", "GN", "TG", "BJ"];
    let mut cells = Vec::new();
    for week in 1..=52 {
        for (i, n) in african.iter().enumerate() {
            let count = 1 + (week + i) as u64 % 3;
            cells.push((
                vec![
                    format!("2026-W{week:02}"),
                    (*n).to_owned(),
                    RESULTS[(week + i) % 3].to_owned(),
                ],
                count,
            ));
        }
    }
    let dims = vec!["nationality".to_owned(), "outcome".to_owned()];
    let share = |recode: bool| {
        let r = release(&ReleaseInput {
            dims: &dims,
            cells: &cells,
            period: period("2026-03"),
            earlier: &BTreeMap::new(),
            legacy: &[],
            current_week: "2027-W01",
            recode,
            detail: None,
            options: Options::default(),
            margins: &[],
        })
        .expect("released");
        (r.detail, r.loss, r.table)
    };
    let (before_detail, before, _) = share(false);
    let (after_detail, after, table) = share(true);
    assert_eq!(before_detail, Detail::Asked);
    assert_ne!(after_detail, Detail::Asked);
    assert!(
        after.hidden_cells * before.cells < before.hidden_cells * after.cells.max(1),
        "before {before:?}, after {after:?}"
    );
    assert!(
        table.merged().iter().any(|m| m.label.contains("Africa")),
        "{:?}",
        table.merged()
    );
}

#[test]
fn open_periods_count_only_what_is_over_and_keep_out_of_closed_families() {
    let cells = quarter_cells(5);
    let asked = ["2026-W49", "2026-12", "2026-11", "2026-Q4", "2026"];
    // This week is W50: December is open with one closed week.
    let out = release_at(&cells, &asked, "2026-W50");
    let weeks = |name: &str| out[name].1.clone();
    let w = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
    assert_eq!(weeks("2026-W49"), w("2026-W49", "2026-W49"));
    assert_eq!(weeks("2026-12"), w("2026-W49", "2026-W49"));
    assert_eq!(weeks("2026-11"), w("2026-W45", "2026-W48"));
    assert_eq!(weeks("2026-Q4"), w("2026-W40", "2026-W48"));
    assert_eq!(weeks("2026"), w("2026-W01", "2026-W48"));
    // November is the same table whether December has begun or not: an
    // open month is in no family of closed ones.
    let before = release_at(&cells, &["2026-11"], "2026-W49");
    assert_eq!(before["2026-11"].0, out["2026-11"].0);
    // The same in every order, with December open.
    for order in permutations(&asked) {
        let again = release_at(&cells, &order, "2026-W50");
        assert_eq!(again, out, "order {order:?}");
    }
}

#[test]
fn entries_from_before_the_calendar_keep_constraining() {
    // Weeks 45–47 were published under the old rules (any run of weeks);
    // November adds week 48, where Morocco has 2 visits.
    let week = |w: u32, n: &str, count: u64| (vec![format!("2026-W{w}"), n.to_owned()], count);
    let mut cells = Vec::new();
    for w in 45..=47 {
        cells.extend([week(w, "MA", 7), week(w, "AL", 10), week(w, "UA", 9)]);
    }
    cells.extend([week(48, "MA", 2), week(48, "AL", 10), week(48, "UA", 8)]);
    let dims = vec!["nationality".to_owned()];
    let old = CountTable::from_cells(
        ["nationality"],
        [("MA", 21), ("AL", 30), ("UA", 27)].map(|(n, c)| (vec![n.to_owned()], c)),
    )
    .expect("table");
    // Published when the hub held only those weeks: the whole, then.
    let legacy = protect_linked(&old, &old, &[], Options::default())
        .expect("protected")
        .entry
        .expect("an entry");
    assert_eq!(legacy.period, None);
    let november = |legacy: &[Publication]| {
        release(&ReleaseInput {
            dims: &dims,
            cells: &cells,
            period: period("2026-11"),
            earlier: &BTreeMap::new(),
            legacy,
            current_week: "2027-W01",
            recode: true,
            detail: None,
            options: Options::default(),
            margins: &[],
        })
        .expect("released")
        .table
    };
    // Alone, November prints Morocco's 23; beside the old 21 that would
    // print week 48's 2.
    assert_eq!(november(&[]).cell(&["MA"]), Some(Cell::Published(23)));
    assert!(
        november(std::slice::from_ref(&legacy))
            .cell(&["MA"])
            .is_some_and(Cell::is_hidden),
        "{:?}",
        november(&[legacy])
    );
}

#[test]
fn a_provisional_month_and_its_final_release_print_no_small_difference() {
    for seed in [2, 9, 11] {
        let cells = quarter_cells(seed);
        let dims = vec!["nationality".to_owned(), "outcome".to_owned()];
        let mut register: BTreeMap<String, Vec<Publication>> = BTreeMap::new();
        let mut tables = Vec::new();
        // The year's first release fixes its recoding, as the hub keeps it.
        let mut fixed = None;
        // During November (weeks 45–46 over), then once it has ended.
        for current_week in ["2026-W47", "2026-W49"] {
            let released = release(&ReleaseInput {
                dims: &dims,
                cells: &cells,
                period: period("2026-11"),
                earlier: &register,
                legacy: &[],
                current_week,
                recode: true,
                detail: fixed,
                options: Options::default(),
                margins: &[],
            })
            .expect("released");
            fixed = Some(released.detail);
            let entry = released.entry.expect("new figures, a new entry");
            assert_eq!(entry.provisional, current_week == "2026-W47");
            register.entry("2026-11".into()).or_default().push(entry);
            tables.push(released.table);
        }
        let (early, last) = (&tables[0], &tables[1]);
        let figures = |t: &ProtectedTable| -> BTreeMap<Vec<String>, Cell> {
            t.rows()
                .iter()
                .cloned()
                .chain(t.margin(0).iter().map(|(l, c)| (vec![l.clone()], *c)))
                .collect()
        };
        let (before, after) = (figures(early), figures(last));
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        for (key, a) in &before {
            if let (Some(a), Some(b)) = (a.published(), after.get(key).and_then(|c| c.published()))
            {
                let difference = b - a;
                assert!(
                    difference == 0 || difference >= K,
                    "seed {seed}: {key:?} printed as {a} then {b}"
                );
            }
        }
    }
}

/// The cells of one dimension of `cells` (week first), summed over the
/// other.
fn one_way_cells(cells: &[(Vec<String>, u64)], dim: usize) -> Vec<(Vec<String>, u64)> {
    let mut sums: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for (values, n) in cells {
        if let (Some(week), Some(v)) = (values.first(), values.get(1 + dim)) {
            *sums.entry(vec![week.clone(), v.clone()]).or_default() += n;
        }
    }
    sums.into_iter().collect()
}

/// The release of `name` with every period closed and recoding off, so
/// that a two-way table and its one-way tables have the same labels
/// (recoded, the margins may be coarser than the one-way rows).
fn closed_input<'a>(
    dims: &'a [String],
    cells: &'a [(Vec<String>, u64)],
    name: &str,
    earlier: &'a BTreeMap<String, Vec<Publication>>,
    margins: &'a [ReleaseInput<'a>],
) -> ReleaseInput<'a> {
    ReleaseInput {
        dims,
        cells,
        period: period(name),
        earlier,
        legacy: &[],
        current_week: "2027-W01",
        recode: false,
        detail: None,
        options: Options::default(),
        margins,
    }
}

#[test]
fn margins_print_what_the_one_way_tables_print_and_nothing_they_hide() {
    let dims = vec!["nationality".to_owned(), "outcome".to_owned()];
    let nationality = vec!["nationality".to_owned()];
    let outcome = vec!["outcome".to_owned()];
    let empty = BTreeMap::new();
    let mut checked = 0;
    for seed in 1..=6 {
        let cells = quarter_cells(seed);
        let by_nationality = one_way_cells(&cells, 0);
        let by_outcome = one_way_cells(&cells, 1);
        for name in ["2026-W41", "2026-11", "2026-Q4", "2026"] {
            let margins = [closed_input(
                &nationality,
                &by_nationality,
                name,
                &empty,
                &[],
            )];
            let one_way = release(&margins[0]).expect("one-way");
            let by_outcome_table =
                release(&closed_input(&outcome, &by_outcome, name, &empty, &[])).expect("outcome");
            let two_way =
                release(&closed_input(&dims, &cells, name, &empty, &margins)).expect("two-way");
            let two_way = two_way.table;
            // The grand total is printed by the outcome table anyway.
            assert_eq!(two_way.total(), by_outcome_table.table.total(), "{name}");
            assert!(!two_way.total().is_hidden(), "{name}: total hidden");
            // Outcome totals are printed unchanged by the outcome table.
            for (label, cell) in two_way.margin(1) {
                assert!(!cell.is_hidden(), "{name}: outcome {label} hidden");
            }
            // Each nationality total is the one-way figure, hidden or not.
            let shown: BTreeMap<&String, Cell> = one_way
                .table
                .rows()
                .iter()
                .filter_map(|(v, c)| v.first().map(|l| (l, *c)))
                .collect();
            for (label, cell) in two_way.margin(0) {
                let theirs = shown.get(label).copied();
                assert_eq!(
                    cell.is_hidden(),
                    theirs.is_none_or(|c| c.is_hidden()),
                    "seed {seed} {name}: {label} is {cell:?} beside the one-way {theirs:?}"
                );
                if let (Some(mine), Some(theirs)) =
                    (cell.published(), theirs.and_then(|c| c.published()))
                {
                    assert_eq!(mine, theirs, "seed {seed} {name}: {label}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "{checked}");
}
