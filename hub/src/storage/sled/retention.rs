//! Retention in sled: records of old weeks, old refusals and old decided
//! proposals deleted, with what the rest of the store still needs of them.
//!
//! | tree `ingest`, prefix | key | value |
//! |---|---|---|
//! | `p` | cube (1 byte), week | the cells of the pruned records, as `c` |
//! | `P` | stream | records of the stream pruned (u64 BE) |
//! | `d` | run (u64 BE) | the pruned records' ids, 16 bytes each |
//! | `w` | | the week before which records were last pruned |
//!
//! A pruned record's id stays in its run (`u`, `ids.rs`), so that the record sent
//! again (a desk restored from an old copy, under a new incarnation) is
//! refused as held, as before the pruning; `d` is read only by `verify` and
//! by the one-time build of the id runs of an older store.
//!
//! The live counts (`c`) keep every record, pruned or not, so published
//! figures do not change; `verify` checks them against the records left
//! plus the `p` cells. A pruning is one atomic write with a counts
//! checkpoint of everything committed before it, so that no pruned record
//! is ever replayed into the tally at open: a crash at any point leaves
//! either the whole chunk pruned or none of it.
//!
//! Refusals carry no time, so each day's first run notes every stream's
//! last sequence (tree `retention`, key `YYYY-MM-DD`, value JSON): the
//! refusals at or below a mark older than the window are older than it.
//!
//! A deleted proposal's id stays in tree `pruned_proposals` (value: its
//! desk's id), so that a desk sending it again is answered as for one held.

use super::append::{decode_progress, desk_seq_key, seq_of};
use super::SledStore;
use crate::storage::cubes::{self, Cells, Tally};
use crate::storage::{segment, StorageError};
use std::collections::{BTreeMap, HashMap};

/// Segments pruned in one atomic write: bounds its size (a few MiB) and
/// how long group commits wait for it.
#[cfg(not(test))]
const PRUNE_CHUNK: usize = 512;
#[cfg(test)]
const PRUNE_CHUNK: usize = 2;

const PRUNED_BEFORE: &[u8] = b"w";

fn pruned_key(cube: usize, week: &str) -> Vec<u8> {
    let mut k = cubes::key(cube, week);
    k[0] = b'p';
    k
}

fn pruned_count_key(stream: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 1);
    k.push(b'P');
    k.extend_from_slice(stream);
    k
}

/// Every pruned record's id, for `verify` and for the id runs of a store
/// from before them: a resent pruned record is refused by its id run,
/// which pruning leaves as it is.
pub(super) fn pruned_ids(tree: &sled::Tree) -> Result<Vec<u128>, StorageError> {
    let mut out = Vec::new();
    for kv in tree.scan_prefix([b'd']) {
        let (_, v) = kv?;
        let chunks = v.chunks_exact(16);
        if !chunks.remainder().is_empty() {
            return Err(StorageError::Corrupt("pruned ids are damaged".into()));
        }
        out.extend(chunks.map(|c| <[u8; 16]>::try_from(c).map_or(0, u128::from_be_bytes)));
    }
    Ok(out)
}

/// The pruned records' cells, keyed as the stored counts are.
pub(super) fn pruned_cells(
    tree: &sled::Tree,
) -> Result<HashMap<(usize, String), Cells>, StorageError> {
    let mut out = HashMap::new();
    for kv in tree.scan_prefix([b'p']) {
        let (k, v) = kv?;
        let mut key = k.to_vec();
        key[0] = b'c';
        out.insert(cubes::parse_key(&key)?, cubes::decode(&v)?);
    }
    Ok(out)
}

/// Records pruned per stream.
pub(super) fn pruned_per_stream(tree: &sled::Tree) -> Result<BTreeMap<String, u64>, StorageError> {
    let mut out = BTreeMap::new();
    for kv in tree.scan_prefix([b'P']) {
        let (k, v) = kv?;
        let stream = String::from_utf8_lossy(&k[1..]).into_owned();
        out.insert(stream, super::decode_u64(&v)?);
    }
    Ok(out)
}

