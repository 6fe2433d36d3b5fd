//! The sled implementation of [`Store`].
//!
//! Everything an ingest touches lives in one tree (`ingest`) under one-byte
//! key prefixes, so that records, the id index, the desk's progress and the
//! counts change in a single atomic `apply_batch`: a crash leaves either all
//! of a group commit or none of it.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `r` | desk `/` seq (u64 BE) | record, protobuf |
//! | `i` | record id (16 bytes) | desk `/` seq |
//! | `x` | desk `/` seq | refusal reason |
//! | `s` | desk | last_seq, records, rejected (3 × u64 BE) |
//! | `c` | dimension values joined by 0x1f | count (u64 BE) |

use super::{
    AppendOutcome, CountCell, DeskAppend, DeskEntry, DeskProgress, PushState, StorageError, Store,
    Verification, COUNT_DIMENSIONS,
};
use domain::RawRecord;
use prost::Message;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

const SEP: u8 = 0x1f;

pub struct SledStore {
    db: sled::Db,
    ingest: sled::Tree,
    desks: sled::Tree,
    seen: sled::Tree,
    guidance: Log,
    templates: Log,
    push: sled::Tree,
    pub(super) audit: sled::Tree,
    // sled 0.34 can deadlock when several threads flush at once, so every
    // flush here takes this lock.
    flush_lock: std::sync::Mutex<()>,
}

impl SledStore {
    /// Opens (or creates) the store. `cache_bytes` bounds sled's page cache,
    /// whose 1 GiB default would dominate the hub's memory.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StorageError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            // We flush explicitly before every acknowledgement; the background
            // flusher would only add write amplification.
            .flush_every_ms(None)
            .open()?;
        let ingest = db.open_tree("ingest")?;
        let desks = db.open_tree("desks")?;
        let seen = db.open_tree("seen")?;
        let guidance = Log::open(&db, "guidance")?;
        let templates = Log::open(&db, "templates")?;
        let push = db.open_tree("push")?;
        let audit = db.open_tree("audit")?;
        Ok(Self {
            db,
            ingest,
            desks,
            seen,
            guidance,
            templates,
            push,
            audit,
            flush_lock: std::sync::Mutex::new(()),
        })
    }

    pub fn db(&self) -> &sled::Db {
        &self.db
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
    fn log_append(
        &self,
        log: &Log,
        encode: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<u64, StorageError> {
        let _one_at_a_time = log.lock.lock().unwrap_or_else(|e| e.into_inner());
        let version = log.version()? + 1;
        log.tree.insert(version.to_be_bytes(), encode(version))?;
        self.flush_serialised()?;
        Ok(version)
    }

    fn flush_serialised(&self) -> Result<(), StorageError> {
        let _one_at_a_time = self.flush_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.db.flush()?;
        Ok(())
    }
}

fn record_key(desk_id: &str, seq: u64) -> Vec<u8> {
    desk_seq_key(b'r', desk_id, seq)
}

fn desk_seq_key(prefix: u8, desk_id: &str, seq: u64) -> Vec<u8> {
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

fn decode_u64(bytes: &[u8]) -> Result<u64, StorageError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StorageError::Corrupt("counter is not 8 bytes".into()))
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

/// The counts-cube key of a record: its value for every dimension.
pub(crate) fn count_key(raw: &RawRecord) -> Vec<u8> {
    let values: [&str; 11] = [
        &raw.week,
        &raw.desk_id,
        &raw.procedure,
        &raw.channel,
        &raw.language,
        &raw.outcome,
        &raw.referral,
        &raw.duration_band,
        &raw.age_band,
        &raw.sex,
        &raw.nationality,
    ];
    let mut k = Vec::with_capacity(96);
    k.push(b'c');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            k.push(SEP);
        }
        k.extend_from_slice(v.as_bytes());
    }
    k
}

pub(crate) fn encode_record(raw: RawRecord) -> Vec<u8> {
    proto::AnonymisedRecord::from(raw).encode_to_vec()
}

