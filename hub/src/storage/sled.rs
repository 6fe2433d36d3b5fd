//! The sled implementation of [`Store`].
//!
//! Everything an ingest touches lives in one tree (`ingest`) under one-byte
//! key prefixes, so that records, the desk's progress, the refusals and the
//! counts change in a single atomic `apply_batch`: a crash leaves either all
//! of a group commit or none of it (`append.rs` beside this file).
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `g` | stream `/` first seq kept (u64 BE) | segment: the batch's kept records with seq and id |
//! | `u` | lowest record id of the run (16 bytes BE) | a run of up to 256 record ids held, kept or pruned, sorted (`ids.rs`) |
//! | `x` | stream `/` seq | refusal reason |
//! | `s` | stream | last_seq, records, rejected (3 × u64 BE) |
//! | `c` | cube (1 byte), week | that cube's cells for that week, as of the checkpoints |
//! | `k` | stream | last seq whose records the `c` cells include |
//! | `vcounts` | | present: the store keeps `k` checkpoints |
//! | `p`, `P`, `d`, `w` | | what retention pruned (`retention.rs`) |
//! | `vmediator` | | present: the cubes over `mediator` are kept (`append.rs`) |
//! | `vids` | | present: every id held is in a `u` run (`ids.rs`) |
//!
//! Searches that found nothing at the desks are in their own tree,
//! `search_misses` (`misses.rs`); dashboard accounts in `users`
//! (`users.rs`).
//!
//! A stream is one incarnation of a desk: the desk id for its first
//! (incarnation 0, so that history kept before incarnations is the first),
//! `desk#n` for the n-th after it (`append::stream_key`; desk ids never hold
//! `#`). The desk's incarnations themselves are in the `incarnations` tree.
//!
//! Record ids are kept in runs (`u`), written in the same batch as their
//! segments, so that dedup needs no index in memory and an open reads no segment but
//! those after each desk's counts checkpoint, which it replays into the
//! tally (`append.rs`). The hub's memory and its time to serving thus do
//! not grow with the records held.

mod append;
mod audit;
mod export;
mod logs;
mod misses;
mod publications;
mod reports;
mod retention;
mod sessions;
mod snapshot;
mod users;

pub(crate) use export::Pruned;
pub use snapshot::Importer;

use super::{
    AppendOutcome, CountCell, DeskAppend, DeskEntry, DeskProgress, Incarnation, PushState,
    SessionKey, StorageError, Store, StoredSession, Verification,
};
use domain::RawRecord;
use std::path::Path;

pub struct SledStore {
    pub(super) db: sled::Db,
    pub(super) ingest: sled::Tree,
    desks: sled::Tree,
    seen: sled::Tree,
    guidance: Log,
    templates: Log,
    push: sled::Tree,
    pub(super) catalogue: Log,
    pub(super) cards: Log,
    pub(super) proposals: sled::Tree,
    pub(super) minor_edits: sled::Tree,
    /// Operators' reports (`reports.rs`).
    pub(super) reports: sled::Tree,
    /// What group commits keep in memory; its lock makes them one at a time.
    // Boxed, as `counts` is: the tally is a large value, and a store is
    // often held inline.
    writer: std::sync::Mutex<Box<append::Writer>>,
    /// Taken after `writer` when both are, never held across a flush.
    counts: std::sync::Mutex<Box<append::Counts>>,
    /// Every stream's progress as last flushed (`durable_progress`); taken
    /// after `writer`, held only to read or extend it. Bounded by the
    /// streams, not by history.
    durable: std::sync::Mutex<std::collections::HashMap<String, DeskProgress>>,
    /// One pruning at a time; never held by a group commit.
    pruning: std::sync::Mutex<()>,
    /// Per day, how far each stream's refusals went (`retention.rs`).
    pub(super) retention: sled::Tree,
    /// The ids of proposals retention deleted, with their desk's id.
    pub(super) pruned_proposals: sled::Tree,
    pub(super) audit: sled::Tree,
    /// Per desk, its incarnations as JSON.
    incarnations: sled::Tree,
    // sled 0.34 can deadlock when several threads flush at once, so every
    // flush here takes this lock.
    flush_lock: std::sync::Mutex<()>,
    /// Every write holds it shared, a backup holds it alone: sled's
    /// iterators are no snapshot, so a copy is consistent only while
    /// nothing writes. Taken at the leaf write, never twice by one thread.
    pause: std::sync::RwLock<()>,
    /// `meta`: the logs' epoch (`Welcome.logs_epoch`).
    meta: sled::Tree,
    /// Dashboard sessions (`sessions.rs`).
    sessions: sessions::Sessions,
    /// Searches that found nothing (`misses.rs`).
    misses: misses::Misses,
}

