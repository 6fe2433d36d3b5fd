//! The hub's settings (`hub.toml` in its data folder, written by `init`) and
//! the files that live beside them.

use runtime::config::{self as loader, ConfigError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ENV_PREFIX: &str = "RETE_HUB_";
pub const FILE_NAME: &str = "hub.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// Where desks connect (mutual TLS).
    #[serde(default = "default_federation_addr")]
    pub federation_addr: String,
    /// The addresses written into every enrollment bundle, in the order a
    /// desk tries them (several hub replicas, HOST:PORT each); empty (the
    /// default): the one address given when the desk is added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub desk_addresses: Vec<String>,
    /// The coordinator API (TLS, bearer token); admin commands use it too.
    #[serde(default = "default_coordinator_addr")]
    pub coordinator_addr: String,
    /// The coordinators' web dashboard (HTTPS with the hub's certificate),
    /// HOST:PORT; empty turns it off.
    #[serde(default = "default_http_addr")]
    pub http_addr: String,
    /// Free space on the store's disk that ingest leaves alone (MiB): below
    /// it desks are answered UNAVAILABLE and keep their records until space
    /// is back.
    #[serde(default = "default_disk_reserve_mib")]
    pub disk_reserve_mib: u64,
    /// Where `/metrics` is served for Prometheus, HOST:PORT; empty (the
    /// default) turns it off.
    #[serde(default)]
    pub metrics_addr: String,
    /// Allow `metrics_addr` on a non-loopback address (off by default).
    #[serde(default)]
    pub metrics_public: bool,
    #[serde(default = "loader::default_log_format")]
    pub log_format: String,
    /// sled's page cache; its 1 GiB default would dominate the hub's memory.
    #[serde(default = "default_cache_mib")]
    pub cache_mib: u64,
    /// Where the hub keeps its state: empty for the embedded sled store in
    /// the data folder, or `postgres://USER@HOST:PORT/DATABASE`, which
    /// several hub replicas may share. Never holds the password.
    #[serde(default, skip_serializing_if = "StoreUrl::is_embedded")]
    pub store: StoreUrl,
    /// A file (mode 0600) holding the PostgreSQL password. When empty, the
    /// password comes from `RETE_HUB_STORE_PASSWORD`, if set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub store_password_file: String,
    /// The CA certificate (PEM) that signed the PostgreSQL server's
    /// certificate: when set, the hub reaches the database over TLS and
    /// checks the server against it (`storage/postgres/tls.rs`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub store_ca_file: String,
    /// Set from the environment only (`RETE_HUB_STORE_PASSWORD`), never
    /// written to `hub.toml`.
    #[serde(default, skip_serializing)]
    pub store_password: Password,
    #[serde(default = "default_max_batch_records")]
    pub max_batch_records: usize,
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    #[serde(default = "default_max_unacked_batches")]
    pub max_unacked_batches: usize,
    /// Batches waiting for the writer, across all desks.
    #[serde(default = "default_ingest_queue")]
    pub ingest_queue: usize,
    /// Records one group commit may carry. On sled every read in the hub
    /// waits for the group being written, so this also bounds that wait.
    #[serde(default = "default_group_records")]
    pub group_records: usize,
    /// HTTP/2 receive window of each desk's connection and stream: what a
    /// desk may have in flight beyond what the hub has taken in. It bounds
    /// the hub's buffers at about this much per connected desk.
    #[serde(default = "default_http2_window_kib")]
    pub http2_window_kib: u32,

    // Federation limits
    /// Records per second each desk may have acknowledged (token bucket,
    /// one second of burst); 0 turns it off. Past it the hub holds the
    /// desk's acks back, so its window fills and it slows down: nothing is
    /// refused or lost.
    #[serde(default = "default_desk_records_per_sec")]
    pub desk_records_per_sec: u64,
    /// The same in bytes of record batches per second; 0 turns it off.
    #[serde(default = "default_desk_bytes_per_sec")]
    pub desk_bytes_per_sec: u64,
    /// Bytes of decoded batches waiting for or inside the group commit,
    /// across all desks; a desk's stream waits for room.
    #[serde(default = "default_ingest_queue_bytes")]
    pub ingest_queue_bytes: usize,
    /// Open connections on the federation port; beyond it a new one is
    /// closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections from one IP address that have not yet finished the TLS
    /// handshake; a desk's established connection does not count, so any
    /// number of desks may sit behind one NAT.
    #[serde(default = "default_max_connections_per_source")]
    pub max_connections_per_source: usize,
    /// TLS handshakes in progress (from the client's first message).
    #[serde(default = "default_max_handshakes")]
    pub max_handshakes: usize,
    /// TLS handshakes in progress from one IP address.
    #[serde(default = "default_max_handshakes_per_source")]
    pub max_handshakes_per_source: usize,
    /// Seconds a new connection has to finish its TLS handshake.
    #[serde(default = "default_handshake_timeout_secs")]
    pub handshake_timeout_secs: u64,
    /// Open connections on the dashboard's port (at most `max_connections`):
    /// a few coordinators need a few dozen, and each open browser
    /// connection holds TLS and HTTP/2 buffers.
    #[serde(default = "default_dashboard_max_connections")]
    pub dashboard_max_connections: usize,

    // Retention
    /// How long each kind of data is kept (`[retention]`).
    #[serde(default)]
    pub retention: RetentionConfig,
}

