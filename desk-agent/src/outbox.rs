//! The desk's outbox in sled: anonymised records waiting for the hub, under
//! dense sequence numbers, and the quarantine of records the hub refused.
//!
//! The records live in one tree per run of 65,536 sequences
//! (`outbox-` and the run's number, 16 hex digits), keyed by sequence
//! (u64 BE), each value the record's protobuf: its form on the wire, sent as
//! it is stored. An acknowledgement only moves a watermark; a run's tree is
//! dropped whole once the watermark has passed its end and is on disk, so
//! that no record is removed one by one. The tree `outbox` holds the rest,
//! under one-byte prefixes, so that an acknowledgement (quarantine +
//! counters) is atomic:
//!
//! | key | value |
//! |---|---|
//! | `q` seq (u64 BE) | reason length (u32 BE), reason, record protobuf |
//! | `macked` / `msent` | u64 BE counters |
//!
//! The last sequence given is not stored on its own: it is the higher of
//! the last record key and `macked` (and `mlast`, which earlier agents
//! wrote), found at open. An outbox of the earlier layout (records as `o`
//! keys in `outbox`) is refused at open.

use domain::AnonymisedRecord;
use prost::bytes::{BufMut, Bytes, BytesMut};
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
use prost::Message;
use std::collections::BTreeMap;
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
/// Sequences per record tree: 2^16, about 20 MB of records (16 in tests,
/// so that they cross trees).
#[cfg(not(test))]
const RUN_BITS: u32 = 16;
#[cfg(test)]
const RUN_BITS: u32 = 4;
const RUN_PREFIX: &str = "outbox-";

#[derive(Debug, Clone)]
pub struct Quarantined {
    pub seq: u64,
    pub id: String,
    pub reason: String,
    pub record: proto::AnonymisedRecord,
}

pub struct Outbox {
    /// Quarantine and counters.
    tree: sled::Tree,
    /// The record trees held, by run number (`run_of`).
    runs: Mutex<BTreeMap<u64, sled::Tree>>,
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

/// The run (record tree) that holds `seq`.
fn run_of(seq: u64) -> u64 {
    seq >> RUN_BITS
}

/// The last sequence of a run.
fn run_end(run: u64) -> u64 {
    ((run + 1) << RUN_BITS) - 1
}

fn run_name(run: u64) -> String {
    format!("{RUN_PREFIX}{run:016x}")
}

fn record_seq(k: &[u8]) -> Result<u64, OutboxError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| OutboxError::Corrupt("record key is not 8 bytes".into()))
}

/// Records ready for the hub, in their wire form: each one a
/// `RecordBatch.records` entry (field 2, length-delimited), as stored by
/// `Outbox::append` from an `AnonymisedRecord` and never decoded since.
pub struct PendingBatch {
    pub first_seq: u64,
    pub last_seq: u64,
    entries: BytesMut,
}

