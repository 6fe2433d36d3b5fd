//! Latency and rebuild time of the desk's search over the full seed content
//! (34 procedures, every seed card in every language), with the labelled
//! queries of `tests/search_queries.jsonl`:
//!
//!     cargo run --release -p desk-agent --example search_bench

#[path = "../tests/support/seed_content.rs"]
mod support;

use desk_agent::search::{documents, Index};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let content = support::seed_content();
    let glossary = domain::Glossary::compiled();
    let mut rebuilds = Vec::new();
    let mut index = Index::build(documents(&content), &glossary);
    for _ in 0..30 {
        let started = Instant::now();
        index = Index::build(documents(&content), &glossary);
        rebuilds.push(started.elapsed());
    }
    rebuilds.sort();
    let queries = support::labelled_queries();
    let mut latencies = Vec::new();
    for _ in 0..20 {
        for q in &queries {
            let started = Instant::now();
            let out = index.search(&q.query, &q.lang, 10);
            latencies.push(started.elapsed());
            std::hint::black_box(out);
        }
    }
    latencies.sort();
    println!(
        "content: {} procedures, {} cards, {} documents, {} terms",
        content.procedures.len(),
        content.cards.len(),
        index.documents(),
        index.terms()
    );
    println!("index size: {:.1} KiB", index.size_bytes() as f64 / 1024.0);
    println!(
        "rebuild: p50 {:.2} ms, max {:.2} ms ({} rebuilds)",
        ms(percentile(&rebuilds, 0.5)),
        ms(*rebuilds.last().unwrap_or(&Duration::ZERO)),
        rebuilds.len()
    );
    println!(
        "query latency: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} searches)",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
        latencies.len()
    );
}
