//! `RecordVisit` latency at a real `desk-agent serve` process linked to a
//! running hub: an open-loop load at a fixed rate (requests are sent on the
//! clock, whether or not earlier ones have answered), so that a slow answer
//! delays no later request and shows up in the figures.

use crate::hub_proc::{free_addr, path_str, Binaries, Hub};
use crate::report::Intake;
use crate::stats::Latencies;
use crate::Sizes;
use anyhow::{bail, Context};
use proto::desk_client::DeskClient;
use proto::RecordVisitRequest;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the agent when the scenario ends, however it ends.
struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Intake> {
    let mut hub = Hub::init(bins, dir)?;
    let bundles = hub.enrol("intake", 1)?;
    let Some(bundle) = bundles.first() else {
        bail!("no desk was enrolled");
    };
    let bundle_path = dir.join("intake.bundle");
    bundle.write(&bundle_path)?;
    hub.start().await?;

    let data = dir.join("agent");
    let out = Command::new(&bins.desk_agent)
        .args([
            "enroll",
            path_str(&bundle_path)?,
            "--data",
            path_str(&data)?,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .context("cannot run desk-agent enroll")?;
    if !out.status.success() {
        bail!(
            "desk-agent enroll failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listen = free_addr()?;
    let log = std::fs::File::create(dir.join("agent.log"))?;
    let _agent = Agent(
        Command::new(&bins.desk_agent)
            .args([
                "serve",
                "--data",
                path_str(&data)?,
                "--listen",
                &listen,
                "--http-addr",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start desk-agent serve")?,
    );
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

async fn connect(listen: &str) -> anyhow::Result<DeskClient<tonic::transport::Channel>> {
    let start = Instant::now();
    loop {
        match DeskClient::connect(format!("http://{listen}")).await {
            Ok(c) => return Ok(c),
            Err(e) if start.elapsed() > Duration::from_secs(30) => {
                bail!("the desk agent did not listen within 30 s: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
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
