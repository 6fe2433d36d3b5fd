//! The enrollment bundle: everything one desk needs to join the hub (its
//! certificate and key, the CA certificate, the hub's addresses), written by
//! `hub desk add` and installed by `desk-agent enroll`; and the one check of
//! a hub address, which both sides apply to what a person typed.

use crate::secret::write_secret;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Longest hub address accepted: a DNS name (253) and a port.
pub const MAX_HUB_ADDRESS: usize = 260;
/// Most hub addresses one desk holds: a desk tries each in turn, so a long
/// list of dead ones would only delay it.
pub const MAX_HUB_ADDRESSES: usize = 16;

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub desk_id: String,
    /// The first of `hub_addresses`: what an agent from before the list
    /// reads.
    #[serde(default)]
    pub hub_address: String,
    /// Every hub replica the desk may dial, in the order it tries them.
    /// Written only when there are several, so that a one-hub bundle stays
    /// readable by an agent from before the list (which refuses unknown
    /// keys).
    #[serde(default, skip_serializing_if = "at_most_one")]
    pub hub_addresses: Vec<String>,
    pub ca_cert_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

fn at_most_one(list: &[String]) -> bool {
    list.len() <= 1
}

// The key must never reach a log line.
impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("desk_id", &self.desk_id)
            .field("hub_addresses", &self.hub_addresses)
            .finish_non_exhaustive()
    }
}

/// Why a hub address or a list of them was refused; the message is Italian
/// first, then English, since it reaches the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("indirizzo dell'hub non valido `{0}`: atteso HOST:PORTA, al più {MAX_HUB_ADDRESS} caratteri / invalid hub address `{0}`: expected HOST:PORT, at most {MAX_HUB_ADDRESS} characters")]
    Invalid(String),
    #[error("nessun indirizzo dell'hub / no hub address given")]
    Empty,
    #[error("troppi indirizzi dell'hub ({0}, al più {MAX_HUB_ADDRESSES}) / too many hub addresses ({0}, at most {MAX_HUB_ADDRESSES})")]
    TooMany(usize),
    #[error("indirizzo dell'hub ripetuto `{0}` / hub address listed twice `{0}`")]
    Repeated(String),
}

