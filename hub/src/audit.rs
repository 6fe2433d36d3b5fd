//! The audit log: who did what to the network, and when. Every coordinator
//! action (desk add/revoke, guidance publish/amend/retire, template put,
//! proposal decisions, user add) is appended by the shared action function
//! that performs it, so the CLI, the coordinator API and the dashboard are
//! audited alike.

use crate::storage::{AuditEntry, StorageError, Store};

/// Who acted: `cli` (the hub's command line), `token` (the coordinator API's
/// bearer token) or a dashboard user's name.
pub const CLI: &str = "cli";
pub const TOKEN: &str = "token";
/// Content the hub writes itself on its first start (the seed cards).
pub const SEED: &str = "seed";

/// The longest detail kept; details are summaries, never whole bodies.
const MAX_DETAIL: usize = 300;

/// Appends one entry, durably, stamped with the current time.
pub fn record(
    store: &dyn Store,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<u64, StorageError> {
    let entry = AuditEntry {
        seq: 0,
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        actor: actor.chars().take(64).collect(),
        action: action.into(),
        target: target.chars().take(120).collect(),
        detail: detail.chars().take(MAX_DETAIL).collect(),
    };
    let seq = store.append_audit(entry)?;
    if actor == SEED {
        // The hub's own first-start content: one summary line says it
        // (`cards::ensure_seeded`), not one line per card.
        tracing::debug!(actor, action, target, "audited");
    } else {
        tracing::info!(actor, action, target, "audited");
    }
    Ok(seq)
}
