//! The desk's outbox in sled: anonymised records waiting for the hub, under
//! dense sequence numbers, and the quarantine of records the hub refused.
//!
//! Intake appends a record to an in-memory group; the flusher thread writes
//! each group as one sled value (a chunk, at most `CHUNK_BYTES`), then
//! flushes, and only then answers the intakes of that group. So a burst of
//! intakes costs one sled insert per chunk, not per record, and one flush.
//! A chunk's value is its records in their wire form, each one a
//! `RecordBatch.records` entry (field 2, length-delimited), so a batch for
//! the hub is chunks copied as they are stored.
//!
//! The chunks live in one tree per run of 65,536 sequences (`chunks-` and
//! the run's number, 16 hex digits), keyed by the chunk's first sequence
//! (u64 BE); a chunk never crosses a run. An acknowledgement only moves a
//! watermark; a run's tree is dropped whole once the watermark has passed
//! its end and is on disk, so that no record is removed one by one. The
//! tree `outbox` holds the rest, under one-byte prefixes, so that an
//! acknowledgement (quarantine + counters) is atomic:
//!
//! | key | value |
//! |---|---|
//! | `q` seq (u64 BE) | reason length (u32 BE), reason, record protobuf |
//! | `macked` / `msent` | u64 BE counters |
//! | `mincarnation` | incarnation UUID (16 bytes), base (u64 BE) |
//! | `d` run (u64 BE) | when the run was first seen acknowledged whole (unix secs, u64 BE) |
//!
//! The incarnation (`Incarnation`) names this outbox to the hub; the hub
//! counts its sequences from `base`, the last local sequence before it.
//! An outbox gets one at creation, an outbox of an earlier version at its
//! first open (its history counting as the first), and a new one whenever
//! the hub holds more of the current one than the outbox does.
//!
//! The last sequence given is not stored on its own: it is the higher of
//! the last chunk's last record and `macked`, found at open. An outbox of
//! an earlier layout (records as `o` keys in `outbox`, or one record per
//! key in `outbox-` trees) is refused at open.

mod requests;

use domain::AnonymisedRecord;
use prost::bytes::{BufMut, Bytes, BytesMut};
use prost::encoding::{decode_varint, encode_key, encode_varint, encoded_len_varint, WireType};
use prost::Message;
use sled::Transactional;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch, Notify};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox storage failure: {0}")]
    Backend(#[from] sled::Error),
    #[error("outbox data is damaged: {0}")]
    Corrupt(String),
    #[error("the outbox could not be written to disk: {0}")]
    Flush(String),
    #[error("the hub acknowledged sequence {0} but this outbox holds only up to {1}")]
    AheadOfOutbox(u64, u64),
    #[error(
        "il disco dello sportello è quasi pieno ({} MiB liberi, riserva {} MiB): la visita NON è \
         stata registrata; liberare spazio e riprovare / the desk's disk is almost full ({} MiB \
         free, {} MiB kept in reserve): the visit was NOT recorded; free some space and try again",
        .0.free >> 20, .0.reserve >> 20, .0.free >> 20, .0.reserve >> 20
    )]
    DiskFull(runtime::disk::Low),
    #[error("request_id `{0}` was already used for a different visit")]
    KeyReused(String),
    #[error("a visit with request_id `{0}` is still being recorded; ask again in a moment")]
    KeyBusy(String),
}

/// What `Outbox::append_once` did.
#[derive(Debug)]
pub struct Appended {
    pub seq: u64,
    /// The record under that sequence: the first one for a repeated key.
    pub record: proto::AnonymisedRecord,
    /// The key had been used for this visit: nothing was stored.
    pub repeat: bool,
}

/// The outbox's name to the hub, and where the hub's numbering starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incarnation {
    pub id: uuid::Uuid,
    /// The last local sequence before this incarnation: the hub's sequence
    /// `n` of it is the outbox's `base + n`.
    pub base: u64,
    /// Records of the previous incarnation that the hub had acknowledged,
    /// no longer holds and this outbox no longer keeps: told to the hub in
    /// every Hello of this incarnation (`Hello.records_lost`).
    pub lost: u64,
}

