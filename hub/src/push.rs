//! Push, xDS-style: the hub's current log versions, watched by every desk
//! stream. A publish only moves the version; each stream then reads what its
//! desk lacks and sends it on its own task, so a slow or stuck desk never
//! delays the others.

use crate::storage::{StorageError, Store};
use proto::{GuidanceItem, GuidanceUpdate};
use tokio::sync::watch;

/// Largest number of guidance entries in one update, so that a desk far
/// behind gets several messages well under the message size limit.
pub const MAX_ITEMS_PER_UPDATE: usize = 200;

#[derive(Clone)]
pub struct Push {
    guidance: watch::Sender<u64>,
}

impl Push {
    pub fn new(store: &dyn Store) -> Result<Self, StorageError> {
        Ok(Self {
            guidance: watch::Sender::new(store.guidance_version()?),
        })
    }

    pub fn guidance_published(&self, version: u64) {
        self.guidance.send_if_modified(|v| {
            let newer = version > *v;
            *v = (*v).max(version);
            newer
        });
    }

    pub fn guidance_version(&self) -> u64 {
        *self.guidance.borrow()
    }

    pub fn watch_guidance(&self) -> watch::Receiver<u64> {
        self.guidance.subscribe()
    }
}

/// The updates that bring a desk holding version `held` up to date.
pub fn guidance_updates(store: &dyn Store, held: u64) -> Result<Vec<GuidanceUpdate>, StorageError> {
    let items: Vec<GuidanceItem> = store.guidance_since(held)?;
    Ok(items
        .chunks(MAX_ITEMS_PER_UPDATE)
        .map(|chunk| GuidanceUpdate {
            version: chunk.last().map_or(held, |i| i.version),
            items: chunk.to_vec(),
        })
        .collect())
}
