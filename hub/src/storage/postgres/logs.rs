//! The versioned logs (guidance, templates, catalogue, cards) and the
//! template proposals and minor edits, on PostgreSQL. A log's next version
//! is taken under an advisory lock on the log's name, so that two replicas
//! never give two entries one version; the commit announces the version
//! (`notify.rs`), so that every replica pushes it to its own desks.

use super::{from_json, json, PostgresStore};
use crate::storage::{entries, Change, Logs, MinorEdit, ProposalInsert, StorageError};

const LOG_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 1918))";

impl PostgresStore {
    /// Appends one entry under the next version, durably, and announces it.
    pub(super) fn log_append(
        &self,
        log: &'static str,
        encode: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<u64, StorageError> {
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(LOG_LOCK, &[&log]).await?;
            let last: i64 = tx
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM logs WHERE log = $1",
                    &[&log],
                )
                .await?
                .get(0);
            let version = u64::try_from(last).unwrap_or(0) + 1;
            let body = encode(version);
            tx.execute(
                "INSERT INTO logs (log, version, body) VALUES ($1, $2, $3)",
                &[&log, &(version as i64), &body],
            )
            .await?;
            super::notify::announce(
                &tx,
                &Change::Log {
                    log: log.into(),
                    version,
                },
            )
            .await?;
            tx.commit().await?;
            Ok(version)
        })
    }

    pub(super) fn log_since<D: entries::Stored>(
        &self,
        log: &'static str,
        after: u64,
    ) -> Result<Vec<D>, StorageError> {
        let rows = self.query(
            "SELECT body FROM logs WHERE log = $1 AND version > $2 ORDER BY version",
            &[&log, &i64::try_from(after).unwrap_or(i64::MAX)],
        )?;
        entries::decode_all(log, rows.iter().map(|r| Ok(r.get::<_, Vec<u8>>(0))))
    }

    pub(super) fn log_version(&self, log: &'static str) -> Result<u64, StorageError> {
        let row = self.query(
            "SELECT coalesce(max(version), 0) FROM logs WHERE log = $1",
            &[&log],
        )?;
        Ok(row
            .first()
            .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
            .unwrap_or(0))
    }
}

impl Logs for PostgresStore {
    fn append_catalogue(
        &self,
        procedures: Vec<domain::CatalogueEntry>,
        glossary: String,
    ) -> Result<u64, StorageError> {
        self.log_append("catalogue", |version| {
            entries::catalogue(procedures, glossary, version)
        })
    }

    fn catalogue_since(&self, after: u64) -> Result<Vec<domain::CatalogueChange>, StorageError> {
        self.log_since("catalogue", after)
    }

    fn catalogue_version(&self) -> Result<u64, StorageError> {
        self.log_version("catalogue")
    }

    fn append_card(&self, card: domain::Card) -> Result<u64, StorageError> {
        self.log_append("cards", |version| entries::card(card, version))
    }

    fn cards_since(&self, after: u64) -> Result<Vec<domain::Card>, StorageError> {
        self.log_since("cards", after)
    }

    fn card_version(&self) -> Result<u64, StorageError> {
        self.log_version("cards")
    }

    fn insert_proposal(
        &self,
        proposal: &domain::TemplateProposal,
    ) -> Result<ProposalInsert, StorageError> {
        let body = entries::encode(proposal.clone());
        let holder = self.query(
            "WITH ins AS (
                 INSERT INTO proposals (id, desk_id, body)
                 SELECT $1, $2, $3
                 WHERE NOT EXISTS (SELECT 1 FROM pruned_proposals WHERE id = $1)
                 ON CONFLICT (id) DO NOTHING
                 RETURNING desk_id)
             SELECT 'stored', desk_id FROM ins
             UNION ALL SELECT 'held', desk_id FROM proposals WHERE id = $1
             UNION ALL SELECT 'held', desk_id FROM pruned_proposals WHERE id = $1",
            &[&proposal.id, &proposal.desk_id, &body],
        )?;
        // The CTE's insert is not visible to the same statement's reads, so
        // a fresh insert gives exactly one row, `stored`.
        Ok(match holder.first() {
            Some(r) if r.get::<_, String>(0) == "stored" => ProposalInsert::Stored,
            Some(r) if r.get::<_, String>(1) == proposal.desk_id => ProposalInsert::AlreadyHeld,
            Some(_) => ProposalInsert::Conflict,
            None => ProposalInsert::Stored,
        })
    }

    fn put_proposal(&self, proposal: &domain::TemplateProposal) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO proposals (id, desk_id, body) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
            &[
                &proposal.id,
                &proposal.desk_id,
                &entries::encode(proposal.clone()),
            ],
        )?;
        Ok(())
    }

    fn proposal(&self, id: &str) -> Result<Option<domain::TemplateProposal>, StorageError> {
        let rows = self.query("SELECT body FROM proposals WHERE id = $1", &[&id])?;
        entries::decode_all("proposal", rows.iter().map(|r| Ok(r.get::<_, Vec<u8>>(0))))
            .map(|mut v: Vec<domain::TemplateProposal>| v.pop())
    }

    fn proposals(&self) -> Result<Vec<domain::TemplateProposal>, StorageError> {
        let rows = self.query("SELECT body FROM proposals ORDER BY id", &[])?;
        entries::decode_all("proposal", rows.iter().map(|r| Ok(r.get::<_, Vec<u8>>(0))))
    }

    fn append_minor_edit(&self, edit: &MinorEdit) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO minor_edits (version, edit) VALUES ($1, $2)
             ON CONFLICT (version) DO UPDATE SET edit = EXCLUDED.edit",
            &[&(edit.version as i64), &json(edit)?],
        )?;
        Ok(())
    }

    fn minor_edits(&self) -> Result<Vec<MinorEdit>, StorageError> {
        self.query("SELECT edit FROM minor_edits ORDER BY version", &[])?
            .into_iter()
            .map(|r| from_json(r.get(0)))
            .collect()
    }
}
