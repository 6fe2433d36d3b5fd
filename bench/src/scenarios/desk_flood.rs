//! One desk taking in ten times the records its rate limit allows while the
//! others keep a steady pace: the others' acknowledgement latency and rate
//! with the flood and without it, in the same run, and what the flooding
//! desk got through. The flood is a real desk's: every record is durable in
//! its outbox and its sync follows the hub's window, so the hub holds its
//! acks back and the backlog stays at the desk. The same flood against a
//! hub with the limit off shows what the limit spares the others.

use super::ingest::start_desks;
use super::steady::{Steady, Window, OUTSTANDING};
use crate::desks::DeskRoot;
use crate::hub_proc::{Binaries, Hub};
use crate::report::DeskFlood;
use crate::Sizes;
use anyhow::bail;
use std::path::Path;
use std::time::Duration;

/// The per-desk limit set for this run, records a second.
pub(crate) const LIMIT: u64 = 500;
const FLOOD: f64 = 10.0 * LIMIT as f64;
/// What the other desks take in together, shared out: each well under the
/// limit, and the whole within what two cores carry beside the flood.
const OTHERS: f64 = 1_000.0;

/// What one hub saw: the others without and with the flood, and the flood.
struct Run {
    quiet: Window,
    busy: Window,
    offered_per_s: f64,
    flood: Window,
}

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<DeskFlood> {
    if sizes.ingest_desks < 2 {
        bail!("the desk flood needs at least 2 desks");
    }
    let limited = flood(bins, &dir.join("limited"), sizes, LIMIT).await?;
    let open = flood(bins, &dir.join("unlimited"), sizes, 0).await?;
    Ok(DeskFlood {
        desks: sizes.ingest_desks,
        limit_per_s: LIMIT,
        flood_offered_per_s: limited.offered_per_s,
        flood_acked_per_s: limited.flood.records_per_s(),
        quiet_records_per_s: limited.quiet.records_per_s(),
        busy_records_per_s: limited.busy.records_per_s(),
        quiet_p50_ms: limited.quiet.p(50.0),
        busy_p50_ms: limited.busy.p(50.0),
        quiet_p99_ms: limited.quiet.p(99.0),
        busy_p99_ms: limited.busy.p(99.0),
        unlimited_acked_per_s: open.flood.records_per_s(),
        unlimited_busy_p99_ms: open.busy.p(99.0),
    })
}

/// One hub with `limit` records a second per desk (0: none).
async fn flood(bins: &Binaries, dir: &Path, sizes: &Sizes, limit: u64) -> anyhow::Result<Run> {
    std::fs::create_dir_all(dir)?;
    let mut hub = Hub::init(bins, dir)?;
    hub.set_env("RETE_HUB_DESK_RECORDS_PER_SEC", limit.to_string());
    let bundles = hub.enrol("flood", sizes.ingest_desks)?;
    hub.start().await?;
    let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
    let mut desks = start_desks(&root, &bundles, &mut hub).await?;
    crate::desks::visit_pool();
    let (flooder, others) = desks.split_at(1);
    let mut steady = Steady::paced(others, OTHERS / others.len() as f64, OUTSTANDING);
    // The first second fills the pipeline.
    steady.window(Duration::from_secs(1)).await?;
    let quiet = steady.window(sizes.phase).await?;

    // No bound on what is unacknowledged: the flooding desk's intake does
    // not wait for the hub, as a desk's operators would not.
    let mut flooding = Steady::paced(flooder, FLOOD, usize::MAX);
    let (busy, flood) = tokio::join!(steady.window(sizes.phase), flooding.window(sizes.phase));
    let (busy, flood) = (busy?, flood?);
    let offered_per_s = flooding.appended() as f64 / flood.secs.max(1e-9);
    hub.check_alive()?;
    flooding.stop().await;
    steady.stop().await;
    for d in &mut desks {
        d.stop().await;
    }
    hub.kill();
    Ok(Run {
        quiet,
        busy,
        offered_per_s,
        flood,
    })
}
