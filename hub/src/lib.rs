//! The Comune's hub. Reading order:
//!
//! - [`config`]: `hub.toml` and the data folder's files.
//! - [`pki`]: the certificate authority, TLS 1.3 with client certificates.
//! - [`storage`]: the narrow store contract, its sled implementation (the
//!   embedded default) and its PostgreSQL one (several replicas, one
//!   database); [`replica`]: a replica's data folder, and acting on
//!   the changes other replicas make (`replica/follow.rs`).
//! - [`group_commit`]: the queue that stores every desk's batches in one durable write.
//! - [`connections`]: who is connected, and revocation of open streams.
//! - [`federation`]: the desks' `Sync` stream.
//! - [`guidance`], [`answer_templates`], [`catalogue`], [`cards`] and [`push`]: the versioned logs pushed to every desk.
//! - [`proposals`] and [`harmonise`]: desks' wording, stale and missing translations, rollout per template.
//! - [`reports`]: operators' reports that an item is wrong, outdated or unclear, and their decisions.
//! - [`admin`] and [`coordinator`]: desk administration and the Comune's API;
//!   [`audit`]: who did what, appended by every action.
//! - [`users`] and [`dashboard`]: coordinator accounts and the HTTPS dashboard.
//! - [`misses`]: searches that found nothing at the desks, and the k rule
//!   for showing them; [`gaps`]: what the network cannot yet serve.
//! - [`stats`]: published figures under small-cell protection; [`retention`]:
//!   how long records, refusals and proposals are kept.
//! - [`transport`]: TLS accept, gRPC servers with health and reflection.
//! - [`server`]: `init` and `run`; [`replica`]: the data folder of another
//!   replica; [`client`]: the CLI's way in; [`demo`]: hands over to the
//!   `demo` program.

pub mod admin;
pub mod answer_templates;
pub mod audit;
pub mod backup;
pub mod cards;
pub mod catalogue;
pub mod client;
pub mod config;
pub mod connections;
pub mod coordinator;
pub mod dashboard;
pub mod demo;
pub mod federation;
pub mod gaps;
pub mod group_commit;
pub mod guidance;
pub mod harmonise;
pub mod incarnations;
pub mod metrics;
pub mod misses;
pub mod pki;
pub mod proposals;
pub mod push;
pub mod replica;
pub mod reports;
pub mod retention;
pub mod server;
pub mod stats;
pub mod storage;
pub mod transport;
pub mod users;
