//! The hub's storage contract: what the protocol needs (durable batch append
//! with dedup and counts, the desk registry), not what sled offers, so that a
//! deployment that outgrows one machine can move to PostgreSQL behind it.

mod cubes;
mod entries;
mod ids;
pub mod migrate;
mod postgres;
mod segment;
mod sled;
#[cfg(test)]
mod tests;

use domain::AnonymisedRecord;
use serde::{Deserialize, Serialize};

pub use self::postgres::{redacted, Listener, PostgresStore};
pub use self::sled::{Importer, SledStore};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage failure: {0}")]
    Backend(#[from] ::sled::Error),
    /// A PostgreSQL store's failure: the server's code and message, or
    /// the connection's; never the password.
    #[error("database failure: {0}")]
    Database(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("desk `{0}` is already enrolled")]
    DeskExists(String),
    #[error("desk `{0}` is not enrolled")]
    UnknownDesk(String),
    #[error("cannot write the copy: {0}")]
    Sink(#[from] std::io::Error),
    #[error("no counts are kept over `{0}`: ask for at most two counted fields besides week")]
    NotCounted(String),
}

/// One desk's batch after the hub's re-check: the records that passed, with
/// their sequence numbers, and the refusals for the ones that did not.
#[derive(Debug)]
pub struct DeskAppend {
    pub desk_id: String,
    /// The incarnation's number at this hub (`Incarnation::number`); its
    /// sequences are kept apart from the desk's other incarnations.
    pub incarnation: u32,
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
    /// Records this delivery stored, and refusals it stored (0 for a resend).
    pub stored: u64,
    pub refused: u64,
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

/// One incarnation of a desk's outbox as the hub knows it. A desk whose
/// outbox is new (a reinstalled PC) or restored from an older copy starts
/// numbering again from 1 under a new incarnation; the hub keeps each
/// incarnation's sequences apart, as Kafka does with a producer's epoch, so
/// that the new records are never taken for resends of the old ones.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Incarnation {
    /// The UUID the desk made; empty for history kept before incarnations.
    pub id: String,
    /// 0 for the desk's first, then 1, 2, …: where its sequences are kept.
    pub number: u32,
    pub started_at: String,
    /// Set when the desk came back with this incarnation holding less than
    /// the hub already had of it.
    #[serde(default)]
    pub older_state: Option<OlderState>,
    /// Records of the previous incarnation the hub had acknowledged, no
    /// longer held and not sent again (`Hello.records_lost`).
    #[serde(default)]
    pub lost: u64,
}

/// The numbers of a desk's incarnations; `[0]` for a desk that has none yet,
/// whose history (if any) is its first.
pub fn incarnation_numbers(list: &[Incarnation]) -> Vec<u32> {
    if list.is_empty() {
        vec![0]
    } else {
        list.iter().map(|i| i.number).collect()
    }
}

/// A desk that came back with an older copy of its outbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OlderState {
    pub at: String,
    /// The last sequence the hub held of the incarnation.
    pub hub_held: u64,
    /// The last sequence the desk's outbox held of it.
    pub desk_held: u64,
}

/// A desk's view of the pushed logs: the versions it has applied, and the
/// last push it refused, with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushState {
    pub guidance: u64,
    pub template: u64,
    pub catalogue: u64,
    #[serde(default)]
    pub card: u64,
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

/// The dimensions counted on ingest; `week` comes first.
pub use domain::disclosure::COUNTED_FIELDS as COUNT_DIMENSIONS;

/// One cell of a counts table: a value per dimension and the count.
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
    /// Records deleted by retention, whose counts and ids are kept.
    #[serde(default)]
    pub pruned: u64,
    /// The week before which records were last pruned.
    #[serde(default)]
    pub pruned_before: Option<String>,
}

