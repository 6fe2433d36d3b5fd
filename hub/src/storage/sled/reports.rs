//! The sled implementation of [`ReportInbox`]: tree `reports`, key = the
//! report id (UUID v7 text, so oldest first), value = `StoredReport` as
//! JSON. Small: the hub bounds the open reports per desk and in all
//! (`crate::reports`), so listing scans it whole.

use super::SledStore;
use crate::storage::{ProposalInsert, ReportInbox, StorageError, StoredReport};

pub(super) const TREE: &str = "reports";

fn decode(bytes: &[u8]) -> Result<StoredReport, StorageError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StorageError::Corrupt(format!("report does not decode: {e}")))
}

fn encode(report: &StoredReport) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(report).map_err(|e| StorageError::Corrupt(e.to_string()))
}

impl ReportInbox for SledStore {
    fn insert_report(&self, report: &StoredReport) -> Result<ProposalInsert, StorageError> {
        let value = encode(report)?;
        let swapped = {
            let _w = self.writing();
            self.reports.compare_and_swap(
                report.id.as_bytes(),
                None as Option<&[u8]>,
                Some(value),
            )?
        };
        match swapped {
            Ok(()) => {
                self.flush_serialised()?;
                Ok(ProposalInsert::Stored)
            }
            Err(e) => {
                let held = e.current.map(|v| decode(&v)).transpose()?;
                Ok(match held {
                    Some(r) if r.desk_id == report.desk_id => ProposalInsert::AlreadyHeld,
                    _ => ProposalInsert::Conflict,
                })
            }
        }
    }

    fn put_report(&self, report: &StoredReport) -> Result<(), StorageError> {
        let value = encode(report)?;
        {
            let _w = self.writing();
            self.reports.insert(report.id.as_bytes(), value)?;
        }
        self.flush_serialised()
    }

    fn report(&self, id: &str) -> Result<Option<StoredReport>, StorageError> {
        self.reports
            .get(id.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    fn reports(&self) -> Result<Vec<StoredReport>, StorageError> {
        self.reports.iter().values().map(|v| decode(&v?)).collect()
    }

    fn prune_reports(&self, decided_before: &str) -> Result<u64, StorageError> {
        let cutoff = crate::storage::DecidedBefore::parse(decided_before)?;
        let mut removed = 0;
        {
            let _w = self.writing();
            for kv in self.reports.iter() {
                let (k, v) = kv?;
                let r = decode(&v)?;
                if cutoff.covers(&r.state, &r.decided_at) {
                    self.reports.remove(k)?;
                    removed += 1;
                }
            }
        }
        self.flush_serialised()?;
        Ok(removed)
    }
}
