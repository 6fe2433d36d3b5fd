//! The ingest half of [`SledStore`]: group commits of desk batches, and
//! everything that reads them back (records, refusals, counts, verify).
//!
//! A group commit is one atomic `apply_batch` of, per desk batch, the
//! segments holding the records kept (`segment`, at most `SEGMENT_BYTES`
//! each), the record id runs they add to (`ids`), the refusals and the
//! desk's progress, then one flush. A record id is checked against the ids
//! of its own group commit in memory, then against the id run it falls in,
//! read once per group: fresh ids fall in the hot runs at the right edge
//! (`ids.rs`).
//!
//! The counts are derived from the records, like the id index: each commit
//! adds its records to an in-memory tally, and every `COUNTS_EVERY` records
//! (and on `flush`) a commit also merges that tally into the stored cells
//! of the weeks touched (`cubes`) and stores, per desk, the last sequence
//! the stored cells include (`k`). Both travel in that commit's one atomic
//! write, so at open the tally is rebuilt exactly from the segments after
//! each desk's `k`; reads add the tally to the stored cells. A commit thus
//! rewrites the count cells once per hundred thousand records instead of
//! once per commit.
//!
//! Nothing else is rebuilt at open: what an open reads is the segments after
//! each stream's checkpoint (a ranged scan per stream, at most
//! `COUNTS_EVERY` records in all), so that the time to serving and the page
//! cache it fills do not grow with the history held.

use super::{decode_u64, SledStore};
use crate::storage::cubes::{self, Cells, Tally};
use crate::storage::ids;
use crate::storage::segment;
use crate::storage::{
    AppendOutcome, CountCell, DeskAppend, DeskProgress, StorageError, Verification,
    COUNT_DIMENSIONS,
};
use domain::{AnonymisedRecord, RawRecord};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Count cells kept in memory between commits; beyond this (about 100
/// bytes a cell) the cache is dropped and the weeks are read again.
const CACHED_CELLS: usize = 200_000;

/// Records tallied in memory before a commit stores them in the count
/// cells: bounds the tally (a few MiB) and the replay at open. A few in
/// tests, so that they cross checkpoints.
#[cfg(not(test))]
const COUNTS_EVERY: usize = 100_000;
#[cfg(test)]
const COUNTS_EVERY: usize = 7;

/// A segment's size before the next record starts another: sixteen to a
/// sled leaf stay below its blob threshold, so a commit never rewrites a
/// large page (a few records in tests, so that batches cross segments).
#[cfg(not(test))]
const SEGMENT_BYTES: usize = 6 * 1024;
#[cfg(test)]
const SEGMENT_BYTES: usize = 512;

/// Present once the store keeps counts checkpoints (`k` keys); a store
/// without it, written when every commit stored its counts, has all its
/// records counted.
const CHECKPOINTS: &[u8] = b"vcounts";

/// Present once the store counts `mediator`: a store without it was
/// written before the field and is given its cubes at open
/// (`cubes::mediator_cells_of`), once.
const MEDIATOR_COUNTED: &[u8] = b"vmediator";

/// `verify` folds its recount into string keys every this many records, so
/// that its tally's memory stays small.
const VERIFY_CHUNK: usize = 100_000;

/// Where an incarnation's sequences are kept: the desk id for its first, so
/// that history kept before incarnations is the first, `desk#n` after it.
pub(super) fn stream_key(desk_id: &str, incarnation: u32) -> String {
    if incarnation == 0 {
        desk_id.to_owned()
    } else {
        format!("{desk_id}#{incarnation}")
    }
}

pub(super) fn desk_seq_key(prefix: u8, stream: &str, seq: u64) -> Vec<u8> {
    desk_seq_key_bytes(prefix, stream.as_bytes(), seq)
}

fn desk_seq_key_bytes(prefix: u8, stream: &[u8], seq: u64) -> Vec<u8> {
    let mut k = desk_prefix_bytes(prefix, stream);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub(super) fn desk_prefix(prefix: u8, stream: &str) -> Vec<u8> {
    desk_prefix_bytes(prefix, stream.as_bytes())
}

fn desk_prefix_bytes(prefix: u8, stream: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 10);
    k.push(prefix);
    k.extend_from_slice(stream);
    k.push(b'/');
    k
}

pub(super) fn seq_of(key: &[u8]) -> Result<u64, StorageError> {
    let tail = key
        .len()
        .checked_sub(8)
        .and_then(|at| key.get(at..))
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .ok_or_else(|| StorageError::Corrupt("short sequence key".into()))?;
    Ok(u64::from_be_bytes(tail))
}

fn checkpoint_key(stream: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 1);
    k.push(b'k');
    k.extend_from_slice(stream);
    k
}

