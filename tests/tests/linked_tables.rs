//! Two periods published by the real hub (weeks 1–10 and weeks 1–11, then
//! the whole) cannot be differenced into a hidden figure: an attacker with
//! every table `hub stats --json` printed solves their joint equations by
//! exhaustive search and pins no small figure. The same query asked again,
//! through the running hub or with it stopped, prints the same table.

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
/// ten weeks, then week 11 brings one MA, six AL and five UA. Alone, weeks
/// 1–10 (MA 20) and 1–11 (MA 21) are both safe and print a difference of 1.
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

fn truth(last_week: usize) -> BTreeMap<String, i64> {
    COUNTRIES
        .iter()
        .map(|c| {
            let n: usize = (1..=last_week).map(|w| visits(w, c)).sum();
            ((*c).to_string(), n as i64)
        })
        .collect()
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

    let first = ["--from-week", "2026-W01", "--to-week", "2026-W10"];
    let second = ["--from-week", "2026-W01", "--to-week", "2026-W11"];
    let w10 = stats(&hub, &first)?;
    let w11 = stats(&hub, &second)?;
    let whole = stats(&hub, &[])?;
    // The same queries again, through the running hub and with it stopped:
    // the register keeps their pattern.
    assert_eq!(stats(&hub, &first)?, w10);
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
    let asked = stats_by(&hub, "nationality,outcome", &first)?;
    let swapped = stats_by(&hub, "outcome,nationality", &first)?;
    assert_eq!(
        swapped["dims"],
        serde_json::json!(["outcome", "nationality"])
    );
    assert_eq!(cells(&asked), cells(&swapped));
    assert_eq!(asked["totals"]["all"], swapped["totals"]["all"]);
    agent.terminate()?;
    hub.terminate()?;
    assert_eq!(stats(&hub, &second)?, w11);
    assert_eq!(stats(&hub, &[])?, whole);

    let published = [(parse(&w10), 10), (parse(&w11), 11), (parse(&whole), 11)];
    let labels: Vec<String> = COUNTRIES.iter().map(|c| (*c).to_string()).collect();
    for (t, last) in &published {
        let truth = truth(*last);
        for (label, figure) in &t.cells {
            if let Some(n) = figure {
                assert_eq!(Some(n), truth.get(label), "{label} in {t:?}");
                assert!(*n == 0 || *n >= 5, "{label} published as {n}");
            }
        }
    }
    // Without protection against each other, MA would print as 20 and 21.
    assert_ne!(
        (published[0].0.cells["MA"], published[1].0.cells["MA"]),
        (Some(20), Some(21)),
        "{w10} {w11}"
    );
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        let (small, large) = (&published[i], &published[j]);
        let values = Search {
            labels: &labels,
            small: &small.0,
            large: &large.0,
        }
        .feasible();
        let (ts, tl) = (truth(small.1), truth(large.1));
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
