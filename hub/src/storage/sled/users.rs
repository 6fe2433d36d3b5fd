//! Dashboard accounts in sled: tree `users`, key = the name, value = the
//! `User` as JSON. A backup carries it as it carries every tree.

use super::SledStore;
use crate::storage::{StorageError, User, UserDirectory};

const TREE: &str = "users";

fn decode(bytes: &[u8]) -> Result<User, StorageError> {
    serde_json::from_slice(bytes).map_err(|e| StorageError::Corrupt(format!("dashboard user: {e}")))
}

impl UserDirectory for SledStore {
    fn users(&self) -> Result<Vec<User>, StorageError> {
        self.db()
            .open_tree(TREE)?
            .iter()
            .values()
            .map(|v| decode(&v?))
            .collect()
    }

    fn user(&self, name: &str) -> Result<Option<User>, StorageError> {
        self.db()
            .open_tree(TREE)?
            .get(name.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    fn add_user(&self, user: &User) -> Result<bool, StorageError> {
        let tree = self.db().open_tree(TREE)?;
        let value = serde_json::to_vec(user).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let swapped = {
            let _w = self.writing();
            tree.compare_and_swap(user.name.as_bytes(), None as Option<&[u8]>, Some(value))?
        };
        if swapped.is_err() {
            return Ok(false);
        }
        self.flush_serialised()?;
        Ok(true)
    }
}
