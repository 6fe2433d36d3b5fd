//! The enrollment bundle: everything one desk needs to join the hub (its
//! certificate and key, the CA certificate, the hub's address), written by
//! `hub desk add` and installed by `desk-agent enroll`.

use crate::secret::write_secret;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub desk_id: String,
    pub hub_address: String,
    pub ca_cert_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

// The key must never reach a log line.
impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("desk_id", &self.desk_id)
            .field("hub_address", &self.hub_address)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read the bundle {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an enrollment bundle: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl Bundle {
    pub fn to_toml(&self) -> String {
        // Serialising plain strings cannot fail.
        toml::to_string(self).unwrap_or_default()
    }

    pub fn from_toml(text: &str, path: &str) -> Result<Self, BundleError> {
        toml::from_str(text).map_err(|e| BundleError::Invalid {
            path: path.into(),
            message: e.to_string(),
        })
    }

    pub fn read(path: &Path) -> Result<Self, BundleError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BundleError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::from_toml(&text, &shown)
    }

    /// Writes with mode 0600: the bundle holds the desk's private key.
    pub fn write(&self, path: &Path) -> Result<(), BundleError> {
        write_secret(path, self.to_toml().as_bytes()).map_err(|source| BundleError::Write {
            path: path.display().to_string(),
            source,
        })
    }
}
