//! The record ids the hub holds, on disk, so that the hub's memory does not
//! grow with its history.
//!
//! Ids are kept in runs in the `ingest` tree: key `u` and the run's lowest
//! id (16 bytes, big-endian), value the run's ids, sorted, 16 bytes each,
//! at most `RUN_IDS`. Runs never overlap: a run holds every id held from
//! its key up to the next run's key. An id is looked up in the run with the
//! greatest key at or below it.
//!
//! Why on disk: a sorted array of every id in memory cost 16 bytes a
//! record (160 MiB at ten million), and rebuilding it meant reading every
//! segment at each open, which also filled sled's page cache far beyond
//! its setting.
//!
//! Why runs and not one key per id: sled 0.34 splits a leaf past 16 keys
//! and keeps a page-table entry in memory for every page, even one paged
//! out, and reads them all at open; a key per id made ten million records
//! 600,000 pages, slower to open and larger in memory than the array it
//! replaced. Runs of up to 256 ids (split evenly, so 128 or more each)
//! make that 40,000 to 80,000 keys, a few thousand pages.
//!
//! Why it is cheap: record ids are UUIDv7, ordered by the time the desk
//! took the visit in, so a group commit's ids fall at the right edge, in
//! the few runs that the previous commits wrote and sled's cache holds. A
//! group commit reads each run its ids fall in once (`Group`), checks its
//! ids in memory against them, and rewrites only the runs it adds to. Only
//! an old id costs a disk read, and only a restored desk resending its
//! history sends old ids.
//!
//! Why in the `ingest` tree: a group commit writes the runs it changed in
//! the same `apply_batch` as the segments holding the records, so after a
//! crash either both are there or neither is, and dedup stays exact across
//! restarts and incarnations (a restored desk resends its records under a
//! new incarnation, with new sequences: only the ids catch them).
//!
//! Pruned records keep their ids in the runs: retention deletes a record,
//! never its id, so a pruned record sent again is still refused as held.
//!
//! A store written before the runs has none; `build` gives it them once at
//! open, from every segment and the pruned ids, and marks it done.

use super::segment;
use super::StorageError;
use std::collections::BTreeMap;
use std::ops::Bound;

pub(crate) const PREFIX: u8 = b'u';

/// Present once every id held is in a run: later opens skip `build`.
pub(crate) const BUILT: &[u8] = b"vids";

/// Ids in a run before it is split: 4 KiB values, sixteen to a sled leaf,
/// which stays below sled's blob threshold (as segments do). A few in
/// tests, so that they split.
#[cfg(not(test))]
const RUN_IDS: usize = 256;
#[cfg(test)]
const RUN_IDS: usize = 4;

/// Runs written per atomic step of `build`: bounds one batch's memory.
const BUILD_STEP: usize = 1024;

pub(crate) fn key(id: u128) -> [u8; 17] {
    let mut k = [PREFIX; 17];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

pub(crate) fn id_of(key: &[u8]) -> Result<u128, StorageError> {
    key.get(1..)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(u128::from_be_bytes)
        .ok_or_else(|| StorageError::Corrupt("record id run key is not 17 bytes".into()))
}

pub(crate) fn decode(value: &[u8]) -> Result<Vec<u128>, StorageError> {
    let chunks = value.chunks_exact(16);
    if !chunks.remainder().is_empty() {
        return Err(StorageError::Corrupt("record id run is damaged".into()));
    }
    Ok(chunks
        .map(|c| <[u8; 16]>::try_from(c).map_or(0, u128::from_be_bytes))
        .collect())
}

fn encode(ids: &[u128]) -> Vec<u8> {
    let mut v = Vec::with_capacity(ids.len() * 16);
    for id in ids {
        v.extend_from_slice(&id.to_be_bytes());
    }
    v
}

/// One run as a group commit sees it: the ids stored, the ids the group
/// adds to it, and where it ends (the next run's key; `None` for the last).
struct Run {
    stored: Vec<u128>,
    added: Vec<u128>,
    end: Option<u128>,
}

impl Run {
    fn covers(&self, id: u128) -> bool {
        self.end.is_none_or(|end| id < end)
    }
}

/// The runs one group commit reads and changes, each read once.
pub(crate) struct Group<'t> {
    tree: &'t sled::Tree,
    /// The runs read, by key.
    runs: BTreeMap<u128, Run>,
    /// Ids below every run (no run holds them): a run of their own, with
    /// no key yet, ending at the first run's key.
    head: Option<Run>,
}

