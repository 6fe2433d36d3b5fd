//! The sled side of the audit log: tree `audit`, key = sequence (u64 BE),
//! value = the entry as JSON. Sequences come from sled's id generator, which
//! stays increasing across restarts.

use super::SledStore;
use crate::storage::{AuditEntry, AuditLog, StorageError};

impl AuditLog for SledStore {
    fn append_audit(&self, mut entry: AuditEntry) -> Result<u64, StorageError> {
        let seq = self.db().generate_id()? + 1;
        entry.seq = seq;
        let value = serde_json::to_vec(&entry).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        {
            let _w = self.writing();
            self.audit.insert(seq.to_be_bytes(), value)?;
        }
        // A plain flush: the counts checkpoint a full `Store::flush` forces
        // would make every audited action pay for the ingest's state.
        self.flush_serialised()?;
        Ok(seq)
    }

    fn audit_recent(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        let mut out = Vec::new();
        for kv in self.audit.iter().rev().take(limit) {
            let (_, v) = kv?;
            out.push(serde_json::from_slice(&v).map_err(|e| StorageError::Corrupt(e.to_string()))?);
        }
        Ok(out)
    }
}
