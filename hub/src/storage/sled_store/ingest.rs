//! The ingest half of [`SledStore`]: group commits of desk batches, and
//! everything that reads them back (records, refusals, counts, verify).
//!
//! A group commit is one atomic `apply_batch` of, per desk batch, one
//! segment holding the records kept (`segment`), the refusals, the desk's
//! progress, and the counts cells of the weeks touched (`cubes`), then one
//! flush. Record ids are checked against the in-memory `IdIndex`, so that
//! nothing is read per record.

use super::super::cubes::{self, Cells, Tally};
use super::super::ids::IdIndex;
use super::super::segment;
use super::super::{
    AppendOutcome, CountCell, DeskAppend, DeskProgress, StorageError, Verification,
    COUNT_DIMENSIONS,
};
use super::{decode_u64, SledStore};
use domain::RawRecord;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Count cells kept in memory between commits; beyond this (about 100
/// bytes a cell) the cache is dropped and the weeks are read again.
const CACHED_CELLS: usize = 200_000;

/// `verify` folds its recount into string keys every this many records, so
/// that its tally's memory stays small.
const VERIFY_CHUNK: usize = 100_000;

pub(super) fn desk_seq_key(prefix: u8, desk_id: &str, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(desk_id.len() + 10);
    k.push(prefix);
    k.extend_from_slice(desk_id.as_bytes());
    k.push(b'/');
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn desk_prefix(prefix: u8, desk_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(desk_id.len() + 2);
    k.push(prefix);
    k.extend_from_slice(desk_id.as_bytes());
    k.push(b'/');
    k
}

fn seq_of(key: &[u8]) -> Result<u64, StorageError> {
    let tail = key
        .len()
        .checked_sub(8)
        .and_then(|at| key.get(at..))
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .ok_or_else(|| StorageError::Corrupt("short sequence key".into()))?;
    Ok(u64::from_be_bytes(tail))
}

fn progress_key(desk_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(desk_id.len() + 1);
    k.push(b's');
    k.extend_from_slice(desk_id.as_bytes());
    k
}

fn encode_progress(p: &DeskProgress) -> [u8; 24] {
    let mut v = [0u8; 24];
    v[..8].copy_from_slice(&p.last_seq.to_be_bytes());
    v[8..16].copy_from_slice(&p.records.to_be_bytes());
    v[16..].copy_from_slice(&p.rejected.to_be_bytes());
    v
}

fn decode_progress(bytes: &[u8]) -> Result<DeskProgress, StorageError> {
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

/// What group commits keep in memory: every record id held, and the count
/// cells of the cube-weeks written lately.
pub(super) struct Writer {
    ids: IdIndex,
    cells: HashMap<(usize, String), Cells>,
    cached: usize,
}

impl Writer {
    /// The id index over every stored segment, for `SledStore::open`. A
    /// store of the earlier layout (one key per record, prefixes `r` and
    /// `i`) is refused rather than misread: no deployment holds one, so
    /// there is no migration.
    pub(super) fn load(tree: &sled::Tree) -> Result<Self, StorageError> {
        for old in [b'r', b'i'] {
            if tree.scan_prefix([old]).next().is_some() {
                return Err(StorageError::Corrupt(
                    "this store has the record layout of an earlier hub version; \
                     start from a fresh data folder"
                        .into(),
                ));
            }
        }
        let mut ids = Vec::new();
        for kv in tree.scan_prefix([b'g']) {
            let (_, seg) = kv?;
            for entry in segment::entries(&seg) {
                ids.push(entry?.id);
            }
        }
        let (ids, repeated) = IdIndex::from_ids(ids);
        if repeated > 0 {
            tracing::error!(
                repeated,
                "record ids stored more than once; run `hub verify`"
            );
        }
        Ok(Self {
            ids,
            cells: HashMap::new(),
            cached: 0,
        })
    }

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
    pub(super) fn append_batches(
        &self,
        batches: &[DeskAppend],
    ) -> Result<Vec<AppendOutcome>, StorageError> {
        // One group commit at a time: the id check, the counts' read-modify-
        // write and the index update must each see the previous commit whole.
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = sled::Batch::default();
        let mut progress: HashMap<&str, DeskProgress> = HashMap::new();
        let mut tally = Tally::default();
        let mut ids_in_group: HashSet<u128> = HashSet::new();
        let mut outcomes = Vec::with_capacity(batches.len());
        // Batches wholly held already are answered from disk after the write,
        // so that a resend gets back the refusals of its first delivery.
        let mut resent = Vec::new();

        for b in batches {
            let p = match progress.get(b.desk_id.as_str()) {
                Some(p) => *p,
                None => self.read_progress(&b.desk_id)?,
            };
            if b.last_seq <= p.last_seq {
                resent.push(outcomes.len());
                outcomes.push(AppendOutcome {
                    up_to_seq: b.last_seq,
                    rejected: Vec::new(),
                });
                continue;
            }
            if b.first_seq > p.last_seq.saturating_add(1) {
                tracing::warn!(desk_id = %b.desk_id, held = p.last_seq, first_seq = b.first_seq,
                    "sequence gap: the desk sent records the hub never held before");
            }
            let mut next = p;
            let mut rejected = Vec::new();
            for (seq, reason) in b.rejected.iter().filter(|(s, _)| *s > p.last_seq) {
                batch.insert(desk_seq_key(b'x', &b.desk_id, *seq), reason.as_bytes());
                rejected.push((*seq, reason.clone()));
                next.rejected += 1;
            }
            let mut kept = Vec::new();
            let mut first_kept = None;
            for (seq, record) in b.accepted.iter().filter(|(s, _)| *s > p.last_seq) {
                let id = record.id();
                if writer.ids.contains(id.as_u128()) || !ids_in_group.insert(id.as_u128()) {
                    let reason = format!("duplicate record id {id}: already stored");
                    batch.insert(desk_seq_key(b'x', &b.desk_id, *seq), reason.as_bytes());
                    rejected.push((*seq, reason));
                    next.rejected += 1;
                    continue;
                }
                let raw = record.to_raw();
                tally.add(&raw);
                first_kept.get_or_insert(*seq);
                segment::push(&mut kept, *seq, id.as_u128(), raw);
                next.records += 1;
            }
            if let Some(first) = first_kept {
                batch.insert(desk_seq_key(b'g', &b.desk_id, first), kept);
            }
            rejected.sort_unstable_by_key(|(s, _)| *s);
            next.last_seq = b.last_seq;
            progress.insert(&b.desk_id, next);
            outcomes.push(AppendOutcome {
                up_to_seq: b.last_seq,
                rejected,
            });
        }

        for (desk_id, p) in &progress {
            batch.insert(progress_key(desk_id), &encode_progress(p)[..]);
        }
        // The cached cells are changed before the write; if it fails they
        // are dropped and read again from disk.
        let counted = || -> Result<(), StorageError> {
            for ((cube, week), delta) in tally.drain() {
                let key = cubes::key(cube, &week);
                let cells = writer.cells(&self.ingest, cube, week)?;
                let before = cells.len();
                for (values, n) in delta {
                    *cells.entry(values).or_default() += n;
                }
                let grown = cells.len() - before;
                batch.insert(key, cubes::encode(cells));
                writer.cached += grown;
            }
            self.ingest.apply_batch(batch)?;
            Ok(())
        };
        if let Err(e) = counted() {
            writer.cells.clear();
            writer.cached = 0;
            return Err(e);
        }
        if writer.cached > CACHED_CELLS {
            writer.cells.clear();
            writer.cached = 0;
        }
        // The index follows what sled now serves, flushed or not, as the
        // progress does.
        for id in ids_in_group {
            writer.ids.insert(id);
        }
        self.flush_serialised()?;
        drop(writer);

        for i in resent {
            let b = &batches[i];
            outcomes[i].rejected =
                self.read_rejections(&b.desk_id, b.first_seq.saturating_sub(1), b.last_seq)?;
        }
        Ok(outcomes)
    }

    pub(super) fn read_progress(&self, desk_id: &str) -> Result<DeskProgress, StorageError> {
        match self.ingest.get(progress_key(desk_id))? {
            Some(v) => decode_progress(&v),
            None => Ok(DeskProgress::default()),
        }
    }

    pub(super) fn read_rejections(
        &self,
        desk_id: &str,
        after: u64,
        up_to: u64,
    ) -> Result<Vec<(u64, String)>, StorageError> {
        if up_to <= after {
            return Ok(Vec::new());
        }
        let from = desk_seq_key(b'x', desk_id, after + 1);
        let to = desk_seq_key(b'x', desk_id, up_to);
        let mut out = Vec::new();
        for kv in self.ingest.range(from..=to) {
            let (k, v) = kv?;
            out.push((seq_of(&k)?, String::from_utf8_lossy(&v).into_owned()));
        }
        Ok(out)
    }

    pub(super) fn read_counts(&self, dims: &[&str]) -> Result<Vec<CountCell>, StorageError> {
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
        let mut out: BTreeMap<Vec<String>, u64> = BTreeMap::new();
        for kv in self.ingest.scan_prefix([b'c', cube as u8]) {
            let (k, v) = kv?;
            let (_, week) = cubes::parse_key(&k)?;
            for ((a, b), n) in cubes::decode(&v)? {
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

    pub(super) fn read_records(
        &self,
        desk_id: &str,
    ) -> Result<Vec<(u64, RawRecord)>, StorageError> {
        let mut out = Vec::new();
        for kv in self.ingest.scan_prefix(desk_prefix(b'g', desk_id)) {
            let (_, seg) = kv?;
            for entry in segment::entries(&seg) {
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
            let (_, seg) = kv?;
            for entry in segment::entries(&seg) {
                let entry = entry?;
                let raw = entry.decode()?;
                v.records += 1;
                *v.per_desk.entry(raw.desk_id.clone()).or_default() += 1;
                let prev = last.insert(raw.desk_id.clone(), entry.seq).unwrap_or(0);
                if entry.seq <= prev {
                    v.problems.push(format!(
                        "desk {}: sequence {} out of order",
                        raw.desk_id, entry.seq
                    ));
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
        let (index, repeated) = IdIndex::from_ids(all_ids);
        v.ids = index.len() as u64;
        if repeated > 0 {
            v.problems
                .push(format!("{repeated} record ids are stored more than once"));
        }
        let mut stored: HashMap<(usize, String), Cells> = HashMap::new();
        for kv in self.ingest.scan_prefix([b'c']) {
            let (k, value) = kv?;
            let (cube, week) = cubes::parse_key(&k)?;
            let cells = cubes::decode(&value)?;
            if cube == 0 {
                v.counted += cells.values().sum::<u64>();
            }
            stored.insert((cube, week), cells);
        }
        if stored != recount {
            v.problems
                .push("counts differ from a recount of the records".into());
        }
        if v.ids != v.records {
            v.problems
                .push(format!("{} ids indexed for {} records", v.ids, v.records));
        }
        for (desk, n) in &v.per_desk {
            let p = self.read_progress(desk)?;
            if p.records != *n {
                v.problems.push(format!(
                    "desk {desk}: progress says {} records, found {n}",
                    p.records
                ));
            }
        }
        Ok(v)
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
