//! [`Store`] on PostgreSQL: the desk registry, incarnations, push state and
//! the logs' epoch here; ingest in `append.rs`, the logs in `logs.rs`, the
//! rest beside them.

use super::{from_json, json, PostgresStore};
use crate::storage::{
    AppendOutcome, Change, CountCell, DeskAppend, DeskEntry, DeskProgress, Incarnation, PushState,
    SessionKey, StorageError, Store, StoredSession, Verification,
};
use domain::RawRecord;

impl PostgresStore {
    fn desk_of(row: &tokio_postgres::Row) -> Result<DeskEntry, StorageError> {
        let mut entry: DeskEntry = from_json(row.get(0))?;
        entry.last_seen = row.get(1);
        Ok(entry)
    }
}

const DESK_SELECT: &str = "SELECT d.entry, s.at FROM desks d LEFT JOIN desk_seen s USING (desk_id)";

impl Store for PostgresStore {
    fn append(&self, batches: &[DeskAppend]) -> Result<Vec<AppendOutcome>, StorageError> {
        self.append_batches(batches)
    }

    fn flush(&self) -> Result<(), StorageError> {
        // Every write is a committed transaction already.
        Ok(())
    }

    fn progress(&self, desk_id: &str, incarnation: u32) -> Result<DeskProgress, StorageError> {
        self.read_progress(desk_id, incarnation)
    }

