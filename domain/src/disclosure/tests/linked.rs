//! Linked tables: every pair of tables published through the register,
//! attacked with their joint equations (the attacker of `tests.rs`).
//!
//! A population is a set of weeks: a period is a run of them, a filter and
//! its complement are a set and the rest. The attacker knows how the two
//! populations of a pair relate (nested, or sharing an unknown part).

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// Visits: (week, country, outcome, count).
type Visits = Vec<(usize, usize, usize, u64)>;
type Weeks = BTreeSet<usize>;
/// A table with the true value of each of its figures.
type Known = (ProtectedTable, BTreeMap<Id, u64>);

fn counted(visits: &Visits, two_way: bool, weeks: &Weeks) -> CountTable {
    let dims: &[&str] = if two_way {
        &["nationality", "outcome"]
    } else {
        &["nationality"]
    };
    let mut t = CountTable::new(dims.iter().copied()).expect("dims");
    for &(w, a, b, n) in visits {
        if weeks.contains(&w) {
            let mut key = vec![COUNTRIES[a].to_owned()];
            if two_way {
                key.push(OUTCOMES[b].to_owned());
            }
            t.add(key, n).expect("add");
        }
    }
    t
}

/// Publishes `tables` in order through one register, as the hub does.
fn publish(reference: &CountTable, tables: &[CountTable]) -> Vec<ProtectedTable> {
    let mut register: Vec<Publication> = Vec::new();
    tables
        .iter()
        .map(|t| {
            let linked = protect_linked(t, reference, &register, NO_MERGE).expect("protect");
            register.extend(linked.entry);
            linked.table
        })
        .collect()
}

/// A table of the same figures, all unknown: a population the attacker
/// reasons about without seeing it.
fn unseen(t: &ProtectedTable) -> ProtectedTable {
    let mut u = t.clone();
    u.rows.iter_mut().for_each(|(_, c)| *c = Cell::Withheld);
    u.margins
        .iter_mut()
        .flatten()
        .for_each(|(_, c)| *c = Cell::Withheld);
    u.total = Cell::Withheld;
    u
}

/// Whether a table says what its `"x"` means: one protected alone marks
/// small figures `"<5"` and so its `"x"` is 0 or at least K; one protected
/// against others marks every hidden figure `"x"`.
fn strict(t: &ProtectedTable) -> bool {
    t.figures().any(|c| c == Cell::Suppressed) || t.figures().all(|c| !c.is_hidden())
}

/// The attacker's system for published tables `a` and `b` of populations
/// `wa` and `wb`, with the truth of every table in it (published first).
fn pair_attack(
    visits: &Visits,
    two_way: bool,
    (a, wa): (&ProtectedTable, &Weeks),
    (b, wb): (&ProtectedTable, &Weeks),
) -> (System, Vec<Known>) {
    let truth_of = |w: &Weeks| truth(&counted(visits, two_way, w));
    let mut s = System::default();
    let mut tables = vec![(a.clone(), truth_of(wa)), (b.clone(), truth_of(wb))];
    s.add_table(0, a);
    s.add_table(1, b);
    let u = unseen(a);
    if wa.is_subset(wb) || wb.is_subset(wa) {
        // smaller + difference = larger.
        let (small, large) = if wa.is_subset(wb) { (0, 1) } else { (1, 0) };
        let (ws, wl) = if small == 0 { (wa, wb) } else { (wb, wa) };
        let rest: Weeks = wl.difference(ws).copied().collect();
        s.add_table(2, &u);
        s.link(large, small, 2, a);
        tables.push((u, truth_of(&rest)));
    } else {
        // a = both + a only, b = both + b only.
        let both: Weeks = wa.intersection(wb).copied().collect();
        let a_only: Weeks = wa.difference(wb).copied().collect();
        let b_only: Weeks = wb.difference(wa).copied().collect();
        for (tid, w) in [(2, &both), (3, &a_only), (4, &b_only)] {
            s.add_table(tid, &u);
            tables.push((u.clone(), truth_of(w)));
        }
        s.link(0, 2, 3, a);
        s.link(1, 2, 4, a);
    }
    (s, tables)
}

