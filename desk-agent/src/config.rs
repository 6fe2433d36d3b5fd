//! The agent's configuration, and the one loader both binaries use: a TOML
//! file whose every key an environment variable can override.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads `path` and lets `{PREFIX}{KEY}` variables from `vars` override its
/// keys (`RETE_HUB_FEDERATION_ADDR` sets `federation_addr`). Values are
/// read as TOML (numbers, booleans) and fall back to plain strings. The
/// variables come in as a map so that tests never touch the process env.
pub fn load<T: DeserializeOwned>(
    path: &Path,
    prefix: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    let invalid = |message: String| ConfigError::Invalid {
        path: path.into(),
        message,
    };
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
    for (name, value) in vars {
        let Some(key) = name.strip_prefix(prefix) else {
            continue;
        };
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(value));
        table.insert(key.to_ascii_lowercase(), parsed);
    }
    table.try_into().map_err(|e: toml::de::Error| {
        invalid(format!(
            "{e} (environment overrides use the prefix {prefix})"
        ))
    })
}

pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<(), ConfigError> {
    let text = toml::to_string_pretty(value).map_err(|e| ConfigError::Invalid {
        path: path.into(),
        message: e.to_string(),
    })?;
    std::fs::write(path, text).map_err(|source| ConfigError::Write {
        path: path.into(),
        source,
    })
}

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
}

pub const ENV_PREFIX: &str = "RETE_AGENT_";
pub const FILE_NAME: &str = "agent.toml";

fn default_listen() -> String {
    "127.0.0.1:7710".into()
}
fn default_http_addr() -> String {
    "127.0.0.1:7711".into()
}
pub fn default_log_format() -> String {
    "pretty".into()
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