impl<'t> Group<'t> {
    pub(crate) fn new(tree: &'t sled::Tree) -> Self {
        Self {
            tree,
            runs: BTreeMap::new(),
            head: None,
        }
    }

    /// Whether `id` is held, kept or pruned, as of the last commit.
    pub(crate) fn held(&mut self, id: u128) -> Result<bool, StorageError> {
        Ok(self.run_for(id)?.stored.binary_search(&id).is_ok())
    }

    /// Adds `id`, which `held` has just said is not held and which the
    /// group has not added yet.
    pub(crate) fn add(&mut self, id: u128) -> Result<(), StorageError> {
        self.run_for(id)?.added.push(id);
        Ok(())
    }

    fn run_for(&mut self, id: u128) -> Result<&mut Run, StorageError> {
        let loaded = self
            .runs
            .range(..=id)
            .next_back()
            .filter(|(_, run)| run.covers(id))
            .map(|(at, _)| *at);
        let read = match loaded {
            Some(at) => Some(at),
            None if self.head.as_ref().is_some_and(|h| h.covers(id)) => None,
            None => self.read(id)?,
        };
        match read {
            Some(at) => self
                .runs
                .get_mut(&at)
                .ok_or_else(|| StorageError::Corrupt("record id run lost".into())),
            None => self
                .head
                .as_mut()
                .ok_or_else(|| StorageError::Corrupt("record id head lost".into())),
        }
    }

    /// Reads the run that holds `id` from disk, with where it ends; `None`
    /// when `id` is below every run.
    fn read(&mut self, id: u128) -> Result<Option<u128>, StorageError> {
        let found = self
            .tree
            .range(&[PREFIX][..]..=&key(id)[..])
            .next_back()
            .transpose()?;
        let (start, stored) = match found {
            Some((k, v)) => (Bound::Excluded(k.to_vec()), Some((id_of(&k)?, decode(&v)?))),
            None => (Bound::Included(vec![PREFIX]), None),
        };
        let end = match self
            .tree
            .range::<Vec<u8>, _>((start, Bound::Excluded(vec![PREFIX + 1])))
            .keys()
            .next()
        {
            Some(k) => Some(id_of(&k?)?),
            None => None,
        };
        let run = |stored| Run {
            stored,
            added: Vec::new(),
            end,
        };
        Ok(match stored {
            Some((at, ids)) => {
                self.runs.insert(at, run(ids));
                Some(at)
            }
            None => {
                self.head = Some(run(Vec::new()));
                None
            }
        })
    }

    /// Puts every run the group added to into `batch`, split past
    /// `RUN_IDS` into even parts. A run's lowest id stays its first part's
    /// key, so no key is ever removed.
    pub(crate) fn write(self, batch: &mut sled::Batch) {
        for mut run in self.runs.into_values().chain(self.head) {
            if run.added.is_empty() {
                continue;
            }
            run.stored.append(&mut run.added);
            run.stored.sort_unstable();
            put_runs(batch, &run.stored);
        }
    }
}

/// `ids` (sorted) as runs of at most `RUN_IDS`, each keyed by its lowest.
fn put_runs(batch: &mut sled::Batch, ids: &[u128]) {
    let parts = ids.len().div_ceil(RUN_IDS);
    if parts == 0 {
        return;
    }
    let size = ids.len().div_ceil(parts);
    for part in ids.chunks(size) {
        batch.insert(&key(part[0])[..], encode(part));
    }
}

