//! Figures released on the calendar by the real hub: the same tables asked
//! in every order print the same figures, and an outside attacker with
//! linear programming over every released table recovers no small hidden
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

/// The unknowns of the attack: the counts of four disjoint populations,
/// which every released table sums. W46, W47, the rest of November (W45
/// and W48) and the rest of what the quarter counts (October, and the
/// weeks of December once that month is over: an open month is in no
/// quarter's table).
const ATOMS: [&str; 4] = ["W46", "W47", "rest of November", "rest of Q4"];

fn atoms_of(period: &str) -> &'static [usize] {
    match period {
        "2026-W46" => &[0],
        "2026-W47" => &[1],
        "2026-11" => &[0, 1, 2],
        _ => &[0, 1, 2, 3],
    }
}

/// The population a week's records fall in; `None` when the quarter's
/// table does not count the week (yet).
fn atom_of(week: u32, quarter_last: u32) -> Option<usize> {
    match week {
        46 => Some(0),
        47 => Some(1),
        45 | 48 => Some(2),
        w if w <= quarter_last => Some(3),
        _ => None,
    }
}

/// A figure of a two-way table: the cells it adds up.
type Figure = (String, Vec<(usize, usize)>);

fn figures_of(t: &serde_json::Value) -> Vec<(Figure, serde_json::Value, bool)> {
    let idx = |name: &str, list: &[&str]| list.iter().position(|c| *c == name);
    let mut out = Vec::new();
    for r in t["rows"].as_array().into_iter().flatten() {
        let (Some(n), Some(o)) = (
            idx(r["nationality"].as_str().unwrap_or(""), &COUNTRIES),
            idx(r["outcome"].as_str().unwrap_or(""), &OUTCOMES),
        ) else {
            continue;
        };
        out.push((
            (format!("{} × {}", COUNTRIES[n], OUTCOMES[o]), vec![(n, o)]),
            r["count"].clone(),
            true,
        ));
    }
    for r in t["totals"]["nationality"].as_array().into_iter().flatten() {
        if let Some(n) = idx(r["nationality"].as_str().unwrap_or(""), &COUNTRIES) {
            let cells = (0..OUTCOMES.len()).map(|o| (n, o)).collect();
            out.push(((COUNTRIES[n].to_string(), cells), r["count"].clone(), true));
        }
    }
    for r in t["totals"]["outcome"].as_array().into_iter().flatten() {
        if let Some(o) = idx(r["outcome"].as_str().unwrap_or(""), &OUTCOMES) {
            let cells = (0..COUNTRIES.len()).map(|n| (n, o)).collect();
            out.push(((OUTCOMES[o].to_string(), cells), r["count"].clone(), false));
        }
    }
    let all = (0..COUNTRIES.len())
        .flat_map(|n| (0..OUTCOMES.len()).map(move |o| (n, o)))
        .collect();
    out.push((("total".into(), all), t["totals"]["all"].clone(), false));
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
    let mut first: Option<BTreeMap<&str, serde_json::Value>> = None;
    for (i, order) in permutations(&tables).into_iter().enumerate() {
        // Each order on a fresh copy of the store: an empty register.
        let copy = root.path().join(format!("order-{i}"));
        copy_dir(&hub.data, &copy)?;
        let mut published = BTreeMap::new();
        for p in &order {
            published.insert(*p, stats(&copy, by, &["--period", p])?);
        }
        match &first {
            None => first = Some(published),
            Some(f) => assert_eq!(&published, f, "order {order:?}"),
        }
        std::fs::remove_dir_all(&copy)?;
    }
    let published = first.unwrap_or_default();
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
    let quarter_last: u32 = published["2026-Q4"]["weeks"][1]
        .as_str()
        .and_then(|w| w.get(6..8))
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    // truth[atom][(country, outcome)]
    let mut truth = vec![BTreeMap::<(usize, usize), u64>::new(); ATOMS.len()];
    for (w, _) in WEDNESDAYS {
        let Some(atom) = atom_of(w, quarter_last) else {
            continue;
        };
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
    for (period, t) in &published {
        assert_eq!(t["recoded"], "asked", "{t}");
        assert_eq!(t["merged"], serde_json::json!([]), "{t}");
        let atoms = atoms_of(period);
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
            "{period}: {hidden} hidden figures; hidden_cells {} of {}, hidden_share {}, provisional {}",
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