fn refs(tables: &[Known]) -> Vec<(&ProtectedTable, BTreeMap<Id, u64>)> {
    tables.iter().map(|(t, m)| (t, m.clone())).collect()
}

/// Every published figure is true, no sensitive one is in `1..K`, every
/// `"<5"` is in `1..K`.
fn check_published(t: &ProtectedTable, truth: &BTreeMap<Id, u64>) -> Result<(), TestCaseError> {
    for (id, c) in figures(t) {
        let value = truth.get(&id).copied().unwrap_or(0);
        match c {
            Cell::Published(n) => {
                prop_assert_eq!(n, value, "{:?}", id);
                if sensitive(t.dims(), &id) {
                    prop_assert!(n == 0 || n >= K, "{:?} published as {}", id, n);
                }
            }
            Cell::Suppressed => prop_assert!(value > 0 && value < K, "{:?}", id),
            Cell::Withheld => {}
        }
    }
    Ok(())
}

/// Publishes every query in order and attacks every pair: no sensitive
/// figure in `1..K` of either table, or of a population their difference
/// names, is determined by the pair's equations. With `brute`, small
/// pairs are also searched exhaustively within what the markings tell.
fn attack_every_pair(
    visits: &Visits,
    two_way: bool,
    queries: &[Weeks],
    brute: bool,
) -> Result<Vec<ProtectedTable>, TestCaseError> {
    let all: Weeks = visits.iter().map(|v| v.0).collect();
    let reference = counted(visits, two_way, &all);
    let tables: Vec<CountTable> = queries
        .iter()
        .map(|w| counted(visits, two_way, w))
        .collect();
    let published = publish(&reference, &tables);
    for (p, t) in published.iter().zip(&tables) {
        check_published(p, &truth(t))?;
    }
    for i in 0..published.len() {
        for j in i + 1..published.len() {
            let (s, tables) = pair_attack(
                visits,
                two_way,
                (&published[i], &queries[i]),
                (&published[j], &queries[j]),
            );
            let pinned = exposed(&s, &refs(&tables));
            prop_assert!(
                pinned.is_empty(),
                "queries {:?} and {:?}: {:?}",
                queries[i],
                queries[j],
                pinned
            );
            if brute {
                // The difference follows from the two tables figure by
                // figure; of the three unseen parts of an overlap, the
                // common one is searched and the other two follow.
                let nested = queries[i].is_subset(&queries[j]) || queries[j].is_subset(&queries[i]);
                brute_force(&s, &tables, if nested { 2 } else { 3 })?;
            }
        }
    }
    Ok(published)
}

/// Exhaustive search over the system's unknowns: every small sensitive
/// figure keeps two possible values. Skipped for systems too large to
/// search (the linear check above still ran).
fn brute_force(s: &System, tables: &[Known], forced_from: usize) -> Result<(), TestCaseError> {
    let published = 2;
    // The attacker knows no total that is withheld everywhere, so the
    // search runs K past the largest true one: a bound of exactly the
    // truth would itself pin a "<5" against a withheld total.
    let bound = tables
        .iter()
        .filter_map(|(_, m)| m.get(&Id::All).copied())
        .max()
        .unwrap_or(0) as i64
        + K as i64;
    let domains: Vec<Vec<i64>> = s
        .vars
        .iter()
        .map(|(tid, id)| {
            let (t, _) = &tables[*tid];
            if *tid >= published {
                return (0..=bound).collect();
            }
            let mark = figures(t)
                .into_iter()
                .find(|(i, _)| i == id)
                .map_or(Cell::Withheld, |(_, c)| c);
            domain(mark, !strict(t), bound)
        })
        .collect();
    let size: f64 = s
        .vars
        .iter()
        .zip(&domains)
        .filter(|((tid, _), _)| *tid < forced_from)
        .map(|(_, d)| d.len() as f64)
        .product();
    if size > SEARCH_LIMIT {
        return Ok(());
    }
    let values = s.feasible(&domains);
    for (i, (tid, id)) in s.vars.iter().enumerate() {
        let (t, truth) = &tables[*tid];
        let value = truth.get(id).copied().unwrap_or(0);
        prop_assert!(
            values[i].contains(&(value as i64)),
            "table {} {:?}",
            tid,
            id
        );
        if sensitive(t.dims(), id) && value > 0 && value < K {
            prop_assert!(
                values[i].len() >= 2,
                "table {} {:?} pinned to {:?}",
                tid,
                id,
                values[i]
            );
        }
    }
    Ok(())
}

