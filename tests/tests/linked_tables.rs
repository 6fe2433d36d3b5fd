//! Nested release periods published by the real hub (each month of the
//! first quarter, the quarter, the year) cannot be differenced into a
//! hidden figure: an attacker with every pair of tables `hub stats --json`
//! printed solves their joint equations by exhaustive search and pins no
//! small figure. Weeks 1–10 and 1–11, no release periods, are refused with
//! the nearest ones named. The same query asked again, through the running
//! hub or with it stopped, prints the same table.

use e2e::{eventually, path, run_ok, Agent, Hub};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A Wednesday in each ISO week of 2026, weeks 1 to 11.
const WEEKS: [&str; 11] = [
    "2025-12-31",
    "2026-01-07",
    "2026-01-14",
    "2026-01-21",
    "2026-01-28",
    "2026-02-04",
    "2026-02-11",
    "2026-02-18",
    "2026-02-25",
    "2026-03-04",
    "2026-03-11",
];
const COUNTRIES: [&str; 3] = ["MA", "AL", "UA"];

/// Visits per (week 1..=11, country): two MA, one AL and one UA a week for
/// ten weeks, then week 11 brings one MA, six AL and five UA. Alone, March
/// (weeks 10–13: MA 3) is small, and the quarter (MA 21) minus January and
/// February (MA 10 and 8) would print it.
fn visits(week: usize, country: &str) -> usize {
    match (week, country) {
        (11, "MA") => 1,
        (11, "AL") => 6,
        (11, "UA") => 5,
        (_, "MA") => 2,
        _ => 1,
    }
}

fn visit_line(week: usize, country: &str) -> String {
    serde_json::json!({
        "sex": "F", "nationality": country,
        "procedure": "permesso.rinnovo.lavoro", "channel": "walk_in", "language": "it",
        "outcome": "answered", "minutes": 20,
        "visited_at": format!("{}T10:30:00+01:00", WEEKS[week - 1]),
    })
    .to_string()
}

/// A published one-way table: each country's figure and the total, `None`
/// where hidden.
#[derive(Debug, PartialEq)]
struct Table {
    cells: BTreeMap<String, Option<i64>>,
    total: Option<i64>,
}

fn parse(json: &serde_json::Value) -> Table {
    let figure = |v: &serde_json::Value| v.as_i64();
    let cells = json["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["nationality"].as_str().unwrap_or_default().to_string(),
                figure(&r["count"]),
            )
        })
        .collect();
    Table {
        cells,
        total: figure(&json["totals"]["all"]),
    }
}

/// The label a country is published under at a recoding level (UN M49).
fn group(recoded: &str, country: &str) -> String {
    match (recoded, country) {
        ("sub-region", "MA") => "Northern Africa",
        ("sub-region", "AL") => "Southern Europe",
        ("sub-region", "UA") => "Eastern Europe",
        ("region", "MA") => "Africa",
        ("region", _) => "Europe",
        (_, c) => c,
    }
    .to_string()
}

fn truth(weeks: std::ops::RangeInclusive<usize>, recoded: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for c in COUNTRIES {
        let n: usize = weeks.clone().map(|w| visits(w, c)).sum();
        *out.entry(group(recoded, c)).or_insert(0) += n as i64;
    }
    out
}

/// Every value each hidden figure of `small` (a part of `large`) and of
/// their difference can take, given both tables: cells add up to the
/// totals, `large = small + difference` figure by figure, nothing negative.
struct Search<'a> {
    labels: &'a [String],
    small: &'a Table,
    large: &'a Table,
}

type Values = Vec<Vec<BTreeSet<i64>>>;

impl Search<'_> {
    fn options(&self, t: &Table, label: &String) -> Vec<i64> {
        match t.cells.get(label).copied().flatten() {
            Some(n) => vec![n],
            None => (0..=self.large.total.unwrap_or(200)).collect(),
        }
    }

    /// Per table (small, large, difference), per label.
    fn feasible(&self) -> Values {
        let n = self.labels.len();
        let mut found = vec![vec![BTreeSet::new(); n]; 3];
        self.walk(0, &mut vec![0; n], &mut vec![0; n], &mut found);
        found
    }

    fn walk(&self, i: usize, a: &mut Vec<i64>, b: &mut Vec<i64>, found: &mut Values) {
        let Some(label) = self.labels.get(i) else {
            let (sa, sb): (i64, i64) = (a.iter().sum(), b.iter().sum());
            if self.small.total.is_none_or(|t| t == sa) && self.large.total.is_none_or(|t| t == sb)
            {
                for j in 0..self.labels.len() {
                    found[0][j].insert(a[j]);
                    found[1][j].insert(b[j]);
                    found[2][j].insert(b[j] - a[j]);
                }
            }
            return;
        };
        for x in self.options(self.small, label) {
            for y in self.options(self.large, label) {
                if y >= x {
                    a[i] = x;
                    b[i] = y;
                    self.walk(i + 1, a, b, found);
                }
            }
        }
    }
}

fn stats(hub: &Hub, period: &[&str]) -> anyhow::Result<serde_json::Value> {
    stats_by(hub, "nationality", period)
}

