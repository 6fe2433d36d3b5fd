//! The hub's storage contract: what the protocol needs (durable batch append
//! with dedup and counts, the desk registry), not what sled offers, so that a
//! deployment that outgrows one machine can move to PostgreSQL behind it.

mod sled_audit;
mod sled_store;
#[cfg(test)]
mod tests;

use domain::AnonymisedRecord;
use serde::{Deserialize, Serialize};

pub use sled_store::SledStore;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage failure: {0}")]
    Backend(#[from] sled::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("desk `{0}` is already enrolled")]
    DeskExists(String),
    #[error("desk `{0}` is not enrolled")]
    UnknownDesk(String),
}

/// One desk's batch after the hub's re-check: the records that passed, with
/// their sequence numbers, and the refusals for the ones that did not.
#[derive(Debug)]
pub struct DeskAppend {
    pub desk_id: String,
    pub first_seq: u64,
    pub last_seq: u64,
    pub accepted: Vec<(u64, AnonymisedRecord)>,
    pub rejected: Vec<(u64, String)>,
}

/// What the store did with one `DeskAppend`: every sequence up to `up_to_seq`
/// is now durable (stored or durably refused), and `rejected` lists the
/// refusals in the batch's range, including those stored by an earlier
/// delivery of the same batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    pub up_to_seq: u64,
    pub rejected: Vec<(u64, String)>,
}

/// A desk as the registry knows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeskEntry {
    pub desk_id: String,
    pub revoked: bool,
    pub added_at: String,
    #[serde(default)]
    pub last_seen: Option<String>,
}

/// A desk's view of the pushed logs: the versions it has applied, and the
/// last push it refused, with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushState {
    pub guidance: u64,
    pub template: u64,
    pub catalogue: u64,
    #[serde(default)]
    pub last_rejection: Option<String>,
}

/// Per-desk ingest figures kept in the same write as the records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeskProgress {
    pub last_seq: u64,
    pub records: u64,
    pub rejected: u64,
}

/// The dimensions of the counts cube, in key order.
pub use domain::disclosure::COUNTED_FIELDS as COUNT_DIMENSIONS;

/// One cell of the counts cube: a value per dimension and the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountCell {
    pub values: Vec<String>,
    pub count: u64,
}

/// Result of a full consistency check (`hub verify`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Verification {
    pub records: u64,
    pub counted: u64,
    pub ids: u64,
    pub per_desk: std::collections::BTreeMap<String, u64>,
    pub problems: Vec<String>,
}

pub trait Store: AuditLog + Send + Sync + 'static {
    /// Appends several desks' batches in one durable write (group commit) and
    /// returns once it is flushed. Sequences already held are not stored
    /// again; a record whose id is already held is refused.
    fn append(&self, batches: &[DeskAppend]) -> Result<Vec<AppendOutcome>, StorageError>;
    /// Blocks until everything written so far is on disk.
    fn flush(&self) -> Result<(), StorageError>;
    fn progress(&self, desk_id: &str) -> Result<DeskProgress, StorageError>;
    /// Refusals stored for this desk with a sequence in `(after, up_to]`.
    fn rejections(
        &self,
        desk_id: &str,
        after: u64,
        up_to: u64,
    ) -> Result<Vec<(u64, String)>, StorageError>;
    fn counts(&self) -> Result<Vec<CountCell>, StorageError>;
    fn records(&self, desk_id: &str) -> Result<Vec<(u64, domain::RawRecord)>, StorageError>;
    fn verify(&self) -> Result<Verification, StorageError>;

    fn add_desk(&self, entry: DeskEntry) -> Result<(), StorageError>;
    fn desk(&self, desk_id: &str) -> Result<Option<DeskEntry>, StorageError>;
    fn put_desk(&self, entry: &DeskEntry) -> Result<(), StorageError>;
    /// Notes when a desk was last connected, apart from its entry so that
    /// it can never undo a concurrent revocation.
    fn mark_seen(&self, desk_id: &str, at: &str) -> Result<(), StorageError>;

    /// Appends a guidance item (a publish, an amendment or a retirement) to
    /// the versioned guidance log and returns its version, once durable.
    fn append_guidance(&self, item: proto::GuidanceItem) -> Result<u64, StorageError>;
    /// Every guidance log entry after version `after`, oldest first.
    fn guidance_since(&self, after: u64) -> Result<Vec<proto::GuidanceItem>, StorageError>;
    fn guidance_version(&self) -> Result<u64, StorageError>;
    /// Appends a template body to the versioned template log. A
    /// `reference_version` of 0 means "this version itself".
    fn append_template(&self, template: proto::Template) -> Result<u64, StorageError>;
    fn templates_since(&self, after: u64) -> Result<Vec<proto::Template>, StorageError>;
    fn template_version(&self) -> Result<u64, StorageError>;
    /// What a desk last reported as applied, and its last refused push.
    fn push_state(&self, desk_id: &str) -> Result<PushState, StorageError>;
    fn put_push_state(&self, desk_id: &str, state: &PushState) -> Result<(), StorageError>;
    fn desks(&self) -> Result<Vec<DeskEntry>, StorageError>;
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// Assigned by the store; increasing.
    pub seq: u64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    /// e.g. `desk.add`, `guidance.publish`, `template.put`, `user.add`.
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// The audit log, a supertrait of [`Store`] so that its backend code lives
/// apart from the ingest path.
pub trait AuditLog {
    /// Appends an entry durably and returns its sequence number.
    fn append_audit(&self, entry: AuditEntry) -> Result<u64, StorageError>;
    /// The newest `limit` entries, newest first.
    fn audit_recent(&self, limit: usize) -> Result<Vec<AuditEntry>, StorageError>;
}