/// The most assignments of the searched unknowns tried for one pair.
const SEARCH_LIMIT: f64 = 300_000.0;

fn weeks(r: std::ops::RangeInclusive<usize>) -> Weeks {
    r.collect()
}

/// Two nested periods whose difference (week 11) holds one visitor from MA.
fn weeks_1_to_11() -> Visits {
    let mut v = Vec::new();
    for w in 1..=10 {
        v.push((w, 0, 0, 2));
        v.push((w, 1, 0, 1));
        v.push((w, 2, 1, 1));
    }
    v.push((11, 0, 0, 1));
    v.push((11, 1, 0, 6));
    v.push((11, 2, 1, 5));
    v
}

#[test]
fn two_nested_periods_protected_alone_give_away_the_difference() {
    let visits = weeks_1_to_11();
    let (p10, p11) = (weeks(1..=10), weeks(1..=11));
    let (t10, t11) = (counted(&visits, false, &p10), counted(&visits, false, &p11));
    // Without the register each period is safe alone, and the whole (1–11)
    // against 1–10 prints week 11's single MA visitor.
    let a = protect(&t10, NO_MERGE).expect("alone");
    let b = protect(&t11, NO_MERGE).expect("alone");
    assert_eq!(a.cell(&["MA"]), Some(Cell::Published(20)));
    assert_eq!(b.cell(&["MA"]), Some(Cell::Published(21)));
    // The difference, week 11, is printed outright: 21 - 20 = 1.
    let (s, tables) = pair_attack(&visits, false, (&a, &p10), (&b, &p11));
    assert!(exposed(&s, &refs(&tables)).contains(&(2, Id::Cell(vec!["MA".into()]), 1)));
}

#[test]
fn two_nested_periods_through_the_register_cannot_be_differenced() {
    let visits = weeks_1_to_11();
    let queries = [weeks(1..=10), weeks(1..=11)];
    let published = attack_every_pair(&visits, false, &queries, true).expect("safe");
    // MA differs by 1 between the two: it is hidden in the later one.
    assert_eq!(published[1].cell(&["MA"]), Some(Cell::Withheld));
    // Asked in the other order, the pair is just as safe.
    let reversed = [weeks(1..=11), weeks(1..=10)];
    let published = attack_every_pair(&visits, false, &reversed, true).expect("safe");
    assert_eq!(published[1].cell(&["MA"]), Some(Cell::Withheld));
}

#[test]
fn the_same_figures_asked_again_keep_their_pattern() {
    let visits = weeks_1_to_11();
    let all: Weeks = weeks(1..=11);
    let reference = counted(&visits, true, &all);
    let t = counted(&visits, true, &weeks(1..=10));
    // Weeks 0–10 select the same visits as 1–10.
    let same = counted(&visits, true, &weeks(0..=10));
    let published = publish(
        &reference,
        &[t.clone(), counted(&visits, true, &weeks(2..=11)), same, t],
    );
    assert_eq!(published[0], published[2]);
    assert_eq!(published[0], published[3]);
}