fn progress_key(stream: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 1);
    k.push(b's');
    k.extend_from_slice(stream.as_bytes());
    k
}

/// Every stream's progress as the store holds it, by stream key: read at
/// open, and again after a flush that followed a failed one.
pub(super) fn flushed_progress(
    tree: &sled::Tree,
) -> Result<HashMap<String, DeskProgress>, StorageError> {
    let mut out = HashMap::new();
    for kv in tree.scan_prefix([b's']) {
        let (k, v) = kv?;
        out.insert(
            String::from_utf8_lossy(&k[1..]).into_owned(),
            decode_progress(&v)?,
        );
    }
    Ok(out)
}

fn encode_progress(p: &DeskProgress) -> [u8; 24] {
    let mut v = [0u8; 24];
    v[..8].copy_from_slice(&p.last_seq.to_be_bytes());
    v[8..16].copy_from_slice(&p.records.to_be_bytes());
    v[16..].copy_from_slice(&p.rejected.to_be_bytes());
    v
}

pub(super) fn decode_progress(bytes: &[u8]) -> Result<DeskProgress, StorageError> {
    if bytes.len() != 24 {
        return Err(StorageError::Corrupt(
            "desk progress is not 24 bytes".into(),
        ));
    }
    Ok(DeskProgress {
        last_seq: decode_u64(&bytes[..8])?,
        records: decode_u64(&bytes[8..16])?,
        rejected: decode_u64(&bytes[16..])?,
    })
}

/// What group commits keep in memory: the desks whose records are not yet
/// in the stored cells. Bounded by the number of streams, not by history.
pub(super) struct Writer {
    /// Desks with records in `Counts::pending`, and their last sequence
    /// committed.
    uncounted: HashMap<String, u64>,
    /// A commit was written and its flush has not succeeded: what sled
    /// serves is ahead of the disk until a flush does.
    pub(super) unflushed: bool,
}

/// The counts not yet in the stored cells, and the count cells of the
/// cube-weeks written lately. Apart from the `Writer` behind their own lock,
/// held only while they change or are read, never across a flush: a stats
/// query must not wait for a group commit's fsync, nor slow it down.
#[derive(Default)]
pub(super) struct Counts {
    /// Records committed since the last counts checkpoint, counted.
    pending: Tally,
    cells: HashMap<(usize, String), Cells>,
    cached: usize,
}

impl Writer {
    /// The tally of the records after each desk's counts checkpoint, for
    /// `SledStore::open` (and the id keys of a store without them). A store
    /// of the earlier layout (one key per record, prefixes `r` and `i`) is
    /// refused rather than misread: no deployment holds one, so there is no
    /// migration.
    pub(super) fn load(tree: &sled::Tree) -> Result<(Self, Counts), StorageError> {
        for old in [b'r', b'i'] {
            if tree.scan_prefix([old]).next().is_some() {
                return Err(StorageError::Corrupt(
                    "this store has the record layout of an earlier hub version; \
                     start from a fresh data folder"
                        .into(),
                ));
            }
        }
        let mut counted: HashMap<Vec<u8>, u64> = HashMap::new();
        if tree.get(CHECKPOINTS)?.is_none() {
            // Every record of this store is in its stored cells.
            for kv in tree.scan_prefix([b's']) {
                let (k, v) = kv?;
                let desk = k[1..].to_vec();
                tree.insert(
                    checkpoint_key(&desk),
                    &decode_progress(&v)?.last_seq.to_be_bytes(),
                )?;
            }
            tree.insert(CHECKPOINTS, &[1u8][..])?;
        }
        if tree.get(MEDIATOR_COUNTED)?.is_none() {
            count_mediator_unknown(tree)?;
        }
        for kv in tree.scan_prefix([b'k']) {
            let (k, v) = kv?;
            counted.insert(k[1..].to_vec(), decode_u64(&v)?);
        }
        if tree.get(ids::BUILT)?.is_none() {
            let started = std::time::Instant::now();
            let n = ids::build(tree, super::retention::pruned_ids(tree)?)?;
            tracing::info!(
                ids = n,
                secs = started.elapsed().as_secs_f64(),
                "record id runs of a store from before them written, once"
            );
        }
        let mut pending = Tally::default();
        let mut uncounted = HashMap::new();
        // Every stream that ever stored a segment has its progress key.
        for kv in tree.scan_prefix([b's']) {
            let (k, _) = kv?;
            let stream = &k[1..];
            let after = counted.get(stream).copied().unwrap_or(0);
            let Some(from) = after.checked_add(1) else {
                continue;
            };
            let start = desk_seq_key_bytes(b'g', stream, from);
            // The stream's prefix ends in `/`; the next byte bounds it.
            let mut end = desk_prefix_bytes(b'g', stream);
            if let Some(last) = end.last_mut() {
                *last += 1;
            }
            for kv in tree.range(start..end) {
                let (_, seg) = kv?;
                for entry in segment::entries(&segment::open(&seg)?) {
                    let entry = entry?;
                    pending.add(&entry.decode()?);
                    uncounted.insert(String::from_utf8_lossy(stream).into_owned(), entry.seq);
                }
            }
        }
        Ok((
            Self {
                uncounted,
                unflushed: false,
            },
            Counts {
                pending,
                ..Counts::default()
            },
        ))
    }
}

