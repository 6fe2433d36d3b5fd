//! A desk's agent. Reading order:
//!
//! - [`config`]: `agent.toml`, read with the shared loader of `runtime`.
//! - [`intake`]: visit → anonymised record, one path for the API and the CLI.
//! - [`outbox`]: anonymised records waiting for the hub, and the quarantine.
//! - [`local`]: the local copy of what the hub pushes (guidance, templates,
//!   catalogue, procedure cards) and the queue of the desk's template proposals.
//! - [`service`]: the local Desk gRPC API; intake goes through `domain::anonymise`.
//! - [`status`]: the one mapping from the desk's errors to gRPC and HTTP status.
//! - [`sync`]: the mutual-TLS stream to the hub.
//! - [`card_view`] and [`handout`]: a procedure card laid out in sections in
//!   its own language, shown on the operator page and typeset into the
//!   printable handout.
//! - [`operator`]: the operator page (HTTP on loopback), over the same service.
//! - [`search`]: offline search over procedures, cards, guidance and
//!   templates (`fst` with Levenshtein automata), rebuilt after each push.
//! - [`server`]: `enroll` and `run`.

pub mod card_view;
pub mod config;
pub mod handout;
pub mod intake;
pub mod local;
pub mod metrics;
pub mod operator;
pub mod outbox;
pub mod search;
pub mod server;
pub mod service;
pub mod status;
pub mod sync;
