//! A whole sled store as collections of entries, out (`hub backup`) and in
//! (`hub restore`, into a new folder that then replaces the old one), all
//! but the dashboard sessions.

use super::{SledStore, LOGS_EPOCH};
use crate::storage::{SnapshotSink, StorageError};
use std::path::Path;

impl SledStore {
    /// Every tree, entry by entry, while writes wait on `pause`.
    pub(super) fn export(&self, sink: &mut dyn SnapshotSink) -> Result<(), StorageError> {
        let _alone = self.pause.write().unwrap_or_else(|e| e.into_inner());
        for name in self.db.tree_names() {
            // A restored hub signs everyone out: a backup must not bring
            // back a session that was ended after it.
            if name == super::sessions::TREE.as_bytes() {
                continue;
            }
            let tree = self.db.open_tree(&name)?;
            sink.collection(&name)?;
            for kv in tree.iter() {
                let (k, v) = kv?;
                sink.entry(&k, &v)?;
            }
        }
        Ok(())
    }
}

/// Builds a new store from a snapshot's collections and entries, as they
/// come (`hub restore`); `finish` makes it whole.
pub struct Importer {
    db: sled::Db,
    tree: Option<sled::Tree>,
}

impl Importer {
    /// A new store at `path`, which must not hold one.
    pub fn create(path: &Path) -> Result<Self, StorageError> {
        if path.exists() {
            return Err(StorageError::Corrupt(format!(
                "{} already exists",
                path.display()
            )));
        }
        Ok(Self {
            db: runtime::embedded::open_sled(path, 8 << 20)?,
            tree: None,
        })
    }

    /// Gives the store a new logs epoch and puts it on disk. The restored
    /// logs may give a version again with other content than desks hold
    /// from after the backup: the new epoch tells them.
    pub fn finish(self) -> Result<SledStore, StorageError> {
        self.db
            .open_tree("meta")?
            .insert(LOGS_EPOCH, uuid::Uuid::now_v7().to_string().as_bytes())?;
        self.db.flush()?;
        SledStore::from_db(self.db)
    }
}

fn io(e: sled::Error) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl SnapshotSink for Importer {
    fn collection(&mut self, name: &[u8]) -> std::io::Result<()> {
        self.tree = Some(self.db.open_tree(name).map_err(io)?);
        Ok(())
    }

    fn entry(&mut self, key: &[u8], value: &[u8]) -> std::io::Result<()> {
        let tree = self
            .tree
            .as_ref()
            .ok_or_else(|| std::io::Error::other("an entry before its collection"))?;
        tree.insert(key, value).map_err(io)?;
        Ok(())
    }
}
