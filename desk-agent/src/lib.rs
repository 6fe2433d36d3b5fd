//! A desk's agent. Reading order:
//!
//! - [`config`]: `agent.toml` with environment overrides (also the loader the hub uses).
//! - [`bundle`]: the enrollment bundle and secret files.
//! - [`intake`]: visit → anonymised record, one path for the API and the CLI.
//! - [`outbox`]: anonymised records waiting for the hub, and the quarantine.
//! - [`local`]: the local copy of what the hub pushes (guidance, templates,
//!   catalogue) and the queue of the desk's template proposals.
//! - [`service`]: the local Desk gRPC API; intake goes through `domain::anonymise`.
//! - [`sync`]: the mutual-TLS stream to the hub.
//! - [`operator`]: the operator page (HTTP on loopback), over the same service.
//! - [`server`]: `enroll` and `run`; [`telemetry`]: logs.

pub mod bundle;
pub mod config;
pub mod intake;
pub mod local;
pub mod operator;
pub mod outbox;
pub mod server;
pub mod service;
pub mod sync;
pub mod synthetic;
pub mod telemetry;

/// The name every hub certificate carries, whatever address desks dial.
pub const HUB_SERVER_NAME: &str = "rete-sportelli-hub";

/// Resolves on SIGTERM or Ctrl-C, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
