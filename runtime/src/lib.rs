//! What the hub and the desk agent both need at run time, and nothing of
//! either side's own logic. Reading order:
//!
//! - [`config`]: a TOML file with environment overrides, one loader.
//! - [`telemetry`]: tracing, pretty for people or JSON for collectors.
//! - [`shutdown`]: one stop signal fanned out to every task.
//! - [`secret`]: files written 0600 and made durable.
//! - [`bundle`]: the enrollment bundle `hub desk add` writes and
//!   `desk-agent enroll` installs, and [`HUB_SERVER_NAME`].
//! - [`grpc`]: health, reflection and the status for oversized messages,
//!   on every gRPC port; [`retry`]: `RESOURCE_EXHAUSTED` with a retry delay.
//! - [`assets`]: the vendored files both web layers serve.
//! - [`embedded`]: opening the sled database each side keeps, and
//!   [`disk`]: the free space kept in reserve beside it.
//! - [`listen`] and [`metrics`]: the loopback-first HTTP ports, and
//!   `/metrics` for Prometheus; [`web`]: the headers every web page sends.

pub mod assets;
pub mod bundle;
pub mod config;
pub mod disk;
pub mod embedded;
pub mod grpc;
pub mod listen;
pub mod metrics;
pub mod retry;
pub mod secret;
pub mod shutdown;
pub mod telemetry;
pub mod web;

pub use shutdown::Shutdown;

/// The name every hub certificate carries, whatever address desks dial.
pub const HUB_SERVER_NAME: &str = "rete-sportelli-hub";
