//! Figures released on the calendar by the real hub: the same tables asked
//! in every order print the same figures, and an outside attacker with
//! linear programming over every released table (the two-way tables and
//! the one-way tables that print their margins) recovers no small hidden
//! figure; runs of weeks that are no release period are refused.

use e2e::lp::Lp;
use e2e::{eventually, path, run, run_ok, Agent, Hub};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The Wednesday of ISO weeks 40 to 49 of 2026 (49 is this week when the
/// test was written; later runs see every period closed).
const WEDNESDAYS: [(u32, &str); 10] = [
    (40, "2026-09-30"),
    (41, "2026-10-07"),
    (42, "2026-10-14"),
    (43, "2026-10-21"),
    (44, "2026-10-28"),
    (45, "2026-11-04"),
    (46, "2026-11-11"),
    (47, "2026-11-18"),
    (48, "2026-11-25"),
    (49, "2026-12-02"),
];
const COUNTRIES: [&str; 6] = ["MA", "AL", "RO", "UA", "IN", "PE"];
const OUTCOMES: [&str; 3] = ["answered", "referred", "out_of_scope"];

/// Visits in week `w` of `country` with `outcome`: 1–4, and 0–1 for
/// Peru, so weeks are full of small cells and months have some (Peru's),
/// which recoding to M49 groups would not remove: nothing is recoded.
fn visits(w: u32, country: usize, outcome: usize) -> u64 {
    let h = (w as u64 * 31 + country as u64 * 7 + outcome as u64 * 3) % 11;
    if country == 5 {
        h % 2
    } else {
        1 + h % 4
    }
}

fn visit_line(date: &str, country: &str, outcome: &str) -> String {
    serde_json::json!({
        "sex": "F", "nationality": country,
        "procedure": "permesso.rinnovo.lavoro", "channel": "walk_in", "language": "it",
        "outcome": outcome, "minutes": 20,
        "visited_at": format!("{date}T10:30:00+01:00"),
    })
    .to_string()
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn stats(data: &Path, by: &str, period: &[&str]) -> anyhow::Result<serde_json::Value> {
    let mut args = vec!["stats", "--data", path(data), "--by", by, "--json"];
    args.extend_from_slice(period);
    Ok(serde_json::from_str(&run_ok("hub", &args))?)
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

/// The unknowns of the attack: the counts of five disjoint populations,
/// which every released table sums. W46, W47, the rest of November (W45
/// and W48), the rest of what the quarter counts (October, and the
/// weeks of December once that month is over: an open month is in no
/// quarter's table), and the weeks of an open December, which only the
/// tables without nationality count.
const ATOMS: [&str; 5] = [
    "W46",
    "W47",
    "rest of November",
    "rest of Q4",
    "open December",
];

/// The populations a table sums: `last` is the last week it counts.
fn atoms_of(period: &str, last: u32, quarter_last: u32) -> &'static [usize] {
    match period {
        "2026-W46" => &[0],
        "2026-W47" => &[1],
        "2026-11" => &[0, 1, 2],
        _ if last > quarter_last => &[0, 1, 2, 3, 4],
        _ => &[0, 1, 2, 3],
    }
}

/// The number of the last ISO week a published table counts.
fn last_week(t: &serde_json::Value) -> u32 {
    t["weeks"][1]
        .as_str()
        .and_then(|w| w.get(6..8))
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
}

/// The population a week's records fall in.
fn atom_of(week: u32, quarter_last: u32) -> usize {
    match week {
        46 => 0,
        47 => 1,
        45 | 48 => 2,
        w if w <= quarter_last => 3,
        _ => 4,
    }
}

/// A figure of a two-way table: the cells it adds up.
type Figure = (String, Vec<(usize, usize)>);

/// The figures of a published table over nationality, outcome or both,
/// each as the cells of the two-way table it adds up.
fn figures_of(t: &serde_json::Value) -> Vec<(Figure, serde_json::Value, bool)> {
    let idx = |name: &str, list: &[&str]| list.iter().position(|c| *c == name);
    // The cells a figure adds up: a value of nationality or outcome or
    // both, the other one summed over.
    let cells_of = |n: Option<usize>, o: Option<usize>| -> Vec<(usize, usize)> {
        (0..COUNTRIES.len())
            .filter(|i| n.is_none_or(|n| n == *i))
            .flat_map(|i| {
                (0..OUTCOMES.len())
                    .filter(move |j| o.is_none_or(|o| o == *j))
                    .map(move |j| (i, j))
            })
            .collect()
    };
    let name_of = |n: Option<usize>, o: Option<usize>| match (n, o) {
        (Some(n), Some(o)) => format!("{} × {}", COUNTRIES[n], OUTCOMES[o]),
        (Some(n), None) => COUNTRIES[n].to_string(),
        (None, Some(o)) => OUTCOMES[o].to_string(),
        (None, None) => "total".to_string(),
    };
    let mut out = Vec::new();
    let mut figure = |r: &serde_json::Value, shown: &serde_json::Value| {
        let n = r["nationality"].as_str().map(|v| idx(v, &COUNTRIES));
        let o = r["outcome"].as_str().map(|v| idx(v, &OUTCOMES));
        // A label outside the test's lists (none is expected) is skipped.
        if n == Some(None) || o == Some(None) {
            return;
        }
        let (n, o) = (n.flatten(), o.flatten());
        out.push(((name_of(n, o), cells_of(n, o)), shown.clone(), n.is_some()));
    };
    for r in t["rows"].as_array().into_iter().flatten() {
        figure(r, &r["count"]);
    }
    for dim in ["nationality", "outcome"] {
        for r in t["totals"][dim].as_array().into_iter().flatten() {
            figure(r, &r["count"]);
        }
    }
    figure(&serde_json::json!({}), &t["totals"]["all"]);
    out
}

/// A figure the attacker bounds: its name, its expression over the
/// unknowns, its true value.
type Target = (String, Vec<(usize, f64)>, u64);

fn var(atom: usize, (n, o): (usize, usize)) -> usize {
    (atom * COUNTRIES.len() + n) * OUTCOMES.len() + o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_gives_the_same_figures_and_linear_programming_recovers_no_small_one(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;
    let mut input = String::new();
    let mut expected = 0;
    for (w, date) in WEDNESDAYS {
        for (n, country) in COUNTRIES.iter().enumerate() {
            for (o, outcome) in OUTCOMES.iter().enumerate() {
                for _ in 0..visits(w, n, o) {
                    input.push_str(&visit_line(date, country, outcome));
                    input.push('\n');
                    expected += 1;
                }
            }
        }
    }
    let file = root.path().join("visits.jsonl");
    std::fs::write(&file, &input)?;
    run_ok(
        "desk-agent",
        &["record", "--agent", &agent.url, "--file", path(&file)],
    );
    eventually(Duration::from_secs(60), async || {
        (hub.records_of("desk-a") == Some(expected)).then_some(())
    })
    .await?;

    // A run of weeks that is no release period is refused, naming the
    // nearest ones; one that is a period is that period's table.
    let refused = run(
        "hub",
        &[
            "stats",
            "--data",
            path(&hub.data),
            "--by",
            "nationality",
            "--from-week",
            "2026-W45",
            "--to-week",
            "2026-W47",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("2026-11") && message.contains("not a release period"),
        "{message}"
    );
    agent.terminate()?;
    hub.terminate()?;

    let tables = ["2026-W46", "2026-W47", "2026-11", "2026-Q4"];
    let by = "nationality,outcome";
    // The one-way tables print the two-way table's margins: every fourth
    // order asks them too, after the two-way tables in half of those and
    // before them in the other half (every order of all twelve tables
    // would take too long).
    let all_by = ["nationality,outcome", "nationality", "outcome"];
    let mut first: Option<BTreeMap<(&str, &str), serde_json::Value>> = None;
    for (i, order) in permutations(&tables).into_iter().enumerate() {
        // Each order on a fresh copy of the store: an empty register.
        let copy = root.path().join(format!("order-{i}"));
        copy_dir(&hub.data, &copy)?;
        let mut published = BTreeMap::new();
        let mut asks: Vec<(&str, &str)> = Vec::new();
        for b in all_by {
            asks.extend(order.iter().map(|p| (b, *p)));
        }
        match i % 8 {
            0 => {}
            4 => asks.reverse(),
            _ => asks.retain(|(b, _)| *b == by),
        }
        for (b, p) in asks {
            published.insert((b, p), stats(&copy, b, &["--period", p])?);
        }
        match &first {
            None => first = Some(published),
            Some(f) => {
                for (key, table) in &published {
                    assert_eq!(Some(table), f.get(key), "{key:?} in order {order:?}");
                }
            }
        }
        std::fs::remove_dir_all(&copy)?;
    }
    let every = first.unwrap_or_default();
    let published: BTreeMap<&str, serde_json::Value> = every
        .iter()
        .filter(|((b, _), _)| *b == by)
        .map(|((_, p), t)| (*p, t.clone()))
        .collect();
    let month_by_weeks = stats(
        &hub.data,
        by,
        &["--from-week", "2026-W45", "--to-week", "2026-W48"],
    )?;
    assert_eq!(month_by_weeks, published["2026-11"]);
    // A week that hides most of its cells offers its month.
    assert_eq!(published["2026-W46"]["coarser_period"], "2026-11");
    let month_offers = &published["2026-11"]["coarser_period"];
    assert!(
        month_offers.is_null() || month_offers == "2026-Q4",
        "{month_offers}"
    );
    let quarter_last = last_week(&published["2026-Q4"]);
    // truth[atom][(country, outcome)]
    let mut truth = vec![BTreeMap::<(usize, usize), u64>::new(); ATOMS.len()];
    for (w, _) in WEDNESDAYS {
        let atom = atom_of(w, quarter_last);
        for n in 0..COUNTRIES.len() {
            for o in 0..OUTCOMES.len() {
                *truth[atom].entry((n, o)).or_default() += visits(w, n, o);
            }
        }
    }

    // The attacker: every released table's published figures as
    // equations over the four populations, "<5" as two inequalities,
    // every count at least 0.
    let mut lp = Lp::new(ATOMS.len() * COUNTRIES.len() * OUTCOMES.len());
    // Hidden sensitive figures of the released tables, then the cells of
    // the populations nobody published (differences of released tables).
    let mut targets: Vec<Target> = Vec::new();
    for ((table_by, period), t) in &every {
        assert_eq!(t["recoded"], "asked", "{t}");
        assert_eq!(t["merged"], serde_json::json!([]), "{t}");
        let atoms = atoms_of(period, last_week(t), quarter_last);
        let mut hidden = 0;
        for ((name, cells), shown, sensitive) in figures_of(t) {
            let expr: Vec<(usize, f64)> = atoms
                .iter()
                .flat_map(|&a| cells.iter().map(move |&c| (var(a, c), 1.0)))
                .collect();
            let true_value: u64 = atoms
                .iter()
                .flat_map(|&a| cells.iter().map(move |c| (a, *c)))
                .map(|(a, c)| truth[a].get(&c).copied().unwrap_or(0))
                .sum();
            match shown.as_u64() {
                Some(v) => {
                    assert_eq!(v, true_value, "{period} {name}");
                    assert!(!sensitive || v == 0 || v >= 5, "{period} {name} = {v}");
                    lp.eq(expr, v as f64);
                }
                None => {
                    hidden += 1;
                    if shown == "<5" {
                        lp.le(expr.clone(), 4.0);
                        lp.ge(expr.clone(), 1.0);
                    }
                    if sensitive {
                        targets.push((format!("{period} {name}"), expr, true_value));
                    }
                }
            }
        }
        println!(
            "{period} by {table_by}: {hidden} hidden figures; hidden_cells {} of {}, hidden_share {}, provisional {}",
            t["hidden_cells"], t["cells"], t["hidden_share"], t["provisional"]
        );
    }
    // The populations nobody published are differences of published
    // tables: their small cells must not be pinned either.
    let hidden_figures = targets.len();
    for (a, atom) in ATOMS.iter().enumerate().skip(2) {
        for (&c, &v) in &truth[a] {
            targets.push((format!("{atom} {c:?}"), vec![(var(a, c), 1.0)], v));
        }
    }
    let objectives: Vec<Vec<(usize, f64)>> = targets.iter().map(|t| t.1.clone()).collect();
    let bounds = lp
        .bounds(&objectives)
        .ok_or_else(|| anyhow::anyhow!("the published figures admit no solution"))?;
    let mut pinned_large = 0;
    let mut small = 0;
    for (i, ((name, _, truth), (min, max))) in targets.iter().zip(&bounds).enumerate() {
        assert!(
            *min <= *truth as f64 + 1e-6 && *truth as f64 <= max + 1e-6,
            "{name}: the truth {truth} lies outside [{min}, {max}]"
        );
        let pinned = max - min < 1.0 - 1e-6;
        if (1..5).contains(truth) {
            small += 1;
        }
        // No hidden figure of a released table is recovered exactly,
        // whatever its value; a difference of released tables may be
        // (it is printed by them), but never when it is small.
        if i < hidden_figures || (1..5).contains(truth) {
            assert!(
                !pinned,
                "{name} (truly {truth}) is pinned to [{min}, {max}]"
            );
        } else if pinned {
            pinned_large += 1;
        }
    }
    assert!(small > 0, "the attack must have small figures to aim at");
    println!(
        "LP attacker: {hidden_figures} hidden sensitive figures of the released tables, none \
         recovered exactly; {} cells of unpublished differences, {small} figures truly in 1..4 \
         in all, none pinned; {pinned_large} differences of 0 or at least 5 pinned (printed by \
         the published tables)",
        targets.len() - hidden_figures
    );
    Ok(())
}