#[test]
fn a_filter_its_complement_and_the_whole_are_protected_together() {
    let visits = weeks_1_to_11();
    let filter: Weeks = [1, 3, 5, 7, 9, 11].into();
    let rest: Weeks = [2, 4, 6, 8, 10].into();
    let all = weeks(1..=11);
    for order in [
        [filter.clone(), rest.clone(), all.clone()],
        [all.clone(), rest.clone(), filter.clone()],
        [rest.clone(), all.clone(), filter.clone()],
    ] {
        let published = attack_every_pair(&visits, true, &order, false).expect("pairs");
        // The trio: filter + complement = whole, all three published.
        let at = |w: &Weeks| order.iter().position(|o| o == w).expect("asked");
        let (f, c, w) = (at(&filter), at(&rest), at(&all));
        let mut s = System::default();
        s.add_table(0, &published[w]);
        s.add_table(1, &published[f]);
        s.add_table(2, &published[c]);
        s.link(0, 1, 2, &published[w]);
        let truths = [
            truth(&counted(&visits, true, &all)),
            truth(&counted(&visits, true, &filter)),
            truth(&counted(&visits, true, &rest)),
        ];
        let tables: Vec<(&ProtectedTable, BTreeMap<Id, u64>)> = [w, f, c]
            .iter()
            .zip(truths)
            .map(|(&i, t)| (&published[i], t))
            .collect();
        assert_eq!(exposed(&s, &tables), [], "order {order:?}");
    }
}

/// Weeks 0..4, up to four queries: runs of weeks (nested or overlapping),
/// a set of weeks and its complement, and the whole.
fn arb_queries() -> impl Strategy<Value = Vec<Weeks>> {
    let run = (0usize..4, 0usize..4).prop_map(|(a, b)| weeks(a.min(b)..=a.max(b)));
    let set = prop::collection::btree_set(0usize..4, 1..4);
    prop::collection::vec(
        prop_oneof![
            run,
            set.clone(),
            set.prop_map(|s| (0..4).filter(|w| !s.contains(w)).collect::<Weeks>())
        ],
        2..=4,
    )
    .prop_map(|qs| qs.into_iter().filter(|q: &Weeks| !q.is_empty()).collect())
}

fn arb_visits(countries: usize, outcomes: usize, most: u64) -> impl Strategy<Value = Visits> {
    prop::collection::vec((0usize..4, 0..countries, 0..outcomes, 1u64..most), 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Nationality × outcome, several queries over four weeks: no pair of
    /// published tables pins a small figure of either, or of the
    /// population their difference names.
    #[test]
    fn no_pair_of_published_tables_pins_a_small_figure(
        visits in arb_visits(4, 3, 9),
        queries in arb_queries(),
        with_whole in any::<bool>(),
    ) {
        let mut queries = queries;
        if with_whole {
            queries.push(weeks(0..=3));
        }
        attack_every_pair(&visits, true, &queries, false)?;
    }

    /// One-way tables small enough to search every solution the markings
    /// allow: no pair leaves a small figure a single possible value.
    #[test]
    fn brute_force_over_pairs_pins_nothing(
        visits in arb_visits(3, 1, 4),
        queries in arb_queries(),
    ) {
        attack_every_pair(&visits, false, &queries, true)?;
    }

    /// The same query twice, or in the other order of its dimensions, gives
    /// the same figures.
    #[test]
    fn repeated_queries_are_stable(visits in arb_visits(4, 3, 9), queries in arb_queries()) {
        let all: Weeks = visits.iter().map(|v| v.0).collect();
        let reference = counted(&visits, true, &all);
        let tables: Vec<CountTable> = queries.iter().map(|w| counted(&visits, true, w)).collect();
        let mut twice = tables.clone();
        twice.extend(tables.iter().cloned());
        let published = publish(&reference, &twice);
        let n = tables.len();
        for i in 0..n {
            prop_assert_eq!(&published[i], &published[i + n]);
        }
    }
}
