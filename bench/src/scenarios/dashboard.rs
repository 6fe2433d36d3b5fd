//! Page views against acknowledgements: every desk ingests without pause
//! while a signed-in coordinator opens the overview, statistics, desks and
//! audit pages at a fixed rate (open loop). The desks' p99 acknowledgement
//! latency is measured with no page views and with them, in the same run.
//! `--records N` fills the store with N records first, so that pages are
//! measured on a hub with a history.

use super::overload::{Loaded, USER};
use crate::hub_proc::Binaries;
use crate::report::DashboardLoad;
use crate::stats::Latencies;
use crate::Sizes;
use anyhow::bail;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PAGES: [&str; 4] = ["/", "/stats", "/desks", "/audit"];

pub(crate) async fn run(
    bins: &Binaries,
    dir: &Path,
    sizes: &Sizes,
) -> anyhow::Result<DashboardLoad> {
    let mut run = Loaded::start(bins, dir, sizes, sizes.dashboard_records).await?;
    let mut web = run.client(IpAddr::V4(Ipv4Addr::LOCALHOST))?;
    let signed_in = web.login(USER, &run.password.clone()).await?;
    if signed_in.status != 303 {
        bail!("the coordinator could not sign in: {}", signed_in.status);
    }
    let phase = sizes.phase;
    let quiet = run.load.window(phase).await?;

    // Per page, so that a slow page is named: its latencies and failures.
    let served = Arc::new(Mutex::new(
        [(); PAGES.len()].map(|()| (Vec::<u64>::new(), 0u64)),
    ));
    let per_s = sizes.page_views_per_s.max(1);
    let views = {
        let served = Arc::clone(&served);
        async move {
            let every = Duration::from_secs_f64(1.0 / f64::from(per_s));
            let mut tick = tokio::time::interval(every);
            let deadline = Instant::now() + phase;
            let mut pending = Vec::new();
            let mut i = 0usize;
            while Instant::now() < deadline {
                tick.tick().await;
                let mut client = web.clone();
                let page = i % PAGES.len();
                let path = PAGES[page];
                i += 1;
                let served = Arc::clone(&served);
                pending.push(tokio::spawn(async move {
                    let t0 = Instant::now();
                    let ok = matches!(client.get(path).await, Ok(r) if r.status == 200);
                    let mut s = served.lock().unwrap_or_else(|e| e.into_inner());
                    if ok {
                        s[page].0.push(t0.elapsed().as_micros() as u64);
                    } else {
                        s[page].1 += 1;
                    }
                }));
            }
            for p in pending {
                let _ = p.await;
            }
        }
    };
    // The pages are asked from a thread and runtime of their own: on the
    // runtime of the hundred simulated desks, a response waited behind
    // their tasks before the client read it, which measured this process's
    // queue rather than the hub (a coordinator's browser is not on the desks'
    // machine).
    let client = tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(views))
    });
    let (busy, done) = run.during(phase, client).await?;
    done??;
    run.finish().await?;
    let served = std::mem::take(&mut *served.lock().unwrap_or_else(|e| e.into_inner()));
    let failed = served.iter().map(|(_, f)| f).sum();
    let per_page = PAGES
        .iter()
        .zip(&served)
        .map(|(path, (m, _))| (*path, Latencies::new(m.clone()).percentile_ms(99.0)))
        .collect();
    let micros: Vec<u64> = served.into_iter().flat_map(|(m, _)| m).collect();
    let pages = Latencies::new(micros.clone());
    Ok(DashboardLoad {
        records: sizes.dashboard_records,
        page_views_per_s: sizes.page_views_per_s,
        quiet_p99_ms: quiet.p(99.0),
        busy_p99_ms: busy.p(99.0),
        quiet_records_per_s: quiet.records_per_s(),
        busy_records_per_s: busy.records_per_s(),
        pages_served: micros.len() as u64,
        pages_failed: failed,
        page_p50_ms: pages.percentile_ms(50.0),
        page_p99_ms: pages.percentile_ms(99.0),
        per_page_p99_ms: per_page,
    })
}
