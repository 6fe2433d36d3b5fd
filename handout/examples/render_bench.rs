//! Handout render time per language, as a desk sees it: the sample card
//! with the operator's additions, each render with a different addition so
//! that typst's memoization cannot hand back the previous PDF whole.
//!
//! ```text
//! cargo run -p handout --example render_bench [-- RENDERS]
//! ```
//!
//! The first render of each language is reported on its own: it parses the
//! fonts it needs for the first time in the process (for Chinese, reading
//! the 40 MB CJK collection), which a desk pays once per start.

#[path = "../tests/samples/mod.rs"]
mod samples;

use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let renders: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 50,
    };
    println!("renders per language: {renders} (after a first one, shown apart)");
    println!(
        "{:<5} {:>10} {:>9} {:>9} {:>9} {:>7} {:>6}",
        "lang", "first ms", "p50 ms", "p99 ms", "max ms", "KiB", "pages"
    );
    for lang in ["it", "ar", "ur", "zh", "ti", "bn", "uk"] {
        let mut handout = samples::handout(lang);
        let started = Instant::now();
        let first = handout::render_report(&handout)?;
        let first_time = started.elapsed();
        let mut times: Vec<Duration> = Vec::with_capacity(renders);
        for n in 0..renders {
            handout.additions.push(handout::Addition {
                label: "Visitatore".into(),
                value: format!("numero {n}"),
            });
            let started = Instant::now();
            let pdf = handout::render(&handout)?;
            times.push(started.elapsed());
            std::hint::black_box(pdf);
            handout.additions.pop();
        }
        times.sort();
        let at = |q: f64| -> f64 {
            let i = ((times.len() as f64 - 1.0) * q).round() as usize;
            times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{:<5} {:>10.1} {:>9.1} {:>9.1} {:>9.1} {:>7} {:>6}",
            lang,
            first_time.as_secs_f64() * 1000.0,
            at(0.50),
            at(0.99),
            at(1.0),
            first.pdf.len() / 1024,
            first.pages,
        );
    }
    Ok(())
}
