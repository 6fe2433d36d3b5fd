//! Guidance fan-out: the coordinator publishes an item on the running hub
//! and every connected desk applies it (stored durably in its local copy,
//! the point where the agent may answer `Applied`). The figure per desk is
//! the time from the publish call to that desk's apply.

use crate::desks::{DeskRoot, SimDesk};
use crate::hub_proc::{Binaries, CpuWatch, Hub};
use crate::report::Fanout;
use crate::stats::Latencies;
use crate::Sizes;
use anyhow::{bail, Context};
use hub::config::{DataDir, HubConfig};
use proto::{GuidanceItem, PublishGuidanceRequest, Severity};
use std::path::Path;
use std::time::{Duration, Instant};

/// Publishes per run: each gives one sample per desk.
const ROUNDS: usize = 20;
const APPLY_LIMIT: Duration = Duration::from_secs(120);

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Fanout> {
    let mut hub = Hub::init(bins, dir)?;
    let bundles = hub.enrol("fanout", sizes.fanout_desks)?;
    hub.start().await?;
    let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
    let bar = crate::progress::bar(bundles.len() as u64, "fan-out desks opened");
    let mut desks = Vec::with_capacity(bundles.len());
    for b in &bundles {
        let mut d = SimDesk::open(&root.path, b)?;
        d.start_sync();
        desks.push(d);
        bar.inc(1);
    }
    bar.finish_and_clear();
    crate::scenarios::ingest::wait_connected(&desks, &mut hub).await?;

    let config = HubConfig::load(&hub.data, std::iter::empty())?;
    let mut coordinator = hub::client::connect(&DataDir(hub.data.clone()), &config)
        .await?
        .context("the hub's coordinator port does not answer")?;

    let mut micros = Vec::with_capacity(ROUNDS * desks.len());
    let bar = crate::progress::bar((ROUNDS * desks.len()) as u64, "guidance applied");
    let cpu = CpuWatch::start(hub.pid()?);
    for round in 0..ROUNDS {
        let mut waiters = tokio::task::JoinSet::new();
        let t0 = Instant::now();
        for d in &desks {
            let mut rx = d.local.watch_guidance();
            let before = *rx.borrow();
            let bar = bar.clone();
            waiters.spawn(async move {
                let applied = tokio::time::timeout(APPLY_LIMIT, rx.wait_for(|v| *v > before))
                    .await
                    .is_ok_and(|r| r.is_ok());
                bar.inc(1);
                applied.then(|| t0.elapsed().as_micros() as u64)
            });
        }
        coordinator
            .publish_guidance(PublishGuidanceRequest {
                item: Some(item(round)),
            })
            .await
            .map_err(|s| anyhow::anyhow!("publish failed: {:?} {}", s.code(), s.message()))?;
        let mut missing = 0;
        while let Some(done) = waiters.join_next().await {
            match done? {
                Some(us) => micros.push(us),
                None => missing += 1,
            }
        }
        if missing > 0 {
            hub.check_alive()?;
            bail!("{missing} desks did not apply guidance round {round} within {APPLY_LIMIT:?}");
        }
    }
    bar.finish_and_clear();
    cpu.report("fan-out");
    hub.check_alive()?;
    hub.kill();
    for d in &mut desks {
        d.stop().await;
    }
    let lat = Latencies::new(micros);
    Ok(Fanout {
        desks: desks.len(),
        p50_ms: lat.percentile_ms(50.0),
        p99_ms: lat.percentile_ms(99.0),
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
