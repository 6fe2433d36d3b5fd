//! The audit log on PostgreSQL: table `audit`, whose `bigserial` gives
//! each entry its sequence, increasing across restarts and replicas.

use super::u64_of;
use crate::storage::postgres::{from_json, json, PostgresStore};
use crate::storage::{AuditEntry, AuditLog, StorageError};

impl AuditLog for PostgresStore {
    fn append_audit(&self, entry: AuditEntry) -> Result<u64, StorageError> {
        // The row's own number is the sequence; the one in the JSON is
        // never read.
        let rows = self.query(
            "INSERT INTO audit (entry) VALUES ($1) RETURNING seq",
            &[&json(&entry)?],
        )?;
        let seq = rows
            .first()
            .map(|r| u64_of(r.get(0)))
            .ok_or_else(|| StorageError::Database("the audit insert returned no row".into()))?;
        Ok(seq)
    }

    fn audit_recent(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            "SELECT seq, entry FROM audit ORDER BY seq DESC LIMIT $1",
            &[&limit],
        )?
        .into_iter()
        .map(|r| {
            let mut entry: AuditEntry = from_json(r.get(1))?;
            entry.seq = u64_of(r.get(0));
            Ok(entry)
        })
        .collect()
    }
}
