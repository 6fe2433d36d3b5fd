//! Desks appending and syncing as fast as the hub acknowledges, each with at
//! most `OUTSTANDING` records unacknowledged: the closed loop that `ingest`
//! runs to a fixed total, and that the overload scenarios keep running in
//! the background while they measure what a side load costs the desks.

use crate::desks::{RecordMaker, SimDesk};
use crate::stats::Latencies;
use anyhow::{bail, Context};
use desk_agent::outbox::Outbox;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Per desk: five of the agent's default batches (two until its batches
/// went from 500 records to 200; kept, so that runs before and after compare).
pub(crate) const OUTSTANDING: usize = 1_000;
/// How often acknowledgements are looked for; bounds the latency's error.
pub(crate) const POLL: Duration = Duration::from_millis(2);

/// What a desk's feeder shares with the acknowledgement poller.
struct Tracked {
    outbox: Arc<Outbox>,
    /// Sequence → when its intake began, until the hub acknowledges it.
    pending: Mutex<BTreeMap<u64, Instant>>,
    room: Semaphore,
    /// Intakes answered, acknowledged or not.
    appended: AtomicU64,
}

pub(crate) struct Steady {
    tracked: Vec<Arc<Tracked>>,
    feeders: Vec<JoinHandle<anyhow::Result<()>>>,
    stop: Arc<AtomicBool>,
}

/// What one stretch of polling saw.
#[derive(Default)]
pub(crate) struct Window {
    pub acked: u64,
    pub secs: f64,
    pub micros: Vec<u64>,
}

impl Window {
    /// Adds what `other` saw to this window, as one longer stretch.
    pub(crate) fn absorb(&mut self, other: Window) {
        self.acked += other.acked;
        self.secs += other.secs;
        self.micros.extend(other.micros);
    }

    pub(crate) fn records_per_s(&self) -> f64 {
        self.acked as f64 / self.secs.max(1e-9)
    }

    /// Acknowledgement latency percentiles of this window, in ms.
    pub(crate) fn p(&self, p: f64) -> f64 {
        Latencies::new(self.micros.clone()).percentile_ms(p)
    }
}

impl Steady {
    /// Starts one feeder per desk: `total` records shared out, or, with
    /// `None`, until `stop`.
    pub(crate) fn start(desks: &[SimDesk], total: Option<u64>) -> Self {
        Self::start_with(desks, total, None, OUTSTANDING)
    }

    /// Open loop: every desk takes `per_s` intakes a second until `stop`,
    /// whatever the hub acknowledges, with at most `outstanding` of them
    /// unacknowledged.
    pub(crate) fn paced(desks: &[SimDesk], per_s: f64, outstanding: usize) -> Self {
        let every = Duration::from_secs_f64(1.0 / per_s.max(1e-3));
        Self::start_with(desks, None, Some(every), outstanding)
    }

    fn start_with(
        desks: &[SimDesk],
        total: Option<u64>,
        every: Option<Duration>,
        outstanding: usize,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let n = desks.len().max(1) as u64;
        let mut tracked = Vec::with_capacity(desks.len());
        let mut feeders = Vec::with_capacity(desks.len());
        for (i, d) in desks.iter().enumerate() {
            let t = Arc::new(Tracked {
                outbox: Arc::clone(&d.outbox),
                pending: Mutex::new(BTreeMap::new()),
                room: Semaphore::new(outstanding.min(Semaphore::MAX_PERMITS)),
                appended: AtomicU64::new(0),
            });
            let share = total.map(|total| total / n + u64::from((i as u64) < total % n));
            feeders.push(tokio::spawn(feed(
                d.desk_id.clone(),
                Arc::clone(&t),
                share,
                every,
                Arc::clone(&stop),
            )));
            tracked.push(t);
        }
        Self {
            tracked,
            feeders,
            stop,
        }
    }