const LOGS_EPOCH: &[u8] = b"logs_epoch";
/// `meta`: `Store::records_pruned`.
const RECORDS_PRUNED: &[u8] = b"records_pruned";

impl SledStore {
    /// Opens (or creates) the store. `cache_bytes` bounds sled's page cache,
    /// whose 1 GiB default would dominate the hub's memory.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StorageError> {
        Self::from_db(runtime::embedded::open_sled(path, cache_bytes)?)
    }

    pub(super) fn from_db(db: sled::Db) -> Result<Self, StorageError> {
        let ingest = db.open_tree("ingest")?;
        let desks = db.open_tree("desks")?;
        let seen = db.open_tree("seen")?;
        let guidance = Log::open(&db, "guidance")?;
        let templates = Log::open(&db, "templates")?;
        let push = db.open_tree("push")?;
        let catalogue = Log::open(&db, "catalogue")?;
        let cards = Log::open(&db, "cards")?;
        let proposals = db.open_tree("proposals")?;
        let minor_edits = db.open_tree("minor_edits")?;
        let reports = db.open_tree(reports::TREE)?;
        let (writer, counts) = append::Writer::load(&ingest)?;
        let durable = append::flushed_progress(&ingest)?;
        let retention = db.open_tree("retention")?;
        let pruned_proposals = db.open_tree("pruned_proposals")?;
        let audit = db.open_tree("audit")?;
        let incarnations = db.open_tree("incarnations")?;
        let meta = db.open_tree("meta")?;
        let sessions = sessions::Sessions::open(&db)?;
        let misses = misses::Misses::open(&db)?;
        if meta.get(LOGS_EPOCH)?.is_none() {
            // A store from before epochs, or a new one: its history is the
            // first epoch.
            meta.insert(LOGS_EPOCH, uuid::Uuid::now_v7().to_string().as_bytes())?;
            db.flush()?;
        }
        Ok(Self {
            misses,
            sessions,
            meta,
            pause: std::sync::RwLock::new(()),
            incarnations,
            db,
            ingest,
            desks,
            seen,
            guidance,
            templates,
            push,
            catalogue,
            cards,
            proposals,
            minor_edits,
            reports,
            writer: std::sync::Mutex::new(Box::new(writer)),
            counts: std::sync::Mutex::new(Box::new(counts)),
            durable: std::sync::Mutex::new(durable),
            pruning: std::sync::Mutex::new(()),
            retention,
            pruned_proposals,
            audit,
            flush_lock: std::sync::Mutex::new(()),
        })
    }

    pub(super) fn incarnation_numbers(&self, desk_id: &str) -> Result<Vec<u32>, StorageError> {
        Ok(super::incarnation_numbers(&Store::incarnations(
            self, desk_id,
        )?))
    }

    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// Held around each write, so that a backup can pause them all.
    pub(super) fn writing(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.pause.read().unwrap_or_else(|e| e.into_inner())
    }

    fn decode_desk(&self, bytes: &[u8]) -> Result<DeskEntry, StorageError> {
        let mut entry: DeskEntry =
            serde_json::from_slice(bytes).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        if let Some(at) = self.seen.get(entry.desk_id.as_bytes())? {
            entry.last_seen = Some(String::from_utf8_lossy(&at).into_owned());
        }
        Ok(entry)
    }

    /// Appends one entry under the next version, durably; `encode` gets the
    /// version so that the entry can carry it.
    pub(super) fn log_append(
        &self,
        log: &Log,
        encode: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<u64, StorageError> {
        let _one_at_a_time = log.lock.lock().unwrap_or_else(|e| e.into_inner());
        let version = log.version()? + 1;
        {
            let _w = self.writing();
            log.tree.insert(version.to_be_bytes(), encode(version))?;
        }
        self.flush_serialised()?;
        Ok(version)
    }

    pub(super) fn flush_serialised(&self) -> Result<(), StorageError> {
        let _one_at_a_time = self.flush_lock.lock().unwrap_or_else(|e| e.into_inner());
        fail::fail_point!("store-flush", |_| Err(injected("store-flush")));
        self.db.flush()?;
        Ok(())
    }
}

/// The error a configured fail point returns, as a failing disk would.
pub(super) fn injected(point: &str) -> StorageError {
    StorageError::Backend(sled::Error::Io(std::io::Error::other(format!(
        "injected fault at {point}"
    ))))
}

pub(super) fn decode_u64(bytes: &[u8]) -> Result<u64, StorageError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StorageError::Corrupt("counter is not 8 bytes".into()))
}

