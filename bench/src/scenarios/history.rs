//! What a long history costs a hub: N records through the real ingest
//! path, then the hub's resident memory while the desks go on ingesting, a
//! stats query's latency meanwhile, the time from a clean restart to
//! serving, and the time from a SIGKILL to serving again. "Serving" is a
//! desk connecting afresh and having a new record acknowledged, so it
//! includes everything the hub does at open.

use super::ingest::start_desks;
use super::steady::{Steady, POLL};
use crate::desks::{DeskRoot, RecordMaker, SimDesk};
use crate::hub_proc::{Binaries, Hub, RssSampler};
use crate::report::History;
use crate::stats::Latencies;
use crate::Sizes;
use anyhow::{bail, Context};
use std::path::Path;
use std::time::{Duration, Instant};

/// No acknowledgement for this long means the run is stuck, not slow.
const STALL: Duration = Duration::from_secs(60);
/// Stats queries during the measured ingest, one after another, at least:
/// they go on for the whole window, so that the 99th percentile rests on
/// a few hundred of them rather than on the slowest of fifty.
const QUERIES: usize = 50;

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<History> {
    let mut hub = Hub::init(bins, dir)?;
    let bundles = hub.enrol("history", sizes.ingest_desks)?;
    hub.start().await?;
    let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
    let mut desks = start_desks(&root, &bundles, &mut hub).await?;
    crate::desks::visit_pool();
    fill(&mut hub, &desks, sizes.history_records).await?;
    for d in &mut desks {
        d.stop().await;
    }

    hub.terminate().context("the hub did not stop cleanly")?;
    let restart_s = serving(&mut hub, &mut desks[0]).await?;

    for d in &mut desks[1..] {
        d.start_sync();
    }
    super::ingest::wait_connected(&desks, &mut hub).await?;
    let sampler = RssSampler::start(hub.pid()?);
    let mut load = Steady::start(&desks, None);
    // Asked apart from the desks' runtime, as a coordinator's tool would.
    let (window, stats) = tokio::join!(
        load.window(sizes.phase),
        super::apart::apart(query_stats(hub.data.clone(), sizes.phase))
    );
    window?;
    let (stats, _) = stats??;
    let stats = stats?;
    let peak_kib = sampler.finish();
    hub.check_alive()?;
    load.stop().await;
    for d in &mut desks {
        d.stop().await;
    }

    hub.kill();
    let recovery_s = serving(&mut hub, &mut desks[0]).await?;
    desks[0].stop().await;
    hub.kill();
    Ok(History {
        records: sizes.history_records,
        hub_rss_mib: peak_kib as f64 / 1024.0,
        restart_s,
        recovery_s,
        stats_p50_ms: stats.percentile_ms(50.0),
        stats_p99_ms: stats.percentile_ms(99.0),
    })
}

/// `total` records through the desks, closed loop as in `ingest`.
pub(crate) async fn fill(hub: &mut Hub, desks: &[SimDesk], total: u64) -> anyhow::Result<()> {
    let bar = crate::progress::bar(total, "history filled");
    let mut load = Steady::start(desks, Some(total));
    let (mut acked, mut last_progress) = (0u64, Instant::now());
    while acked < total {
        tokio::time::sleep(POLL).await;
        let (n, _) = load.poll().await?;
        acked += n;
        bar.set_position(acked);
        if n > 0 {
            last_progress = Instant::now();
        } else if last_progress.elapsed() > STALL {
            hub.check_alive()?;
            bail!("the fill stalled: {acked} of {total} records acknowledged");
        }
    }
    bar.finish_and_clear();
    load.stop().await;
    Ok(())
}

/// Starts the stopped hub and times it to serving: `desk` connects afresh
/// and one new record of its own is acknowledged.
async fn serving(hub: &mut Hub, desk: &mut SimDesk) -> anyhow::Result<f64> {
    let start = Instant::now();
    hub.start().await?;
    desk.start_sync();
    let record = RecordMaker::new().make(&desk.desk_id)?;
    let seq = desk.outbox.append(&record).await?;
    while desk.outbox.acked_seq()? < seq {
        if start.elapsed() > STALL {
            hub.check_alive()?;
            bail!("the hub was not serving {STALL:?} after its start");
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// A two-dimension stats query through the coordinator API, as `hub stats`
/// sends it, for `window` and at least `QUERIES` times.
async fn query_stats(data: std::path::PathBuf, window: Duration) -> anyhow::Result<Latencies> {
    let config = hub::config::HubConfig::load(&data, Vec::new())?;
    let dir = hub::config::DataDir(data);
    let mut client = hub::client::connect(&dir, &config)
        .await?
        .context("the hub's coordinator port did not answer")?;
    let mut micros = Vec::with_capacity(QUERIES);
    let began = Instant::now();
    while micros.len() < QUERIES || began.elapsed() < window {
        let t0 = Instant::now();
        client
            .query_stats(proto::QueryStatsRequest {
                by: vec!["nationality".into(), "outcome".into()],
                ..Default::default()
            })
            .await
            .map_err(|s| anyhow::anyhow!("stats query refused: {}", s.message()))?;
        micros.push(t0.elapsed().as_micros() as u64);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(Latencies::new(micros))
}
