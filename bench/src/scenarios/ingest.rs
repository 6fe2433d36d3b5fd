//! Records per second durable end to end: N desks append to their outboxes
//! (intake's durable write) and their sync loops stream to the hub; a record
//! counts once the hub's acknowledgement has reached its desk. Closed loop:
//! each desk keeps at most `OUTSTANDING` records unacknowledged, so the
//! latencies are those of a saturated hub with bounded queues, not of an
//! ever-growing backlog.

use super::steady::{Steady, POLL};
use crate::desks::{DeskRoot, SimDesk};
use crate::hub_proc::{Binaries, CpuWatch, Hub, RssSampler};
use crate::report::Ingest;
use crate::stats::Latencies;
use crate::Sizes;
use anyhow::bail;
use std::path::Path;
use std::time::{Duration, Instant};

/// No acknowledgement for this long means the run is stuck, not slow.
const STALL: Duration = Duration::from_secs(60);

pub(crate) async fn run(
    bins: &Binaries,
    dir: &Path,
    sizes: &Sizes,
    raw_records_per_s: Option<f64>,
    pg: Option<&crate::pg::Pg>,
) -> anyhow::Result<Ingest> {
    let mut hub = Hub::init(bins, dir)?;
    // With a second replica on the same store, desks alternate which
    // replica they list first, so each takes half of them.
    let mut replica = match sizes.replicas {
        2 => Some(hub.replica(dir)?),
        _ => None,
    };
    let bundles = match &replica {
        Some(r) => {
            let (a, b) = (hub.federation.clone(), r.federation.clone());
            hub.enrol_to("ingest", sizes.ingest_desks, |i| {
                if i % 2 == 0 {
                    vec![a.clone(), b.clone()]
                } else {
                    vec![b.clone(), a.clone()]
                }
            })?
        }
        None => hub.enrol("ingest", sizes.ingest_desks)?,
    };
    hub.start().await?;
    let sampler = RssSampler::start(hub.pid()?);
    let replica_sampler = match replica.as_mut() {
        Some(r) => {
            r.start().await?;
            Some(RssSampler::start(r.pid()?))
        }
        None => None,
    };
    let pg_peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));

    let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
    let mut desks = start_desks(&root, &bundles, &mut hub).await?;

    let total = sizes.ingest_records;
    // The visits are made before the clock starts.
    crate::desks::visit_pool();
    let bar = crate::progress::bar(total, "ingest acknowledged");
    let cpu = CpuWatch::start(hub.pid()?);
    let start = Instant::now();
    let mut load = Steady::start(&desks, Some(total));

    let mut micros = Vec::with_capacity(total as usize);
    let mut acked = 0u64;
    let mut last_progress = Instant::now();
    while acked < total {
        tokio::time::sleep(POLL).await;
        let (n, lat) = load.poll().await?;
        acked += n;
        micros.extend(lat);
        if let Some(pg) = pg {
            let mib = pg.memory_mib() as u64;
            pg_peak.fetch_max(mib, std::sync::atomic::Ordering::Relaxed);
        }
        bar.set_position(acked);
        let now = Instant::now();
        if n > 0 {
            last_progress = now;
        } else if now - last_progress > STALL {
            hub.check_alive()?;
            bail!("ingest stalled: {acked} of {total} records acknowledged, none for {STALL:?}");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    cpu.report("ingest");
    hub.check_alive()?;
    let peak_kib = sampler.finish();
    let replica_kib = replica_sampler.map(RssSampler::finish);
    load.stop().await;
    for d in &mut desks {
        d.stop().await;
    }
    hub.kill();
    if let Some(r) = replica.as_mut() {
        r.kill();
    }

    let lat = Latencies::new(micros);
    let records_per_s = total as f64 / secs;
    Ok(Ingest {
        records_per_s,
        ratio_to_raw: raw_records_per_s.map(|raw| records_per_s / raw),
        p50_ms: lat.percentile_ms(50.0),
        p99_ms: lat.percentile_ms(99.0),
        hub_rss_mib: peak_kib as f64 / 1024.0,
        replica_rss_mib: replica_kib.map(|k| k as f64 / 1024.0),
        postgres_mib: pg.map(|_| pg_peak.load(std::sync::atomic::Ordering::Relaxed) as f64),
        raw: if pg.is_some() { "raw COPY" } else { "raw sled" },
    })
}

/// Opens one simulated desk per bundle, starts its sync loop and waits
/// until every desk is connected.
pub(crate) async fn start_desks(
    root: &DeskRoot,
    bundles: &[runtime::bundle::Bundle],
    hub: &mut Hub,
) -> anyhow::Result<Vec<SimDesk>> {
    let mut desks = Vec::with_capacity(bundles.len());
    for b in bundles {
        let mut d = SimDesk::open(&root.path, b)?;
        d.start_sync();
        desks.push(d);
    }
    wait_connected(&desks, hub).await?;
    Ok(desks)
}

pub(crate) async fn wait_connected(desks: &[SimDesk], hub: &mut Hub) -> anyhow::Result<()> {
    let start = Instant::now();
    while !desks.iter().all(SimDesk::connected) {
        if start.elapsed() > Duration::from_secs(60) {
            hub.check_alive()?;
            let missing = desks.iter().filter(|d| !d.connected()).count();
            bail!("{missing} desks did not connect to the hub within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
