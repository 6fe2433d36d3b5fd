//! The agent's settings: `agent.toml` in its data folder, every key
//! overridable by a `RETE_AGENT_` environment variable.

use runtime::config::{default_log_format, load, ConfigError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The agent's settings, written by `enroll` to `agent.toml` in its data folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub desk_id: String,
    pub hub_address: String,
    /// Local gRPC API; loopback unless the desk deliberately opens it.
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default = "default_log_format")]
    pub log_format: String,
    #[serde(default = "default_cache_mib")]
    pub cache_mib: u64,
    #[serde(default = "default_batch_records")]
    pub batch_records: usize,
    #[serde(default = "default_window")]
    pub max_unacked_batches: usize,
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
    /// Accept free-text notes and scrub them of personal data (off by default).
    #[serde(default)]
    pub scrub_notes: bool,
    /// The operator page (plain HTTP); loopback unless `http_public` says
    /// the desk means to open it to its network.
    #[serde(default = "default_http_addr")]
    pub http_addr: String,
    /// Allow `http_addr` on a non-loopback address (off by default).
    #[serde(default)]
    pub http_public: bool,
    /// Allow `listen` (the local API, which takes the visitor's personal
    /// data in the clear) on a non-loopback address; then every call must
    /// carry the token in `api.token` (off by default).
    #[serde(default)]
    pub listen_public: bool,
    /// Days acknowledged records stay in the outbox, so that a hub restored
    /// from a backup within them gets every record back (0: dropped at once).
    #[serde(default = "default_keep_acked_days")]
    pub keep_acked_days: u64,
    /// Free space on the data disk that intake leaves alone (MiB): visits
    /// are refused below it, while the desk goes on shipping.
    #[serde(default = "default_disk_reserve_mib")]
    pub disk_reserve_mib: u64,
    /// Where `/metrics` is served for Prometheus; empty (the default): off.
    #[serde(default)]
    pub metrics_addr: String,
    /// Allow `metrics_addr` on a non-loopback address (off by default).
    #[serde(default)]
    pub metrics_public: bool,
    /// How often the counts of searches that found nothing are packaged
    /// for the hub (seconds; also at each connection).
    #[serde(default = "default_search_misses_every_secs")]
    pub search_misses_every_secs: u64,
}

pub const ENV_PREFIX: &str = "RETE_AGENT_";
pub const FILE_NAME: &str = "agent.toml";

fn default_listen() -> String {
    "127.0.0.1:7710".into()
}
fn default_http_addr() -> String {
    "127.0.0.1:7711".into()
}
fn default_cache_mib() -> u64 {
    16
}
fn default_batch_records() -> usize {
    500
}
fn default_window() -> usize {
    8
}
fn default_search_misses_every_secs() -> u64 {
    300
}
fn default_keep_acked_days() -> u64 {
    14
}
fn default_disk_reserve_mib() -> u64 {
    64
}
fn default_backoff_max_ms() -> u64 {
    10_000
}

impl AgentConfig {
    pub fn new(desk_id: String, hub_address: String) -> Self {
        Self {
            desk_id,
            hub_address,
            listen: default_listen(),
            log_format: default_log_format(),
            cache_mib: default_cache_mib(),
            batch_records: default_batch_records(),
            max_unacked_batches: default_window(),
            backoff_max_ms: default_backoff_max_ms(),
            scrub_notes: false,
            http_addr: default_http_addr(),
            http_public: false,
            listen_public: false,
            keep_acked_days: default_keep_acked_days(),
            disk_reserve_mib: default_disk_reserve_mib(),
            metrics_addr: String::new(),
            metrics_public: false,
            search_misses_every_secs: default_search_misses_every_secs(),
        }
    }

    pub fn load(
        data: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        load(&data.join(FILE_NAME), ENV_PREFIX, vars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime::config::save;

    #[test]
    fn environment_overrides_every_key_with_typed_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        save(
            &dir.path().join(FILE_NAME),
            &AgentConfig::new("desk-1".into(), "127.0.0.1:1".into()),
        )
        .expect("save");
        let vars = [
            (
                "RETE_AGENT_LISTEN".to_string(),
                "127.0.0.1:9999".to_string(),
            ),
            ("RETE_AGENT_BATCH_RECORDS".to_string(), "42".to_string()),
            ("OTHER_VAR".to_string(), "ignored".to_string()),
        ];
        let c = AgentConfig::load(dir.path(), vars).expect("load");
        assert_eq!(c.listen, "127.0.0.1:9999");
        assert_eq!(c.batch_records, 42);
        assert_eq!(c.desk_id, "desk-1");
    }

    #[test]
    fn an_unknown_override_is_refused_with_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        save(
            &dir.path().join(FILE_NAME),
            &AgentConfig::new("desk-1".into(), "h:1".into()),
        )
        .expect("save");
        let err = AgentConfig::load(
            dir.path(),
            [("RETE_AGENT_LISTN".to_string(), "x".to_string())],
        )
        .expect_err("typo must be refused");
        assert!(err.to_string().contains("listn"), "{err}");
    }
}
