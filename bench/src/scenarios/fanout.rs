//! Guidance fan-out: the coordinator publishes an item on the running hub
//! and every connected desk applies it (stored durably in its local copy,
//! the point where the agent may answer `Applied`). The figure per desk is
//! the time from the publish call to that desk's apply.

use crate::desks::{DeskRoot, SimDesk};
use crate::hub_proc::{Binaries, CpuWatch, Hub};
use crate::report::Fanout;
use crate::shard::{self, Shard};
use crate::stats::Latencies;
use crate::Sizes;
use anyhow::{bail, Context};
use hub::config::{DataDir, HubConfig};
use proto::{GuidanceItem, PublishGuidanceRequest, Severity};
use std::path::Path;

/// Publishes per run: each gives one sample per desk.
const ROUNDS: usize = 20;

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Fanout> {
    let mut hub = Hub::init(bins, dir)?;
    let bundles = hub.enrol("fanout", sizes.fanout_desks)?;
    hub.start().await?;
    let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
    // More desks than one process can keep files open for go, in equal
    // parts, to shards: this process keeps the first part.
    let per_process = sizes
        .fanout_desks_per_process
        .unwrap_or_else(shard::desks_per_process);
    let processes = bundles.len().div_ceil(per_process.max(1));
    let part = bundles.len().div_ceil(processes.max(1)).max(1);
    let mut parts = bundles.chunks(part);
    let own = parts.next().unwrap_or_default();
    if processes > 1 {
        eprintln!("bench: fan-out desks in {processes} processes of up to {part}");
    }
    let bar = crate::progress::bar(own.len() as u64, "fan-out desks opened");
    let mut desks = Vec::with_capacity(own.len());
    for b in own {
        let mut d = SimDesk::open(&root.path, b)?;
        d.start_sync();
        desks.push(d);
        bar.inc(1);
    }
    bar.finish_and_clear();
    crate::scenarios::ingest::wait_connected(&desks, &mut hub).await?;
    // One shard at a time: the hub lets 256 handshakes run at once, and
    // with 40 shards starting together, desks refused beyond that backed
    // off past the minute the bench waits for them to connect.
    let mut shards = Vec::new();
    for (i, p) in parts.enumerate() {
        let mut s = Shard::spawn(dir, i, &root.path, p)?;
        s.ready().await?;
        shards.push(s);
    }

    let config = HubConfig::load(&hub.data, std::iter::empty())?;
    let mut coordinator = hub::client::connect(&DataDir(hub.data.clone()), &config)
        .await?
        .context("the hub's coordinator port does not answer")?;

    let mut micros = Vec::with_capacity(ROUNDS * bundles.len());
    let bar = crate::progress::bar((ROUNDS * bundles.len()) as u64, "guidance applied");
    let cpu = CpuWatch::start(hub.pid()?);
    let shards_before = Shard::cpu_of(&shards);
    for round in 0..ROUNDS {
        let tick = bar.clone();
        let waiters = shard::arm(&desks, move || tick.inc(1));
        for s in &mut shards {
            s.arm().await?;
        }
        let t0 = shard::now_micros();
        coordinator
            .publish_guidance(PublishGuidanceRequest {
                item: Some(item(round)),
            })
            .await
            .map_err(|s| anyhow::anyhow!("publish failed: {:?} {}", s.code(), s.message()))?;
        let mut applied = shard::collect(waiters).await?;
        for s in &mut shards {
            let theirs = s.applied().await?;
            bar.inc(theirs.len() as u64);
            applied.extend(theirs);
        }
        let missing = applied.iter().filter(|t| t.is_none()).count();
        if missing > 0 {
            hub.check_alive()?;
            bail!(
                "{missing} desks did not apply guidance round {round} within {:?}",
                shard::APPLY_LIMIT
            );
        }
        micros.extend(applied.into_iter().flatten().map(|t| t.saturating_sub(t0)));
    }
    bar.finish_and_clear();
    let hub_cpu_s = cpu.report("fan-out");
    if !shards.is_empty() {
        eprintln!(
            "bench: fan-out: the desk shards' CPU {:.1} s",
            Shard::cpu_of(&shards) - shards_before
        );
    }
    hub.check_alive()?;
    hub.kill();
    for d in &mut desks {
        d.stop().await;
    }
    for s in shards {
        s.finish().await;
    }
    let lat = Latencies::new(micros);
    Ok(Fanout {
        desks: bundles.len(),
        p50_ms: lat.percentile_ms(50.0),
        p99_ms: lat.percentile_ms(99.0),
        hub_cpu_us_per_apply: hub_cpu_s.map(|s| s * 1e6 / (ROUNDS * bundles.len().max(1)) as f64),
    })
}

fn item(round: usize) -> GuidanceItem {
    GuidanceItem {
        id: format!("bench-notice-{round}"),
        title: "Sportello chiuso venerdì pomeriggio".into(),
        body: "Il servizio riprende lunedì alle 9:00. Per urgenze rivolgersi alla sede centrale."
            .into(),
        procedures: Vec::new(),
        severity: Severity::Info as i32,
        effective_from: String::new(),
        expires_at: String::new(),
        version: 0,
        retired: false,
        legal_basis: Vec::new(),
    }
}