/// Gives a store written before `mediator` was counted the cubes over it,
/// in one atomic write with the mark that says it is done. Its stored
/// cells (and those kept of pruned records, `p`) become cells of
/// `unknown`; the records after each desk's checkpoint are replayed at open
/// with the rest, and counted as `unknown` there, since none of them
/// carries a mediator. So the counts still equal a recount (`hub verify`).
fn count_mediator_unknown(tree: &sled::Tree) -> Result<(), StorageError> {
    let mut batch = sled::Batch::default();
    for prefix in [b'c', b'p'] {
        let mut derived = HashMap::new();
        for kv in tree.scan_prefix([prefix]) {
            let (k, v) = kv?;
            let mut key = k.to_vec();
            key[0] = b'c';
            let (cube, week) = cubes::parse_key(&key)?;
            cubes::mediator_cells_of(cube, &week, &cubes::decode(&v)?, &mut derived);
        }
        for ((cube, week), cells) in derived {
            let mut key = cubes::key(cube, &week);
            key[0] = prefix;
            batch.insert(key, cubes::encode(&cells));
        }
    }
    batch.insert(MEDIATOR_COUNTED, &[1u8][..]);
    tree.apply_batch(batch)?;
    Ok(())
}

impl Counts {
    /// The stored cells of one cube-week, from memory or from disk.
    fn cells(
        &mut self,
        tree: &sled::Tree,
        cube: usize,
        week: String,
    ) -> Result<&mut Cells, StorageError> {
        use std::collections::hash_map::Entry;
        match self.cells.entry((cube, week)) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let cells = match tree.get(cubes::key(cube, &e.key().1))? {
                    Some(v) => cubes::decode(&v)?,
                    None => Cells::new(),
                };
                self.cached += cells.len();
                Ok(e.insert(cells))
            }
        }
    }
}

impl SledStore {
    pub(super) fn counts_lock(&self) -> std::sync::MutexGuard<'_, Box<Counts>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts the writer and the counts back to what the store holds, after a
    /// failed write left them ahead of it.
    pub(super) fn reload(&self, writer: &mut Writer) -> Result<(), StorageError> {
        let (w, counts) = Writer::load(&self.ingest)?;
        *writer = w;
        **self.counts_lock() = counts;
        Ok(())
    }

    pub(super) fn append_batches(
        &self,
        batches: &[DeskAppend],
    ) -> Result<Vec<AppendOutcome>, StorageError> {
        // One group commit at a time: the id check, the tally and the index
        // update must each see the previous commit whole.
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        // A flush failed since the last one that succeeded: what this
        // flush makes durable may reach beyond this group's streams.
        let behind = writer.unflushed;
        let written = self.write_group(&mut writer, batches);
        if written.is_err() {
            // The tally and the cached cells may be ahead of the store.
            self.reload(&mut writer)?;
        }
        let (mut outcomes, resent, progress) = written?;
        writer.unflushed = true;
        self.flush_serialised()?;
        writer.unflushed = false;
        if behind {
            *self.durable_lock() = flushed_progress(&self.ingest)?;
        } else {
            self.durable_lock().extend(progress);
        }
        drop(writer);

        for i in resent {
            let b = &batches[i];
            outcomes[i].rejected = self.read_rejections(
                &stream_key(&b.desk_id, b.incarnation),
                b.first_seq.saturating_sub(1),
                b.last_seq,
                // A batch's range is bounded by the batch size.
                usize::MAX,
            )?;
        }
        Ok(outcomes)
    }

