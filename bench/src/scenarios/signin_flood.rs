//! Wrong passwords from many addresses at once while every desk ingests:
//! how much of its rate ingest keeps during the flood, how soon it is back,
//! how the hub answered the attempts (checked, throttled per address, or
//! refused before any hashing because every check was busy), what the flood
//! cost in memory, and whether the rightful coordinator still signs in.

use super::overload::{Loaded, USER};
use crate::hub_proc::{memory, Binaries, RssSampler};
use crate::report::SigninFlood;
use crate::Sizes;
use anyhow::bail;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Recovered: a quarter-second window at this share of the rate before.
const RECOVERED: f64 = 0.9;
const RECOVERY_WINDOW: Duration = Duration::from_millis(250);
const RECOVERY_LIMIT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Answers {
    attempts: AtomicU64,
    checked: AtomicU64,
    throttled: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
    errors: AtomicU64,
}

/// Client `i`'s own loopback address (Linux routes all of 127/8 to `lo`).
fn source(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8))
}

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<SigninFlood> {
    let mut run = Loaded::start(bins, dir, sizes, 0).await?;
    let phase = sizes.phase;
    let before = run.load.window(phase).await?;
    let pid = run.hub.pid()?;
    let rss_before = memory(pid)?.rss_kib;
    let sampler = RssSampler::start(pid);

    let answers = Arc::new(Answers::default());
    let deadline = Instant::now() + phase;
    let mut clients = Vec::with_capacity(sizes.flood_clients);
    for i in 0..sizes.flood_clients {
        let mut web = run.client(source(i))?;
        let answers = Arc::clone(&answers);
        clients.push(async move {
            while Instant::now() < deadline {
                answers.attempts.fetch_add(1, Ordering::Relaxed);
                let counter = match web.login(USER, "not-the-password").await {
                    Ok(r) => match r.status {
                        401 => &answers.checked,
                        429 => &answers.throttled,
                        503 => &answers.busy,
                        _ => &answers.other,
                    },
                    Err(_) => &answers.errors,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let flood = futures::future::join_all(clients);
    let (during, _) = run.during(phase, flood).await?;
    let flood_ended = Instant::now();
    let peak_kib = sampler.finish();

    let mut recovery_s = None;
    while flood_ended.elapsed() < RECOVERY_LIMIT {
        let w = run.load.window(RECOVERY_WINDOW).await?;
        if w.records_per_s() >= RECOVERED * before.records_per_s() {
            recovery_s = Some(flood_ended.elapsed().as_secs_f64());
            break;
        }
    }

    // From an address with no failures: the flood must not lock them out.
    let mut rightful = run.client(IpAddr::V4(Ipv4Addr::new(127, 2, 0, 1)))?;
    let signed_in = rightful.login(USER, &run.password.clone()).await?;
    if signed_in.status != 303 {
        bail!(
            "after the flood the right password was answered {}: {}",
            signed_in.status,
            signed_in.text()
        );
    }
    run.finish().await?;
    let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
    Ok(SigninFlood {
        clients: sizes.flood_clients,
        before_records_per_s: before.records_per_s(),
        during_records_per_s: during.records_per_s(),
        recovery_s,
        attempts: n(&answers.attempts),
        checked: n(&answers.checked),
        throttled: n(&answers.throttled),
        busy: n(&answers.busy),
        other: n(&answers.other),
        unanswered: n(&answers.errors),
        hub_rss_before_mib: rss_before as f64 / 1024.0,
        hub_rss_peak_mib: peak_kib as f64 / 1024.0,
    })
}
