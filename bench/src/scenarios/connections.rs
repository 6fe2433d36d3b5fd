//! What idle desks cost the hub: N desks, each with its own mutual-TLS
//! connection and Sync stream, and the hub's resident memory before and
//! after they connect.

use crate::desks::IdleDesk;
use crate::hub_proc::{memory, Binaries, Hub};
use crate::report::Connections;
use crate::Sizes;
use futures::stream::{self, StreamExt};
use std::path::Path;
use std::time::Duration;

/// Handshakes in flight at once; more only queue in the hub's accept loop
/// and trip its 10 s handshake timeout on two cores.
const CONNECT_CONCURRENCY: usize = 32;
const SETTLE: Duration = Duration::from_secs(2);

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Connections> {
    let mut hub = Hub::init(bins, dir)?;
    let bundles = hub.enrol("conn", sizes.connections)?;
    hub.start().await?;
    tokio::time::sleep(SETTLE).await;
    let pid = hub.pid()?;
    let baseline = memory(pid)?.rss_kib;

    let bar = crate::progress::bar(bundles.len() as u64, "desks connected");
    let results: Vec<anyhow::Result<IdleDesk>> = stream::iter(&bundles)
        .map(|b| {
            let bar = bar.clone();
            async move {
                let d = IdleDesk::connect(b).await;
                bar.inc(1);
                d
            }
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut connected = Vec::with_capacity(results.len());
    for r in results {
        connected.push(r?);
    }
    tokio::time::sleep(SETTLE).await;
    hub.check_alive()?;
    let rss = memory(pid)?.rss_kib;
    // The hub goes first: desks leaving one by one would each cost it a
    // "last seen" flush that the figures do not need.
    hub.kill();
    drop(connected);
    let desks = bundles.len();
    Ok(Connections {
        desks,
        hub_rss_mib: rss as f64 / 1024.0,
        kib_per_desk: rss.saturating_sub(baseline) as f64 / desks.max(1) as f64,
    })
}
