//! One acknowledged batch stored as one sled value: the records of a desk's
//! batch that the hub kept, each with its sequence and record id, so that a
//! group commit writes one value per batch instead of one per record, and
//! the id index can be rebuilt at open without decoding the records.
//!
//! Per record: sequence (u64 BE), record id (16 bytes), length (u32 BE),
//! the record as protobuf.

use super::StorageError;
use domain::{AnonymisedRecord, RawRecord};
use prost::Message;

/// Appends one record to a segment being built.
pub(crate) fn push(segment: &mut Vec<u8>, seq: u64, record: &AnonymisedRecord) {
    let wire = proto::WireRecord::new(record);
    let len = wire.encoded_len();
    segment.reserve(28 + len);
    segment.extend_from_slice(&seq.to_be_bytes());
    segment.extend_from_slice(&record.id().as_u128().to_be_bytes());
    segment.extend_from_slice(&(len as u32).to_be_bytes());
    wire.encode(segment);
}

/// One stored record, borrowed from its segment.
pub(crate) struct Entry<'a> {
    pub seq: u64,
    pub id: u128,
    pub record: &'a [u8],
}

impl Entry<'_> {
    pub(crate) fn decode(&self) -> Result<RawRecord, StorageError> {
        proto::AnonymisedRecord::decode(self.record)
            .map(RawRecord::from)
            .map_err(|e| StorageError::Corrupt(format!("record does not decode: {e}")))
    }
}

/// The records of a segment, in sequence order.
pub(crate) fn entries(mut bytes: &[u8]) -> impl Iterator<Item = Result<Entry<'_>, StorageError>> {
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        let entry = next(&mut bytes);
        if entry.is_err() {
            bytes = &[];
        }
        Some(entry)
    })
}

fn next<'a>(bytes: &mut &'a [u8]) -> Result<Entry<'a>, StorageError> {
    let seq = u64::from_be_bytes(fixed(bytes)?);
    let id = u128::from_be_bytes(fixed(bytes)?);
    let len = u32::from_be_bytes(fixed(bytes)?) as usize;
    let (record, rest) = bytes.split_at_checked(len).ok_or_else(damaged)?;
    *bytes = rest;
    Ok(Entry { seq, id, record })
}

fn fixed<const N: usize>(bytes: &mut &[u8]) -> Result<[u8; N], StorageError> {
    let (head, rest) = bytes.split_at_checked(N).ok_or_else(damaged)?;
    *bytes = rest;
    <[u8; N]>::try_from(head).map_err(|_| damaged())
}

fn damaged() -> StorageError {
    StorageError::Corrupt("stored segment is damaged".into())
}

/// Copies one stored record into a segment being built, as it was stored
/// (retention rewrites a segment without the records it prunes).
pub(crate) fn push_entry(segment: &mut Vec<u8>, entry: &Entry<'_>) {
    segment.reserve(28 + entry.record.len());
    segment.extend_from_slice(&entry.seq.to_be_bytes());
    segment.extend_from_slice(&entry.id.to_be_bytes());
    segment.extend_from_slice(&(entry.record.len() as u32).to_be_bytes());
    segment.extend_from_slice(entry.record);
}
