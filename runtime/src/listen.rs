//! Listeners for the plain-HTTP ports without sign-in (the desk's operator
//! page, `/metrics`): loopback unless the operator opened one on purpose.

use std::net::SocketAddr;
use tokio::net::TcpListener;

/// What a port serves and how it is opened to the network, for the error
/// that refuses a non-loopback address.
#[derive(Debug, Clone, Copy)]
pub struct Purpose {
    /// e.g. "the operator page".
    pub what: &'static str,
    /// e.g. "--http-public (or http_public = true in agent.toml)".
    pub open_with: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "refusing to serve {what} on {addr}: it is not a loopback address and {what} has no \
         sign-in; pass {open_with} to open it to the network on purpose"
    )]
    NotLoopback {
        addr: String,
        what: &'static str,
        open_with: &'static str,
    },
    #[error("`{addr}` is not an address for {what}: {reason}")]
    BadAddress {
        addr: String,
        what: &'static str,
        reason: String,
    },
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind {
        addr: String,
        what: &'static str,
        source: std::io::Error,
    },
}

/// Binds `addr`, refusing a non-loopback address unless `public`.
pub async fn bind(addr: &str, public: bool, purpose: Purpose) -> Result<TcpListener, BindError> {
    let what = purpose.what;
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| BindError::BadAddress {
            addr: addr.into(),
            what,
            reason: e.to_string(),
        })?
        .collect();
    if resolved.is_empty() {
        return Err(BindError::BadAddress {
            addr: addr.into(),
            what,
            reason: "it resolves to no address".into(),
        });
    }
    if !public && resolved.iter().any(|a| !a.ip().is_loopback()) {
        return Err(BindError::NotLoopback {
            addr: addr.into(),
            what,
            open_with: purpose.open_with,
        });
    }
    TcpListener::bind(&resolved[..])
        .await
        .map_err(|source| BindError::Bind {
            addr: addr.into(),
            what,
            source,
        })
}