pub trait Store:
    Logs
    + PublicationRegister
    + AuditLog
    + ReportInbox
    + SearchMissLog
    + UserDirectory
    + Send
    + Sync
    + 'static
{
    /// Appends several desks' batches in one durable write (group commit) and
    /// returns once it is flushed. Sequences already held are not stored
    /// again; a record whose id is already held is refused.
    fn append(&self, batches: &[DeskAppend]) -> Result<Vec<AppendOutcome>, StorageError>;
    /// Blocks until everything written so far is on disk.
    fn flush(&self) -> Result<(), StorageError>;
    /// The progress of one incarnation, as it is on disk: what a desk is
    /// told it need not send again must survive a crash.
    fn progress(&self, desk_id: &str, incarnation: u32) -> Result<DeskProgress, StorageError>;
    /// [`Store::progress`] of several incarnations `(desk, incarnation)`,
    /// read together: a page listing every desk waits for one group commit
    /// to end on sled, not for one per desk.
    fn progress_of(&self, streams: &[(&str, u32)]) -> Result<Vec<DeskProgress>, StorageError> {
        streams.iter().map(|(d, n)| self.progress(d, *n)).collect()
    }
    /// The first `limit` refusals stored for one incarnation with a
    /// sequence in `(after, up_to]`, in order.
    fn rejections(
        &self,
        desk_id: &str,
        incarnation: u32,
        after: u64,
        up_to: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StorageError>;
    /// The desk's incarnations, oldest first; empty before its first
    /// connection (or for history kept before incarnations).
    fn incarnations(&self, desk_id: &str) -> Result<Vec<Incarnation>, StorageError>;
    /// Replaces the desk's incarnations, durably.
    fn put_incarnations(&self, desk_id: &str, list: &[Incarnation]) -> Result<(), StorageError>;
    /// The counts by `week` and `dims` (at most two other names of
    /// `COUNT_DIMENSIONS`): each cell's values are the week, then one per
    /// name of `dims`, in that order. Kept in the same write as the records.
    fn counts(&self, dims: &[&str]) -> Result<Vec<CountCell>, StorageError>;
    /// [`Store::counts`] of the ISO weeks `from..=to` only (labels such as
    /// `2026-W07`, which sort as the weeks do), so that a query of a year
    /// or of twelve weeks reads those, not every week a hub holds.
    fn counts_between(
        &self,
        dims: &[&str],
        from: &str,
        to: &str,
    ) -> Result<Vec<CountCell>, StorageError> {
        let mut cells = self.counts(dims)?;
        cells.retain(|c| {
            c.values
                .first()
                .is_some_and(|w| w.as_str() >= from && w.as_str() <= to)
        });
        Ok(cells)
    }
    /// Every record of the desk, incarnation by incarnation, with its
    /// sequence within its incarnation.
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
    fn append_guidance(&self, item: domain::GuidanceItem) -> Result<u64, StorageError>;
    /// Every guidance log entry after version `after`, oldest first.
    fn guidance_since(&self, after: u64) -> Result<Vec<domain::GuidanceItem>, StorageError>;
    fn guidance_version(&self) -> Result<u64, StorageError>;
    /// Appends a template body to the versioned template log. A
    /// `reference_version` of 0 means "this version itself".
    fn append_template(&self, template: domain::AnswerTemplate) -> Result<u64, StorageError>;
    fn templates_since(&self, after: u64) -> Result<Vec<domain::AnswerTemplate>, StorageError>;
    fn template_version(&self) -> Result<u64, StorageError>;
    /// What a desk last reported as applied, and its last refused push.
    fn push_state(&self, desk_id: &str) -> Result<PushState, StorageError>;
    fn put_push_state(&self, desk_id: &str, state: &PushState) -> Result<(), StorageError>;
    fn desks(&self) -> Result<Vec<DeskEntry>, StorageError>;
    /// Names the history of the pushed logs (`Welcome.logs_epoch`); a
    /// restored store has a new one.
    fn logs_epoch(&self) -> Result<String, StorageError>;
    /// Gives everything the store holds to `sink` while every write waits,
    /// so that the copy is one consistent state (`hub backup`).
    fn snapshot(&self, sink: &mut dyn SnapshotSink) -> Result<(), StorageError>;

    // Dashboard sessions
    /// Stores a session under `key`, durably, and drops the least recently
    /// used of the same user's sessions beyond `per_user`.
    fn put_session(
        &self,
        key: &SessionKey,
        session: &StoredSession,
        per_user: usize,
    ) -> Result<(), StorageError>;
    /// The session under `key` unless it has expired at `now` (unix
    /// seconds); an expired one is deleted.
    fn session(&self, key: &SessionKey, now: u64) -> Result<Option<StoredSession>, StorageError>;
    /// Notes a use of a held session (never brings back a deleted one).
    /// Not flushed on its own: a use lost in a crash only ends the session
    /// sooner.
    fn touch_session(&self, key: &SessionKey, used: u64, expires: u64) -> Result<(), StorageError>;
    /// Ends a session, durably.
    fn delete_session(&self, key: &SessionKey) -> Result<(), StorageError>;
    /// Deletes every session expired at `now`; returns how many are left.
    fn prune_sessions(&self, now: u64) -> Result<usize, StorageError>;

    // Retention
    //
    // Each returns how many it deleted. The ids of pruned records stay
    // known, so a record sent again after its pruning is still refused as
    // held; their counts stay in `counts`, so published figures and
    // `verify` are unchanged.

    /// Deletes every record of a week before `before_week`.
    fn prune_records(&self, before_week: &str) -> Result<u64, StorageError>;
    /// The `before_week` of the last `prune_records` that went through
    /// every record, as `mark_records_pruned` noted it: finding records to
    /// prune reads them all, which a restart must not do again in the same
    /// week (`retention.rs`).
    fn records_pruned(&self) -> Result<Option<String>, StorageError>;
    fn mark_records_pruned(&self, before_week: &str) -> Result<(), StorageError>;
    /// Notes how far each desk's refusals go on `day` (`YYYY-MM-DD`), once
    /// a day: refusals carry no time, and these marks date them.
    fn mark_refusals(&self, day: &str) -> Result<(), StorageError>;
    /// Deletes the refusals (the desks' quarantine as the hub holds it)
    /// noted on a day before `before_day`.
    fn prune_refusals(&self, before_day: &str) -> Result<u64, StorageError>;
    /// Deletes the proposals decided before `decided_before` (RFC 3339).
    fn prune_proposals(&self, decided_before: &str) -> Result<u64, StorageError>;

    /// Changes other hub processes on the same store make, for a store
    /// that several replicas share; `None` for one that a single process
    /// owns (sled), whose changes the process makes itself.
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<Change>> {
        None
    }

    /// Whether a call waits on the network (a database server), so that
    /// a desk's stream hands it to the blocking pool (`on_store`). sled
    /// answers from its cache and its own file.
    fn remote(&self) -> bool {
        false
    }
}

/// A change one replica made that the others act on (`Store::changes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A versioned log (`guidance`, `templates`, `catalogue`, `cards`)
    /// gained `version`.
    Log { log: String, version: u64 },
    /// A desk's entry changed: it may have been revoked.
    Desk { desk_id: String },
    /// An operator's report was decided.
    Report,
    /// Changes may have been missed: read everything again.
    Resync,
}