impl Incarnation {
    /// The hub's sequence for a local one (at or after `base`).
    pub fn wire(&self, local: u64) -> u64 {
        local.saturating_sub(self.base)
    }

    /// The local sequence for one the hub names.
    pub fn local(&self, wire: u64) -> u64 {
        self.base.saturating_add(wire)
    }

    fn encode(&self) -> [u8; 32] {
        let mut v = [0u8; 32];
        v[..16].copy_from_slice(self.id.as_bytes());
        v[16..24].copy_from_slice(&self.base.to_be_bytes());
        v[24..].copy_from_slice(&self.lost.to_be_bytes());
        v
    }

    fn decode(v: &[u8]) -> Result<Self, OutboxError> {
        let bad = || OutboxError::Corrupt("the outbox incarnation is damaged".into());
        let id = v
            .get(..16)
            .and_then(|b| uuid::Uuid::from_slice(b).ok())
            .ok_or_else(bad)?;
        let base = v
            .get(16..24)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(bad)?;
        // Outboxes written before `lost` hold 24 bytes.
        let lost = match v.get(24..32) {
            Some(b) => u64::from_be_bytes(b.try_into().map_err(|_| bad())?),
            None if v.len() == 24 => 0,
            None => return Err(bad()),
        };
        Ok(Self { id, base, lost })
    }
}

const ACKED: &[u8] = b"macked";
const INCARNATION: &[u8] = b"mincarnation";
const SENT: &[u8] = b"msent";
/// Earlier agents kept the last sequence given under this key.
const LAST: &[u8] = b"mlast";
/// Sequences per record tree: 2^16, about 10 MB of records (16 in tests,
/// so that they cross trees).
#[cfg(not(test))]
const RUN_BITS: u32 = 16;
#[cfg(test)]
const RUN_BITS: u32 = 4;
const RUN_PREFIX: &str = "chunks-";
/// The record trees of the layout before chunks.
const OLD_RUN_PREFIX: &str = "outbox-";
/// A chunk stays well below sled's blob threshold (a quarter of its 512 KiB
/// segment) even with sixteen in a leaf, so writing one never rewrites a
/// large page (a few records in tests, so that reads cross chunks).
#[cfg(not(test))]
const CHUNK_BYTES: usize = 4096;
#[cfg(test)]
const CHUNK_BYTES: usize = 512;
/// `RecordBatch.records` (field 2, length-delimited): each entry's first byte.
const ENTRY_TAG: u8 = 0x12;

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
    /// The acknowledgement watermark, as last stored.
    acked: AtomicU64,
    incarnation: Mutex<Incarnation>,
    /// How long runs acknowledged whole are kept, so that a hub restored
    /// from a backup gets them back (zero: dropped at once).
    keep_acked: Duration,
    /// Free space intake leaves on the disk, so that acknowledgements can
    /// still be written and shipping goes on while the disk is full.
    reserve: Option<runtime::disk::Reserve>,
    /// Idempotency keys whose intake is under way.
    keys_in_flight: Mutex<std::collections::HashSet<String>>,
    pub changed: Notify,
    flusher: Arc<Flusher>,
}

/// Group commit at the desk: one thread writes every record waiting in
/// `group` as chunks and makes them durable with one flush. sled 0.34 can
/// deadlock when several threads flush at once (seen with concurrent
/// `flush_async`), so every flush in the process goes through
/// `Flusher::flush`, one at a time.
struct Flusher {
    lock: Mutex<()>,
    /// Records given a sequence and not yet written. Held across sequence
    /// assignment, so sequences are dense and enter the group in order.
    group: Mutex<Group>,
    wake: Condvar,
    /// Highest sequence known durable, or why the last write failed.
    durable: watch::Sender<Durable>,
    runs: Runs,
    requests: requests::Requests,
    /// When each write still waiting for the hub was made: its last
    /// sequence and the time, oldest first, for the age of the oldest
    /// record not yet acknowledged. Bounded: past `WRITE_TIMES`, a write
    /// joins the newest entry, which keeps the older time.
    written_at: Mutex<std::collections::VecDeque<(u64, std::time::SystemTime)>>,
}

const WRITE_TIMES: usize = 100_000;

