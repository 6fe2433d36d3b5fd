//! Records per second durable end to end: N desks append to their outboxes
//! (intake's durable write) and their sync loops stream to the hub; a record
//! counts once the hub's acknowledgement has reached its desk. Closed loop:
//! each desk keeps at most `OUTSTANDING` records unacknowledged, so the
//! latencies are those of a saturated hub with bounded queues, not of an
//! ever-growing backlog.

use crate::desks::{DeskRoot, RecordMaker, SimDesk};
use crate::hub_proc::{Binaries, CpuWatch, Hub, RssSampler};
use crate::report::Ingest;
use crate::stats::Latencies;
use crate::Sizes;
use anyhow::{bail, Context};
use desk_agent::outbox::Outbox;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Two of the agent's default batches per desk.
const OUTSTANDING: usize = 1_000;
/// How often acknowledgements are looked for; bounds the latency's error.
const POLL: Duration = Duration::from_millis(2);
/// No acknowledgement for this long means the run is stuck, not slow.
const STALL: Duration = Duration::from_secs(60);

/// What a desk's feeder shares with the acknowledgement poller.
struct Tracked {
    outbox: Arc<Outbox>,
    /// Sequence → when its intake began, until the hub acknowledges it.
    pending: Mutex<BTreeMap<u64, Instant>>,
    room: Semaphore,
}

pub(crate) async fn run(
    bins: &Binaries,
    dir: &Path,
    sizes: &Sizes,
    raw_records_per_s: Option<f64>,
) -> anyhow::Result<Ingest> {
    let mut hub = Hub::init(bins, dir)?;
    let bundles = hub.enrol("ingest", sizes.ingest_desks)?;
    hub.start().await?;
    let sampler = RssSampler::start(hub.pid()?);

    let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
    let mut desks = Vec::with_capacity(bundles.len());
    for b in &bundles {
        let mut d = SimDesk::open(&root.path, b)?;
        d.start_sync();
        desks.push(d);
    }
    wait_connected(&desks, &mut hub).await?;

    let total = sizes.ingest_records;
    let n = desks.len() as u64;
    let tracked: Vec<Arc<Tracked>> = desks
        .iter()
        .map(|d| {
            Arc::new(Tracked {
                outbox: Arc::clone(&d.outbox),
                pending: Mutex::new(BTreeMap::new()),
                room: Semaphore::new(OUTSTANDING),
            })
        })
        .collect();

    // The visits are made before the clock starts.
    crate::desks::visit_pool();
    let bar = crate::progress::bar(total, "ingest acknowledged");
    let cpu = CpuWatch::start(hub.pid()?);
    let start = Instant::now();
    let mut feeders = Vec::new();
    for (i, (d, t)) in desks.iter().zip(&tracked).enumerate() {
        let share = total / n + u64::from((i as u64) < total % n);
        feeders.push(tokio::spawn(feed(d.desk_id.clone(), Arc::clone(t), share)));
    }

    let mut micros = Vec::with_capacity(total as usize);
    let mut acked = 0u64;
    let mut last_progress = Instant::now();
    while acked < total {
        tokio::time::sleep(POLL).await;
        let now = Instant::now();
        let mut progressed = false;
        for t in &tracked {
            let up_to = t.outbox.acked_seq()?;
            let done = {
                let mut pending = t.pending.lock().unwrap_or_else(|e| e.into_inner());
                let rest = pending.split_off(&(up_to + 1));
                std::mem::replace(&mut *pending, rest)
            };
            if done.is_empty() {
                continue;
            }
            progressed = true;
            acked += done.len() as u64;
            t.room.add_permits(done.len());
            micros.extend(done.values().map(|t0| (now - *t0).as_micros() as u64));
        }
        bar.set_position(acked);
        if progressed {
            last_progress = now;
        } else if now - last_progress > STALL {
            hub.check_alive()?;
            bail!("ingest stalled: {acked} of {total} records acknowledged, none for {STALL:?}");
        }
        if feeders.iter().any(|f| f.is_finished()) {
            for f in feeders.iter_mut().filter(|f| f.is_finished()) {
                // A feeder that ended early carries the reason.
                if let Ok(Err(e)) = f.await {
                    return Err(e);
                }
            }
            feeders.retain(|f| !f.is_finished());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    cpu.report("ingest");
    hub.check_alive()?;
    let peak_kib = sampler.finish();
    for d in &mut desks {
        d.stop().await;
    }
    hub.kill();

    let lat = Latencies::new(micros);
    let records_per_s = total as f64 / secs;
    Ok(Ingest {
        records_per_s,
        ratio_to_raw: raw_records_per_s.map(|raw| records_per_s / raw),
        p50_ms: lat.percentile_ms(50.0),
        p99_ms: lat.percentile_ms(99.0),
        hub_rss_mib: peak_kib as f64 / 1024.0,
    })
}

/// Appends `share` records, each as its own intake (`Outbox::append`, which
/// answers once the record is durable), never more than `OUTSTANDING`
/// unacknowledged. The intakes of a desk run concurrently as futures of
/// this one task, so that the harness spawns no task per record.
async fn feed(desk_id: String, t: Arc<Tracked>, share: u64) -> anyhow::Result<()> {
    use futures::stream::{FuturesUnordered, StreamExt};
    let mut maker = RecordMaker::new();
    let mut appends = FuturesUnordered::new();
    let mut left = share;
    while left > 0 || !appends.is_empty() {
        tokio::select! {
            permit = t.room.acquire(), if left > 0 => {
                permit.context("the desk's window closed")?.forget();
                left -= 1;
                let record = maker.make(&desk_id)?;
                let t = Arc::clone(&t);
                let began = Instant::now();
                appends.push(async move {
                    let seq = t.outbox.append(&record).await?;
                    t.pending
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(seq, began);
                    anyhow::Ok(())
                });
            }
            Some(done) = appends.next() => done?,
        }
    }
    Ok(())
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