/// The key of a dashboard session: the SHA-256 of its cookie value, so that
/// the store never holds a value a browser could present.
pub type SessionKey = [u8; 32];

/// A signed-in dashboard session. Times are unix seconds of the wall clock,
/// so that they mean the same after a restart.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredSession {
    pub user: String,
    /// The synchronizer token every form of the session carries.
    pub csrf: String,
    pub created: u64,
    pub used: u64,
    /// When it ends unless used again: the caller's idle and absolute
    /// limits folded into one time, so that the store needs neither.
    pub expires: u64,
}

/// Where a snapshot of the store goes: named collections of key/value
/// entries, each collection once, entries in key order.
pub trait SnapshotSink {
    fn collection(&mut self, name: &[u8]) -> std::io::Result<()>;
    fn entry(&mut self, key: &[u8], value: &[u8]) -> std::io::Result<()>;
}

/// A coordinator's choice to mark an Italian reference edit as minor, kept
/// so that the choice can be shown later (harmonisation listing, audit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinorEdit {
    pub key: String,
    /// The template log version of the edit.
    pub version: u64,
    /// The reference version translations keep following.
    pub kept_reference_version: u64,
    pub at: String,
}

/// What a stored proposal (or report) may become on a resend of the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalInsert {
    Stored,
    /// The same desk sent this id before: nothing was stored again.
    AlreadyHeld,
    /// Another desk holds this id.
    Conflict,
}