fn stats_by(hub: &Hub, by: &str, period: &[&str]) -> anyhow::Result<serde_json::Value> {
    let mut args = vec!["stats", "--data", path(&hub.data), "--by", by, "--json"];
    args.extend_from_slice(period);
    Ok(serde_json::from_str(&run_ok("hub", &args))?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_periods_published_by_the_hub_cannot_be_differenced() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;
    let mut input = String::new();
    let mut expected = 0;
    for week in 1..=11 {
        for country in COUNTRIES {
            for _ in 0..visits(week, country) {
                input.push_str(&visit_line(week, country));
                input.push('\n');
                expected += 1;
            }
        }
    }
    let file = root.path().join("visits.jsonl");
    std::fs::write(&file, &input)?;
    run_ok(
        "desk-agent",
        &["record", "--agent", &agent.url, "--file", path(&file)],
    );
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-a") == Some(expected)).then_some(())
    })
    .await?;

    // Weeks 1–10 and 1–11 are no release period: refused, the nearest named.
    for to in ["2026-W10", "2026-W11"] {
        let refused = e2e::run(
            "hub",
            &[
                "stats",
                "--data",
                path(&hub.data),
                "--by",
                "nationality",
                "--from-week",
                "2026-W01",
                "--to-week",
                to,
            ],
        );
        assert_eq!(refused.status.code(), Some(2));
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(message.contains("2026-Q1 (2026-W01–2026-W13)"), "{message}");
    }
    let period = |p: &'static str| ["--period", p];
    let jan = stats(&hub, &period("2026-01"))?;
    let feb = stats(&hub, &period("2026-02"))?;
    let mar = stats(&hub, &period("2026-03"))?;
    let q1 = stats(&hub, &period("2026-Q1"))?;
    let year = stats(&hub, &period("2026"))?;
    // Weeks that are exactly a period are that period's table.
    assert_eq!(
        stats(&hub, &["--from-week", "2026-W01", "--to-week", "2026-W05"])?,
        jan
    );
    // The same queries again, through the running hub and with it stopped:
    // the same figures.
    assert_eq!(stats(&hub, &period("2026-01"))?, jan);
    // The same two-way table asked with its dimensions the other way round.
    let cells = |t: &serde_json::Value| -> std::collections::BTreeSet<(String, String, String)> {
        t["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["nationality"].as_str().unwrap_or_default().to_string(),
                    r["outcome"].as_str().unwrap_or_default().to_string(),
                    r["count"].to_string(),
                )
            })
            .collect()
    };
    let asked = stats_by(&hub, "nationality,outcome", &period("2026-01"))?;
    let swapped = stats_by(&hub, "outcome,nationality", &period("2026-01"))?;
    assert_eq!(
        swapped["dims"],
        serde_json::json!(["outcome", "nationality"])
    );
    assert_eq!(cells(&asked), cells(&swapped));
    assert_eq!(asked["totals"]["all"], swapped["totals"]["all"]);
    agent.terminate()?;
    hub.terminate()?;
    assert_eq!(stats(&hub, &period("2026-Q1"))?, q1);
    assert_eq!(stats(&hub, &period("2026"))?, year);

    let published = [
        (parse(&jan), 1..=5),
        (parse(&feb), 6..=9),
        (parse(&mar), 10..=11),
        (parse(&q1), 1..=11),
        (parse(&year), 1..=11),
    ];
    // One recoding for the whole year (decided on its months, here many
    // small), so every table has the same labels.
    let recoded = year["recoded"].as_str().unwrap_or("asked").to_string();
    for t in [&jan, &feb, &mar, &q1] {
        assert_eq!(t["recoded"], year["recoded"]);
    }
    let labels: Vec<String> = published[4].0.cells.keys().cloned().collect();
    for (t, weeks) in &published {
        let truth = truth(weeks.clone(), &recoded);
        for (label, figure) in &t.cells {
            if let Some(n) = figure {
                assert_eq!(Some(n), truth.get(label), "{label} in {t:?}");
                assert!(*n == 0 || *n >= 5, "{label} published as {n}");
            }
        }
    }
    // March's MA (3) is not the quarter minus January and February.
    let ma_label = group(&recoded, "MA");
    let ma = |i: usize| published[i].0.cells.get(&ma_label).copied().flatten();
    assert!(
        ma(0).is_none() || ma(1).is_none() || ma(3).is_none(),
        "{jan} {feb} {q1}"
    );
    for (i, j) in [(0, 3), (1, 3), (2, 3), (3, 4), (0, 4)] {
        let (small, large) = (&published[i], &published[j]);
        let values = Search {
            labels: &labels,
            small: &small.0,
            large: &large.0,
        }
        .feasible();
        let (ts, tl) = (
            truth(small.1.clone(), &recoded),
            truth(large.1.clone(), &recoded),
        );
        for (k, label) in labels.iter().enumerate() {
            let difference = tl[label] - ts[label];
            for (which, value) in [(0, ts[label]), (1, tl[label]), (2, difference)] {
                assert!(values[which][k].contains(&value), "{label}: the truth fits");
                if (1..5).contains(&value) {
                    assert!(
                        values[which][k].len() >= 2,
                        "tables {i} and {j} pin {label} (figure {which}) to {value}: {:?}",
                        values[which][k]
                    );
                }
            }
        }
    }
    Ok(())
}
