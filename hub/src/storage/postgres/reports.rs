//! Operators' reports on PostgreSQL: table `reports`, the report as JSON
//! under its id (UUID v7 text, so that byte order is oldest first).

use crate::storage::postgres::{from_json, json, notify, PostgresStore};
use crate::storage::{Change, ProposalInsert, ReportInbox, StorageError, StoredReport};

impl ReportInbox for PostgresStore {
    fn insert_report(&self, report: &StoredReport) -> Result<ProposalInsert, StorageError> {
        let value = json(report)?;
        self.block(async {
            let client = self.client().await?;
            let stored = client
                .execute(
                    "INSERT INTO reports (id, report) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                    &[&report.id, &value],
                )
                .await?;
            if stored == 1 {
                return Ok(ProposalInsert::Stored);
            }
            // Read after the insert gave way, so that a holder committed by
            // another replica meanwhile is seen.
            let holder: Option<Option<String>> = client
                .query_opt(
                    "SELECT report->>'desk_id' FROM reports WHERE id = $1",
                    &[&report.id],
                )
                .await?
                .map(|r| r.get(0));
            Ok(match holder {
                Some(Some(desk)) if desk == report.desk_id => ProposalInsert::AlreadyHeld,
                _ => ProposalInsert::Conflict,
            })
        })
    }

    fn put_report(&self, report: &StoredReport) -> Result<(), StorageError> {
        let value = json(report)?;
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "INSERT INTO reports (id, report) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET report = EXCLUDED.report",
                &[&report.id, &value],
            )
            .await?;
            // Every replica tells its own desks that a report was decided.
            notify::announce(&tx, &Change::Report).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn report(&self, id: &str) -> Result<Option<StoredReport>, StorageError> {
        self.query("SELECT report FROM reports WHERE id = $1", &[&id])?
            .into_iter()
            .next()
            .map(|r| from_json(r.get(0)))
            .transpose()
    }

    fn reports(&self) -> Result<Vec<StoredReport>, StorageError> {
        self.query("SELECT report FROM reports ORDER BY id COLLATE \"C\"", &[])?
            .into_iter()
            .map(|r| from_json(r.get(0)))
            .collect()
    }

    fn prune_reports(&self, decided_before: &str) -> Result<u64, StorageError> {
        let cutoff = crate::storage::DecidedBefore::parse(decided_before)?;
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // Decided in Rust, as the sled store decides, so that a date
            // that does not parse keeps its report on both.
            let rows = tx
                .query("SELECT id, report FROM reports FOR UPDATE", &[])
                .await?;
            let mut gone: Vec<String> = Vec::new();
            for r in rows {
                let report: StoredReport = from_json(r.get(1))?;
                if cutoff.covers(&report.state, &report.decided_at) {
                    gone.push(r.get(0));
                }
            }
            let removed = tx
                .execute("DELETE FROM reports WHERE id = ANY($1)", &[&gone])
                .await?;
            tx.commit().await?;
            Ok(removed)
        })
    }
}