/// An operator's report that a card, guidance item, template or procedure
/// is wrong, outdated or unclear, as the hub holds it: what `hub reports
/// --json` lists, field for field. The comment was scrubbed at the desk and
/// again at the hub.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredReport {
    /// The desk's UUID v7, so that ids sort oldest first.
    pub id: String,
    pub desk_id: String,
    pub kind: String,
    pub code: String,
    pub item_id: String,
    pub language: String,
    pub item_version: u64,
    pub reason: String,
    pub comment: String,
    /// Who must answer it: a card's owner, else `coordinator`.
    pub owner: String,
    /// `open`, `fixed` or `declined`.
    pub state: String,
    /// The item's version that fixed it; 0 unless fixed.
    pub fixed_version: u64,
    pub note: String,
    /// RFC 3339, UTC.
    pub received_at: String,
    /// RFC 3339, UTC; empty while open.
    pub decided_at: String,
}

/// Operators' reports (`storage/sled/reports.rs`), apart from `Logs`: they
/// are the desks' words about the logs, not a log.
pub trait ReportInbox {
    /// Stores a report under its id unless that id is already held (a
    /// resend), durably.
    fn insert_report(&self, report: &StoredReport) -> Result<ProposalInsert, StorageError>;
    /// Replaces a held report (a decision), durably.
    fn put_report(&self, report: &StoredReport) -> Result<(), StorageError>;
    fn report(&self, id: &str) -> Result<Option<StoredReport>, StorageError>;
    /// Every report, oldest first.
    fn reports(&self) -> Result<Vec<StoredReport>, StorageError>;
    /// Deletes the reports decided before `decided_before` (RFC 3339);
    /// open ones stay. How many went.
    fn prune_reports(&self, decided_before: &str) -> Result<u64, StorageError>;
}

/// The catalogue log, template proposals and the log of minor edits: the
/// coordination logs that sit beside the write path (`storage/sled/logs.rs`).
pub trait Logs {
    /// Appends one catalogue change set (added, amended or retired
    /// procedures) under the next version, durably; a non-empty `glossary`
    /// (TOML) replaces the search glossary from that version on.
    fn append_catalogue(
        &self,
        procedures: Vec<domain::CatalogueEntry>,
        glossary: String,
    ) -> Result<u64, StorageError>;
    /// Every catalogue change set after version `after`, oldest first.
    fn catalogue_since(&self, after: u64) -> Result<Vec<domain::CatalogueChange>, StorageError>;
    fn catalogue_version(&self) -> Result<u64, StorageError>;
    /// Appends a procedure card under the next card log version. A
    /// `reference_version` or a `field_versions` entry of 0 means "this
    /// version": the store fills it in.
    fn append_card(&self, card: domain::Card) -> Result<u64, StorageError>;
    /// Cards written after version `after`, oldest first.
    fn cards_since(&self, after: u64) -> Result<Vec<domain::Card>, StorageError>;
    fn card_version(&self) -> Result<u64, StorageError>;
    /// Stores a proposal under its id unless that id is already held.
    fn insert_proposal(
        &self,
        proposal: &domain::TemplateProposal,
    ) -> Result<ProposalInsert, StorageError>;
    /// Replaces a held proposal (a decision), durably.
    fn put_proposal(&self, proposal: &domain::TemplateProposal) -> Result<(), StorageError>;
    fn proposal(&self, id: &str) -> Result<Option<domain::TemplateProposal>, StorageError>;
    /// Every proposal, oldest first (ids are UUID v7).
    fn proposals(&self) -> Result<Vec<domain::TemplateProposal>, StorageError>;
    fn append_minor_edit(&self, edit: &MinorEdit) -> Result<(), StorageError>;
    fn minor_edits(&self) -> Result<Vec<MinorEdit>, StorageError>;
}

/// The publication register: every statistics table the hub has shown, so
/// that each new one is protected against the earlier ones
/// (`domain::disclosure::protect_linked`). Apart from `Store` so that its
/// implementation lives in its own file.
pub trait PublicationRegister {
    /// Every table published over `dims` for calendar `period` (its name,
    /// `2026-11`), or from before the calendar when `None`, oldest first.
    fn publications(
        &self,
        dims: &[String],
        period: Option<&str>,
    ) -> Result<Vec<domain::disclosure::Publication>, StorageError>;
    /// The recoding level the first release of `year` over `dims` fixed.
    fn release_detail(&self, dims: &[String], year: i32) -> Result<Option<String>, StorageError>;
    /// Fixes it; on disk with the next `add_publication`.
    fn set_release_detail(
        &self,
        dims: &[String],
        year: i32,
        detail: &str,
    ) -> Result<(), StorageError>;
    /// Adds a published table to the register and returns once it is on
    /// disk: a table is shown only after it is registered.
    fn add_publication(
        &self,
        publication: &domain::disclosure::Publication,
    ) -> Result<(), StorageError>;
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

/// How often a search that found nothing was asked at the desks, in one
/// ISO week and page language: the query as the desk scrubbed and
/// normalised it. Counts from every desk add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissCount {
    pub week: String,
    pub language: String,
    pub query: String,
    pub count: u64,
}