impl Store for SledStore {
    fn append(&self, batches: &[DeskAppend]) -> Result<Vec<AppendOutcome>, StorageError> {
        self.append_batches(batches)
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.checkpoint_counts()
    }

    fn progress(&self, desk_id: &str, incarnation: u32) -> Result<DeskProgress, StorageError> {
        self.progress_of(&[(desk_id, incarnation)])?
            .pop()
            .ok_or_else(|| StorageError::Corrupt("no progress read".into()))
    }

    fn progress_of(&self, streams: &[(&str, u32)]) -> Result<Vec<DeskProgress>, StorageError> {
        let keys: Vec<String> = streams
            .iter()
            .map(|(d, n)| append::stream_key(d, *n))
            .collect();
        Ok(self.durable_progress(&keys))
    }

    fn rejections(
        &self,
        desk_id: &str,
        incarnation: u32,
        after: u64,
        up_to: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StorageError> {
        self.read_rejections(
            &append::stream_key(desk_id, incarnation),
            after,
            up_to,
            limit,
        )
    }

    fn incarnations(&self, desk_id: &str) -> Result<Vec<Incarnation>, StorageError> {
        match self.incarnations.get(desk_id.as_bytes())? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| StorageError::Corrupt(e.to_string())),
            None => Ok(Vec::new()),
        }
    }

    fn put_incarnations(&self, desk_id: &str, list: &[Incarnation]) -> Result<(), StorageError> {
        let value = serde_json::to_vec(list).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        {
            let _w = self.writing();
            self.incarnations.insert(desk_id.as_bytes(), value)?;
        }
        self.flush_serialised()
    }

    fn counts(&self, dims: &[&str]) -> Result<Vec<CountCell>, StorageError> {
        self.read_counts(dims, None)
    }

    fn counts_between(
        &self,
        dims: &[&str],
        from: &str,
        to: &str,
    ) -> Result<Vec<CountCell>, StorageError> {
        self.read_counts(dims, Some((from, to)))
    }

    fn records(&self, desk_id: &str) -> Result<Vec<(u64, RawRecord)>, StorageError> {
        let mut out = Vec::new();
        for n in self.incarnation_numbers(desk_id)? {
            out.extend(self.read_records(&append::stream_key(desk_id, n))?);
        }
        Ok(out)
    }

    fn verify(&self) -> Result<Verification, StorageError> {
        self.verify_ingest()
    }

    fn add_desk(&self, entry: DeskEntry) -> Result<(), StorageError> {
        let value = serde_json::to_vec(&entry).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let swapped = {
            let _w = self.writing();
            self.desks.compare_and_swap(
                entry.desk_id.as_bytes(),
                None as Option<&[u8]>,
                Some(value),
            )?
        };
        if swapped.is_err() {
            return Err(StorageError::DeskExists(entry.desk_id));
        }
        self.flush_serialised()?;
        Ok(())
    }

    fn desk(&self, desk_id: &str) -> Result<Option<DeskEntry>, StorageError> {
        self.desks
            .get(desk_id.as_bytes())?
            .map(|v| self.decode_desk(&v))
            .transpose()
    }

    fn put_desk(&self, entry: &DeskEntry) -> Result<(), StorageError> {
        let value = serde_json::to_vec(entry).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        {
            let _w = self.writing();
            self.desks.insert(entry.desk_id.as_bytes(), value)?;
        }
        self.flush_serialised()?;
        Ok(())
    }

    fn mark_seen(&self, desk_id: &str, at: &str) -> Result<(), StorageError> {
        {
            let _w = self.writing();
            self.seen.insert(desk_id.as_bytes(), at.as_bytes())?;
        }
        self.flush_serialised()
    }

    fn append_guidance(&self, item: domain::GuidanceItem) -> Result<u64, StorageError> {
        self.log_append(&self.guidance, |version| {
            super::entries::guidance(item, version)
        })
    }

    fn guidance_since(&self, after: u64) -> Result<Vec<domain::GuidanceItem>, StorageError> {
        self.guidance.since(after)
    }

    fn guidance_version(&self) -> Result<u64, StorageError> {
        self.guidance.version()
    }

    fn append_template(&self, template: domain::AnswerTemplate) -> Result<u64, StorageError> {
        self.log_append(&self.templates, |version| {
            super::entries::template(template, version)
        })
    }

    fn templates_since(&self, after: u64) -> Result<Vec<domain::AnswerTemplate>, StorageError> {
        self.templates.since(after)
    }

    fn template_version(&self) -> Result<u64, StorageError> {
        self.templates.version()
    }

    fn push_state(&self, desk_id: &str) -> Result<PushState, StorageError> {
        match self.push.get(desk_id.as_bytes())? {
            Some(v) => serde_json::from_slice(&v).map_err(|e| StorageError::Corrupt(e.to_string())),
            None => Ok(PushState::default()),
        }
    }

    fn put_push_state(&self, desk_id: &str, state: &PushState) -> Result<(), StorageError> {
        let value = serde_json::to_vec(state).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        // Not flushed on its own: a thousand desks applying a push would
        // queue a thousand flushes, and a state lost in a crash is reported
        // again by the desk's next Hello.
        let _w = self.writing();
        self.push.insert(desk_id.as_bytes(), value)?;
        Ok(())
    }

    fn logs_epoch(&self) -> Result<String, StorageError> {
        let epoch = self.meta.get(LOGS_EPOCH)?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&epoch).into_owned())
    }

    fn snapshot(&self, sink: &mut dyn crate::storage::SnapshotSink) -> Result<(), StorageError> {
        self.export(sink)
    }

    fn prune_records(&self, before_week: &str) -> Result<u64, StorageError> {
        self.prune_records_before(before_week)
    }

    fn records_pruned(&self) -> Result<Option<String>, StorageError> {
        Ok(self
            .meta
            .get(RECORDS_PRUNED)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    fn mark_records_pruned(&self, before_week: &str) -> Result<(), StorageError> {
        // Not flushed on its own: a mark lost in a crash costs one more
        // reading of the records, nothing else.
        let _w = self.writing();
        self.meta.insert(RECORDS_PRUNED, before_week.as_bytes())?;
        Ok(())
    }

    fn mark_refusals(&self, day: &str) -> Result<(), StorageError> {
        self.mark_refusals_on(day)
    }

    fn prune_refusals(&self, before_day: &str) -> Result<u64, StorageError> {
        self.prune_refusals_before(before_day)
    }

    fn prune_proposals(&self, decided_before: &str) -> Result<u64, StorageError> {
        self.prune_proposals_before(decided_before)
    }

    fn desks(&self) -> Result<Vec<DeskEntry>, StorageError> {
        self.desks
            .iter()
            .values()
            .map(|v| self.decode_desk(&v?))
            .collect()
    }
    // Dashboard sessions
    fn put_session(
        &self,
        key: &SessionKey,
        session: &StoredSession,
        per_user: usize,
    ) -> Result<(), StorageError> {
        self.put_session_entry(key, session, per_user)
    }

    fn session(&self, key: &SessionKey, now: u64) -> Result<Option<StoredSession>, StorageError> {
        self.session_entry(key, now)
    }

    fn touch_session(&self, key: &SessionKey, used: u64, expires: u64) -> Result<(), StorageError> {
        self.touch_session_entry(key, used, expires)
    }

    fn delete_session(&self, key: &SessionKey) -> Result<(), StorageError> {
        self.delete_session_entry(key)
    }

    fn prune_sessions(&self, now: u64) -> Result<usize, StorageError> {
        self.prune_session_entries(now)
    }
}

impl super::SearchMissLog for SledStore {
    fn add_miss_batch(
        &self,
        batch_id: &str,
        misses: &[super::MissCount],
    ) -> Result<bool, StorageError> {
        self.add_miss_batch_entry(batch_id, misses)
    }

    fn miss_counts(&self) -> Result<Vec<super::MissCount>, StorageError> {
        self.read_miss_counts()
    }

    fn prune_misses(&self, before_week: &str) -> Result<u64, StorageError> {
        self.prune_miss_weeks(before_week)
    }
}

/// A versioned log (guidance, templates): protobuf entries keyed by their
/// version, u64 big-endian, so that "everything after v" is one range scan.
pub(super) struct Log {
    name: &'static str,
    tree: sled::Tree,
    // Versions are assigned read-then-write; appends are rare, a lock is enough.
    lock: std::sync::Mutex<()>,
}

impl Log {
    fn open(db: &sled::Db, name: &'static str) -> Result<Self, StorageError> {
        Ok(Self {
            name,
            tree: db.open_tree(name)?,
            lock: std::sync::Mutex::new(()),
        })
    }

    pub(super) fn since<D: super::entries::Stored>(
        &self,
        after: u64,
    ) -> Result<Vec<D>, StorageError> {
        let from = after.saturating_add(1).to_be_bytes();
        super::entries::decode_all(
            self.name,
            self.tree
                .range(from..)
                .values()
                .map(|v| v.map_err(StorageError::from)),
        )
    }

    pub(super) fn version(&self) -> Result<u64, StorageError> {
        match self.tree.last()? {
            Some((k, _)) => decode_u64(&k),
            None => Ok(0),
        }
    }
}
