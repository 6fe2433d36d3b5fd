//! The desk's outbox in sled: anonymised records waiting for the hub, under
//! dense sequence numbers, and the quarantine of records the hub refused.
//!
//! One tree, one-byte prefixes, so that an intake (one insert: the record
//! under its sequence) and an acknowledgement (removals + quarantine +
//! counters) are each atomic:
//!
//! | key | value |
//! |---|---|
//! | `o` seq (u64 BE) | record, protobuf |
//! | `q` seq | reason length (u32 BE), reason, record protobuf |
//! | `macked` / `msent` | u64 BE counters |
//!
//! The last sequence given is not stored on its own: records leave the
//! outbox only when acknowledged, so it is the higher of the last `o` key
//! and `macked` (and `mlast`, which earlier agents wrote), found at open.

use domain::AnonymisedRecord;
use prost::Message;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox storage failure: {0}")]
    Backend(#[from] sled::Error),
    #[error("outbox data is damaged: {0}")]
    Corrupt(String),
    #[error("the outbox could not be written to disk: {0}")]
    Flush(String),
}

const LAST: &[u8] = b"mlast";
const ACKED: &[u8] = b"macked";
const SENT: &[u8] = b"msent";

#[derive(Debug, Clone)]
pub struct Quarantined {
    pub seq: u64,
    pub id: String,
    pub reason: String,
    pub record: proto::AnonymisedRecord,
}

pub struct Outbox {
    tree: sled::Tree,
    /// The last sequence given. Held across sequence assignment and the
    /// write, so sequences are dense and enter the tree in order.
    intake: Mutex<u64>,
    pub changed: Notify,
    flusher: Arc<Flusher>,
}

/// Group commit at the desk: one thread makes the outbox durable for every
/// intake waiting on it. sled 0.34 can deadlock when several threads flush
/// at once (seen with concurrent `flush_async`), so every flush in the
/// process goes through `Flusher::flush`, one at a time.
struct Flusher {
    db: sled::Db,
    lock: Mutex<()>,
    /// Highest sequence written and not yet known to be durable.
    wanted: Mutex<FlushWant>,
    wake: Condvar,
    /// Highest sequence known durable, or why the last flush failed.
    durable: watch::Sender<Durable>,
}

#[derive(Default)]
struct FlushWant {
    seq: u64,
    closed: bool,
}

#[derive(Clone, Default)]
struct Durable {
    seq: u64,
    error: Option<Arc<str>>,
}

impl Flusher {
    fn flush(&self) -> Result<(), sled::Error> {
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.db.flush().map(drop)
    }