/// Searches that found nothing (`storage/sled/misses.rs`), kept as counts
/// only; what of them may be shown is `crate::misses`'s rule.
pub trait SearchMissLog {
    /// Adds a desk's batch of counts, durably, unless its id was seen
    /// already (then nothing changes and `false` comes back): a desk sends
    /// a batch until it is acknowledged.
    fn add_miss_batch(&self, batch_id: &str, misses: &[MissCount]) -> Result<bool, StorageError>;
    /// Every count held, by week, language and query.
    fn miss_counts(&self) -> Result<Vec<MissCount>, StorageError>;
    /// Deletes the counts of the weeks before `before_week` (retention);
    /// how many counts went.
    fn prune_misses(&self, before_week: &str) -> Result<u64, StorageError>;
}

/// A dashboard account: a name and its Argon2id hash (`crate::users`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// PHC string, `$argon2id$v=19$...`.
    pub hash: String,
    pub added_at: String,
}

/// Dashboard accounts, in the store so that every replica signs in the
/// same coordinators and `hub user add` reaches them all
/// (`storage/sled/users.rs`, `storage/postgres/users.rs`).
pub trait UserDirectory {
    /// Every account, by name.
    fn users(&self) -> Result<Vec<User>, StorageError>;
    fn user(&self, name: &str) -> Result<Option<User>, StorageError>;
    /// Adds an account, durably, unless its name is taken: then nothing
    /// changes and `false` comes back.
    fn add_user(&self, user: &User) -> Result<bool, StorageError>;
}

/// What retention deletes of proposals and reports, the same on both
/// stores: decided (not open) before a time; an item whose decision date
/// does not parse is kept.
pub(crate) struct DecidedBefore(chrono::DateTime<chrono::FixedOffset>);

impl DecidedBefore {
    /// `decided_before` is RFC 3339.
    pub(crate) fn parse(decided_before: &str) -> Result<Self, StorageError> {
        chrono::DateTime::parse_from_rfc3339(decided_before)
            .map(Self)
            .map_err(|e| StorageError::Corrupt(format!("retention cutoff: {e}")))
    }

    pub(crate) fn covers(&self, state: &str, decided_at: &str) -> bool {
        state != crate::reports::OPEN
            && chrono::DateTime::parse_from_rfc3339(decided_at).is_ok_and(|at| at < self.0)
    }
}

/// Runs store work from a desk's stream: on the blocking pool when the
/// store is remote, where a round trip would stall every stream served by
/// the thread; inline on sled, whose reads its cache answers, so that a
/// push to a thousand desks at once does not start hundreds of blocking
/// threads for them.
pub async fn on_store<T, E>(
    store: &std::sync::Arc<dyn Store>,
    work: impl FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
{
    if store.remote() {
        blocking(store, work).await
    } else {
        work(store.as_ref())
    }
}

/// Runs store work on tokio's blocking threads: a store call may read the
/// disk or wait for a flush, and on an async thread it would stall every
/// stream and page served by that thread. The one way async handlers call
/// the store (coordinator API, dashboard, background tasks).
pub async fn blocking<T, E>(
    store: &std::sync::Arc<dyn Store>,
    work: impl FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
{
    let store = std::sync::Arc::clone(store);
    tokio::task::spawn_blocking(move || work(store.as_ref()))
        .await
        .unwrap_or_else(|e| {
            // Only a panic in `work` or a runtime shutting down gets here.
            Err(
                StorageError::Backend(::sled::Error::Io(std::io::Error::other(format!(
                    "the work on the store stopped: {e}"
                ))))
                .into(),
            )
        })
}