/// How long the hub keeps each kind of data; 0 keeps it forever. Pruned
/// records stay counted: the published figures never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Anonymised records, by the ISO week they fall in.
    #[serde(default = "default_records_years")]
    pub records_years: u32,
    /// Refused records' reasons (the desks' quarantine, as the hub holds it).
    #[serde(default = "default_quarantine_days")]
    pub quarantine_days: u32,
    /// Decided proposals, from their decision; open ones are kept.
    #[serde(default = "default_proposals_days")]
    pub proposals_days: u32,
    /// Decided operators' reports, from their decision; open ones are kept.
    #[serde(default = "default_reports_days")]
    pub reports_days: u32,
    /// Counts of searches that found nothing, by the ISO week they fall in.
    #[serde(default = "default_search_misses_weeks")]
    pub search_misses_weeks: u32,
}

fn default_records_years() -> u32 {
    // The counts are kept whole; records of individual visits are needed
    // only for a recount or a correction, which five years cover (a
    // council's term and its reporting).
    5
}
fn default_quarantine_days() -> u32 {
    // A refusal is looked at within weeks; three months is ample.
    90
}
fn default_proposals_days() -> u32 {
    365
}
fn default_search_misses_weeks() -> u32 {
    // Two years: enough to see whether a gap the cards filled stays closed.
    104
}
fn default_reports_days() -> u32 {
    // A year of closed reports shows which cards keep being reported.
    365
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            records_years: default_records_years(),
            quarantine_days: default_quarantine_days(),
            proposals_days: default_proposals_days(),
            reports_days: default_reports_days(),
            search_misses_weeks: default_search_misses_weeks(),
        }
    }
}

fn default_federation_addr() -> String {
    "0.0.0.0:7700".into()
}
fn default_coordinator_addr() -> String {
    "127.0.0.1:7701".into()
}
fn default_disk_reserve_mib() -> u64 {
    256
}

