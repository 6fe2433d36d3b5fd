//! The enrollment bundle: everything one desk needs to join the hub (its
//! certificate and key, the CA certificate, the hub's address), written by
//! `hub desk add` and installed by `desk-agent enroll`.

use serde::{Deserialize, Serialize};
use std::io::Write;
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

/// Write a secret file with mode 0600 (create or truncate), then fsync.
pub fn write_secret(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // `mode` applies only when the file is created; an existing file keeps
    // its old mode, so tighten it before any secret byte lands in it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents)?;
    file.sync_all()?;
    // A freshly created file survives a crash only once its directory entry
    // is on disk too.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
