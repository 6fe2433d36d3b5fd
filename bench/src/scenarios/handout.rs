//! The printable handout at a real desk: `RenderHandout` on a `desk-agent
//! serve` process holding the seed cards, one request at a time (as an
//! operator prints), Italian beside each language the seed translates
//! `permesso.rinnovo.lavoro` into. Latency per language, from the request
//! to the whole PDF received.

use super::agent::{connect, linked_agent, wait_for_seed_cards};
use crate::hub_proc::Binaries;
use crate::report::{Handout, HandoutLanguage};
use crate::stats::Latencies;
use crate::Sizes;
use proto::RenderHandoutRequest;
use std::path::Path;
use std::time::Instant;

const CODE: &str = "permesso.rinnovo.lavoro";
const LANGUAGES: [&str; 7] = ["it", "ar", "ur", "zh", "ti", "bn", "uk"];

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Handout> {
    let (mut hub, _agent, listen) = linked_agent(bins, dir, "handout").await?;
    let mut client = connect(&listen).await?;
    wait_for_seed_cards(&mut client).await?;
    let additions = [(
        "Appuntamento".to_string(),
        "14 gennaio, ore 9:40".to_string(),
    )];
    let bar = crate::progress::bar(
        (sizes.handouts * LANGUAGES.len()) as u64,
        "handouts rendered",
    );
    let mut languages = Vec::new();
    for language in LANGUAGES {
        let mut micros = Vec::with_capacity(sizes.handouts);
        let mut bytes = 0;
        // One first render outside the figures: it loads fonts (the CJK one
        // from the system) once per process.
        for n in 0..=sizes.handouts {
            let asked = Instant::now();
            let pdf = client
                .render_handout(RenderHandoutRequest {
                    code: CODE.into(),
                    language: language.into(),
                    additions: additions.clone().into(),
                })
                .await
                .map_err(|s| anyhow::anyhow!("RenderHandout {language}: {}", s.message()))?
                .into_inner()
                .pdf;
            if n > 0 {
                micros.push(asked.elapsed().as_micros() as u64);
                bar.inc(1);
            }
            bytes = pdf.len();
        }
        let lat = Latencies::new(micros);
        languages.push(HandoutLanguage {
            language,
            p50_ms: lat.percentile_ms(50.0),
            p99_ms: lat.percentile_ms(99.0),
            pdf_kib: bytes as f64 / 1024.0,
        });
    }
    bar.finish_and_clear();
    hub.check_alive()?;
    hub.kill();
    Ok(Handout {
        renders: sizes.handouts,
        languages,
    })
}