fn default_http_addr() -> String {
    // Off unless asked for, so that several hubs on one machine (tests,
    // benches) never fight over one port.
    String::new()
}
fn default_cache_mib() -> u64 {
    // What sled keeps is mostly the record segments just written and the
    // pages its cleaner moves, which no read of the hub asks for again; the
    // pages the hub reads (counts, progress, the id runs at the right edge)
    // are a few MiB. With 10,000,000 records held the hub's peak was
    // 143–170 MiB at 16 and 169–183 MiB at 64, ingest within the runs'
    // spread (bench/README.md, "sled's page cache").
    16
}
fn default_max_batch_records() -> usize {
    1000
}
fn default_max_message_bytes() -> usize {
    4 * 1024 * 1024
}
fn default_max_unacked_batches() -> usize {
    8
}
fn default_ingest_queue() -> usize {
    // Decoded batches are the hub's largest buffers (a full batch is about
    // half a megabyte); 64 keep the writer fed for six group commits of
    // 5,000 records while bounding them to tens of MiB.
    64
}
fn default_group_records() -> usize {
    // sled 0.34 writes a batch under a lock of the whole process, which
    // every read in the hub then waits for: a statistics query or a page
    // waits for the group being written. On two shared cores a group of
    // 15,000–19,000 records took 73–134 ms to write, and the stats query
    // during ingest at 10,000,000 records held had a p99 of 43–116 ms;
    // with groups of at most 5,000 that p99 was 37–56 ms, and ingest kept
    // its rate (`bench/README.md`).
    5_000
}
fn default_http2_window_kib() -> u32 {
    // Two of the agent's default batches (500 records of about 150 bytes):
    // enough to keep a desk's stream busy on loopback and on a LAN, while a
    // hundred desks hold at most 16 MiB here (hyper's default of 1 MiB each
    // let them hold up to 100 MiB). A fixed window, not hyper's adaptive
    // one, whose estimate may grow a connection's window to 16 MiB, so that
    // this stays the bound. Smaller windows did not lower the hub's peak
    // with 1,000 desks ingesting (tonic's decode buffer holds a whole batch
    // per desk either way) and a window under one batch slowed ingest:
    // bench/README.md, "Ingest with 1,000 desks".
    160
}

fn default_desk_records_per_sec() -> u64 {
    // A month of the busiest desk's visits in a second, so that a backlog
    // after an outage goes at full speed; well under a tenth of what one
    // hub stores, so that one broken agent cannot take the others' share.
    10_000
}
fn default_desk_bytes_per_sec() -> u64 {
    // 10,000 records of the largest usual size, about 800 bytes each.
    8 << 20
}
fn default_ingest_queue_bytes() -> usize {
    // Eight full 4 MiB messages, or the 64 queued batches at their usual
    // half a megabyte.
    32 << 20
}
fn default_max_connections() -> usize {
    4096
}
fn default_max_connections_per_source() -> usize {
    64
}
fn default_max_handshakes() -> usize {
    256
}
fn default_max_handshakes_per_source() -> usize {
    16
}
fn default_handshake_timeout_secs() -> u64 {
    10
}
fn default_dashboard_max_connections() -> usize {
    // A browser holds one HTTP/2 connection (or up to six HTTP/1.1 ones):
    // room for a dozen coordinators at once. Measured with 1,000 clients
    // flooding the sign-in (`bench signin-flood`), the hub's peak grew by
    // 66 MiB at 64 and by 79 MiB at 256, against 138 MiB uncapped.
    64
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            federation_addr: default_federation_addr(),
            desk_addresses: Vec::new(),
            coordinator_addr: default_coordinator_addr(),
            http_addr: default_http_addr(),
            disk_reserve_mib: default_disk_reserve_mib(),
            metrics_addr: String::new(),
            metrics_public: false,
            log_format: loader::default_log_format(),
            cache_mib: default_cache_mib(),
            store: StoreUrl::default(),
            store_password_file: String::new(),
            store_ca_file: String::new(),
            store_password: Password::default(),
            max_batch_records: default_max_batch_records(),
            max_message_bytes: default_max_message_bytes(),
            max_unacked_batches: default_max_unacked_batches(),
            ingest_queue: default_ingest_queue(),
            group_records: default_group_records(),
            http2_window_kib: default_http2_window_kib(),
            desk_records_per_sec: default_desk_records_per_sec(),
            desk_bytes_per_sec: default_desk_bytes_per_sec(),
            ingest_queue_bytes: default_ingest_queue_bytes(),
            max_connections: default_max_connections(),
            max_connections_per_source: default_max_connections_per_source(),
            max_handshakes: default_max_handshakes(),
            max_handshakes_per_source: default_max_handshakes_per_source(),
            dashboard_max_connections: default_dashboard_max_connections(),
            handshake_timeout_secs: default_handshake_timeout_secs(),
            retention: RetentionConfig::default(),
        }
    }
}

