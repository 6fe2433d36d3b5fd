//! One module per scenario; each starts from a fresh folder and, where it
//! needs one, a fresh hub, so that one scenario's state never flatters or
//! burdens the next.

mod agent;
mod apart;
pub(crate) mod catchup;
pub(crate) mod connections;
pub(crate) mod dashboard;
pub(crate) mod desk_flood;
pub(crate) mod fanout;
pub(crate) mod handout;
pub(crate) mod history;
pub(crate) mod ingest;
pub(crate) mod intake;
pub(crate) mod migrate;
mod overload;
pub(crate) mod raw_sled;
pub(crate) mod search;
pub(crate) mod signin_flood;
mod steady;
