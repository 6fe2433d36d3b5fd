//! Handout render time per language, as a desk sees it: the sample card
//! with the operator's additions, each render with a different addition so
//! that typst's memoization cannot hand back the previous PDF whole.
//!
//! ```text
//! cargo run -p handout --example render_bench [-- RENDERS [LANG]]
//! ```
//!
//! The first render of each language is reported on its own: it parses the
//! fonts it needs for the first time in the process (for Chinese, reading
//! the 40 MB CJK collection), which a desk pays once per start; with LANG
//! alone in a fresh process it is that language's cold start.
//!
//! Two figures per language: "warm", renders in a row, where typst's
//! memoization reuses the layout of what did not change (the card) as it
//! does at a desk that prints the same procedure for several visitors; and
//! "no cache", with typst's caches emptied before each render, the worst
//! case (a card not printed for a while).

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
        "{:<5} {:>9} {:>13} {:>13} {:>17} {:>17} {:>5} {:>5}",
        "lang",
        "first ms",
        "warm p50 ms",
        "warm p99 ms",
        "no-cache p50 ms",
        "no-cache p99 ms",
        "KiB",
        "pages"
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
        let warm = timings(&mut handout, renders, false)?;
        let cold = timings(&mut handout, renders, true)?;
        println!(
            "{:<5} {:>9.1} {:>13.1} {:>13.1} {:>17.1} {:>17.1} {:>5} {:>5}",
            lang,
            first_time.as_secs_f64() * 1000.0,
            quantile(&warm, 0.50),
            quantile(&warm, 0.99),
            quantile(&cold, 0.50),
            quantile(&cold, 0.99),
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
    empty_caches: bool,
) -> Result<Vec<Duration>, handout::HandoutError> {
    let mut times: Vec<Duration> = Vec::with_capacity(renders);
    for n in 0..renders {
        handout.additions.push(handout::Addition {
            label: "Visitatore".into(),
            value: format!("numero {n}"),
        });
        if empty_caches {
            typst::comemo::evict(0);
        }
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
