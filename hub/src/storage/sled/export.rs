//! What `hub migrate --from-sled` reads that the `Store` contract does not
//! give: each stream's records as stored (sequence, id, protobuf), its
//! refusals and progress, what retention pruned, and the registers kept
//! in their own trees. Read-only; the hub must be stopped (sled's lock).

use super::append::{decode_progress, seq_of};
use super::{retention, SledStore};
use crate::storage::cubes::Cells;
use crate::storage::{segment, DeskProgress, StorageError};
use std::collections::{BTreeMap, HashMap};

/// One stream: a desk's incarnation.
pub(crate) struct Stream {
    pub desk_id: String,
    pub incarnation: u32,
    pub progress: DeskProgress,
}

/// One record as stored: sequence, id, week and its protobuf.
pub(crate) struct StoredRecord {
    pub seq: u64,
    pub id: uuid::Uuid,
    pub week: String,
    pub body: Vec<u8>,
}

/// What retention pruned.
pub(crate) struct Pruned {
    pub ids: Vec<u128>,
    pub cells: HashMap<(usize, String), Cells>,
    pub per_stream: BTreeMap<String, u64>,
}

/// `desk#n` → (desk, n); the desk id alone is incarnation 0.
pub(crate) fn parse_stream(stream: &str) -> (String, u32) {
    match stream.rsplit_once('#') {
        Some((desk, n)) => (desk.to_owned(), n.parse().unwrap_or(0)),
        None => (stream.to_owned(), 0),
    }
}

impl SledStore {
    pub(crate) fn export_streams(&self) -> Result<Vec<Stream>, StorageError> {
        let mut out = Vec::new();
        for kv in self.ingest.scan_prefix([b's']) {
            let (k, v) = kv?;
            let (desk_id, incarnation) = parse_stream(&String::from_utf8_lossy(&k[1..]));
            out.push(Stream {
                desk_id,
                incarnation,
                progress: decode_progress(&v)?,
            });
        }
        Ok(out)
    }

    /// The records of one stream, segment by segment, in sequence order.
    pub(crate) fn export_records(
        &self,
        desk_id: &str,
        incarnation: u32,
        mut each: impl FnMut(StoredRecord) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let stream = super::append::stream_key(desk_id, incarnation);
        for kv in self
            .ingest
            .scan_prefix(super::append::desk_prefix(b'g', &stream))
        {
            let (_, seg) = kv?;
            for entry in segment::entries(&segment::open(&seg)?) {
                let entry = entry?;
                let week = entry.decode()?.week;
                each(StoredRecord {
                    seq: entry.seq,
                    id: uuid::Uuid::from_u128(entry.id),
                    week,
                    body: entry.record.to_vec(),
                })?;
            }
        }
        Ok(())
    }

    /// Every refusal: desk, incarnation, sequence, reason.
    pub(crate) fn export_refusals(&self) -> Result<Vec<(String, u32, u64, String)>, StorageError> {
        let mut out = Vec::new();
        for kv in self.ingest.scan_prefix([b'x']) {
            let (k, v) = kv?;
            let seq = seq_of(&k)?;
            let stream = k
                .get(1..k.len().saturating_sub(9))
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .ok_or_else(|| StorageError::Corrupt("short refusal key".into()))?;
            let (desk, incarnation) = parse_stream(&stream);
            out.push((
                desk,
                incarnation,
                seq,
                String::from_utf8_lossy(&v).into_owned(),
            ));
        }
        Ok(out)
    }

    pub(crate) fn export_pruned(&self) -> Result<Pruned, StorageError> {
        Ok(Pruned {
            ids: retention::pruned_ids(&self.ingest)?,
            cells: retention::pruned_cells(&self.ingest)?,
            per_stream: retention::pruned_per_stream(&self.ingest)?,
        })
    }

    /// Ids of proposals retention deleted, with their desk.
    pub(crate) fn export_pruned_proposals(&self) -> Result<Vec<(String, String)>, StorageError> {
        self.pruned_proposals
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                ))
            })
            .collect()
    }
}