    /// Streams' progress as it is on disk, from what the last successful
    /// flush made durable: never a watermark a failed flush left in sled
    /// alone, and never a wait for the group commit under way (a page or a
    /// desk's welcome would otherwise wait for its fsync).
    pub(super) fn durable_progress(&self, streams: &[String]) -> Vec<DeskProgress> {
        let durable = self.durable_lock();
        streams
            .iter()
            .map(|s| durable.get(s).copied().unwrap_or_default())
            .collect()
    }

    pub(super) fn durable_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, DeskProgress>> {
        self.durable.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks and writes a group commit, not yet flushed; the outcomes,
    /// and which of them are resends to answer from disk.
    #[allow(clippy::type_complexity)]
    fn write_group(
        &self,
        writer: &mut Writer,
        batches: &[DeskAppend],
    ) -> Result<
        (
            Vec<AppendOutcome>,
            Vec<usize>,
            HashMap<String, DeskProgress>,
        ),
        StorageError,
    > {
        let mut batch = sled::Batch::default();
        let mut progress: HashMap<String, DeskProgress> = HashMap::new();
        let mut ids_in_group: HashSet<u128> = HashSet::new();
        let mut id_runs = ids::Group::new(&self.ingest);
        // Counted once sled serves them (`commit`).
        let mut counted: Vec<&AnonymisedRecord> = Vec::new();
        let mut outcomes = Vec::with_capacity(batches.len());
        // Batches wholly held already are answered from disk after the write,
        // so that a resend gets back the refusals of its first delivery.
        let mut resent = Vec::new();

        for b in batches {
            let stream = stream_key(&b.desk_id, b.incarnation);
            let p = match progress.get(&stream) {
                Some(p) => *p,
                None => self.read_progress(&stream)?,
            };
            if b.last_seq <= p.last_seq {
                resent.push(outcomes.len());
                outcomes.push(AppendOutcome {
                    up_to_seq: b.last_seq,
                    rejected: Vec::new(),
                    stored: 0,
                    refused: 0,
                });
                continue;
            }
            if b.first_seq > p.last_seq.saturating_add(1) {
                // The federation refuses gaps (`Session::check`); one here
                // is a caller's bug, and failing the group for it would fail
                // the other desks' batches with it.
                tracing::warn!(desk_id = %b.desk_id, held = p.last_seq, first_seq = b.first_seq,
                    "sequence gap: the desk sent records the hub never held before");
            }
            let mut next = p;
            let mut rejected = Vec::new();
            for (seq, reason) in b.rejected.iter().filter(|(s, _)| *s > p.last_seq) {
                batch.insert(desk_seq_key(b'x', &stream, *seq), reason.as_bytes());
                rejected.push((*seq, reason.clone()));
                next.rejected += 1;
            }
            // Room for the record that crosses the size, so that no segment
            // is copied as it grows.
            let segment = || Vec::with_capacity(SEGMENT_BYTES + 1024);
            let mut kept = segment();
            let mut first_kept = None;
            for (seq, record) in b.accepted.iter().filter(|(s, _)| *s > p.last_seq) {
                let id = record.id();
                // The group's own ids first: they are not on disk yet.
                if !ids_in_group.insert(id.as_u128()) || id_runs.held(id.as_u128())? {
                    let reason = format!("{} {id}: already stored", domain::ALREADY_HELD);
                    batch.insert(desk_seq_key(b'x', &stream, *seq), reason.as_bytes());
                    rejected.push((*seq, reason));
                    next.rejected += 1;
                    continue;
                }
                counted.push(record);
                if kept.len() >= SEGMENT_BYTES {
                    if let Some(first) = first_kept.take() {
                        batch.insert(
                            desk_seq_key(b'g', &stream, first),
                            segment::seal(std::mem::replace(&mut kept, segment())),
                        );
                    }
                }
                first_kept.get_or_insert(*seq);
                segment::push(&mut kept, *seq, record);
                id_runs.add(id.as_u128())?;
                next.records += 1;
            }
            if let Some(first) = first_kept {
                batch.insert(desk_seq_key(b'g', &stream, first), segment::seal(kept));
            }
            rejected.sort_unstable_by_key(|(s, _)| *s);
            next.last_seq = b.last_seq;
            progress.insert(stream, next);
            outcomes.push(AppendOutcome {
                up_to_seq: b.last_seq,
                rejected,
                stored: next.records - p.records,
                refused: next.rejected - p.rejected,
            });
        }

        for (stream, p) in &progress {
            batch.insert(progress_key(stream), &encode_progress(p)[..]);
        }
        // In the segments' batch, so that no crash parts an id from its record.
        id_runs.write(&mut batch);
        for (stream, p) in &progress {
            writer.uncounted.insert(stream.clone(), p.last_seq);
        }
        self.commit(writer, batch, &counted, false)?;
        Ok((outcomes, resent, progress))
    }

    /// Stores a commit's batch, whose new records are `counted`; with
    /// `checkpoint`, or when the pending tally has grown to `COUNTS_EVERY`,
    /// also merges the tally into the stored cells in the same atomic write.
    pub(super) fn commit(
        &self,
        writer: &mut Writer,
        mut batch: sled::Batch,
        counted: &[&AnonymisedRecord],
        checkpoint: bool,
    ) -> Result<(), StorageError> {
        // Locked until sled serves the batch (not through its flush), so
        // that a reader sees the tally and the stored cells of one state:
        // never a record counted twice, nor one not yet written or whose
        // write failed.
        let mut counts = self.counts_lock();
        let checkpoint = checkpoint || counts.pending.records() + counted.len() >= COUNTS_EVERY;
        let add = |counts: &mut Counts| {
            for record in counted {
                counts.pending.add_values(cubes::record_values(record));
            }
        };
        if checkpoint {
            add(&mut counts);
            for ((cube, week), delta) in counts.pending.drain() {
                let key = cubes::key(cube, &week);
                let cells = counts.cells(&self.ingest, cube, week)?;
                let before = cells.len();
                for (values, n) in delta {
                    *cells.entry(values).or_default() += n;
                }
                let grown = cells.len() - before;
                batch.insert(key, cubes::encode(cells));
                counts.cached += grown;
            }
            for (stream, last) in writer.uncounted.drain() {
                batch.insert(checkpoint_key(stream.as_bytes()), &last.to_be_bytes()[..]);
            }
        }
        fail::fail_point!("store-append", |_| Err(super::injected("store-append")));
        {
            let _w = self.writing();
            self.ingest.apply_batch(batch)?;
        }
        if !checkpoint {
            add(&mut counts);
        }
        if counts.cached > CACHED_CELLS {
            counts.cells.clear();
            counts.cached = 0;
        }
        Ok(())
    }

    /// Merges the pending tally into the stored cells and makes it durable,
    /// so that the next open replays nothing (`Store::flush`).
    pub(super) fn checkpoint_counts(&self) -> Result<(), StorageError> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if self.counts_lock().pending.records() > 0 {
            if let Err(e) = self.commit(&mut writer, sled::Batch::default(), &[], true) {
                self.reload(&mut writer)?;
                return Err(e);
            }
        }
        drop(writer);
        self.flush_serialised()
    }