/// The record trees held, by run number (`run_of`).
struct Runs {
    db: sled::Db,
    trees: Mutex<BTreeMap<u64, sled::Tree>>,
}

impl Runs {
    /// The record tree of `run`, created if need be.
    fn tree(&self, run: u64) -> Result<sled::Tree, sled::Error> {
        let mut trees = self.trees.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = trees.get(&run) {
            return Ok(t.clone());
        }
        let t = self.db.open_tree(run_name(run))?;
        trees.insert(run, t.clone());
        Ok(t)
    }

    /// The record tree of `run`, if the outbox holds one.
    fn held(&self, run: u64) -> Option<sled::Tree> {
        let trees = self.trees.lock().unwrap_or_else(|e| e.into_inner());
        trees.get(&run).cloned()
    }
}

#[derive(Default)]
struct Group {
    /// The last sequence given.
    last: u64,
    /// The entries of sequences `last - count + 1 ..= last`.
    entries: Vec<u8>,
    count: u64,
    /// One per entry, in order.
    waiters: Vec<Waiter>,
    closed: bool,
}

/// Where an intake hears its sequence once its record is on disk, or why it
/// is not stored; and its idempotency key, stored in the same flush.
struct Waiter {
    answer: oneshot::Sender<Result<u64, Arc<str>>>,
    request_id: Option<String>,
}

#[derive(Clone, Default)]
struct Durable {
    seq: u64,
    error: Option<Arc<str>>,
}

impl Flusher {
    fn flush(&self) -> Result<(), sled::Error> {
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        fail::fail_point!("outbox-flush", |_| Err(injected("outbox-flush")));
        self.runs.db.flush().map(drop)
    }