    fn run(&self) {
        loop {
            let target = {
                let mut want = self.wanted.lock().unwrap_or_else(|e| e.into_inner());
                while want.seq <= self.durable.borrow().seq && !want.closed {
                    want = self.wake.wait(want).unwrap_or_else(|e| e.into_inner());
                }
                if want.closed {
                    return;
                }
                want.seq
            };
            let result = self.flush();
            self.durable.send_modify(|d| match result {
                Ok(()) => {
                    *d = Durable {
                        seq: target.max(d.seq),
                        error: None,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "outbox flush failed");
                    d.error = Some(e.to_string().into());
                }
            });
            if self.durable.borrow().error.is_some() {
                // Do not spin on a failing disk; waiting intakes already have the error.
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }

    fn request(&self, seq: u64) {
        let mut want = self.wanted.lock().unwrap_or_else(|e| e.into_inner());
        want.seq = want.seq.max(seq);
        self.wake.notify_one();
    }

    fn close(&self) {
        self.wanted.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.wake.notify_one();
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.flusher.close();
    }
}

fn read_counter(tree: &sled::Tree, name: &[u8]) -> Result<u64, OutboxError> {
    match tree.get(name)? {
        None => Ok(0),
        Some(v) => <[u8; 8]>::try_from(v.as_ref())
            .map(u64::from_be_bytes)
            .map_err(|_| OutboxError::Corrupt("counter is not 8 bytes".into())),
    }
}

fn key(prefix: u8, seq: u64) -> [u8; 9] {
    let mut k = [prefix; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn seq_of(k: &[u8]) -> Result<u64, OutboxError> {
    k.get(1..9)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| OutboxError::Corrupt("short outbox key".into()))
}

impl Outbox {
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, OutboxError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            // Every flush goes through the flusher thread (see `Flusher`).
            // Acknowledgements are not flushed on their own: after a crash
            // the desk resends them and the hub answers from what it holds.
            .flush_every_ms(None)
            .open()?;
        let tree = db.open_tree("outbox")?;
        let newest = match tree.scan_prefix([b'o']).next_back() {
            Some(kv) => seq_of(&kv?.0)?,
            None => 0,
        };
        let last = newest
            .max(read_counter(&tree, ACKED)?)
            .max(read_counter(&tree, LAST)?);
        let flusher = Arc::new(Flusher {
            db: db.clone(),
            lock: Mutex::new(()),
            wanted: Mutex::new(FlushWant::default()),
            wake: Condvar::new(),
            // Whatever sled recovered at open is on disk.
            durable: watch::Sender::new(Durable {
                seq: last,
                error: None,
            }),
        });
        let worker = Arc::clone(&flusher);
        std::thread::Builder::new()
            .name("outbox-flusher".into())
            .spawn(move || worker.run())
            .map_err(|e| OutboxError::Corrupt(format!("cannot start the flusher thread: {e}")))?;
        Ok(Self {
            tree,
            intake: Mutex::new(last),
            changed: Notify::new(),
            flusher,
        })
    }

    fn counter(&self, name: &[u8]) -> Result<u64, OutboxError> {
        read_counter(&self.tree, name)
    }

    /// The last sequence known to be on disk.
    pub fn durable_seq(&self) -> u64 {
        self.flusher.durable.borrow().seq
    }

    /// Stores the record under the next sequence number and returns that
    /// number once the write is on disk: only then may the caller be told
    /// the visit is recorded.
    pub async fn append(&self, record: &AnonymisedRecord) -> Result<u64, OutboxError> {
        let bytes = proto::AnonymisedRecord::from(record.to_raw()).encode_to_vec();
        let seq = {
            let mut last = self.intake.lock().unwrap_or_else(|e| e.into_inner());
            let seq = *last + 1;
            self.tree.insert(key(b'o', seq), bytes)?;
            *last = seq;
            seq
        };
        // One flush covers every write before it, so concurrent intakes
        // share its cost.
        let mut durable = self.flusher.durable.subscribe();
        self.flusher.request(seq);
        let state = durable
            .wait_for(|d| d.seq >= seq || d.error.is_some())
            .await
            .map_err(|_| OutboxError::Corrupt("the outbox flusher stopped".into()))?
            .clone();
        if state.seq < seq {
            let why = state.error.unwrap_or_else(|| "unknown".into());
            return Err(OutboxError::Flush(why.to_string()));
        }
        self.changed.notify_one();
        Ok(seq)
    }

    /// Up to `max` records from `from_seq` on, in order, and only those
    /// already flushed: a record the hub acknowledged must never be lost by
    /// the desk in a crash, or its sequence number would be given again to
    /// another visit, which the hub would then take for a resend.
    pub fn read_from(
        &self,
        from_seq: u64,
        max: usize,
    ) -> Result<Vec<(u64, proto::AnonymisedRecord)>, OutboxError> {
        let mut out = Vec::new();
        for kv in self
            .tree
            .range(key(b'o', from_seq)..=key(b'o', self.durable_seq()))
            .take(max)
        {
            let (k, v) = kv?;
            let rec = proto::AnonymisedRecord::decode(v.as_ref())
                .map_err(|e| OutboxError::Corrupt(format!("record does not decode: {e}")))?;
            out.push((seq_of(&k)?, rec));
        }
        Ok(out)
    }

    /// Applies the hub's acknowledgement: everything up to `up_to` is held by
    /// the hub, except `rejected`, which moves to quarantine with its reason.
    pub fn ack(&self, up_to: u64, rejected: &[(u64, String)]) -> Result<(), OutboxError> {
        let acked = self.counter(ACKED)?;
        if up_to <= acked {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        let mut removed = 0u64;
        let mut quarantined = 0u64;
        for kv in self.tree.range(key(b'o', acked + 1)..=key(b'o', up_to)) {
            let (k, v) = kv?;
            let seq = seq_of(&k)?;
            batch.remove(k);
            removed += 1;
            if let Some((_, reason)) = rejected.iter().find(|(s, _)| *s == seq) {
                let mut value = Vec::with_capacity(4 + reason.len() + v.len());
                value.extend_from_slice(&(reason.len() as u32).to_be_bytes());
                value.extend_from_slice(reason.as_bytes());
                value.extend_from_slice(&v);
                batch.insert(&key(b'q', seq), value);
                quarantined += 1;
            }
        }
        batch.insert(ACKED, &up_to.to_be_bytes());
        batch.insert(
            SENT,
            &(self.counter(SENT)? + removed - quarantined).to_be_bytes(),
        );
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    pub fn last_seq(&self) -> Result<u64, OutboxError> {
        Ok(*self.intake.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn acked_seq(&self) -> Result<u64, OutboxError> {
        self.counter(ACKED)
    }

    pub fn sent(&self) -> Result<u64, OutboxError> {
        self.counter(SENT)
    }

    pub fn pending(&self) -> Result<u64, OutboxError> {
        Ok(self.last_seq()?.saturating_sub(self.acked_seq()?))
    }

    pub fn quarantine(&self) -> Result<Vec<Quarantined>, OutboxError> {
        let mut out = Vec::new();
        for kv in self.tree.scan_prefix([b'q']) {
            let (k, v) = kv?;
            let corrupt = || OutboxError::Corrupt("quarantine entry is damaged".into());
            let len = v
                .get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .ok_or_else(corrupt)? as usize;
            let reason = v
                .get(4..4 + len)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .ok_or_else(corrupt)?;
            let record = v
                .get(4 + len..)
                .and_then(|b| proto::AnonymisedRecord::decode(b).ok())
                .ok_or_else(corrupt)?;
            out.push(Quarantined {
                seq: seq_of(&k)?,
                id: record.id.clone(),
                reason,
                record,
            });
        }
        Ok(out)
    }

    pub fn flush(&self) -> Result<(), OutboxError> {
        self.flusher.flush()?;
        Ok(())
    }
}
