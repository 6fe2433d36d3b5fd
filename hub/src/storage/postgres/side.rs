//! The collections beside ingest and the logs: the publication register,
//! the audit log, operators' reports, search misses and dashboard sessions.

use super::PostgresStore;
use crate::storage::{
    AuditEntry, AuditLog, MissCount, ProposalInsert, PublicationRegister, ReportInbox,
    SearchMissLog, SessionKey, StorageError, StoredReport, StoredSession,
};

fn not_yet() -> StorageError {
    StorageError::Database("not yet kept on PostgreSQL".into())
}

impl PostgresStore {
    pub(super) fn store_session(
        &self,
        _key: &SessionKey,
        _session: &StoredSession,
        _per_user: usize,
    ) -> Result<(), StorageError> {
        Err(not_yet())
    }
    pub(super) fn load_session(
        &self,
        _key: &SessionKey,
        _now: u64,
    ) -> Result<Option<StoredSession>, StorageError> {
        Err(not_yet())
    }
    pub(super) fn touch(
        &self,
        _key: &SessionKey,
        _used: u64,
        _expires: u64,
    ) -> Result<(), StorageError> {
        Err(not_yet())
    }
    pub(super) fn end_session(&self, _key: &SessionKey) -> Result<(), StorageError> {
        Err(not_yet())
    }
    pub(super) fn prune_expired_sessions(&self, _now: u64) -> Result<usize, StorageError> {
        Err(not_yet())
    }
    pub(super) fn prune_decided_proposals(&self, _before: &str) -> Result<u64, StorageError> {
        Err(not_yet())
    }
}

impl PublicationRegister for PostgresStore {
    fn publications(
        &self,
        _dims: &[String],
        _period: Option<&str>,
    ) -> Result<Vec<domain::disclosure::Publication>, StorageError> {
        Err(not_yet())
    }
    fn release_detail(&self, _dims: &[String], _year: i32) -> Result<Option<String>, StorageError> {
        Err(not_yet())
    }
    fn set_release_detail(
        &self,
        _dims: &[String],
        _year: i32,
        _detail: &str,
    ) -> Result<(), StorageError> {
        Err(not_yet())
    }
    fn add_publication(&self, _p: &domain::disclosure::Publication) -> Result<(), StorageError> {
        Err(not_yet())
    }
}

impl AuditLog for PostgresStore {
    fn append_audit(&self, _entry: AuditEntry) -> Result<u64, StorageError> {
        Err(not_yet())
    }
    fn audit_recent(&self, _limit: usize) -> Result<Vec<AuditEntry>, StorageError> {
        Err(not_yet())
    }
}

impl ReportInbox for PostgresStore {
    fn insert_report(&self, _report: &StoredReport) -> Result<ProposalInsert, StorageError> {
        Err(not_yet())
    }
    fn put_report(&self, _report: &StoredReport) -> Result<(), StorageError> {
        Err(not_yet())
    }
    fn report(&self, _id: &str) -> Result<Option<StoredReport>, StorageError> {
        Err(not_yet())
    }
    fn reports(&self) -> Result<Vec<StoredReport>, StorageError> {
        Err(not_yet())
    }
    fn prune_reports(&self, _decided_before: &str) -> Result<u64, StorageError> {
        Err(not_yet())
    }
}

impl SearchMissLog for PostgresStore {
    fn add_miss_batch(&self, _batch_id: &str, _misses: &[MissCount]) -> Result<bool, StorageError> {
        Err(not_yet())
    }
    fn miss_counts(&self) -> Result<Vec<MissCount>, StorageError> {
        Err(not_yet())
    }
    fn prune_misses(&self, _before_week: &str) -> Result<u64, StorageError> {
        Err(not_yet())
    }
}
