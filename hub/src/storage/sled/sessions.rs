//! Dashboard sessions in sled: tree `sessions`, key = the SHA-256 of the
//! cookie value (32 bytes), value = the session as JSON. The table is small
//! (at most `per_user` sessions per coordinator, created only by a correct
//! password), so bounding a user and pruning scan it whole.

use super::SledStore;
use crate::storage::{SessionKey, StorageError, StoredSession};

pub(super) const TREE: &str = "sessions";

pub(super) struct Sessions {
    tree: sled::Tree,
    /// Makes "insert, then drop the user's oldest" one step, so that
    /// concurrent sign-ins cannot leave a user above the bound.
    put: std::sync::Mutex<()>,
}

impl Sessions {
    pub(super) fn open(db: &sled::Db) -> Result<Self, StorageError> {
        Ok(Self {
            tree: db.open_tree(TREE)?,
            put: std::sync::Mutex::new(()),
        })
    }
}

fn decode(bytes: &[u8]) -> Result<StoredSession, StorageError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StorageError::Corrupt(format!("dashboard session: {e}")))
}

fn encode(session: &StoredSession) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(session).map_err(|e| StorageError::Corrupt(e.to_string()))
}

impl SledStore {
    pub(super) fn put_session_entry(
        &self,
        key: &SessionKey,
        session: &StoredSession,
        per_user: usize,
    ) -> Result<(), StorageError> {
        let s = &self.sessions;
        let value = encode(session)?;
        {
            let _one_at_a_time = s.put.lock().unwrap_or_else(|e| e.into_inner());
            let mut mine = Vec::new();
            for kv in s.tree.iter() {
                let (k, v) = kv?;
                let held = decode(&v)?;
                if held.user == session.user && k.as_ref() != key.as_slice() {
                    mine.push((held.used, k));
                }
            }
            // Room for the new one: the least recently used go first.
            mine.sort_by_key(|(used, _)| *used);
            let excess = (mine.len() + 1).saturating_sub(per_user.max(1));
            let mut batch = sled::Batch::default();
            for (_, k) in mine.into_iter().take(excess) {
                batch.remove(k);
            }
            batch.insert(key.as_slice(), value);
            let _w = self.writing();
            s.tree.apply_batch(batch)?;
        }
        self.flush_serialised()
    }

    pub(super) fn session_entry(
        &self,
        key: &SessionKey,
        now: u64,
    ) -> Result<Option<StoredSession>, StorageError> {
        let Some(v) = self.sessions.tree.get(key)? else {
            return Ok(None);
        };
        let held = decode(&v)?;
        if held.expires <= now {
            // Only this entry, and only if no one replaced it meanwhile.
            let _w = self.writing();
            let _ = self
                .sessions
                .tree
                .compare_and_swap(key, Some(v), None as Option<&[u8]>)?;
            return Ok(None);
        }
        Ok(Some(held))
    }

    pub(super) fn touch_session_entry(
        &self,
        key: &SessionKey,
        used: u64,
        expires: u64,
    ) -> Result<(), StorageError> {
        let _w = self.writing();
        // An update, never an insert: a use racing a sign-out must not bring
        // the session back. An entry that does not decode is left to `session`
        // to report.
        self.sessions.tree.update_and_fetch(key, |old| {
            let old = old?;
            match decode(old) {
                Ok(mut s) => {
                    s.used = s.used.max(used);
                    s.expires = expires;
                    encode(&s).ok().or_else(|| Some(old.to_vec()))
                }
                Err(_) => Some(old.to_vec()),
            }
        })?;
        Ok(())
    }

    pub(super) fn delete_session_entry(&self, key: &SessionKey) -> Result<(), StorageError> {
        {
            let _w = self.writing();
            self.sessions.tree.remove(key)?;
        }
        // A sign-out lost in a crash would bring the session back.
        self.flush_serialised()
    }

    pub(super) fn prune_session_entries(&self, now: u64) -> Result<usize, StorageError> {
        let mut left = 0;
        for kv in self.sessions.tree.iter() {
            let (k, v) = kv?;
            // An entry that does not decode can never be opened: it goes too.
            let live = decode(&v).is_ok_and(|s| s.expires > now);
            if live {
                left += 1;
            } else {
                let _w = self.writing();
                let _ = self
                    .sessions
                    .tree
                    .compare_and_swap(&k, Some(v), None as Option<&[u8]>)?;
            }
        }
        // Not flushed: an expired session that comes back after a crash is
        // refused on read and pruned again.
        Ok(left)
    }
}

#[cfg(test)]
mod tests {
    use crate::storage::{SledStore, Store, StoredSession};

    fn session(user: &str, used: u64) -> StoredSession {
        StoredSession {
            user: user.into(),
            csrf: format!("csrf-{user}-{used}"),
            created: used,
            used,
            expires: used + 100,
        }
    }

    #[test]
    fn sessions_survive_a_reopen_and_expire_touch_and_end() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let (a, b) = ([1u8; 32], [2u8; 32]);
        {
            let store = SledStore::open(dir.path(), 8 << 20).expect("open");
            store
                .put_session(&a, &session("anna", 10), 20)
                .expect("put");
            store
                .put_session(&b, &session("bruno", 10), 20)
                .expect("put");
        }
        let store = SledStore::open(dir.path(), 8 << 20).expect("reopen");
        assert_eq!(
            store.session(&a, 50).expect("read"),
            Some(session("anna", 10))
        );
        // A use moves the expiry; a use of a deleted session does not bring it back.
        store.touch_session(&a, 90, 190).expect("touch");
        let touched = store.session(&a, 150).expect("read").expect("still live");
        assert_eq!((touched.used, touched.expires), (90, 190));
        store.delete_session(&a).expect("delete");
        store.touch_session(&a, 95, 195).expect("touch");
        assert_eq!(store.session(&a, 96).expect("read"), None);
        // Expired: refused on read, and deleted by it.
        assert_eq!(store.session(&b, 110).expect("read"), None);
        assert_eq!(store.prune_sessions(0).expect("prune"), 0, "nothing left");
    }

    #[test]
    fn a_user_keeps_at_most_the_bound_and_the_sweep_prunes() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = SledStore::open(dir.path(), 8 << 20).expect("open");
        for n in 0..5u8 {
            store
                .put_session(&[n; 32], &session("anna", u64::from(n) * 10), 3)
                .expect("put");
        }
        store
            .put_session(&[9; 32], &session("bruno", 0), 3)
            .expect("put");
        // Anna's two least recently used went; Bruno is untouched.
        for (n, held) in [(0u8, false), (1, false), (2, true), (3, true), (4, true)] {
            assert_eq!(
                store.session(&[n; 32], 5).expect("read").is_some(),
                held,
                "{n}"
            );
        }
        assert_eq!(store.prune_sessions(5).expect("prune"), 4);
        // At 125 only the sessions used at 30 and 40 are live.
        assert_eq!(store.prune_sessions(125).expect("prune"), 2);
        assert_eq!(store.session(&[2; 32], 0).expect("read"), None, "pruned");
        assert!(store.session(&[4; 32], 0).expect("read").is_some());
    }
}
