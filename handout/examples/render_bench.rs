//! Handout render time per language, as a desk sees it: the sample card
//! with the operator's additions, each render with a different addition.
//! Every render starts from empty typst caches (`render` empties them when
//! it ends, so that no visitor's detail stays in them), so this is also the
//! time of a card printed for the first time.
//!
//! ```text
//! cargo run -p handout --example render_bench [-- RENDERS [LANG]]
//! ```
//!
//! The first render of each language is reported on its own: it parses the
//! fonts it needs for the first time in the process (for Chinese, reading
//! the 40 MB CJK collection), which a desk pays once per start; with LANG
//! alone in a fresh process it is that language's cold start.

#[path = "../tests/samples/mod.rs"]
mod samples;

use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let renders: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 50,
    };
    let only = std::env::args().nth(2);
    println!("renders per language: {renders} (after a first one, shown apart)");
    println!(
        "{:<5} {:>9} {:>7} {:>7} {:>7} {:>5} {:>5}",
        "lang", "first ms", "p50 ms", "p99 ms", "max ms", "KiB", "pages"
    );
    let langs = ["it", "ar", "ur", "zh", "ti", "bn", "uk"];
    for lang in langs
        .into_iter()
        .filter(|l| only.as_deref().is_none_or(|o| o == *l))
    {
        let mut handout = samples::handout(lang);
        let started = Instant::now();
        let first = handout::render_report(&handout)?;
        let first_time = started.elapsed();
        let times = timings(&mut handout, renders)?;
        println!(
            "{:<5} {:>9.1} {:>7.1} {:>7.1} {:>7.1} {:>5} {:>5}",
            lang,
            first_time.as_secs_f64() * 1000.0,
            quantile(&times, 0.50),
            quantile(&times, 0.99),
            quantile(&times, 1.0),
            first.pdf.len() / 1024,
            first.pages,
        );
    }
    Ok(())
}

/// Sorted render times of `renders` renders, each with its own addition.
fn timings(
    handout: &mut handout::Handout,
    renders: usize,
) -> Result<Vec<Duration>, handout::HandoutError> {
    let mut times: Vec<Duration> = Vec::with_capacity(renders);
    for n in 0..renders {
        handout.additions.push(handout::Addition {
            label: "Visitatore".into(),
            value: format!("numero {n}"),
        });
        let started = Instant::now();
        let pdf = handout::render(handout)?;
        times.push(started.elapsed());
        std::hint::black_box(pdf);
        handout.additions.pop();
    }
    times.sort();
    Ok(times)
}

/// Nearest-rank quantile, in milliseconds.
fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
