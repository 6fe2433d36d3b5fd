//! The collections beside ingest and the logs, one file each beside this
//! one: the publication register, the audit log, operators' reports,
//! search misses, dashboard sessions and users, and retention of what is
//! not a record. Declared here so that `postgres.rs` lists the store's
//! parts as they were when the collections were one file.

#[path = "audit.rs"]
mod audit;
#[path = "misses.rs"]
mod misses;
#[path = "publications.rs"]
mod publications;
#[path = "reports.rs"]
mod reports;
#[path = "retention.rs"]
mod retention;
#[path = "sessions.rs"]
mod sessions;
#[path = "users.rs"]
mod users;

/// `u64` as PostgreSQL's `bigint`; no value the hub keeps comes near the
/// top of either.
fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