impl PendingBatch {
    /// The encoded `DeskMessage { batch: RecordBatch { .. } }`.
    pub fn message(&self, outbox_last_seq: u64) -> Bytes {
        let batch_len = 1
            + encoded_len_varint(self.first_seq)
            + self.entries.len()
            + 2
            + encoded_len_varint(outbox_last_seq);
        let mut out = BytesMut::with_capacity(1 + encoded_len_varint(batch_len as u64) + batch_len);
        // DeskMessage.batch = 2
        encode_key(2, WireType::LengthDelimited, &mut out);
        encode_varint(batch_len as u64, &mut out);
        // RecordBatch.first_seq = 1, records = 2, outbox_last_seq = 20
        encode_key(1, WireType::Varint, &mut out);
        encode_varint(self.first_seq, &mut out);
        out.put_slice(&self.entries);
        encode_key(20, WireType::Varint, &mut out);
        encode_varint(outbox_last_seq, &mut out);
        out.freeze()
    }
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
        if tree.scan_prefix([b'o']).next().is_some() {
            return Err(OutboxError::Corrupt(
                "this outbox has the record layout of an earlier desk-agent version; \
                 let that version send its queue to the hub (`desk-agent status` shows \
                 pending 0), then start this version on a fresh data folder"
                    .into(),
            ));
        }
        let acked = read_counter(&tree, ACKED)?;
        let mut runs = BTreeMap::new();
        for name in db.tree_names() {
            let Some(hex) = std::str::from_utf8(&name)
                .ok()
                .and_then(|n| n.strip_prefix(RUN_PREFIX))
            else {
                continue;
            };
            let run = u64::from_str_radix(hex, 16)
                .map_err(|_| OutboxError::Corrupt(format!("unexpected outbox tree {hex}")))?;
            if run_end(run) <= acked {
                // Acknowledged whole before a crash that came before its drop.
                db.drop_tree(&name)?;
            } else {
                runs.insert(run, db.open_tree(&name)?);
            }
        }
        let mut newest = 0;
        for t in runs.values().rev() {
            if let Some((k, _)) = t.last()? {
                newest = record_seq(&k)?;
                break;
            }
        }
        let last = newest.max(acked).max(read_counter(&tree, LAST)?);
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
            runs: Mutex::new(runs),
            intake: Mutex::new(last),
            changed: Notify::new(),
            flusher,
        })
    }

    fn counter(&self, name: &[u8]) -> Result<u64, OutboxError> {
        read_counter(&self.tree, name)
    }

    /// The record tree of `run`, created if need be (intake).
    fn run_tree(&self, run: u64) -> Result<sled::Tree, OutboxError> {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = runs.get(&run) {
            return Ok(t.clone());
        }
        let t = self.flusher.db.open_tree(run_name(run))?;
        runs.insert(run, t.clone());
        Ok(t)
    }

    /// The record tree of `run`, if the outbox holds one.
    fn held_run(&self, run: u64) -> Option<sled::Tree> {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.get(&run).cloned()
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
            self.run_tree(run_of(seq))?
                .insert(seq.to_be_bytes(), bytes)?;
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
    /// another visit, which the hub would then take for a resend. `None`
    /// when there is nothing to send.
    pub fn read_from(
        &self,
        from_seq: u64,
        max: usize,
    ) -> Result<Option<PendingBatch>, OutboxError> {
        let from_seq = from_seq.max(1);
        let until = self
            .durable_seq()
            .min(from_seq.saturating_add(max as u64) - 1);
        let mut entries = BytesMut::new();
        let mut next = from_seq;
        while next <= until {
            let missing = |seq| OutboxError::Corrupt(format!("record {seq} is missing"));
            let tree = self.held_run(run_of(next)).ok_or_else(|| missing(next))?;
            let to = until.min(run_end(run_of(next)));
            for kv in tree.range(next.to_be_bytes()..=to.to_be_bytes()) {
                let (k, v) = kv?;
                if record_seq(&k)? != next {
                    break;
                }
                if entries.is_empty() {
                    entries.reserve(max.min(1000) * (v.len() + 4));
                }
                encode_key(2, WireType::LengthDelimited, &mut entries);
                encode_varint(v.len() as u64, &mut entries);
                entries.put_slice(&v);
                next += 1;
            }
            if next <= to {
                return Err(missing(next));
            }
        }
        Ok((next > from_seq).then(|| PendingBatch {
            first_seq: from_seq,
            last_seq: next - 1,
            entries,
        }))
    }

    /// Applies the hub's acknowledgement: everything up to `up_to` is held by
    /// the hub, except `rejected`, which moves to quarantine with its reason.
    /// Only the watermark moves; a record tree goes once wholly acknowledged.
    pub fn ack(&self, up_to: u64, rejected: &[(u64, String)]) -> Result<(), OutboxError> {
        let acked = self.counter(ACKED)?;
        if up_to <= acked {
            return Ok(());
        }
        let held_to = up_to.min(self.last_seq()?);
        let mut batch = sled::Batch::default();
        let mut quarantined = 0u64;
        let mut refused: Vec<&(u64, String)> = rejected
            .iter()
            .filter(|(s, _)| *s > acked && *s <= held_to)
            .collect();
        refused.sort_by_key(|(s, _)| *s);
        refused.dedup_by_key(|(s, _)| *s);
        for (seq, reason) in refused {
            let Some(tree) = self.held_run(run_of(*seq)) else {
                continue;
            };
            let Some(v) = tree.get(seq.to_be_bytes())? else {
                continue;
            };
            let mut value = Vec::with_capacity(4 + reason.len() + v.len());
            value.extend_from_slice(&(reason.len() as u32).to_be_bytes());
            value.extend_from_slice(reason.as_bytes());
            value.extend_from_slice(&v);
            batch.insert(&key(b'q', *seq), value);
            quarantined += 1;
        }
        let removed = held_to.saturating_sub(acked);
        batch.insert(ACKED, &up_to.to_be_bytes());
        batch.insert(
            SENT,
            &(self.counter(SENT)? + removed - quarantined).to_be_bytes(),
        );
        self.tree.apply_batch(batch)?;
        self.drop_acked_runs(held_to)
    }

    /// Drops the record trees wholly at or below `acked`, once the
    /// watermark that makes them unneeded is on disk: a drop that outlived
    /// the watermark in a crash would lose the last sequence given.
    fn drop_acked_runs(&self, acked: u64) -> Result<(), OutboxError> {
        let done: Vec<u64> = {
            let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            runs.keys()
                .copied()
                .take_while(|r| run_end(*r) <= acked)
                .collect()
        };
        if done.is_empty() {
            return Ok(());
        }
        self.flusher.flush()?;
        for run in done {
            self.runs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&run);
            self.flusher.db.drop_tree(run_name(run))?;
        }
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

#[cfg(test)]
mod tests;