/// `HOST:PORT` with a non-empty host (a name, an IPv4 address or a
/// bracketed IPv6 one) of printable ASCII without spaces, and a port
/// 1..=65535.
pub fn check_hub_address(addr: &str) -> Result<(), AddressError> {
    let invalid = || AddressError::Invalid(addr.chars().take(MAX_HUB_ADDRESS).collect());
    if addr.len() > MAX_HUB_ADDRESS || !addr.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid());
    }
    let (host, port) = addr.rsplit_once(':').ok_or_else(invalid)?;
    let bracketed = host.starts_with('[') && host.ends_with(']') && host.len() > 2;
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && (bracketed || !host.contains(['[', ']', ':', '/', '@', '?', '#']));
    if host_ok && port.parse::<u16>().is_ok_and(|p| p > 0) {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// Checks a list of hub addresses: at least one, at most
/// [`MAX_HUB_ADDRESSES`], each valid, none twice.
pub fn check_hub_addresses(list: &[String]) -> Result<(), AddressError> {
    if list.is_empty() {
        return Err(AddressError::Empty);
    }
    if list.len() > MAX_HUB_ADDRESSES {
        return Err(AddressError::TooMany(list.len()));
    }
    for (i, addr) in list.iter().enumerate() {
        check_hub_address(addr)?;
        if list[..i].contains(addr) {
            return Err(AddressError::Repeated(addr.clone()));
        }
    }
    Ok(())
}

/// Splits what a person typed (commas, spaces or new lines between
/// addresses) into addresses.
pub fn split_hub_addresses(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
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
    /// A bundle for `hub_addresses` (checked by the caller), the first
    /// also written alone for older agents.
    pub fn new(
        desk_id: String,
        hub_addresses: Vec<String>,
        ca_cert_pem: String,
        cert_pem: String,
        key_pem: String,
    ) -> Self {
        Self {
            desk_id,
            hub_address: hub_addresses.first().cloned().unwrap_or_default(),
            hub_addresses,
            ca_cert_pem,
            cert_pem,
            key_pem,
        }
    }

    /// The addresses the desk tries, in order: the list, or the one
    /// address of a bundle from before the list.
    pub fn addresses(&self) -> Vec<String> {
        if self.hub_addresses.is_empty() {
            vec![self.hub_address.clone()]
        } else {
            self.hub_addresses.clone()
        }
    }

    pub fn to_toml(&self) -> String {
        // Serialising plain strings cannot fail.
        toml::to_string(self).unwrap_or_default()
    }

    /// Reads a bundle, old (`hub_address` alone) or new, and fills in
    /// both fields, so that every reader sees the same list.
    pub fn from_toml(text: &str, path: &str) -> Result<Self, BundleError> {
        let invalid = |message: String| BundleError::Invalid {
            path: path.into(),
            message,
        };
        let mut bundle: Bundle = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        bundle.hub_addresses = bundle.addresses();
        check_hub_addresses(&bundle.hub_addresses).map_err(|e| invalid(e.to_string()))?;
        bundle.hub_address = bundle.hub_addresses[0].clone();
        Ok(bundle)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(addresses: &[&str]) -> Bundle {
        Bundle::new(
            "desk-1".into(),
            addresses.iter().map(|a| a.to_string()).collect(),
            "ca".into(),
            "cert".into(),
            "key".into(),
        )
    }

    #[test]
    fn an_old_bundle_reads_as_a_list_of_one_and_a_single_hub_is_written_the_old_way() {
        let old = "desk_id = \"desk-1\"\nhub_address = \"hub.example:7700\"\n\
                   ca_cert_pem = \"ca\"\ncert_pem = \"cert\"\nkey_pem = \"key\"\n";
        let read = Bundle::from_toml(old, "old").expect("an old bundle reads");
        assert_eq!(read.hub_addresses, ["hub.example:7700"]);
        let written = bundle(&["hub.example:7700"]).to_toml();
        assert!(!written.contains("hub_addresses"), "{written}");
        assert_eq!(written, old, "an older agent reads it as before");
    }

    #[test]
    fn several_hubs_are_written_as_a_list_with_the_first_alone_too() {
        let text = bundle(&["a.example:7700", "[::1]:7700"]).to_toml();
        assert!(text.contains("hub_address = \"a.example:7700\""), "{text}");
        let back = Bundle::from_toml(&text, "new").expect("reads back");
        assert_eq!(back.hub_addresses, ["a.example:7700", "[::1]:7700"]);
        assert_eq!(back.hub_address, "a.example:7700");
    }

    #[test]
    fn addresses_are_checked() {
        for good in [
            "h:1",
            "10.0.0.1:7700",
            "[::1]:7700",
            "hub.comune.example:65535",
        ] {
            assert_eq!(check_hub_address(good), Ok(()), "{good}");
        }
        let long = format!("{}:7700", "a".repeat(300));
        for bad in [
            "", "h", "h:", ":1", "h:0", "h:65536", "h x:1", "a/b:1", "::1:7700", &long,
        ] {
            let e = check_hub_address(bad).expect_err(bad);
            assert!(
                e.to_string().starts_with("indirizzo dell'hub non valido"),
                "{e}"
            );
        }
        assert!(
            check_hub_address(&long)
                .expect_err("long")
                .to_string()
                .len()
                < 3 * MAX_HUB_ADDRESS
        );
        assert_eq!(check_hub_addresses(&[]), Err(AddressError::Empty));
        let twice = vec!["h:1".to_string(), "h:1".to_string()];
        assert!(matches!(
            check_hub_addresses(&twice),
            Err(AddressError::Repeated(_))
        ));
        let many: Vec<String> = (1..=17).map(|p| format!("h:{p}")).collect();
        assert_eq!(check_hub_addresses(&many), Err(AddressError::TooMany(17)));
        assert_eq!(
            split_hub_addresses(" a:1, b:2\nc:3 "),
            ["a:1", "b:2", "c:3"]
        );
    }

    #[test]
    fn a_bundle_naming_no_valid_hub_is_refused() {
        let text = "desk_id = \"d\"\nhub_address = \"nope\"\nca_cert_pem = \"\"\ncert_pem = \"\"\nkey_pem = \"\"\n";
        let e = Bundle::from_toml(text, "b").expect_err("refused");
        assert!(e.to_string().contains("nope"), "{e}");
    }
}
