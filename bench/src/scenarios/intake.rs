//! `RecordVisit` latency at a real `desk-agent serve` process linked to a
//! running hub: an open-loop load at a fixed rate (requests are sent on the
//! clock, whether or not earlier ones have answered), so that a slow answer
//! delays no later request and shows up in the figures.

use super::agent::{connect, linked_agent};
use crate::hub_proc::Binaries;
use crate::report::Intake;
use crate::stats::Latencies;
use crate::Sizes;
use proto::desk_client::DeskClient;
use proto::RecordVisitRequest;
use std::path::Path;
use std::time::{Duration, Instant};

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Intake> {
    let (mut hub, _agent, listen) = linked_agent(bins, dir, "intake").await?;
    let client = connect(&listen).await?;

    // A few answers first, so that connection set-up is not in the figures.
    let mut rng = rand::rng();
    for _ in 0..10 {
        record(client.clone(), synthetic::visit(&mut rng)).await?;
    }

    let total = u64::from(sizes.intake_rate) * sizes.intake_secs;
    let bar = crate::progress::bar(total, "RecordVisit answered");
    let mut tick =
        tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(sizes.intake_rate)));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..total {
        tick.tick().await;
        let (client, visit, bar) = (client.clone(), synthetic::visit(&mut rng), bar.clone());
        calls.spawn(async move {
            let r = record(client, visit).await;
            bar.inc(1);
            r
        });
    }
    let mut micros = Vec::with_capacity(total as usize);
    while let Some(done) = calls.join_next().await {
        micros.push(done??);
    }
    bar.finish_and_clear();
    hub.check_alive()?;
    hub.kill();
    let lat = Latencies::new(micros);
    Ok(Intake {
        p50_ms: lat.percentile_ms(50.0),
        p99_ms: lat.percentile_ms(99.0),
        max_ms: lat.max_ms(),
    })
}

/// One RecordVisit; its latency in microseconds.
async fn record(
    mut client: DeskClient<tonic::transport::Channel>,
    visit: proto::Visit,
) -> anyhow::Result<u64> {
    let began = Instant::now();
    client
        .record_visit(RecordVisitRequest {
            visit: Some(visit),
            ..Default::default()
        })
        .await
        .map_err(|s| anyhow::anyhow!("RecordVisit failed: {:?} {}", s.code(), s.message()))?;
    Ok(began.elapsed().as_micros() as u64)
}