/// Gives a store without runs a run for every record id it holds or
/// pruned (`ids`), in atomic steps of `BUILD_STEP` runs; the mark follows
/// the last step. The ids are sorted in memory, once (what every open
/// did before the runs); a crash in between leaves no mark, and the next
/// open writes the same runs again.
pub(crate) fn build(tree: &sled::Tree, mut ids: Vec<u128>) -> Result<u64, StorageError> {
    for kv in tree.scan_prefix([b'g']) {
        let (_, seg) = kv?;
        for entry in segment::entries(&segment::open(&seg)?) {
            ids.push(entry?.id);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    for step in ids.chunks(RUN_IDS * BUILD_STEP) {
        let mut batch = sled::Batch::default();
        for run in step.chunks(RUN_IDS) {
            put_runs(&mut batch, run);
        }
        tree.apply_batch(batch)?;
    }
    tree.insert(BUILT, &[1u8][..])?;
    tree.flush()?;
    Ok(ids.len() as u64)
}

/// Every id in the runs, in order, for `verify`; and the problems found in
/// the runs themselves (a run not sorted, not keyed by its lowest id, or
/// overlapping the next).
pub(crate) fn all(tree: &sled::Tree) -> Result<(Vec<u128>, Vec<String>), StorageError> {
    let (mut out, mut problems) = (Vec::new(), Vec::new());
    for kv in tree.scan_prefix([PREFIX]) {
        let (k, v) = kv?;
        let at = id_of(&k)?;
        let ids = decode(&v)?;
        if ids.first() != Some(&at) {
            problems.push(format!(
                "the record id run at {at:032x} does not start with it"
            ));
        }
        if out.last().is_some_and(|last| *last >= at) {
            problems.push(format!(
                "the record id run at {at:032x} overlaps the one before"
            ));
        }
        if ids.windows(2).any(|w| w[0] >= w[1]) {
            problems.push(format!("the record id run at {at:032x} is not in order"));
        }
        out.extend(ids);
    }
    Ok((out, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(tree: &sled::Tree, ids: &[u128]) -> Vec<bool> {
        let mut group = Group::new(tree);
        let mut seen = std::collections::HashSet::new();
        let mut held = Vec::new();
        for id in ids {
            let h = !seen.insert(*id) || group.held(*id).expect("lookup");
            if !h {
                group.add(*id).expect("add");
            }
            held.push(h);
        }
        let mut batch = sled::Batch::default();
        group.write(&mut batch);
        tree.apply_batch(batch).expect("write");
        held
    }

    /// Groups of ids in any order (below, between and above the runs held,
    /// repeated within a group and across groups) are told held exactly
    /// when an earlier one was, and the runs stay ordered and apart.
    #[test]
    fn runs_answer_exactly_whatever_the_order_of_the_ids() {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .expect("sled opens");
        let tree = db.open_tree("ingest").expect("tree");
        let mut all = std::collections::BTreeSet::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..40u128 {
            let ids: Vec<u128> = (0..25)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Mostly rising with the round, some far back, some repeated.
                    match x % 5 {
                        0 => u128::from(x % 50),
                        _ => round * 1000 + u128::from(x % 1500),
                    }
                })
                .collect();
            let held = commit(&tree, &ids);
            let mut in_group = std::collections::HashSet::new();
            for (id, h) in ids.iter().zip(held) {
                let expected = all.contains(id) || !in_group.insert(*id);
                assert_eq!(h, expected, "id {id} in round {round}");
            }
            all.extend(ids);
            let (stored, problems) = all_ids(&tree);
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(stored, all.iter().copied().collect::<Vec<_>>());
        }
        assert!(tree.scan_prefix([PREFIX]).count() > 10, "runs were split");
    }

    fn all_ids(tree: &sled::Tree) -> (Vec<u128>, Vec<String>) {
        all(tree).expect("runs read")
    }
}