pub(super) fn pruned_before(tree: &sled::Tree) -> Result<Option<String>, StorageError> {
    Ok(tree
        .get(PRUNED_BEFORE)?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

impl SledStore {
    /// Deletes every record of a week before `before_week`, chunk by chunk,
    /// and returns how many it deleted.
    pub(super) fn prune_records_before(&self, before_week: &str) -> Result<u64, StorageError> {
        let _one_at_a_time = self.pruning.lock().unwrap_or_else(|e| e.into_inner());
        let mut pruned = 0;
        let mut from = vec![b'g'];
        loop {
            // Found without the writer's lock, so that ingest goes on while
            // the segments are read.
            let (found, next) = self.segments_to_prune(&from, before_week)?;
            if found.is_empty() {
                break;
            }
            pruned += self.prune_chunk(before_week, found)?;
            match next {
                Some(next) => from = next,
                None => break,
            }
        }
        Ok(pruned)
    }

    /// Up to `PRUNE_CHUNK` segments from `from` on holding a record of a
    /// week before `before_week`, and where the next scan starts.
    #[allow(clippy::type_complexity)]
    fn segments_to_prune(
        &self,
        from: &[u8],
        before_week: &str,
    ) -> Result<(Vec<(sled::IVec, sled::IVec)>, Option<Vec<u8>>), StorageError> {
        let mut found = Vec::new();
        for kv in self.ingest.range(from.to_vec()..vec![b'g' + 1]) {
            let (k, seg) = kv?;
            let mut old = false;
            for entry in segment::entries(&segment::open(&seg)?) {
                if entry?.decode()?.week.as_str() < before_week {
                    old = true;
                    break;
                }
            }
            if old {
                found.push((k.clone(), seg));
                if found.len() >= PRUNE_CHUNK {
                    let mut next = k.to_vec();
                    next.push(0);
                    return Ok((found, Some(next)));
                }
            }
        }
        Ok((found, None))
    }

    /// Prunes one chunk in one atomic write with a counts checkpoint, and
    /// flushes it.
    fn prune_chunk(
        &self,
        before_week: &str,
        found: Vec<(sled::IVec, sled::IVec)>,
    ) -> Result<u64, StorageError> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = sled::Batch::default();
        let mut tally = Tally::default();
        let mut ids: Vec<u8> = Vec::new();
        let mut per_stream: HashMap<Vec<u8>, u64> = HashMap::new();
        for (key, seg) in found {
            // Only pruning rewrites a segment, one at a time: one changed
            // since it was read would be a bug, and is left for a later run.
            if self.ingest.get(&key)?.as_ref() != Some(&seg) {
                tracing::warn!("a segment changed while retention read it; left as it is");
                continue;
            }
            let stream = key
                .get(1..key.len().saturating_sub(9))
                .ok_or_else(|| StorageError::Corrupt("short segment key".into()))?;
            let mut kept = Vec::new();
            for entry in segment::entries(&segment::open(&seg)?) {
                let entry = entry?;
                let raw = entry.decode()?;
                if raw.week.as_str() < before_week {
                    tally.add(&raw);
                    ids.extend_from_slice(&entry.id.to_be_bytes());
                    *per_stream.entry(stream.to_vec()).or_default() += 1;
                } else {
                    segment::push_entry(&mut kept, &entry);
                }
            }
            // The key keeps the segment's first sequence even when that
            // record went: it still names the batch, which is all the
            // checkpoint replay at open needs of it.
            if kept.is_empty() {
                batch.remove(key);
            } else {
                batch.insert(key, segment::seal(kept));
            }
        }
        let pruned = (ids.len() / 16) as u64;
        if pruned == 0 {
            return Ok(0);
        }
        for ((cube, week), delta) in tally.drain() {
            let key = pruned_key(cube, &week);
            let mut cells = match self.ingest.get(&key)? {
                Some(v) => cubes::decode(&v)?,
                None => Cells::new(),
            };
            for (values, n) in delta {
                *cells.entry(values).or_default() += n;
            }
            batch.insert(key, cubes::encode(&cells));
        }
        for (stream, n) in per_stream {
            let key = pruned_count_key(&stream);
            let before = match self.ingest.get(&key)? {
                Some(v) => super::decode_u64(&v)?,
                None => 0,
            };
            batch.insert(key, &(before + n).to_be_bytes()[..]);
        }
        let run = match self.ingest.scan_prefix([b'd']).keys().next_back() {
            Some(k) => seq_of(&k?)? + 1,
            None => 0,
        };
        let mut run_key = vec![b'd'];
        run_key.extend_from_slice(&run.to_be_bytes());
        batch.insert(run_key, ids);
        batch.insert(PRUNED_BEFORE, before_week.as_bytes());
        let written = (|| {
            fail::fail_point!("retention-prune", |_| Err(super::injected(
                "retention-prune"
            )));
            self.commit(&mut writer, batch, &[], true)
        })();
        if let Err(e) = written {
            self.reload(&mut writer)?;
            return Err(e);
        }
        // Flushed before the writer's lock goes, as a group commit is, so
        // that no watermark is told from a state not yet on disk.
        writer.unflushed = true;
        self.flush_serialised()?;
        writer.unflushed = false;
        Ok(pruned)
    }

    /// Notes every stream's last sequence under `day`, once per day.
    pub(super) fn mark_refusals_on(&self, day: &str) -> Result<(), StorageError> {
        if self.retention.get(day.as_bytes())?.is_some() {
            return Ok(());
        }
        let mut marks: BTreeMap<String, u64> = BTreeMap::new();
        for kv in self.ingest.scan_prefix([b's']) {
            let (k, v) = kv?;
            let stream = String::from_utf8_lossy(&k[1..]).into_owned();
            marks.insert(stream, decode_progress(&v)?.last_seq);
        }
        let value = serde_json::to_vec(&marks).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        {
            let _w = self.writing();
            self.retention.insert(day.as_bytes(), value)?;
        }
        self.flush_serialised()
    }

    /// Deletes the refusals at or below the newest mark of a day before
    /// `before_day`, and the marks older than it; how many it deleted.
    pub(super) fn prune_refusals_before(&self, before_day: &str) -> Result<u64, StorageError> {
        let Some((day, marks)) = self
            .retention
            .range(..before_day.as_bytes())
            .next_back()
            .transpose()?
        else {
            return Ok(0);
        };
        let marks: BTreeMap<String, u64> =
            serde_json::from_slice(&marks).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let mut removed = 0;
        {
            // Deleting refusals needs no atomicity: a refusal is answered
            // only to a resend of its batch, which a desk makes while the
            // batch is unacknowledged, never months later.
            let _w = self.writing();
            for (stream, last) in &marks {
                let from = desk_seq_key(b'x', stream, 0);
                let to = desk_seq_key(b'x', stream, *last);
                for k in self.ingest.range(from..=to).keys() {
                    self.ingest.remove(k?)?;
                    removed += 1;
                }
            }
            for k in self.retention.range(..day).keys() {
                self.retention.remove(k?)?;
            }
        }
        self.flush_serialised()?;
        Ok(removed)
    }

    /// Deletes the proposals decided before `decided_before` (RFC 3339,
    /// UTC); open ones are kept whatever their age, for a coordinator to
    /// decide.
    pub(super) fn prune_proposals_before(&self, decided_before: &str) -> Result<u64, StorageError> {
        let cutoff = crate::storage::DecidedBefore::parse(decided_before)?;
        let mut removed = 0;
        {
            let _w = self.writing();
            for kv in self.proposals.iter() {
                let (k, v) = kv?;
                let p: domain::TemplateProposal = crate::storage::entries::decode("proposal", &v)?;
                if cutoff.covers(&p.state, &p.decided_at) {
                    // The id first, so that a crash between the two leaves
                    // the proposal known either way.
                    self.pruned_proposals
                        .insert(k.clone(), p.desk_id.as_bytes())?;
                    self.proposals.remove(k)?;
                    removed += 1;
                }
            }
        }
        self.flush_serialised()?;
        Ok(removed)
    }
}
