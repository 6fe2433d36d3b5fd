//! The storage limit: what sled alone does with the hub's record size and
//! key shape, 1,000 inserts per batch and a flush after each, on the same
//! filesystem as the hub's data. Ingest is quoted as a ratio of this.

use crate::desks::RecordMaker;
use crate::report::RawSled;
use crate::Sizes;
use prost::Message;
use std::path::Path;
use std::time::Instant;

const BATCH: u64 = 1_000;

pub(crate) fn run(dir: &Path, sizes: &Sizes) -> anyhow::Result<RawSled> {
    let mut maker = RecordMaker::new();
    let record = maker.make("bench-0")?;
    let value = proto::AnonymisedRecord::from(record.to_raw()).encode_to_vec();
    // The hub's settings: the same page cache and no background flusher.
    let hub_defaults = hub::config::HubConfig::default();
    let db = sled::Config::new()
        .path(dir.join("raw-sled"))
        .cache_capacity(hub_defaults.cache_mib << 20)
        .flush_every_ms(None)
        .open()?;
    let tree = db.open_tree("ingest")?;
    let desks = sizes.ingest_desks as u64;
    let total = sizes.ingest_records;
    let bar = crate::progress::bar(total, "raw-sled inserts");
    let start = Instant::now();
    let mut n = 0u64;
    while n < total {
        let mut batch = sled::Batch::default();
        let end = (n + BATCH).min(total);
        // Records of every desk interleave, as in a group commit.
        for i in n..end {
            batch.insert(key(i % desks, i / desks + 1), value.as_slice());
        }
        tree.apply_batch(batch)?;
        db.flush()?;
        bar.inc(end - n);
        n = end;
    }
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok(RawSled {
        records_per_s: total as f64 / secs,
    })
}

/// The hub's record key: `r`, desk id, `/`, sequence (u64 BE).
fn key(desk: u64, seq: u64) -> Vec<u8> {
    let desk_id = format!("bench-{desk}");
    let mut k = Vec::with_capacity(desk_id.len() + 10);
    k.push(b'r');
    k.extend_from_slice(desk_id.as_bytes());
    k.push(b'/');
    k.extend_from_slice(&seq.to_be_bytes());
    k
}
