//! Page views against acknowledgements: every desk ingests without pause
//! while a signed-in coordinator opens the overview, statistics, desks and
//! audit pages at a fixed rate (open loop). The desks' rate and p99
//! acknowledgement latency are measured in windows without page views and
//! windows with them, alternating, in the same run.
//! `--records N` fills the store with N records first, so that pages are
//! measured on a hub with a history.

use super::overload::{Loaded, USER};
use super::steady::Window;
use crate::hub_proc::{cpu_seconds, Binaries};
use crate::report::DashboardLoad;
use crate::stats::Latencies;
use crate::Sizes;
use anyhow::bail;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The hub's and this process's CPU seconds, and the machine's idle seconds.
fn cpu_now(hub_pid: &str) -> [Option<f64>; 3] {
    [cpu_seconds(hub_pid), cpu_seconds("self"), idle_seconds()]
}

/// Idle and I/O-wait time of every CPU since boot, from /proc/stat.
fn idle_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<f64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // USER_HZ is 100, as in `cpu_seconds`.
    Some((fields.get(3)? + fields.get(4)?) / 100.0)
}

const PAGES: [&str; 4] = ["/", "/stats", "/desks", "/audit"];

/// Pairs of windows, one without page views and one with them.
const ROUNDS: u32 = 4;

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

    // Per page, so that a slow page is named: its latencies and failures.
    let served = Arc::new(Mutex::new(
        [(); PAGES.len()].map(|()| (Vec::<u64>::new(), 0u64)),
    ));
    let per_s = sizes.page_views_per_s.max(1);
    let pages_on = Arc::new(AtomicBool::new(false));
    let over = Arc::new(AtomicBool::new(false));
    let views = {
        let (served, pages_on, over) = (
            Arc::clone(&served),
            Arc::clone(&pages_on),
            Arc::clone(&over),
        );
        async move {
            let every = Duration::from_secs_f64(1.0 / f64::from(per_s));
            let mut tick = tokio::time::interval(every);
            let mut pending = Vec::new();
            let mut i = 0usize;
            while !over.load(Ordering::Relaxed) {
                tick.tick().await;
                if !pages_on.load(Ordering::Relaxed) {
                    continue;
                }
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
    // Asked apart from the desks' runtime, as a browser on another machine.
    let client = super::apart::apart(views);

    // Ingest slows as the store grows over the run, so one window without
    // pages and then one with them would count that slowing against the
    // pages. The windows alternate instead, in pairs whose order flips
    // (without–with, with–without, …), so that a steady drift falls on both
    // sides alike; each side gets `phase` in all. A view still answering
    // when its window ends finishes in the next one, a few milliseconds of
    // 2.5 s, which the figures do not separate.
    let length = phase / ROUNDS;
    let hub_pid = run.hub.pid()?.to_string();
    let (mut quiet, mut busy) = (Window::default(), Window::default());
    // CPU seconds without and with page views: the hub's, this process's
    // (the desks and the page client), and the machine's idle time.
    let mut cpu = [[Some(0.0); 3]; 2];
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for with_pages in order {
            pages_on.store(with_pages, Ordering::Relaxed);
            let before = cpu_now(&hub_pid);
            let w = run.load.window(length).await?;
            for ((sum, a), b) in cpu[usize::from(with_pages)]
                .iter_mut()
                .zip(before)
                .zip(cpu_now(&hub_pid))
            {
                *sum = sum.zip(a.zip(b)).map(|(sum, (a, b))| sum + b - a);
            }
            if with_pages {
                busy.absorb(w)
            } else {
                quiet.absorb(w)
            }
        }
    }
    pages_on.store(false, Ordering::Relaxed);
    over.store(true, Ordering::Relaxed);
    let ((), client_cpu) = client.await??;
    let secs = |s: Option<f64>| s.map_or("n/a".to_string(), |s| format!("{s:.2}"));
    let pair = |i: usize| format!("{} / {} s", secs(cpu[0][i]), secs(cpu[1][i]));
    eprintln!(
        "bench: dashboard, {:.1} s without / with page views: hub CPU {}, bench process CPU {}, \
         machine idle {}; the page client's CPU {} s",
        phase.as_secs_f64(),
        pair(0),
        pair(1),
        pair(2),
        secs(client_cpu)
    );
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
