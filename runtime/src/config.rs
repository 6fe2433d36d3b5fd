//! The one config loader both binaries use: a TOML file whose every key an
//! environment variable can override.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The I/O error is in the message and deliberately not a `source`, so
    // that a printed chain does not say it twice.
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
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
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.into(),
        error,
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
    save_with_notes(path, value, &[])
}

/// Writes `value` as TOML with, above each key named in `notes`, a comment
/// line with its note: the file an operator opens explains its limits.
pub fn save_with_notes<T: Serialize>(
    path: &Path,
    value: &T,
    notes: &[(&str, &str)],
) -> Result<(), ConfigError> {
    let text = toml::to_string_pretty(value).map_err(|e| ConfigError::Invalid {
        path: path.into(),
        message: e.to_string(),
    })?;
    let mut out = String::with_capacity(text.len() + 2048);
    for line in text.lines() {
        let key = line.split_once(" = ").map(|(k, _)| k.trim());
        if let Some((_, note)) = notes.iter().find(|(k, _)| Some(*k) == key) {
            out.push_str("# ");
            out.push_str(note);
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|error| ConfigError::Write {
        path: path.into(),
        error,
    })
}

/// Both binaries log for people unless told otherwise.
pub fn default_log_format() -> String {
    "pretty".into()
}
