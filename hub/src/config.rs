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
    #[serde(default = "default_max_batch_records")]
    pub max_batch_records: usize,
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    #[serde(default = "default_max_unacked_batches")]
    pub max_unacked_batches: usize,
    /// Batches waiting for the writer, across all desks.
    #[serde(default = "default_ingest_queue")]
    pub ingest_queue: usize,
    /// Records one group commit may carry.
    #[serde(default = "default_group_records")]
    pub group_records: usize,
    /// HTTP/2 receive window of each desk's connection and stream: what a
    /// desk may have in flight beyond what the hub has taken in. It bounds
    /// the hub's buffers at about this much per connected desk.
    #[serde(default = "default_http2_window_kib")]
    pub http2_window_kib: u32,
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

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            records_years: default_records_years(),
            quarantine_days: default_quarantine_days(),
            proposals_days: default_proposals_days(),
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
    64
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
    // half a megabyte); 64 keep the writer fed for three group commits of
    // 20,000 records while bounding them to tens of MiB.
    64
}
fn default_group_records() -> usize {
    20_000
}
fn default_http2_window_kib() -> u32 {
    // Two of the agent's default batches (500 records of about 150 bytes):
    // enough to keep a desk's stream busy on loopback and on a LAN, while a
    // hundred desks hold at most 16 MiB here (hyper's default of 1 MiB each
    // let them hold up to 100 MiB).
    160
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            federation_addr: default_federation_addr(),
            coordinator_addr: default_coordinator_addr(),
            http_addr: default_http_addr(),
            disk_reserve_mib: default_disk_reserve_mib(),
            metrics_addr: String::new(),
            metrics_public: false,
            log_format: loader::default_log_format(),
            cache_mib: default_cache_mib(),
            max_batch_records: default_max_batch_records(),
            max_message_bytes: default_max_message_bytes(),
            max_unacked_batches: default_max_unacked_batches(),
            ingest_queue: default_ingest_queue(),
            group_records: default_group_records(),
            http2_window_kib: default_http2_window_kib(),
            retention: RetentionConfig::default(),
        }
    }
}

impl HubConfig {
    pub fn load(
        data: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        loader::load(&data.join(FILE_NAME), ENV_PREFIX, vars)
    }

    pub fn save(&self, data: &Path) -> Result<(), ConfigError> {
        loader::save(&data.join(FILE_NAME), self)
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
