//! One acknowledged batch stored as one sled value: the records of a desk's
//! batch that the hub kept, each with its sequence and record id, so that a
//! group commit writes one value per batch instead of one per record, and
//! the id index can be rebuilt at open without decoding the records.
//!
//! Per record: sequence (u64 BE), record id (16 bytes), length (u32 BE),
//! the record as protobuf.
//!
//! A segment is stored LZ4-compressed (`seal`) when that saves bytes: about
//! a third of its size for a few dozen records, and every byte sled writes
//! it writes again when it rewrites a leaf and reads again at its next open.
//! A stored segment says which it is by its first byte: a raw one starts
//! with its first sequence's high byte, 0 below 2^56 (the federation refuses
//! gaps, so sequences count up from 1), and a compressed one with `LZ4`.

use super::StorageError;
use domain::{AnonymisedRecord, RawRecord};
use prost::Message;
use std::borrow::Cow;

/// First byte of a compressed segment: the raw length (u32 BE) and the LZ4
/// block follow.
const LZ4: u8 = 0xF4;

/// Refused as damage: no segment of the hub's holds more (a segment ends
/// after the record that crosses its size, and a record is bounded by the
/// federation's message limit), so a larger length is a damaged header and
/// not worth an allocation.
const MAX_RAW_BYTES: usize = 64 << 20;

/// The bytes to store for a built segment: compressed when that is smaller,
/// and always when its first byte could be read as the compressed mark.
pub(crate) fn seal(raw: Vec<u8>) -> Vec<u8> {
    let Ok(len) = u32::try_from(raw.len()) else {
        return raw;
    };
    // Compressed in place after its header, so that the block is not copied.
    let mut stored = vec![0; 5 + lz4_flex::block::get_maximum_output_size(raw.len())];
    stored[0] = LZ4;
    stored[1..5].copy_from_slice(&len.to_be_bytes());
    let Ok(packed) = lz4_flex::block::compress_into(&raw, &mut stored[5..]) else {
        return raw;
    };
    stored.truncate(5 + packed);
    if stored.len() < raw.len() || raw.first().is_some_and(|b| *b != 0) {
        stored
    } else {
        raw
    }
}

/// A stored segment's records, decompressed if it was sealed compressed.
pub(crate) fn open(stored: &[u8]) -> Result<Cow<'_, [u8]>, StorageError> {
    let Some((&LZ4, mut rest)) = stored.split_first() else {
        return Ok(Cow::Borrowed(stored));
    };
    let len = u32::from_be_bytes(fixed(&mut rest)?) as usize;
    if len > MAX_RAW_BYTES {
        return Err(damaged());
    }
    let raw = lz4_flex::block::decompress(rest, len).map_err(|_| damaged())?;
    if raw.len() != len {
        return Err(damaged());
    }
    Ok(Cow::Owned(raw))
}

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
