//! The agent's settings: `agent.toml` in its data folder, every key
//! overridable by a `RETE_AGENT_` environment variable.

use runtime::config::{default_log_format, load, ConfigError};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::Path;

/// The agent's settings, written by `enroll` to `agent.toml` in its data folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub desk_id: String,
    /// The one hub of a desk enrolled with a single address (as before the
    /// list); `hub_addresses`, when set, must include it and wins.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hub_address: String,
    /// The hub replicas, tried in turn: the next one when a connection
    /// fails or the stream breaks. `RETE_AGENT_HUB_ADDRESSES` takes a TOML
    /// list or addresses separated by commas.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "list_or_text"
    )]
    pub hub_addresses: Vec<String>,
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
/// The hub keeps a buffer per desk the size of the largest batch it got
/// (tonic's decode buffer): 200 records, about 36 KiB, keep a thousand
/// desks' buffers within the hub's memory budget. Larger batches only speed
/// up a catch-up faster than the hub's per-desk rate limit lets one run.
fn default_batch_records() -> usize {
    200
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

/// A TOML list, or one string of addresses separated by commas: what an
/// environment variable gives most easily.
fn list_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrText::deserialize(d)? {
        ListOrText::List(l) => l,
        ListOrText::Text(t) => runtime::bundle::split_hub_addresses(&t),
    })
}

impl AgentConfig {
    pub fn new(desk_id: String, hub_address: String) -> Self {
        Self::for_hubs(desk_id, vec![hub_address])
    }

    /// The settings `enroll` writes: one address as `hub_address`, as
    /// before the list, several as `hub_addresses`.
    pub fn for_hubs(desk_id: String, mut hub_addresses: Vec<String>) -> Self {
        let hub_address = if hub_addresses.len() == 1 {
            hub_addresses.pop().unwrap_or_default()
        } else {
            String::new()
        };
        Self {
            desk_id,
            hub_address,
            hub_addresses,
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

    /// Writes `agent.toml`, the settings that bound what the desk sends
    /// with a line saying what they cost, so that the file explains itself.
    pub fn save(&self, data: &Path) -> Result<(), ConfigError> {
        runtime::config::save_with_notes(&data.join(FILE_NAME), self, SEND_NOTES)
    }

    pub fn load(
        data: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let path = data.join(FILE_NAME);
        let config: Self = load(&path, ENV_PREFIX, vars)?;
        config.hubs().map_err(|message| ConfigError::Invalid {
            path: path.clone(),
            message,
        })?;
        Ok(config)
    }

    /// The hub addresses in the order the desk tries them, checked. A
    /// list that includes `hub_address` wins over it, so that a desk
    /// enrolled with one hub can be given the list by
    /// `RETE_AGENT_HUB_ADDRESSES` alone.
    pub fn hubs(&self) -> Result<Vec<String>, String> {
        let list = if self.hub_addresses.is_empty() {
            vec![self.hub_address.clone()]
        } else if self.hub_address.is_empty() || self.hub_addresses.contains(&self.hub_address) {
            self.hub_addresses.clone()
        } else {
            let shown: String = self
                .hub_address
                .chars()
                .take(runtime::bundle::MAX_HUB_ADDRESS)
                .collect();
            return Err(format!(
                "hub_address `{shown}` non è tra gli hub_addresses: tieni solo la lista \
                 / hub_address `{shown}` is not among hub_addresses: keep the list alone"
            ));
        };
        runtime::bundle::check_hub_addresses(&list).map_err(|e| e.to_string())?;
        Ok(list)
    }
}

/// What the settings of the desk's sending bound, written above them.
const SEND_NOTES: &[(&str, &str)] = &[
    ("batch_records", "Records in one batch to the hub (at most the hub's max_batch_records); the hub keeps a buffer per desk the size of the largest batch, so larger batches cost it memory for every desk."),
    ("max_unacked_batches", "Batches sent and not yet acknowledged; the hub's own window (told in Welcome) applies when it is smaller."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use runtime::config::save;

    #[test]
    fn the_written_file_explains_what_bounds_sending_and_reads_back_the_same() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = AgentConfig::new("desk-1".into(), "127.0.0.1:1".into());
        config.save(dir.path()).expect("save");
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).expect("read");
        for (key, note) in SEND_NOTES {
            assert!(
                text.contains(&format!("# {note}\n{key} = ")),
                "{key} has no note in:\n{text}"
            );
        }
        let back = AgentConfig::load(dir.path(), Vec::new()).expect("load");
        assert_eq!(back.batch_records, 200);
        assert_eq!(back.desk_id, "desk-1");
    }

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
    fn one_hub_or_a_list_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(FILE_NAME);
        save(&file, &AgentConfig::new("desk-1".into(), "a:1".into())).expect("save");
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(!text.contains("hub_addresses"), "written as before: {text}");
        let c = AgentConfig::load(dir.path(), Vec::new()).expect("load");
        assert_eq!(c.hubs(), Ok(vec!["a:1".to_string()]));

        let two = AgentConfig::for_hubs("desk-1".into(), vec!["a:1".into(), "b:2".into()]);
        save(&file, &two).expect("save");
        let c = AgentConfig::load(dir.path(), Vec::new()).expect("load");
        assert_eq!(c.hubs(), Ok(vec!["a:1".to_string(), "b:2".to_string()]));

        let var = |v: &str| [("RETE_AGENT_HUB_ADDRESSES".to_string(), v.to_string())];
        for v in ["[\"c:3\", \"d:4\"]", "c:3,d:4", "c:3, d:4"] {
            let c = AgentConfig::load(dir.path(), var(v)).expect(v);
            assert_eq!(
                c.hubs(),
                Ok(vec!["c:3".to_string(), "d:4".to_string()]),
                "{v}"
            );
        }
        let e = AgentConfig::load(dir.path(), var("c:3,nope")).expect_err("bad address");
        assert!(
            e.to_string()
                .contains("indirizzo dell'hub non valido `nope`"),
            "{e}"
        );
        let other = [("RETE_AGENT_HUB_ADDRESS".to_string(), "e:5".to_string())];
        let e = AgentConfig::load(dir.path(), other).expect_err("both keys, apart");
        assert!(e.to_string().contains("keep the list alone"), "{e}");
        let within = [("RETE_AGENT_HUB_ADDRESS".to_string(), "b:2".to_string())];
        let c = AgentConfig::load(dir.path(), within).expect("the address is in the list");
        assert_eq!(c.hubs(), Ok(vec!["a:1".to_string(), "b:2".to_string()]));
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
