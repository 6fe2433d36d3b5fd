//! Searches that found nothing at the desks (`storage::SearchMissLog`), in
//! tree `search_misses` under one-byte prefixes, so that a batch's counts
//! and its id change in one atomic write:
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `q` | week 0x00 language 0x00 query | count (u64 BE) |
//! | `i` | batch id | its arrival number (u64 BE) |
//! | `a` | arrival number (u64 BE) | batch id |
//! | `w` | week | distinct (language, query) counted in it (u64 BE) |
//!
//! The batch ids are what makes a resend harmless; only the newest
//! `MAX_BATCH_IDS` are kept (`a` says which are oldest), far more than a
//! desk ever has waiting.

use super::SledStore;
use crate::storage::{MissCount, StorageError};

pub(super) const TREE: &str = "search_misses";

/// Distinct (language, query) pairs kept per week, over every desk; a new
/// one beyond it is dropped (five hundred per desk a week at most are sent).
#[cfg(not(test))]
const MAX_QUERIES_PER_WEEK: u64 = 50_000;
#[cfg(test)]
const MAX_QUERIES_PER_WEEK: u64 = 4;

/// Batch ids remembered: a desk keeps at most a few dozen batches waiting,
/// so a resend is always of one of the latest.
#[cfg(not(test))]
const MAX_BATCH_IDS: usize = 100_000;
#[cfg(test)]
const MAX_BATCH_IDS: usize = 3;

pub(super) struct Misses {
    tree: sled::Tree,
    /// Makes "is this id new, then count" one step.
    add: std::sync::Mutex<()>,
}

impl Misses {
    pub(super) fn open(db: &sled::Db) -> Result<Self, StorageError> {
        Ok(Self {
            tree: db.open_tree(TREE)?,
            add: std::sync::Mutex::new(()),
        })
    }
}

fn count_key(m: &MissCount) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + m.week.len() + m.language.len() + m.query.len());
    k.push(b'q');
    for (i, part) in [&m.week, &m.language, &m.query].into_iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(part.as_bytes());
    }
    k
}

fn prefixed(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(prefix);
    k.extend_from_slice(rest);
    k
}

impl SledStore {
    pub(super) fn add_miss_batch_entry(
        &self,
        batch_id: &str,
        misses: &[MissCount],
    ) -> Result<bool, StorageError> {
        let m = &self.misses;
        {
            let _one_at_a_time = m.add.lock().unwrap_or_else(|e| e.into_inner());
            if m.tree.get(prefixed(b'i', batch_id.as_bytes()))?.is_some() {
                return Ok(false);
            }
            let mut batch = sled::Batch::default();
            let mut added: std::collections::BTreeMap<(Vec<u8>, &str), u64> = Default::default();
            for miss in misses {
                *added
                    .entry((count_key(miss), miss.week.as_str()))
                    .or_default() += miss.count;
            }
            let mut distinct: std::collections::HashMap<&str, u64> = Default::default();
            for ((key, week), n) in added {
                let held = match m.tree.get(&key)? {
                    Some(v) => super::decode_u64(&v)?,
                    None => {
                        let slot = match distinct.entry(week) {
                            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                            std::collections::hash_map::Entry::Vacant(e) => {
                                let held = match m.tree.get(prefixed(b'w', week.as_bytes()))? {
                                    Some(v) => super::decode_u64(&v)?,
                                    None => 0,
                                };
                                e.insert(held)
                            }
                        };
                        if *slot >= MAX_QUERIES_PER_WEEK {
                            // Beyond the bound a new query is not kept: a
                            // desk sending distinct noise cannot grow the
                            // store without end.
                            continue;
                        }
                        *slot += 1;
                        0
                    }
                };
                batch.insert(key, &held.saturating_add(n).to_be_bytes()[..]);
            }
            for (week, n) in distinct {
                batch.insert(prefixed(b'w', week.as_bytes()), &n.to_be_bytes()[..]);
            }
            // Ids leave oldest first, so the arrival numbers held are one
            // run: its ends say how many there are without a scan.
            let arrival = |kv: Option<sled::Result<(sled::IVec, sled::IVec)>>| match kv {
                Some(kv) => super::decode_u64(&kv?.0[1..]).map(Some),
                None => Ok(None),
            };
            let last = arrival(m.tree.scan_prefix([b'a']).next_back())?;
            let next = last.map_or(0, |l| l + 1);
            let first = arrival(m.tree.scan_prefix([b'a']).next())?.unwrap_or(next);
            batch.insert(prefixed(b'i', batch_id.as_bytes()), &next.to_be_bytes()[..]);
            batch.insert(prefixed(b'a', &next.to_be_bytes()), batch_id.as_bytes());
            let held = usize::try_from(next + 1 - first).unwrap_or(usize::MAX);
            for kv in m
                .tree
                .scan_prefix([b'a'])
                .take(held.saturating_sub(MAX_BATCH_IDS))
            {
                let (k, old) = kv?;
                batch.remove(k);
                batch.remove(prefixed(b'i', &old));
            }
            let _w = self.writing();
            m.tree.apply_batch(batch)?;
        }
        self.flush_serialised()?;
        Ok(true)
    }

    /// Deletes the counts (and the per-week tallies) of weeks before
    /// `before_week`; ISO week names sort as the weeks do.
    pub(super) fn prune_miss_weeks(&self, before_week: &str) -> Result<u64, StorageError> {
        let m = &self.misses;
        let mut removed = 0;
        {
            let _one_at_a_time = m.add.lock().unwrap_or_else(|e| e.into_inner());
            let mut batch = sled::Batch::default();
            for prefix in [b'q', b'w'] {
                for kv in m
                    .tree
                    .range(vec![prefix]..prefixed(prefix, before_week.as_bytes()))
                {
                    let (k, _) = kv?;
                    if prefix == b'q' {
                        removed += 1;
                    }
                    batch.remove(k);
                }
            }
            let _w = self.writing();
            m.tree.apply_batch(batch)?;
        }
        self.flush_serialised()?;
        Ok(removed)
    }

    pub(super) fn read_miss_counts(&self) -> Result<Vec<MissCount>, StorageError> {
        let mut out = Vec::new();
        for kv in self.misses.tree.scan_prefix([b'q']) {
            let (k, v) = kv?;
            let mut parts = k[1..].splitn(3, |b| *b == 0);
            let mut text =
                || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            let (week, language, query) = (text(), text(), text());
            out.push(MissCount {
                week,
                language,
                query,
                count: super::decode_u64(&v)?,
            });
        }
        Ok(out)
    }
}