    fn run(&self) {
        loop {
            let (first, entries, last, waiters) = {
                let mut group = self.group.lock().unwrap_or_else(|e| e.into_inner());
                while group.count == 0 && !group.closed {
                    group = self.wake.wait(group).unwrap_or_else(|e| e.into_inner());
                }
                if group.count == 0 {
                    return;
                }
                let first = group.last - group.count + 1;
                group.count = 0;
                (
                    first,
                    std::mem::take(&mut group.entries),
                    group.last,
                    std::mem::take(&mut group.waiters),
                )
            };
            let written = self
                .write(first, &entries, &waiters)
                .and_then(|()| self.flush());
            match written {
                Ok(()) => {
                    self.durable.send_modify(|d| {
                        *d = Durable {
                            seq: last.max(d.seq),
                            error: None,
                        }
                    });
                    {
                        let mut times = self.written_at.lock().unwrap_or_else(|e| e.into_inner());
                        let full = times.len() >= WRITE_TIMES;
                        match times.back_mut() {
                            Some(newest) if full => newest.0 = last,
                            _ => times.push_back((last, std::time::SystemTime::now())),
                        }
                    }
                    for (seq, w) in (first..).zip(waiters) {
                        let _ = w.answer.send(Ok(seq));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "outbox write failed; the visits of this write are not recorded");
                    let why: Arc<str> = e.to_string().into();
                    self.discard(first, last, &waiters);
                    self.durable
                        .send_modify(|d| d.error = Some(Arc::clone(&why)));
                    for w in waiters {
                        let _ = w.answer.send(Err(Arc::clone(&why)));
                    }
                    // Do not spin on a failing disk.
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }

    /// Forgets a write whose intakes are told it failed: an intake answered
    /// with an error must never be sent, or the operator who enters the
    /// visit again has it counted twice. Whatever chunks the write left are
    /// removed, and its sequences are handed back, so that the records
    /// grouped since take them and the numbering stays dense.
    fn discard(&self, first: u64, last: u64, waiters: &[Waiter]) {
        for key in waiters.iter().filter_map(|w| w.request_id.as_deref()) {
            if let Err(e) = self.requests.remove(key) {
                tracing::error!(error = %e, "could not forget the request key of a failed write");
            }
        }
        {
            let mut group = self.group.lock().unwrap_or_else(|e| e.into_inner());
            group.last -= last - first + 1;
        }
        for run in run_of(first)..=run_of(last) {
            let Some(tree) = self.runs.held(run) else {
                continue;
            };
            let keys: Vec<_> = tree
                .range(first.to_be_bytes()..=last.to_be_bytes())
                .keys()
                .filter_map(Result::ok)
                .collect();
            for k in keys {
                if let Err(e) = tree.remove(k) {
                    tracing::error!(error = %e, "could not remove a failed outbox write");
                }
            }
        }
    }

    /// Writes the entries of sequences from `first` on as chunks of at most
    /// `CHUNK_BYTES`, none crossing a run, with the idempotency keys of
    /// `waiters` in the same sled transaction. Separate inserts would not
    /// do: sled writes its buffers to the file as they fill, so a process
    /// killed between the two could leave a record without its key, which
    /// the agent would send, and the caller's retry under the key would
    /// then record the visit a second time.
    fn write(&self, first: u64, entries: &[u8], waiters: &[Waiter]) -> Result<(), sled::Error> {
        let chunks = chunks(first, entries)?;
        fail::fail_point!("outbox-write", |_| Err(injected("outbox-write")));
        if waiters.iter().all(|w| w.request_id.is_none()) {
            for (seq, range) in &chunks {
                self.runs
                    .tree(run_of(*seq))?
                    .insert(seq.to_be_bytes(), &entries[range.clone()])?;
            }
            return Ok(());
        }
        let mut keys = Vec::new();
        let mut rest = entries;
        for (seq, w) in (first..).zip(waiters) {
            let len = entry_len(rest)
                .ok_or_else(|| sled::Error::Unsupported("damaged outbox group".into()))?;
            if let Some(key) = &w.request_id {
                keys.push((key.as_str(), seq, entry_record(&rest[..len])));
            }
            rest = &rest[len..];
        }
        // The keys' tree first, then each run's tree the chunks fall in.
        let mut trees = vec![self.requests.tree().clone()];
        let mut runs = Vec::new();
        for (seq, _) in &chunks {
            let run = run_of(*seq);
            if !runs.contains(&run) {
                runs.push(run);
                trees.push(self.runs.tree(run)?);
            }
        }
        let at = requests::now_secs();
        let new = trees
            .as_slice()
            .transaction(|tx| {
                let mut new = 0;
                for (key, seq, record) in &keys {
                    if requests::Requests::insert_in(&tx[0], key, *seq, record, at)? {
                        new += 1;
                    }
                }
                for (seq, range) in &chunks {
                    let at_run = runs.iter().position(|r| *r == run_of(*seq)).unwrap_or(0);
                    tx[1 + at_run].insert(&seq.to_be_bytes()[..], &entries[range.clone()])?;
                }
                Ok(new)
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e)
                | sled::transaction::TransactionError::Storage(e) => e,
            })?;
        self.requests.stored(new, at)
    }

    fn close(&self) {
        self.group.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.wake.notify_one();
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.flusher.close();
    }
}

/// The chunks of a group's entries from `first` on: each one's first
/// sequence and byte range, at most `CHUNK_BYTES` (or one entry) and never
/// crossing a run.
fn chunks(first: u64, entries: &[u8]) -> Result<Vec<(u64, std::ops::Range<usize>)>, sled::Error> {
    let mut out = Vec::new();
    let (mut seq, mut at) = (first, 0usize);
    while at < entries.len() {
        let run = run_of(seq);
        let mut len = 0;
        let mut n = 0u64;
        let mut rest = &entries[at..];
        while let Some(entry_len) = entry_len(rest) {
            if (len > 0 && len + entry_len > CHUNK_BYTES) || seq + n > run_end(run) {
                break;
            }
            len += entry_len;
            n += 1;
            rest = &rest[entry_len..];
        }
        if n == 0 {
            // Only a damaged group gets here; never loop on it.
            return Err(sled::Error::Unsupported("damaged outbox group".into()));
        }
        out.push((seq, at..at + len));
        at += len;
        seq += n;
    }
    Ok(out)
}

/// The error a configured fail point returns, as a failing disk would.
fn injected(point: &str) -> sled::Error {
    sled::Error::Io(std::io::Error::other(format!("injected fault at {point}")))
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

fn chunk_seq(k: &[u8]) -> Result<u64, OutboxError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| OutboxError::Corrupt("chunk key is not 8 bytes".into()))
}

/// The length of the entry at the start of `bytes` (tag, length, record),
/// or `None` at the end or on damage.
fn entry_len(bytes: &[u8]) -> Option<usize> {
    let (&tag, mut rest) = bytes.split_first()?;
    if tag != ENTRY_TAG {
        return None;
    }
    let before = rest.len();
    let len = usize::try_from(decode_varint(&mut rest).ok()?).ok()?;
    let total = 1 + (before - rest.len()) + len;
    (total <= bytes.len()).then_some(total)
}

/// The entries of a chunk, each as (offset, length) within it.
fn chunk_entries(chunk: &[u8]) -> Result<Vec<(usize, usize)>, OutboxError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < chunk.len() {
        let len = entry_len(&chunk[at..])
            .ok_or_else(|| OutboxError::Corrupt("an outbox chunk is damaged".into()))?;
        out.push((at, len));
        at += len;
    }
    Ok(out)
}

