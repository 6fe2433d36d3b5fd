//! Idempotency keys of `RecordVisit` (`request_id`): desk software that
//! times out and asks again must not create a second visit.
//!
//! A key is stored by the flusher in the same flush as its record, so that a
//! visit the caller was told is recorded is never recorded again under its
//! key, even after a crash. The keys of the last `KEEP_SECS` are kept, at
//! most `MAX_KEYS` of them, in the outbox's database:
//!
//! | key | value |
//! |---|---|
//! | `k` request id | stored at (unix secs, u64 BE), seq (u64 BE), record protobuf |
//! | `t` stored at (u64 BE), request id | empty: the keys by age, to forget the old |

use prost::Message;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How long a key is remembered: seven days.
const KEEP_SECS: u64 = 7 * 24 * 3600;
/// How many keys are remembered at most.
const MAX_KEYS: usize = 100_000;

/// What the outbox holds of a key.
pub(super) enum Prior {
    None,
    /// The key was used for this visit: the first answer.
    Same {
        seq: u64,
        record: Box<proto::AnonymisedRecord>,
    },
    /// The key was used for another visit.
    Differs,
}

pub(super) struct Requests {
    tree: sled::Tree,
    count: AtomicUsize,
}

fn key_of(request_id: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + request_id.len());
    k.push(b'k');
    k.extend_from_slice(request_id);
    k
}

fn age_key(at: u64, request_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + request_id.len());
    k.push(b't');
    k.extend_from_slice(&at.to_be_bytes());
    k.extend_from_slice(request_id.as_bytes());
    k
}

pub(super) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The record without its id, which each intake draws anew: what tells a
/// repeat from another visit.
fn content(mut r: proto::AnonymisedRecord) -> proto::AnonymisedRecord {
    r.id.clear();
    r
}

impl Requests {
    pub(super) fn open(db: &sled::Db) -> sled::Result<Self> {
        let tree = db.open_tree("requests")?;
        let count = tree.scan_prefix([b'k']).count();
        Ok(Self {
            tree,
            count: AtomicUsize::new(count),
        })
    }

    /// What the outbox holds of `request_id`, compared with `record`.
    pub(super) fn lookup(
        &self,
        request_id: &str,
        record: &proto::AnonymisedRecord,
    ) -> Result<Prior, super::OutboxError> {
        let Some(v) = self.tree.get(key_of(request_id.as_bytes()))? else {
            return Ok(Prior::None);
        };
        let damaged = || super::OutboxError::Corrupt("a request key entry is damaged".into());
        let seq = v
            .get(8..16)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(damaged)?;
        let first = v
            .get(16..)
            .and_then(|b| proto::AnonymisedRecord::decode(b).ok())
            .ok_or_else(damaged)?;
        Ok(if content(first.clone()) == content(record.clone()) {
            Prior::Same {
                seq,
                record: Box::new(first),
            }
        } else {
            Prior::Differs
        })
    }

    /// The tree the keys live in: written in one transaction with the
    /// records they name (see `Flusher::write`).
    pub(super) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// Stores a key with its record's sequence and protobuf inside the
    /// transaction `tx` over the keys' tree; whether the key is new.
    pub(super) fn insert_in(
        tx: &sled::transaction::TransactionalTree,
        request_id: &str,
        seq: u64,
        record: &[u8],
        at: u64,
    ) -> sled::transaction::ConflictableTransactionResult<bool, sled::Error> {
        let mut value = Vec::with_capacity(16 + record.len());
        value.extend_from_slice(&at.to_be_bytes());
        value.extend_from_slice(&seq.to_be_bytes());
        value.extend_from_slice(record);
        let new = tx.insert(key_of(request_id.as_bytes()), value)?.is_none();
        tx.insert(age_key(at, request_id), &[][..])?;
        Ok(new)
    }

    /// After a transaction stored `new` keys at `at`: counts them and
    /// forgets the oldest keys beyond the window.
    pub(super) fn stored(&self, new: usize, at: u64) -> sled::Result<()> {
        self.count.fetch_add(new, Ordering::Relaxed);
        self.forget_old(at)
    }

    /// Forgets a key whose write failed.
    pub(super) fn remove(&self, request_id: &str) -> sled::Result<()> {
        if let Some(v) = self.tree.remove(key_of(request_id.as_bytes()))? {
            self.count.fetch_sub(1, Ordering::Relaxed);
            if let Some(at) = v.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                self.tree
                    .remove(age_key(u64::from_be_bytes(at), request_id))?;
            }
        }
        Ok(())
    }

    fn forget_old(&self, now: u64) -> sled::Result<()> {
        while let Some((k, _)) = self.tree.scan_prefix([b't']).next().transpose()? {
            let at = k
                .get(1..9)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            let too_many = self.count.load(Ordering::Relaxed) > MAX_KEYS;
            if !too_many && now.saturating_sub(at) <= KEEP_SECS {
                return Ok(());
            }
            let request_id = k.get(9..).unwrap_or_default();
            if self.tree.remove(key_of(request_id))?.is_some() {
                self.count.fetch_sub(1, Ordering::Relaxed);
            }
            self.tree.remove(k)?;
        }
        Ok(())
    }
}
