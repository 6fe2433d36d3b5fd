//! A desk that was offline comes back with its outbox full: records per
//! second from the moment its sync loop starts until the hub has
//! acknowledged everything. The per-desk rate limit
//! (`desk_records_per_sec`, 10,000 by default) is off, so that the figure
//! is what the hub can take from one desk; with the limit a desk catches
//! up at that rate by design.

use crate::desks::{DeskRoot, RecordMaker, SimDesk};
use crate::hub_proc::{Binaries, CpuWatch, Hub};
use crate::report::Catchup;
use crate::Sizes;
use anyhow::bail;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Concurrent intakes while filling: they share the outbox's flushes.
const FILL_CONCURRENCY: usize = 512;
const STALL: Duration = Duration::from_secs(60);

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Catchup> {
    let mut hub = Hub::init(bins, dir)?;
    hub.set_env("RETE_HUB_DESK_RECORDS_PER_SEC", "0".into());
    hub.set_env("RETE_HUB_DESK_BYTES_PER_SEC", "0".into());
    let bundles = hub.enrol("catchup", 1)?;
    let Some(bundle) = bundles.first() else {
        bail!("no desk was enrolled");
    };
    let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
    let mut desk = SimDesk::open(&root.path, bundle)?;
    let total = sizes.catchup_records;
    fill(&desk, total).await?;
    hub.start().await?;

    let bar = crate::progress::bar(total, "catch-up acknowledged");
    let cpu = CpuWatch::start(hub.pid()?);
    let start = Instant::now();
    desk.start_sync();
    let mut acked = 0;
    let mut last_progress = Instant::now();
    while acked < total {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = desk.outbox.acked_seq()?;
        if now > acked {
            acked = now;
            last_progress = Instant::now();
            bar.set_position(acked);
        } else if last_progress.elapsed() > STALL {
            hub.check_alive()?;
            bail!("catch-up stalled at {acked} of {total} records");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    cpu.report("catch-up");
    hub.check_alive()?;
    desk.stop().await;
    hub.kill();
    Ok(Catchup {
        records: total,
        records_per_s: total as f64 / secs,
    })
}

/// Queues `total` records through the agent's own intake write while the
/// desk is offline.
async fn fill(desk: &SimDesk, total: u64) -> anyhow::Result<()> {
    let bar = crate::progress::bar(total, "filling the outbox");
    let room = Arc::new(Semaphore::new(FILL_CONCURRENCY));
    let mut maker = RecordMaker::new();
    let mut appends = tokio::task::JoinSet::new();
    for _ in 0..total {
        let permit = Arc::clone(&room).acquire_owned().await?;
        let record = maker.make(&desk.desk_id)?;
        let outbox = Arc::clone(&desk.outbox);
        let bar = bar.clone();
        appends.spawn(async move {
            outbox.append(&record).await?;
            bar.inc(1);
            drop(permit);
            anyhow::Ok(())
        });
        while let Some(done) = appends.try_join_next() {
            done??;
        }
    }
    while let Some(done) = appends.join_next().await {
        done??;
    }
    bar.finish_and_clear();
    if desk.outbox.pending()? != total {
        bail!(
            "the outbox holds {} records, {total} were queued",
            desk.outbox.pending()?
        );
    }
    Ok(())
}