fn decode_record(bytes: &[u8]) -> Result<RawRecord, StorageError> {
    proto::AnonymisedRecord::decode(bytes)
        .map(RawRecord::from)
        .map_err(|e| StorageError::Corrupt(format!("record does not decode: {e}")))
}

impl Store for SledStore {
    fn append(&self, batches: &[DeskAppend]) -> Result<Vec<AppendOutcome>, StorageError> {
        let mut batch = sled::Batch::default();
        let mut progress: HashMap<&str, DeskProgress> = HashMap::new();
        let mut count_delta: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut ids_in_group: HashSet<uuid::Uuid> = HashSet::new();
        let mut outcomes = Vec::with_capacity(batches.len());
        // Batches wholly held already are answered from disk after the write,
        // so that a resend gets back the refusals of its first delivery.
        let mut resent = Vec::new();

        for b in batches {
            let p = match progress.get(b.desk_id.as_str()) {
                Some(p) => *p,
                None => self.progress(&b.desk_id)?,
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
            for (seq, record) in b.accepted.iter().filter(|(s, _)| *s > p.last_seq) {
                let id = record.id();
                let mut id_key = Vec::with_capacity(17);
                id_key.push(b'i');
                id_key.extend_from_slice(id.as_bytes());
                if !ids_in_group.insert(id) || self.ingest.contains_key(&id_key)? {
                    let reason = format!("duplicate record id {id}: already stored");
                    batch.insert(desk_seq_key(b'x', &b.desk_id, *seq), reason.as_bytes());
                    rejected.push((*seq, reason));
                    next.rejected += 1;
                    continue;
                }
                let raw = record.to_raw();
                *count_delta.entry(count_key(&raw)).or_default() += 1;
                let key = record_key(&b.desk_id, *seq);
                batch.insert(id_key, &key[1..]);
                batch.insert(key, encode_record(raw));
                next.records += 1;
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
        for (key, delta) in count_delta {
            let current = match self.ingest.get(&key)? {
                Some(v) => decode_u64(&v)?,
                None => 0,
            };
            batch.insert(key, &(current + delta).to_be_bytes()[..]);
        }
        self.ingest.apply_batch(batch)?;
        self.flush_serialised()?;

        for i in resent {
            let b = &batches[i];
            outcomes[i].rejected =
                self.rejections(&b.desk_id, b.first_seq.saturating_sub(1), b.last_seq)?;
        }
        Ok(outcomes)
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.flush_serialised()
    }

    fn progress(&self, desk_id: &str) -> Result<DeskProgress, StorageError> {
        match self.ingest.get(progress_key(desk_id))? {
            Some(v) => decode_progress(&v),
            None => Ok(DeskProgress::default()),
        }
    }

    fn rejections(
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

    fn counts(&self) -> Result<Vec<CountCell>, StorageError> {
        let mut cells = Vec::new();
        for kv in self.ingest.scan_prefix([b'c']) {
            let (k, v) = kv?;
            let values: Vec<String> = k[1..]
                .split(|b| *b == SEP)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            if values.len() != COUNT_DIMENSIONS.len() {
                return Err(StorageError::Corrupt(
                    "counts key has the wrong arity".into(),
                ));
            }
            cells.push(CountCell {
                values,
                count: decode_u64(&v)?,
            });
        }
        Ok(cells)
    }

    fn records(&self, desk_id: &str) -> Result<Vec<(u64, RawRecord)>, StorageError> {
        let mut out = Vec::new();
        for kv in self.ingest.scan_prefix(desk_prefix(b'r', desk_id)) {
            let (k, v) = kv?;
            out.push((seq_of(&k)?, decode_record(&v)?));
        }
        Ok(out)
    }

    fn verify(&self) -> Result<Verification, StorageError> {
        let mut v = Verification::default();
        let mut recount: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut last: HashMap<String, u64> = HashMap::new();
        for kv in self.ingest.scan_prefix([b'r']) {
            let (k, bytes) = kv?;
            let raw = decode_record(&bytes)?;
            let seq = seq_of(&k)?;
            v.records += 1;
            *v.per_desk.entry(raw.desk_id.clone()).or_default() += 1;
            let prev = last.insert(raw.desk_id.clone(), seq).unwrap_or(0);
            if seq <= prev {
                v.problems
                    .push(format!("desk {}: sequence {seq} out of order", raw.desk_id));
            }
            *recount.entry(count_key(&raw)).or_default() += 1;
        }
        for kv in self.ingest.scan_prefix([b'i']) {
            kv?;
            v.ids += 1;
        }
        let mut stored_counts = BTreeMap::new();
        for kv in self.ingest.scan_prefix([b'c']) {
            let (k, c) = kv?;
            let c = decode_u64(&c)?;
            v.counted += c;
            stored_counts.insert(k.to_vec(), c);
        }
        if stored_counts != recount {
            v.problems
                .push("counts differ from a recount of the records".into());
        }
        if v.ids != v.records {
            v.problems
                .push(format!("{} ids indexed for {} records", v.ids, v.records));
        }
        for (desk, n) in &v.per_desk {
            let p = self.progress(desk)?;
            if p.records != *n {
                v.problems.push(format!(
                    "desk {desk}: progress says {} records, found {n}",
                    p.records
                ));
            }
        }
        Ok(v)
    }

    fn add_desk(&self, entry: DeskEntry) -> Result<(), StorageError> {
        let value = serde_json::to_vec(&entry).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let swapped = self.desks.compare_and_swap(
            entry.desk_id.as_bytes(),
            None as Option<&[u8]>,
            Some(value),
        )?;
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
        self.desks.insert(entry.desk_id.as_bytes(), value)?;
        self.flush_serialised()?;
        Ok(())
    }

    fn mark_seen(&self, desk_id: &str, at: &str) -> Result<(), StorageError> {
        self.seen.insert(desk_id.as_bytes(), at.as_bytes())?;
        self.flush_serialised()
    }

    fn append_guidance(&self, mut item: proto::GuidanceItem) -> Result<u64, StorageError> {
        self.log_append(&self.guidance, |version| {
            item.version = version;
            item.encode_to_vec()
        })
    }

    fn guidance_since(&self, after: u64) -> Result<Vec<proto::GuidanceItem>, StorageError> {
        self.guidance.since(after)
    }

    fn guidance_version(&self) -> Result<u64, StorageError> {
        self.guidance.version()
    }

    fn append_template(&self, mut template: proto::Template) -> Result<u64, StorageError> {
        self.log_append(&self.templates, |version| {
            template.version = version;
            // An Italian reference names its own version as the one that
            // translations follow, unless the caller kept an earlier one
            // (a minor edit).
            if template.reference_version == 0 {
                template.reference_version = version;
            }
            template.encode_to_vec()
        })
    }

    fn templates_since(&self, after: u64) -> Result<Vec<proto::Template>, StorageError> {
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
        self.push.insert(desk_id.as_bytes(), value)?;
        Ok(())
    }

    fn desks(&self) -> Result<Vec<DeskEntry>, StorageError> {
        self.desks
            .iter()
            .values()
            .map(|v| self.decode_desk(&v?))
            .collect()
    }
}

/// A versioned log (guidance, templates): protobuf entries keyed by their
/// version, u64 big-endian, so that "everything after v" is one range scan.
struct Log {
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

    fn since<M: Message + Default>(&self, after: u64) -> Result<Vec<M>, StorageError> {
        let from = after.saturating_add(1).to_be_bytes();
        self.tree
            .range(from..)
            .values()
            .map(|v| {
                M::decode(v?.as_ref()).map_err(|e| {
                    StorageError::Corrupt(format!("{} entry does not decode: {e}", self.name))
                })
            })
            .collect()
    }

    fn version(&self) -> Result<u64, StorageError> {
        match self.tree.last()? {
            Some((k, _)) => decode_u64(&k),
            None => Ok(0),
        }
    }
}