/// The `store` setting; its `Debug` hides a password written in the URL
/// against the advice, so that a logged config never shows it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoreUrl(pub String);

impl StoreUrl {
    pub fn is_embedded(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The PostgreSQL URL, when the store is one.
    pub fn postgres(&self) -> Result<Option<&str>, ConfigError> {
        let url = self.0.trim();
        if url.is_empty() {
            return Ok(None);
        }
        if url.len() > 1024 || !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                path: FILE_NAME.into(),
                message: format!(
                    "store = {:?}: lasciare vuoto per l'archivio interno, oppure postgres://UTENTE@HOST:PORTA/DATABASE \
                     (leave empty for the embedded store, or give a postgres:// URL)",
                    crate::storage::redacted(url)
                ),
            });
        }
        Ok(Some(url))
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", crate::storage::redacted(&self.0))
    }
}

/// A password from the environment; `Debug` prints none of it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

impl HubConfig {
    /// `store_ca_file`, when set.
    pub fn store_ca_file(&self) -> Option<&Path> {
        Some(self.store_ca_file.trim())
            .filter(|f| !f.is_empty())
            .map(Path::new)
    }

    /// The PostgreSQL password: from `store_password_file`, which must not
    /// be readable by others, else from the environment, else none (the
    /// server trusts this host).
    pub fn store_password(&self) -> anyhow::Result<Option<String>> {
        let file = self.store_password_file.trim();
        if file.is_empty() {
            return Ok(Some(self.store_password.0.clone()).filter(|p| !p.is_empty()));
        }
        let path = Path::new(file);
        let meta = std::fs::metadata(path).map_err(|e| {
            anyhow::anyhow!(
                "non riesco a leggere il file della password {file} (cannot read the password file): {e}"
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                anyhow::bail!(
                    "il file della password {file} è leggibile da altri: chmod 600 {file} \
                     (the password file can be read by others)"
                );
            }
        }
        if meta.len() > 4096 {
            anyhow::bail!("{file} is not a password file: it holds more than 4 KiB");
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the password file {file}: {e}"))?;
        Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
    }

    pub fn load(
        data: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let path = data.join(FILE_NAME);
        let config: Self = loader::load(&path, ENV_PREFIX, vars)?;
        if !config.desk_addresses.is_empty() {
            runtime::bundle::check_hub_addresses(&config.desk_addresses).map_err(|e| {
                ConfigError::Invalid {
                    path,
                    message: format!("desk_addresses: {e}"),
                }
            })?;
        }
        Ok(config)
    }

    /// Writes `hub.toml`, each limit with a line saying what happens
    /// beyond it, so that the file an operator opens explains itself.
    pub fn save(&self, data: &Path) -> Result<(), ConfigError> {
        loader::save_with_notes(&data.join(FILE_NAME), self, LIMIT_NOTES)
    }
}

/// What each limit in `hub.toml` bounds and what happens beyond it (the
/// README's "Limits" table says the same).
const LIMIT_NOTES: &[(&str, &str)] = &[
    ("cache_mib", "MiB of sled's page cache; beyond it the least recently used pages leave memory and are read from disk when asked for again."),
    ("max_batch_records", "Records in one batch from a desk; a larger batch ends its stream (INVALID_ARGUMENT)."),
    ("max_message_bytes", "Bytes of one message; a larger one ends the stream (RESOURCE_EXHAUSTED, no retry delay)."),
    ("max_unacked_batches", "Batches a desk may have unacknowledged (told in Welcome); past twice this the stream is refused (RESOURCE_EXHAUSTED, retry in 30 s)."),
    ("ingest_queue", "Batches waiting for the group commit, all desks; a desk's stream waits for room."),
    ("group_records", "Records in one write to the store; on sled every read of the hub (pages, stats) waits for the write under way, so larger groups make them wait longer."),
    ("http2_window_kib", "What each desk's connection may have in flight beyond what the hub has read."),
    ("desk_records_per_sec", "Records per second per desk (1 s burst; 0 = off); beyond it the desk's acks are held back, nothing is refused."),
    ("desk_bytes_per_sec", "Bytes of batches per second per desk (1 s burst; 0 = off); beyond it acks are held back."),
    ("ingest_queue_bytes", "Bytes of batches waiting for or inside the group commit, all desks; a desk's stream waits for room."),
    ("max_connections", "Open connections on each port (federation, coordinator, dashboard); beyond it a new connection is closed at once."),
    ("max_connections_per_source", "Connections from one IP address not yet through the TLS handshake (established desks do not count); beyond it closed at once."),
    ("max_handshakes", "TLS handshakes in progress; beyond it a new one is closed before any TLS work."),
    ("max_handshakes_per_source", "TLS handshakes in progress from one IP address; beyond it closed before any TLS work."),
    ("handshake_timeout_secs", "Seconds a connection has to finish its TLS handshake; then it is closed."),
    ("dashboard_max_connections", "Open connections on the dashboard's port (at most max_connections); beyond it a new connection is closed at once."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_file_explains_every_limit_and_reads_back_the_same() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = HubConfig {
            desk_records_per_sec: 123,
            ..HubConfig::default()
        };
        config.save(dir.path()).expect("save");
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).expect("read");
        for (key, note) in LIMIT_NOTES {
            assert!(
                text.contains(&format!("# {note}\n{key} = ")),
                "{key} has no note in:\n{text}"
            );
        }
        let back = HubConfig::load(dir.path(), Vec::new()).expect("load");
        assert_eq!(back.desk_records_per_sec, 123);
        assert_eq!(back.max_connections_per_source, 64);
        assert!(back.desk_addresses.is_empty());
        assert!(!text.contains("desk_addresses"), "{text}");
    }

    #[test]
    fn desk_addresses_are_checked_when_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = HubConfig {
            desk_addresses: vec!["a.example:7700".into(), "b.example:7700".into()],
            ..HubConfig::default()
        };
        config.save(dir.path()).expect("save");
        let back = HubConfig::load(dir.path(), Vec::new()).expect("load");
        assert_eq!(back.desk_addresses, config.desk_addresses);
        let bad = [(
            "RETE_HUB_DESK_ADDRESSES".to_string(),
            "[\"a.example:7700\", \"b.example\"]".to_string(),
        )];
        let e = HubConfig::load(dir.path(), bad).expect_err("no port");
        assert!(
            e.to_string()
                .contains("desk_addresses: indirizzo dell'hub non valido `b.example`"),
            "{e}"
        );
    }
}

/// Where each file of a hub's data folder lives.
#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn ca_cert(&self) -> PathBuf {
        self.0.join("ca.crt")
    }
    pub fn ca_key(&self) -> PathBuf {
        self.0.join("ca.key")
    }
    pub fn hub_cert(&self) -> PathBuf {
        self.0.join("hub.crt")
    }
    pub fn hub_key(&self) -> PathBuf {
        self.0.join("hub.key")
    }
    pub fn token(&self) -> PathBuf {
        self.0.join("coordinator.token")
    }
    /// Coordinator accounts with their Argon2 hashes (mode 0600).
    pub fn users(&self) -> PathBuf {
        self.0.join("users.json")
    }
    pub fn store(&self) -> PathBuf {
        self.0.join("store")
    }
}