    /// Takes in every acknowledgement that reached a desk since the last
    /// call: how many, and the latency of each from intake.
    pub(crate) async fn poll(&mut self) -> anyhow::Result<(u64, Vec<u64>)> {
        let now = Instant::now();
        let mut acked = 0;
        let mut micros = Vec::new();
        for t in &self.tracked {
            let up_to = t.outbox.acked_seq()?;
            let done = {
                let mut pending = t.pending.lock().unwrap_or_else(|e| e.into_inner());
                let rest = pending.split_off(&(up_to + 1));
                std::mem::replace(&mut *pending, rest)
            };
            if done.is_empty() {
                continue;
            }
            acked += done.len() as u64;
            t.room.add_permits(done.len());
            micros.extend(done.values().map(|t0| (now - *t0).as_micros() as u64));
        }
        if self.feeders.iter().any(|f| f.is_finished()) {
            for f in self.feeders.iter_mut().filter(|f| f.is_finished()) {
                // A feeder that ended early carries the reason.
                match f.await {
                    Ok(Err(e)) => return Err(e),
                    Err(e) => bail!("a desk's feeder failed: {e}"),
                    Ok(Ok(())) => {}
                }
            }
            self.feeders.retain(|f| !f.is_finished());
        }
        Ok((acked, micros))
    }

    /// Intakes the desks have answered so far, acknowledged or not.
    pub(crate) fn appended(&self) -> u64 {
        self.tracked
            .iter()
            .map(|t| t.appended.load(Ordering::Relaxed))
            .sum()
    }

    /// Polls for `length` and returns what was acknowledged meanwhile.
    pub(crate) async fn window(&mut self, length: Duration) -> anyhow::Result<Window> {
        let start = Instant::now();
        let mut w = Window {
            acked: 0,
            secs: 0.0,
            micros: Vec::new(),
        };
        while start.elapsed() < length {
            tokio::time::sleep(POLL).await;
            let (acked, micros) = self.poll().await?;
            w.acked += acked;
            w.micros.extend(micros);
        }
        w.secs = start.elapsed().as_secs_f64();
        Ok(w)
    }

    /// Ends the feeders; records already appended stay in the outboxes.
    pub(crate) async fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // A feeder waiting for room gets it from the acks still arriving.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.feeders.iter().all(|f| f.is_finished()) && Instant::now() < deadline {
            let _ = self.poll().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for f in &self.feeders {
            f.abort();
        }
    }
}

/// Appends records, each as its own intake (`Outbox::append`, which answers
/// once the record is durable), never more than `OUTSTANDING`
/// unacknowledged: `share` of them, or until `stop`; with `every`, one intake
/// per tick at most (missed ticks are caught up, so the rate holds). The intakes of a desk
/// run concurrently as futures of this one task, so that the harness spawns
/// no task per record.
async fn feed(
    desk_id: String,
    t: Arc<Tracked>,
    mut share: Option<u64>,
    every: Option<Duration>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    use futures::stream::{FuturesUnordered, StreamExt};
    let mut pace = every.map(tokio::time::interval);
    let mut maker = RecordMaker::new();
    let mut appends = FuturesUnordered::new();
    let more = |share: &Option<u64>| share.is_none_or(|left| left > 0);
    loop {
        let go_on = more(&share) && !stop.load(Ordering::Relaxed);
        if !go_on && appends.is_empty() {
            return Ok(());
        }
        tokio::select! {
            permit = async {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                t.room.acquire().await
            }, if go_on => {
                permit.context("the desk's window closed")?.forget();
                if let Some(left) = share.as_mut() {
                    *left -= 1;
                }
                let record = maker.make(&desk_id)?;
                let t = Arc::clone(&t);
                let began = Instant::now();
                appends.push(async move {
                    let seq = t.outbox.append(&record).await?;
                    t.pending
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(seq, began);
                    t.appended.fetch_add(1, Ordering::Relaxed);
                    anyhow::Ok(())
                });
            }
            Some(done) = appends.next() => done?,
            // Wakes a feeder that waits for room after `stop`.
            _ = tokio::time::sleep(Duration::from_millis(50)), if !go_on => {}
        }
    }
}
