//! The publication register in sled: one tree, `publications`, keyed by
//! the dimensions joined by 0x1f, a 0x1e separator and a sequence number
//! (u64 BE), so that a table's earlier entries are one prefix scan, oldest
//! first. Values are the entries as JSON.

use super::{PublicationRegister, SledStore, StorageError, Store};
use domain::disclosure::Publication;

const TREE: &str = "publications";
const DIM_SEP: u8 = 0x1f;
const END: u8 = 0x1e;

fn prefix(dims: &[String]) -> Vec<u8> {
    let mut key = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        if i > 0 {
            key.push(DIM_SEP);
        }
        key.extend_from_slice(d.as_bytes());
    }
    key.push(END);
    key
}

impl PublicationRegister for SledStore {
    fn publications(&self, dims: &[String]) -> Result<Vec<Publication>, StorageError> {
        let tree = self.db().open_tree(TREE)?;
        tree.scan_prefix(prefix(dims))
            .map(|item| {
                let (_, value) = item?;
                serde_json::from_slice(&value)
                    .map_err(|e| StorageError::Corrupt(format!("publication register entry: {e}")))
            })
            .collect()
    }

    fn add_publication(&self, publication: &Publication) -> Result<(), StorageError> {
        let tree = self.db().open_tree(TREE)?;
        let value = serde_json::to_vec(publication)
            .map_err(|e| StorageError::Corrupt(format!("publication register entry: {e}")))?;
        let mut key = prefix(&publication.dims);
        // Sequence numbers are per table shape; callers serialise
        // publishing (`hub::stats`), so the last key plus one is free.
        let next = match tree.scan_prefix(&key).keys().next_back() {
            Some(last) => {
                let last = last?;
                let tail = last.get(key.len()..).unwrap_or_default();
                let bytes: [u8; 8] = tail.try_into().map_err(|_| {
                    StorageError::Corrupt("publication register key without a sequence".into())
                })?;
                u64::from_be_bytes(bytes) + 1
            }
            None => 0,
        };
        key.extend_from_slice(&next.to_be_bytes());
        tree.insert(key, value)?;
        self.flush()
    }
}