/// The record protobuf inside an entry.
fn entry_record(entry: &[u8]) -> &[u8] {
    let mut rest = entry.get(1..).unwrap_or_default();
    match decode_varint(&mut rest) {
        Ok(_) => rest,
        Err(_) => &[],
    }
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
    /// The encoded `DeskMessage { batch: RecordBatch { .. } }`, numbered
    /// as the hub counts `incarnation`.
    pub fn message(&self, incarnation: Incarnation, outbox_last_seq: u64) -> Bytes {
        let first_seq = incarnation.wire(self.first_seq);
        let outbox_last_seq = incarnation.wire(outbox_last_seq);
        let batch_len = 1
            + encoded_len_varint(first_seq)
            + self.entries.len()
            + 2
            + encoded_len_varint(outbox_last_seq);
        let mut out = BytesMut::with_capacity(1 + encoded_len_varint(batch_len as u64) + batch_len);
        // DeskMessage.batch = 2
        encode_key(2, WireType::LengthDelimited, &mut out);
        encode_varint(batch_len as u64, &mut out);
        // RecordBatch.first_seq = 1, records = 2, outbox_last_seq = 20
        encode_key(1, WireType::Varint, &mut out);
        encode_varint(first_seq, &mut out);
        out.put_slice(&self.entries);
        encode_key(20, WireType::Varint, &mut out);
        encode_varint(outbox_last_seq, &mut out);
        out.freeze()
    }
}