    fn rejections(
        &self,
        desk_id: &str,
        incarnation: u32,
        after: u64,
        up_to: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StorageError> {
        self.read_rejections(desk_id, incarnation, after, up_to, limit)
    }

    fn incarnations(&self, desk_id: &str) -> Result<Vec<Incarnation>, StorageError> {
        match self
            .query(
                "SELECT list FROM incarnations WHERE desk_id = $1",
                &[&desk_id],
            )?
            .first()
        {
            Some(r) => from_json(r.get(0)),
            None => Ok(Vec::new()),
        }
    }

    fn put_incarnations(&self, desk_id: &str, list: &[Incarnation]) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO incarnations (desk_id, list) VALUES ($1, $2)
             ON CONFLICT (desk_id) DO UPDATE SET list = EXCLUDED.list",
            &[&desk_id, &json(&list)?],
        )?;
        Ok(())
    }

    fn counts(&self, dims: &[&str]) -> Result<Vec<CountCell>, StorageError> {
        self.read_counts(dims)
    }

    fn records(&self, desk_id: &str) -> Result<Vec<(u64, RawRecord)>, StorageError> {
        self.read_records(desk_id)
    }

    fn verify(&self) -> Result<Verification, StorageError> {
        self.verify_ingest()
    }

    fn add_desk(&self, entry: DeskEntry) -> Result<(), StorageError> {
        let mut stored = entry.clone();
        stored.last_seen = None;
        let added = self.execute(
            "INSERT INTO desks (desk_id, entry) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&entry.desk_id, &json(&stored)?],
        )?;
        if added == 0 {
            return Err(StorageError::DeskExists(entry.desk_id));
        }
        Ok(())
    }

    fn desk(&self, desk_id: &str) -> Result<Option<DeskEntry>, StorageError> {
        self.query(&format!("{DESK_SELECT} WHERE d.desk_id = $1"), &[&desk_id])?
            .first()
            .map(Self::desk_of)
            .transpose()
    }

    fn put_desk(&self, entry: &DeskEntry) -> Result<(), StorageError> {
        let mut stored = entry.clone();
        stored.last_seen = None;
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "INSERT INTO desks (desk_id, entry) VALUES ($1, $2)
                 ON CONFLICT (desk_id) DO UPDATE SET entry = EXCLUDED.entry",
                &[&entry.desk_id, &json(&stored)?],
            )
            .await?;
            // Every replica checks the entry again: a revocation cuts the
            // desk's stream wherever it is connected.
            super::notify::announce(
                &tx,
                &Change::Desk {
                    desk_id: entry.desk_id.clone(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn mark_seen(&self, desk_id: &str, at: &str) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO desk_seen (desk_id, at) VALUES ($1, $2)
             ON CONFLICT (desk_id) DO UPDATE SET at = EXCLUDED.at",
            &[&desk_id, &at],
        )?;
        Ok(())
    }

    fn append_guidance(&self, item: domain::GuidanceItem) -> Result<u64, StorageError> {
        self.log_append("guidance", |version| {
            crate::storage::entries::guidance(item, version)
        })
    }

    fn guidance_since(&self, after: u64) -> Result<Vec<domain::GuidanceItem>, StorageError> {
        self.log_since("guidance", after)
    }

    fn guidance_version(&self) -> Result<u64, StorageError> {
        self.log_version("guidance")
    }

    fn append_template(&self, template: domain::AnswerTemplate) -> Result<u64, StorageError> {
        self.log_append("templates", |version| {
            crate::storage::entries::template(template, version)
        })
    }

    fn templates_since(&self, after: u64) -> Result<Vec<domain::AnswerTemplate>, StorageError> {
        self.log_since("templates", after)
    }

    fn template_version(&self) -> Result<u64, StorageError> {
        self.log_version("templates")
    }

    fn push_state(&self, desk_id: &str) -> Result<PushState, StorageError> {
        match self
            .query(
                "SELECT state FROM push_state WHERE desk_id = $1",
                &[&desk_id],
            )?
            .first()
        {
            Some(r) => from_json(r.get(0)),
            None => Ok(PushState::default()),
        }
    }

    fn put_push_state(&self, desk_id: &str, state: &PushState) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO push_state (desk_id, state) VALUES ($1, $2)
             ON CONFLICT (desk_id) DO UPDATE SET state = EXCLUDED.state",
            &[&desk_id, &json(state)?],
        )?;
        Ok(())
    }

    fn desks(&self) -> Result<Vec<DeskEntry>, StorageError> {
        self.query(&format!("{DESK_SELECT} ORDER BY d.desk_id"), &[])?
            .iter()
            .map(Self::desk_of)
            .collect()
    }

    fn logs_epoch(&self) -> Result<String, StorageError> {
        Ok(self
            .query("SELECT value FROM meta WHERE key = 'logs_epoch'", &[])?
            .first()
            .map(|r| r.get(0))
            .unwrap_or_default())
    }

    fn snapshot(&self, _sink: &mut dyn crate::storage::SnapshotSink) -> Result<(), StorageError> {
        Err(StorageError::Database(
            "`hub backup` copies a sled store; back up PostgreSQL with its own tools \
             (pg_basebackup and WAL archiving, deploy/POSTGRES.md)"
                .into(),
        ))
    }

    fn put_session(
        &self,
        key: &SessionKey,
        session: &StoredSession,
        per_user: usize,
    ) -> Result<(), StorageError> {
        self.store_session(key, session, per_user)
    }

    fn session(&self, key: &SessionKey, now: u64) -> Result<Option<StoredSession>, StorageError> {
        self.load_session(key, now)
    }

    fn touch_session(&self, key: &SessionKey, used: u64, expires: u64) -> Result<(), StorageError> {
        self.touch(key, used, expires)
    }

    fn delete_session(&self, key: &SessionKey) -> Result<(), StorageError> {
        self.end_session(key)
    }

    fn prune_sessions(&self, now: u64) -> Result<usize, StorageError> {
        self.prune_expired_sessions(now)
    }

    fn prune_records(&self, before_week: &str) -> Result<u64, StorageError> {
        self.prune_weeks(before_week)
    }

    fn records_pruned(&self) -> Result<Option<String>, StorageError> {
        Ok(self
            .query("SELECT value FROM meta WHERE key = 'records_pruned'", &[])?
            .first()
            .map(|r| r.get(0)))
    }

    fn mark_records_pruned(&self, before_week: &str) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO meta (key, value) VALUES ('records_pruned', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&before_week],
        )?;
        Ok(())
    }

    fn mark_refusals(&self, day: &str) -> Result<(), StorageError> {
        self.note_refusals(day)
    }

    fn prune_refusals(&self, before_day: &str) -> Result<u64, StorageError> {
        self.prune_noted_refusals(before_day)
    }

    fn prune_proposals(&self, decided_before: &str) -> Result<u64, StorageError> {
        self.prune_decided_proposals(decided_before)
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<Change>> {
        Some(self.subscribe())
    }

    fn remote(&self) -> bool {
        true
    }
}
