//! Group commit: one writer task takes the checked batches of every desk from
//! a bounded queue and stores as many as are waiting in one durable write, so
//! the flush that makes them safe is paid once per group, not once per desk.

use crate::metrics::HubMetrics;
use crate::storage::{AppendOutcome, DeskAppend, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<AppendOutcome, String>>;

struct Job {
    append: DeskAppend,
    reply: Reply,
}

/// Handle the desk streams use to submit batches.
#[derive(Clone)]
pub struct GroupCommit {
    tx: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer. `queue` bounds the batches waiting to be written,
    /// `group_records` bounds how many records one write may carry.
    pub fn start(
        store: Arc<dyn Store>,
        queue: usize,
        group_records: usize,
        reserve: runtime::disk::Reserve,
        metrics: Arc<HubMetrics>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let handle = tokio::task::spawn_blocking(move || {
            writer(store, rx, group_records.max(1), &reserve, &metrics)
        });
        (Self { tx }, handle)
    }

    /// Batches waiting for the writer.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Submits a batch; the returned receiver resolves once it is durable.
    /// Waits for room in the queue, which is how a fast desk is slowed down.
    pub async fn submit(
        &self,
        append: DeskAppend,
    ) -> Result<oneshot::Receiver<Result<AppendOutcome, String>>, String> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { append, reply })
            .await
            .map_err(|_| "the hub is shutting down".to_string())?;
        Ok(rx)
    }
}

fn writer(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Job>,
    group_records: usize,
    reserve: &runtime::disk::Reserve,
    metrics: &HubMetrics,
) {
    // The queue closes once every stream has ended, so draining it to the end
    // is what makes shutdown lose nothing that was submitted.
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        let mut records = jobs[0].append.accepted.len();
        while records < group_records {
            match rx.try_recv() {
                Ok(job) => {
                    records += job.append.accepted.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let (appends, replies): (Vec<_>, Vec<_>) =
            jobs.into_iter().map(|j| (j.append, j.reply)).unzip();
        // Refused before sled can meet a full disk, whose error it would
        // keep until a restart; the desks keep their records and resend.
        if let Err(low) = reserve.check() {
            tracing::warn!(
                free = low.free,
                reserve = low.reserve,
                batches = appends.len(),
                "ingest paused: the store's disk is almost full"
            );
            for reply in replies {
                let _ = reply.send(Err(format!(
                    "the hub's disk is almost full ({} MiB free, {} MiB kept in reserve); \
                     the batch was not stored, send it again later",
                    low.free >> 20,
                    low.reserve >> 20
                )));
            }
            continue;
        }
        let started = std::time::Instant::now();
        let appended = store.append(&appends);
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.group_commit_records.observe(records as f64);
        match appended {
            Ok(outcomes) => {
                for o in &outcomes {
                    metrics.records_stored.inc_by(o.stored);
                    metrics.records_refused.inc_by(o.refused);
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batches = appends.len(), "group commit failed");
                for reply in replies {
                    let _ = reply.send(Err(format!("the hub could not store the batch: {e}")));
                }
            }
        }
    }
    tracing::debug!("ingest writer drained");
}