impl Outbox {
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, OutboxError> {
        // Every flush goes through the flusher thread (see `Flusher`).
        // Acknowledgements are not flushed on their own: after a crash the
        // desk resends them and the hub answers from what it holds.
        let db = runtime::embedded::open_sled(path, cache_bytes)?;
        let tree = db.open_tree("outbox")?;
        let old_trees = db
            .tree_names()
            .iter()
            .any(|n| n.starts_with(OLD_RUN_PREFIX.as_bytes()));
        if old_trees || tree.scan_prefix([b'o']).next().is_some() {
            return Err(OutboxError::Corrupt(
                "this outbox has the record layout of an earlier desk-agent version; \
                 let that version send its queue to the hub (`desk-agent status` shows \
                 pending 0), then start this version on a fresh data folder"
                    .into(),
            ));
        }
        let acked = read_counter(&tree, ACKED)?;
        let incarnation = match tree.get(INCARNATION)? {
            Some(v) => Incarnation::decode(&v)?,
            None => {
                let fresh = Incarnation {
                    id: uuid::Uuid::now_v7(),
                    base: 0,
                    lost: 0,
                };
                tree.insert(INCARNATION, &fresh.encode()[..])?;
                db.flush()?;
                fresh
            }
        };
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
            // Runs acknowledged whole are kept too: the next acknowledgement
            // drops them once their time is up (`drop_acked_runs`).
            runs.insert(run, db.open_tree(&name)?);
        }
        let mut newest = 0;
        for t in runs.values().rev() {
            if let Some((k, chunk)) = t.last()? {
                let held = chunk_entries(&chunk)?.len() as u64;
                if held == 0 {
                    return Err(OutboxError::Corrupt("an outbox chunk is empty".into()));
                }
                newest = chunk_seq(&k)? + held - 1;
                break;
            }
        }
        let last = newest.max(acked).max(read_counter(&tree, LAST)?);
        let flusher = Arc::new(Flusher {
            lock: Mutex::new(()),
            group: Mutex::new(Group {
                last,
                ..Group::default()
            }),
            wake: Condvar::new(),
            // Whatever sled recovered at open is on disk.
            durable: watch::Sender::new(Durable {
                seq: last,
                error: None,
            }),
            requests: requests::Requests::open(&db)?,
            // Records waiting since before this start count from now.
            written_at: Mutex::new(if last > acked {
                [(last, std::time::SystemTime::now())].into()
            } else {
                Default::default()
            }),
            runs: Runs {
                db,
                trees: Mutex::new(runs),
            },
        });
        let worker = Arc::clone(&flusher);
        std::thread::Builder::new()
            .name("outbox-flusher".into())
            .spawn(move || worker.run())
            .map_err(|e| OutboxError::Corrupt(format!("cannot start the flusher thread: {e}")))?;
        Ok(Self {
            tree,
            acked: AtomicU64::new(acked),
            incarnation: Mutex::new(incarnation),
            keep_acked: Duration::ZERO,
            reserve: None,
            keys_in_flight: Mutex::default(),
            changed: Notify::new(),
            flusher,
        })
    }

    /// Refuses intake while the disk holding `path` has less than `bytes`
    /// free; it records again by itself once space is back.
    pub fn with_reserve(mut self, path: &Path, bytes: u64) -> Self {
        self.reserve = Some(runtime::disk::Reserve::new(path, bytes));
        self
    }

    /// Keeps acknowledged records for `keep` after their run is
    /// acknowledged whole, unless the disk is down to its reserve.
    pub fn with_keep_acked(mut self, keep: Duration) -> Self {
        self.keep_acked = keep;
        self
    }

    pub fn reserve(&self) -> Option<&runtime::disk::Reserve> {
        self.reserve.as_ref()
    }

    fn check_reserve(&self) -> Result<(), OutboxError> {
        match &self.reserve {
            Some(r) => r.check().map_err(OutboxError::DiskFull),
            None => Ok(()),
        }
    }

    pub fn incarnation(&self) -> Incarnation {
        *self.incarnation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a new incarnation after everything acknowledged so far, once
    /// it is on disk: the hub numbers the records after the watermark from
    /// 1 again, apart from everything it held before. `lost`: records of
    /// the current one the hub no longer holds and the outbox cannot send.
    pub fn start_incarnation(&self, lost: u64) -> Result<Incarnation, OutboxError> {
        let mut current = self.incarnation.lock().unwrap_or_else(|e| e.into_inner());
        let next = Incarnation {
            id: uuid::Uuid::now_v7(),
            base: self.acked.load(Ordering::Acquire),
            lost,
        };
        self.tree.insert(INCARNATION, &next.encode()[..])?;
        self.flusher.flush()?;
        *current = next;
        Ok(next)
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
        self.append_keyed(record, None).await
    }

    /// As `append`, under an idempotency key: a key already used for the
    /// same visit gives back the first answer and stores nothing; one used
    /// for another visit is refused.
    pub async fn append_once(
        &self,
        record: &AnonymisedRecord,
        request_id: &str,
    ) -> Result<Appended, OutboxError> {
        let busy = || OutboxError::KeyBusy(request_id.to_owned());
        if !self
            .keys_in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(request_id.to_owned())
        {
            return Err(busy());
        }
        let result = self.append_new_key(record, request_id).await;
        self.keys_in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(request_id);
        result
    }

    async fn append_new_key(
        &self,
        record: &AnonymisedRecord,
        request_id: &str,
    ) -> Result<Appended, OutboxError> {
        let wire = proto::AnonymisedRecord::from(record.to_raw());
        match self.flusher.requests.lookup(request_id, &wire)? {
            // A repeat stores nothing, so it is answered on a full disk too.
            requests::Prior::Same { seq, record } => Ok(Appended {
                seq,
                record: *record,
                repeat: true,
            }),
            requests::Prior::Differs => Err(OutboxError::KeyReused(request_id.to_owned())),
            requests::Prior::None => Ok(Appended {
                seq: self.append_keyed(record, Some(request_id)).await?,
                record: wire,
                repeat: false,
            }),
        }
    }

    async fn append_keyed(
        &self,
        record: &AnonymisedRecord,
        request_id: Option<&str>,
    ) -> Result<u64, OutboxError> {
        self.check_reserve()?;
        let record = proto::WireRecord::new(record);
        let len = record.encoded_len();
        let (tx, rx) = oneshot::channel();
        let first_in_group = {
            let mut group = self.flusher.group.lock().unwrap_or_else(|e| e.into_inner());
            let entries = &mut group.entries;
            entries.reserve(1 + encoded_len_varint(len as u64) + len);
            entries.push(ENTRY_TAG);
            encode_varint(len as u64, entries);
            record.encode(entries);
            group.last += 1;
            group.count += 1;
            group.waiters.push(Waiter {
                answer: tx,
                request_id: request_id.map(str::to_owned),
            });
            group.count == 1
        };
        // One write and one flush cover every record grouped before them,
        // so concurrent intakes share their cost. The flusher sleeps only on
        // an empty group, so the intake that starts one is the one to wake it.
        if first_in_group {
            self.flusher.wake.notify_one();
        }
        // The sequence is known only once written: a failed write before it
        // hands its sequences to the records grouped after it.
        match rx.await {
            Ok(Ok(seq)) => {
                self.changed.notify_one();
                Ok(seq)
            }
            Ok(Err(why)) => Err(OutboxError::Flush(why.to_string())),
            Err(_) => Err(OutboxError::Corrupt("the outbox flusher stopped".into())),
        }
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
        let missing = |seq| OutboxError::Corrupt(format!("record {seq} is missing"));
        while next <= until {
            let tree = self
                .flusher
                .runs
                .held(run_of(next))
                .ok_or_else(|| missing(next))?;
            let to = until.min(run_end(run_of(next)));
            // The chunk holding `next` starts at or before it.
            let start = match tree.range(..=next.to_be_bytes()).next_back() {
                Some(kv) => kv?.0,
                None => return Err(missing(next)),
            };
            for kv in tree.range(start..) {
                let (k, chunk) = kv?;
                let first = chunk_seq(&k)?;
                if first > next {
                    break;
                }
                let offsets = chunk_entries(&chunk)?;
                let skip = (next - first) as usize;
                let take = offsets
                    .len()
                    .saturating_sub(skip)
                    .min((to - next + 1) as usize);
                if take == 0 {
                    break;
                }
                let (from, _) = offsets[skip];
                let (at, len) = offsets[skip + take - 1];
                if entries.is_empty() {
                    entries.reserve(max.min(1000) * (chunk.len() / offsets.len() + 1));
                }
                entries.put_slice(&chunk[from..at + len]);
                next += take as u64;
                if next > to {
                    break;
                }
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

    /// Whether the outbox still holds record `seq` (acknowledged records stay
    /// until their whole run is).
    pub fn holds(&self, seq: u64) -> Result<bool, OutboxError> {
        Ok(seq >= 1 && seq <= self.durable_seq() && self.record(seq)?.is_some())
    }

    /// The stored protobuf of record `seq`, if the outbox holds it.
    fn record(&self, seq: u64) -> Result<Option<Vec<u8>>, OutboxError> {
        let Some(tree) = self.flusher.runs.held(run_of(seq)) else {
            return Ok(None);
        };
        let Some(kv) = tree.range(..=seq.to_be_bytes()).next_back() else {
            return Ok(None);
        };
        let (k, chunk) = kv?;
        let offsets = chunk_entries(&chunk)?;
        Ok(offsets
            .get((seq - chunk_seq(&k)?) as usize)
            .map(|(at, len)| entry_record(&chunk[*at..at + len]).to_vec()))
    }

    /// Applies the hub's acknowledgement: everything up to `up_to` is held by
    /// the hub, except `rejected`, which moves to quarantine with its reason.
    /// Only the watermark moves; a record tree goes once wholly acknowledged.
    pub fn ack(&self, up_to: u64, rejected: &[(u64, String)]) -> Result<(), OutboxError> {
        let acked = self.acked.load(Ordering::Acquire);
        if up_to <= acked {
            return Ok(());
        }
        let last = self.last_seq()?;
        if up_to > last {
            // Taking it would put sequences given later below the
            // watermark, and they would never be sent.
            return Err(OutboxError::AheadOfOutbox(up_to, last));
        }
        let mut batch = sled::Batch::default();
        let mut quarantined = 0u64;
        let mut refused: Vec<&(u64, String)> = rejected
            .iter()
            .filter(|(s, _)| *s > acked && *s <= up_to)
            .collect();
        refused.sort_by_key(|(s, _)| *s);
        refused.dedup_by_key(|(s, _)| *s);
        for (seq, reason) in refused {
            let Some(v) = self.record(*seq)? else {
                continue;
            };
            let mut value = Vec::with_capacity(4 + reason.len() + v.len());
            value.extend_from_slice(&(reason.len() as u32).to_be_bytes());
            value.extend_from_slice(reason.as_bytes());
            value.extend_from_slice(&v);
            batch.insert(&key(b'q', *seq), value);
            quarantined += 1;
        }
        let removed = up_to.saturating_sub(acked);
        batch.insert(ACKED, &up_to.to_be_bytes());
        batch.insert(
            SENT,
            &(self.counter(SENT)? + removed - quarantined).to_be_bytes(),
        );
        self.tree.apply_batch(batch)?;
        self.acked.fetch_max(up_to, Ordering::AcqRel);
        {
            let mut times = self
                .flusher
                .written_at
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            while times.front().is_some_and(|(last, _)| *last <= up_to) {
                times.pop_front();
            }
        }
        self.drop_acked_runs(up_to)
    }

    /// Drops the record trees wholly at or below `acked` whose time is up
    /// (`keep_acked` after they were first seen acknowledged whole; at once
    /// when the disk is down to its reserve), once the watermark that makes
    /// them unneeded is on disk: a drop that outlived the watermark in a
    /// crash would lose the last sequence given.
    fn drop_acked_runs(&self, acked: u64) -> Result<(), OutboxError> {
        let runs = &self.flusher.runs;
        let candidates: Vec<u64> = {
            let trees = runs.trees.lock().unwrap_or_else(|e| e.into_inner());
            trees
                .keys()
                .copied()
                .take_while(|r| run_end(*r) <= acked)
                .collect()
        };
        if candidates.is_empty() {
            return Ok(());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let pressed = self.check_reserve().is_err();
        let mut done = Vec::new();
        for run in candidates {
            if self.keep_acked.is_zero() || pressed {
                done.push(run);
                continue;
            }
            let mark = key(b'd', run);
            let since = match self.tree.get(mark)? {
                Some(v) => <[u8; 8]>::try_from(v.as_ref())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0),
                None => {
                    self.tree.insert(mark, &now.to_be_bytes())?;
                    now
                }
            };
            if now.saturating_sub(since) >= self.keep_acked.as_secs() {
                done.push(run);
            }
        }
        if done.is_empty() {
            return Ok(());
        }
        self.flusher.flush()?;
        for run in done {
            runs.trees
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&run);
            runs.db.drop_tree(run_name(run))?;
            self.tree.remove(key(b'd', run))?;
        }
        Ok(())
    }

    pub fn last_seq(&self) -> Result<u64, OutboxError> {
        Ok(self
            .flusher
            .group
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last)
    }

    pub fn acked_seq(&self) -> Result<u64, OutboxError> {
        Ok(self.acked.load(Ordering::Acquire))
    }

    pub fn sent(&self) -> Result<u64, OutboxError> {
        self.counter(SENT)
    }

    pub fn pending(&self) -> Result<u64, OutboxError> {
        Ok(self.last_seq()?.saturating_sub(self.acked_seq()?))
    }

    /// How many records are in quarantine.
    pub fn quarantined(&self) -> Result<u64, OutboxError> {
        let mut n = 0;
        for kv in self.tree.scan_prefix([b'q']).keys() {
            kv?;
            n += 1;
        }
        Ok(n)
    }

    /// How long the oldest record not yet acknowledged has waited.
    pub fn oldest_unacked_age(&self) -> Option<Duration> {
        let times = self
            .flusher
            .written_at
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        times
            .front()
            .map(|(_, at)| at.elapsed().unwrap_or_default())
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
pub(crate) mod tests;
