//! Group commit: one writer task takes the checked batches of every desk from
//! a bounded queue and stores as many as are waiting in one durable write, so
//! the flush that makes them safe is paid once per group, not once per desk.

use crate::metrics::HubMetrics;
use crate::storage::{AppendOutcome, DeskAppend, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

type Reply = oneshot::Sender<Result<AppendOutcome, String>>;

struct Job {
    append: DeskAppend,
    reply: Reply,
    /// The batch's share of `ingest_queue_bytes`, given back once the
    /// writer is done with it (dropped with the job).
    bytes: OwnedSemaphorePermit,
}

/// Handle the desk streams use to submit batches.
#[derive(Clone)]
pub struct GroupCommit {
    tx: mpsc::Sender<Job>,
    bytes: Arc<Semaphore>,
    max_bytes: u32,
}

impl GroupCommit {
    /// Starts the writer. `queue` bounds the batches waiting to be written
    /// and `queue_bytes` their size; `group_records` bounds how many records
    /// one write may carry.
    pub fn start(
        store: Arc<dyn Store>,
        queue: usize,
        queue_bytes: usize,
        group_records: usize,
        reserve: runtime::disk::Reserve,
        metrics: Arc<HubMetrics>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let handle = tokio::task::spawn_blocking(move || {
            writer(store, rx, group_records.max(1), &reserve, &metrics)
        });
        // Semaphores count in u32 at most; 4 GiB of queue is past any use.
        let max_bytes = u32::try_from(queue_bytes.max(1)).unwrap_or(u32::MAX);
        let bytes = Arc::new(Semaphore::new(max_bytes as usize));
        (
            Self {
                tx,
                bytes,
                max_bytes,
            },
            handle,
        )
    }

    /// Batches waiting for the writer.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Bytes of batches queued or being written.
    pub fn queued_bytes(&self) -> usize {
        self.max_bytes as usize - self.bytes.available_permits()
    }

    /// Submits a batch of `bytes` (its size on the wire); the returned
    /// receiver resolves once it is durable. Waits for room in the queue, in
    /// batches and in bytes, which is how fast desks are slowed down.
    pub async fn submit(
        &self,
        append: DeskAppend,
        bytes: usize,
    ) -> Result<oneshot::Receiver<Result<AppendOutcome, String>>, String> {
        let shutting_down = || "the hub is shutting down".to_string();
        // A batch larger than the whole queue (a setting below the message
        // limit) takes all of it rather than wait forever.
        let wanted = u32::try_from(bytes)
            .unwrap_or(u32::MAX)
            .clamp(1, self.max_bytes);
        let permit = Arc::clone(&self.bytes)
            .acquire_many_owned(wanted)
            .await
            .map_err(|_| shutting_down())?;
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                append,
                reply,
                bytes: permit,
            })
            .await
            .map_err(|_| shutting_down())?;
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
        let (appends, replies): (Vec<_>, Vec<_>) = jobs
            .into_iter()
            .map(|j| (j.append, (j.reply, j.bytes)))
            .unzip();
        // Refused before sled can meet a full disk, whose error it would
        // keep until a restart; the desks keep their records and resend.
        if let Err(low) = reserve.check() {
            tracing::warn!(
                free = low.free,
                reserve = low.reserve,
                batches = appends.len(),
                "ingest paused: the store's disk is almost full"
            );
            for (reply, _bytes) in replies {
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
                for ((reply, _bytes), outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batches = appends.len(), "group commit failed");
                for (reply, _bytes) in replies {
                    let _ = reply.send(Err(format!("the hub could not store the batch: {e}")));
                }
            }
        }
    }
    tracing::debug!("ingest writer drained");
}
