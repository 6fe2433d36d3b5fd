//! Dashboard sessions on PostgreSQL: table `sessions`, keyed by the
//! SHA-256 of the cookie value, with the user and the expiry beside the
//! JSON so that bounding a user and pruning need not decode every row.
//! A user's sign-ins take an advisory lock on the name, so that two
//! replicas signing the same user in cannot leave it above the bound.

use super::i64_of;
use crate::storage::postgres::{from_json, json, PostgresStore};
use crate::storage::{SessionKey, StorageError, StoredSession};

impl PostgresStore {
    pub(in crate::storage::postgres) fn store_session(
        &self,
        key: &SessionKey,
        session: &StoredSession,
        per_user: usize,
    ) -> Result<(), StorageError> {
        let value = json(session)?;
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 1920))",
                &[&session.user],
            )
            .await?;
            let rows = tx
                .query(
                    "SELECT key, session FROM sessions WHERE \"user\" = $1 AND key <> $2
                     ORDER BY key",
                    &[&session.user, &key.as_slice()],
                )
                .await?;
            let mut mine = Vec::with_capacity(rows.len());
            for r in rows {
                let held: StoredSession = from_json(r.get(1))?;
                mine.push((held.used, r.get::<_, Vec<u8>>(0)));
            }
            // Room for the new one: the least recently used go first (ties
            // in key order, as sled's scan gives them).
            mine.sort_by_key(|(used, _)| *used);
            let excess = (mine.len() + 1).saturating_sub(per_user.max(1));
            let gone: Vec<Vec<u8>> = mine.into_iter().take(excess).map(|(_, k)| k).collect();
            tx.execute("DELETE FROM sessions WHERE key = ANY($1)", &[&gone])
                .await?;
            tx.execute(
                "INSERT INTO sessions (key, \"user\", session, expires) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO UPDATE SET \"user\" = EXCLUDED.\"user\",
                     session = EXCLUDED.session, expires = EXCLUDED.expires",
                &[
                    &key.as_slice(),
                    &session.user,
                    &value,
                    &i64_of(session.expires),
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub(in crate::storage::postgres) fn load_session(
        &self,
        key: &SessionKey,
        now: u64,
    ) -> Result<Option<StoredSession>, StorageError> {
        let Some(row) = self
            .query(
                "SELECT session FROM sessions WHERE key = $1",
                &[&key.as_slice()],
            )?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let value: serde_json::Value = row.get(0);
        let held: StoredSession = from_json(value.clone())?;
        if held.expires <= now {
            // Only this entry, and only if no one replaced it meanwhile.
            self.execute(
                "DELETE FROM sessions WHERE key = $1 AND session = $2",
                &[&key.as_slice(), &value],
            )?;
            return Ok(None);
        }
        Ok(Some(held))
    }

    pub(in crate::storage::postgres) fn touch(
        &self,
        key: &SessionKey,
        used: u64,
        expires: u64,
    ) -> Result<(), StorageError> {
        // An update, never an insert: a use racing a sign-out must not
        // bring the session back.
        self.execute(
            "UPDATE sessions SET expires = $3::bigint,
                 session = jsonb_set(jsonb_set(session, '{used}',
                     to_jsonb(greatest((session->>'used')::bigint, $2::bigint))),
                     '{expires}', to_jsonb($3::bigint))
             WHERE key = $1",
            &[&key.as_slice(), &i64_of(used), &i64_of(expires)],
        )?;
        Ok(())
    }

    pub(in crate::storage::postgres) fn end_session(
        &self,
        key: &SessionKey,
    ) -> Result<(), StorageError> {
        self.execute("DELETE FROM sessions WHERE key = $1", &[&key.as_slice()])?;
        Ok(())
    }

    pub(in crate::storage::postgres) fn prune_expired_sessions(
        &self,
        now: u64,
    ) -> Result<usize, StorageError> {
        self.execute("DELETE FROM sessions WHERE expires <= $1", &[&i64_of(now)])?;
        // An entry that does not decode can never be opened: it goes too,
        // as on sled.
        let mut left = 0;
        for r in self.query("SELECT key, session FROM sessions", &[])? {
            let value: serde_json::Value = r.get(1);
            if from_json::<StoredSession>(value.clone()).is_ok_and(|s| s.expires > now) {
                left += 1;
            } else {
                self.execute(
                    "DELETE FROM sessions WHERE key = $1 AND session = $2",
                    &[&r.get::<_, Vec<u8>>(0), &value],
                )?;
            }
        }
        Ok(left)
    }
}