    pub(super) fn read_progress(&self, stream: &str) -> Result<DeskProgress, StorageError> {
        match self.ingest.get(progress_key(stream))? {
            Some(v) => decode_progress(&v),
            None => Ok(DeskProgress::default()),
        }
    }

    pub(super) fn read_rejections(
        &self,
        stream: &str,
        after: u64,
        up_to: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StorageError> {
        if up_to <= after {
            return Ok(Vec::new());
        }
        let from = desk_seq_key(b'x', stream, after + 1);
        let to = desk_seq_key(b'x', stream, up_to);
        let mut out = Vec::new();
        for kv in self.ingest.range(from..=to).take(limit) {
            let (k, v) = kv?;
            out.push((seq_of(&k)?, String::from_utf8_lossy(&v).into_owned()));
        }
        Ok(out)
    }

    /// The counts over `dims`, of the weeks `from..=to` when given.
    pub(super) fn read_counts(
        &self,
        dims: &[&str],
        weeks: Option<(&str, &str)>,
    ) -> Result<Vec<CountCell>, StorageError> {
        let idx = dims
            .iter()
            .map(|d| {
                COUNT_DIMENSIONS
                    .iter()
                    .position(|f| f == d)
                    .ok_or_else(|| StorageError::NotCounted(dims.join(",")))
            })
            .collect::<Result<Vec<usize>, _>>()?;
        let (cube, at) =
            cubes::cube_for(&idx).ok_or_else(|| StorageError::NotCounted(dims.join(",")))?;
        if weeks.is_some_and(|(from, to)| from > to) {
            return Ok(Vec::new());
        }
        let mut out: BTreeMap<Vec<String>, u64> = BTreeMap::new();
        // Under the counts' lock, so that no checkpoint moves the tally
        // into the stored cells between the two reads; never the writer's,
        // which a group commit holds through its flush.
        let weekly: Vec<(String, Cells)> = {
            let counts = self.counts_lock();
            let mut weekly = Vec::new();
            let stored = match weeks {
                Some((from, to)) => self
                    .ingest
                    .range(cubes::key(cube, from)..=cubes::key(cube, to)),
                None => self.ingest.scan_prefix([b'c', cube as u8]),
            };
            for kv in stored {
                let (k, v) = kv?;
                weekly.push((cubes::parse_key(&k)?.1, cubes::decode(&v)?));
            }
            weekly.extend(counts.pending.cube(cube).into_iter().filter(|(week, _)| {
                weeks.is_none_or(|(from, to)| week.as_str() >= from && week.as_str() <= to)
            }));
            weekly
        };
        for (week, cells) in weekly {
            for ((a, b), n) in cells {
                let mut values = Vec::with_capacity(1 + at.len());
                values.push(week.clone());
                values.extend(
                    at.iter()
                        .map(|i| if *i == 0 { a.clone() } else { b.clone() }),
                );
                *out.entry(values).or_default() += n;
            }
        }
        Ok(out
            .into_iter()
            .map(|(values, count)| CountCell { values, count })
            .collect())
    }

    pub(super) fn read_records(&self, stream: &str) -> Result<Vec<(u64, RawRecord)>, StorageError> {
        let mut out = Vec::new();
        for kv in self.ingest.scan_prefix(desk_prefix(b'g', stream)) {
            let (_, seg) = kv?;
            for entry in segment::entries(&segment::open(&seg)?) {
                let entry = entry?;
                out.push((entry.seq, entry.decode()?));
            }
        }
        Ok(out)
    }

    pub(super) fn verify_ingest(&self) -> Result<Verification, StorageError> {
        let mut v = Verification::default();
        let mut recount: HashMap<(usize, String), Cells> = HashMap::new();
        let mut tally = Tally::default();
        let mut last: HashMap<String, u64> = HashMap::new();
        let mut all_ids = Vec::new();
        for kv in self.ingest.scan_prefix([b'g']) {
            let (k, seg) = kv?;
            let stream = k
                .get(1..k.len().saturating_sub(9))
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .ok_or_else(|| StorageError::Corrupt("short segment key".into()))?;
            for entry in segment::entries(&segment::open(&seg)?) {
                let entry = entry?;
                let raw = entry.decode()?;
                v.records += 1;
                *v.per_desk.entry(raw.desk_id.clone()).or_default() += 1;
                let prev = last.insert(stream.clone(), entry.seq).unwrap_or(0);
                if entry.seq <= prev {
                    v.problems
                        .push(format!("{stream}: sequence {} out of order", entry.seq));
                }
                if uuid::Uuid::parse_str(&raw.id).map(|u| u.as_u128()).ok() != Some(entry.id) {
                    v.problems.push(format!(
                        "desk {}: sequence {} is indexed under another id",
                        raw.desk_id, entry.seq
                    ));
                }
                all_ids.push(entry.id);
                tally.add(&raw);
            }
            if tally.records() >= VERIFY_CHUNK {
                fold(&mut recount, tally.drain());
            }
        }
        fold(&mut recount, tally.drain());
        // What retention pruned is counted still: the live counts equal the
        // records left plus the cells kept of the pruned ones.
        let pruned_cells = super::retention::pruned_cells(&self.ingest)?;
        let pruned_counted: u64 = pruned_cells
            .iter()
            .filter(|((cube, _), _)| *cube == 0)
            .map(|(_, cells)| cells.values().sum::<u64>())
            .sum();
        fold(&mut recount, pruned_cells);
        let pruned_ids = super::retention::pruned_ids(&self.ingest)?;
        v.pruned = pruned_ids.len() as u64;
        if pruned_counted != v.pruned {
            v.problems.push(format!(
                "{} records pruned, and the counts kept of them hold {pruned_counted}",
                v.pruned
            ));
        }
        v.pruned_before = super::retention::pruned_before(&self.ingest)?;
        all_ids.extend(pruned_ids);
        all_ids.sort_unstable();
        let before = all_ids.len();
        all_ids.dedup();
        let repeated = before - all_ids.len();
        v.ids = all_ids.len() as u64;
        if repeated > 0 {
            v.problems
                .push(format!("{repeated} record ids are stored more than once"));
        }
        self.verify_id_runs(&all_ids, &mut v)?;
        let mut stored: HashMap<(usize, String), Cells> = HashMap::new();
        {
            // The stored cells and the tally as of one moment (see read_counts).
            let counts = self.counts_lock();
            for kv in self.ingest.scan_prefix([b'c']) {
                let (k, value) = kv?;
                stored.insert(cubes::parse_key(&k)?, cubes::decode(&value)?);
            }
            fold(&mut stored, counts.pending.cells());
        }
        v.counted = stored
            .iter()
            .filter(|((cube, _), _)| *cube == 0)
            .map(|(_, cells)| cells.values().sum::<u64>())
            .sum();
        if stored != recount {
            v.problems
                .push("counts differ from a recount of the records".into());
        }
        if v.ids != v.records + v.pruned {
            v.problems.push(format!(
                "{} ids indexed for {} records and {} pruned",
                v.ids, v.records, v.pruned
            ));
        }
        let mut pruned_of: BTreeMap<String, u64> = BTreeMap::new();
        // Per desk below; their sum is the pruned ids' number, so that a
        // desk's progress is checked against what was pruned of it.
        let per_stream = super::retention::pruned_per_stream(&self.ingest)?;
        if per_stream.values().sum::<u64>() != v.pruned {
            v.problems.push(format!(
                "{} records pruned, and the desks' pruned numbers add up to {}",
                v.pruned,
                per_stream.values().sum::<u64>()
            ));
        }
        for (stream, n) in per_stream {
            // Desk ids never hold `#` (`stream_key`).
            let desk = stream.split('#').next().unwrap_or_default().to_owned();
            *pruned_of.entry(desk).or_default() += n;
        }
        let desks: std::collections::BTreeSet<&String> =
            v.per_desk.keys().chain(pruned_of.keys()).collect();
        for desk in desks {
            let n = v.per_desk.get(desk).copied().unwrap_or(0);
            let gone = pruned_of.get(desk).copied().unwrap_or(0);
            let mut held = 0;
            for i in self.incarnation_numbers(desk)? {
                held += self.read_progress(&stream_key(desk, i))?.records;
            }
            if held != n + gone {
                v.problems.push(format!(
                    "desk {desk}: progress says {held} records, found {n} and {gone} pruned"
                ));
            }
        }
        Ok(v)
    }
}

impl SledStore {
    /// Checks the id runs against `ids` (sorted, each once): the ids of
    /// every record kept or pruned. Both are in id order, so one merge.
    fn verify_id_runs(&self, ids: &[u128], v: &mut Verification) -> Result<(), StorageError> {
        let (in_runs, problems) = ids::all(&self.ingest)?;
        v.problems.extend(problems);
        let (mut missing, mut extra) = (0u64, 0u64);
        let mut expected = ids.iter().peekable();
        for id in in_runs {
            while expected.next_if(|e| **e < id).is_some() {
                missing += 1;
            }
            if expected.next_if(|e| **e == id).is_none() {
                extra += 1;
            }
        }
        missing += expected.count() as u64;
        if missing > 0 {
            v.problems
                .push(format!("{missing} record ids held are in no id run"));
        }
        if extra > 0 {
            v.problems.push(format!(
                "{extra} ids in the id runs name no record held or pruned"
            ));
        }
        Ok(())
    }
}

fn fold(into: &mut HashMap<(usize, String), Cells>, part: HashMap<(usize, String), Cells>) {
    for (at, cells) in part {
        let slot = into.entry(at).or_default();
        for (values, n) in cells {
            *slot.entry(values).or_default() += n;
        }
    }
}
