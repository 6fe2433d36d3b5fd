//! Offline search at a real desk: `Desk.Search` on a `desk-agent serve`
//! process holding the seed catalogue and cards, asked the labelled query
//! set of the recall test (`desk-agent/tests/search_queries.jsonl`) one at a
//! time, as an operator types. The first search after the cards arrive
//! rebuilds the index and is reported apart; recall is counted through the
//! real API as a cross-check of the in-process recall test.

use super::agent::{connect, linked_agent, wait_for_seed_cards};
use crate::hub_proc::Binaries;
use crate::report::Search;
use crate::stats::Latencies;
use crate::Sizes;
use proto::SearchRequest;
use std::path::Path;
use std::time::Instant;

const QUERIES: &str = include_str!("../../../desk-agent/tests/search_queries.jsonl");

struct Labelled {
    query: String,
    code: String,
    lang: String,
}

fn labelled(line: &str) -> anyhow::Result<Labelled> {
    let v: serde_json::Value = serde_json::from_str(line)?;
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Ok(Labelled {
        query: field("query"),
        code: field("code"),
        lang: field("lang"),
    })
}

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Search> {
    let queries: Vec<Labelled> = QUERIES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(labelled)
        .collect::<anyhow::Result<_>>()?;
    let (mut hub, _agent, listen) = linked_agent(bins, dir, "search").await?;
    let mut client = connect(&listen).await?;
    wait_for_seed_cards(&mut client).await?;
    let ask = |q: &Labelled| SearchRequest {
        query: q.query.clone(),
        language: q.lang.clone(),
        limit: 3,
    };
    let Some(first) = queries.first() else {
        anyhow::bail!("the labelled query set is empty");
    };
    let asked = Instant::now();
    client.search(ask(first)).await?;
    let first_ms = asked.elapsed().as_secs_f64() * 1000.0;

    let bar = crate::progress::bar((sizes.search_rounds * queries.len()) as u64, "searches");
    let (mut micros, mut at1, mut at3) = (Vec::new(), 0usize, 0usize);
    for round in 0..sizes.search_rounds {
        for q in &queries {
            let asked = Instant::now();
            let hits = client
                .search(ask(q))
                .await
                .map_err(|s| anyhow::anyhow!("Search: {}", s.message()))?
                .into_inner()
                .hits;
            micros.push(asked.elapsed().as_micros() as u64);
            bar.inc(1);
            if round == 0 {
                let rank = hits.iter().position(|h| h.code == q.code);
                at1 += usize::from(rank == Some(0));
                at3 += usize::from(rank.is_some());
            }
        }
    }
    bar.finish_and_clear();
    hub.check_alive()?;
    hub.kill();
    let n = queries.len().max(1) as f64;
    let lat = Latencies::new(micros);
    Ok(Search {
        queries: queries.len(),
        rounds: sizes.search_rounds,
        first_ms,
        p50_ms: lat.percentile_ms(50.0),
        p99_ms: lat.percentile_ms(99.0),
        max_ms: lat.max_ms(),
        recall_at_1: at1 as f64 / n,
        recall_at_3: at3 as f64 / n,
    })
}
