//! The record ids the hub holds, on disk, so that the hub's memory does not
//! grow with its history: one key per id in the `ingest` tree, prefix `u`
//! and the id's 16 bytes (big-endian), empty value.
//!
//! Why keys in the `ingest` tree and not an index in memory: a sorted
//! array of every id cost 16 bytes a record (160 MiB at ten million), and
//! rebuilding it meant reading every segment at each open, which also
//! filled sled's page cache far beyond its setting. Record ids are UUIDv7,
//! ordered by the time the desk took the visit in, so a fresh id lands at
//! the right edge of the `u` range: checking or adding one touches the few
//! pages that every commit touches anyway, and sled's cache keeps them.
//! Only an old id costs a disk read, and only a restored desk resending its
//! history sends old ids.
//!
//! Why the same tree as the segments: a group commit writes each kept
//! record's id key in the same `apply_batch` as the segment holding the
//! record, so after a crash either both are there or neither is, and
//! dedup stays exact across restarts and across incarnations (a restored
//! desk resends its records under a new incarnation, with new sequences:
//! only the ids catch them).
//!
//! Pruned records keep their id key: retention deletes the record, never
//! its id, so a pruned record sent again is still refused as held.
//!
//! A store written before the id keys has none; `build` gives it them once
//! at open, from every segment and the pruned ids, and marks it done.

use super::segment;
use super::StorageError;

pub(crate) const PREFIX: u8 = b'u';

/// Present once every id held has its key: later opens skip `build`.
pub(crate) const BUILT: &[u8] = b"vids";

/// Keys written per atomic step of `build`: bounds one batch's memory.
#[cfg(not(test))]
const BUILD_STEP: usize = 100_000;
#[cfg(test)]
const BUILD_STEP: usize = 3;

pub(crate) fn key(id: u128) -> [u8; 17] {
    let mut k = [PREFIX; 17];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

pub(crate) fn id_of(key: &[u8]) -> Result<u128, StorageError> {
    key.get(1..)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(u128::from_be_bytes)
        .ok_or_else(|| StorageError::Corrupt("record id key is not 17 bytes".into()))
}

/// Whether the store holds `id`, as a kept or a pruned record.
pub(crate) fn held(tree: &sled::Tree, id: u128) -> Result<bool, StorageError> {
    Ok(tree.contains_key(key(id))?)
}

/// Gives a store without id keys a key for every record id it holds or
/// pruned (`pruned`), in atomic steps of `BUILD_STEP` keys; the last step
/// carries the mark. A crash in between leaves no mark, and the next open
/// writes the same keys again, which changes nothing.
pub(crate) fn build(tree: &sled::Tree, pruned: Vec<u128>) -> Result<u64, StorageError> {
    let mut batch = sled::Batch::default();
    let (mut in_batch, mut total) = (0usize, 0u64);
    let mut add = |batch: &mut sled::Batch, id: u128| -> Result<(), StorageError> {
        batch.insert(&key(id)[..], &[][..]);
        in_batch += 1;
        total += 1;
        if in_batch >= BUILD_STEP {
            tree.apply_batch(std::mem::take(batch))?;
            in_batch = 0;
        }
        Ok(())
    };
    for id in pruned {
        add(&mut batch, id)?;
    }
    for kv in tree.scan_prefix([b'g']) {
        let (_, seg) = kv?;
        for entry in segment::entries(&seg) {
            add(&mut batch, entry?.id)?;
        }
    }
    batch.insert(BUILT, &[1u8][..]);
    tree.apply_batch(batch)?;
    tree.flush()?;
    Ok(total)
}
