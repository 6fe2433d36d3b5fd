//! Operators' reports: a desk says a card, guidance item, answer template
//! or procedure is wrong, outdated or unclear. The hub stores each once
//! (the desk's id makes a resend harmless), routes it to its owner (a
//! card's owner, else the coordinator), and closes it as fixed (by the
//! item's version that fixed it) or declined (with why); the desk is told
//! where each of its reports stands.
//!
//! A report is text from a desk, so hostile input: every field is bounded
//! in bytes, the comment is scrubbed again (the desk's scrubber may be
//! older), and when shown, invisible controls are written out
//! (`proposals::shown`). The comment is never logged.

use crate::push::Push;
use crate::storage::{ProposalInsert, StorageError, Store, StoredReport};
use proto::{DeskReport, ReportStatus};

pub const OPEN: &str = "open";
pub const FIXED: &str = "fixed";
pub const DECLINED: &str = "declined";

/// Who answers a report on anything but a card with an owner.
pub const COORDINATOR: &str = "coordinator";

pub const KINDS: [&str; 4] = ["card", "guidance", "template", "procedure"];
pub const REASONS: [&str; 3] = ["wrong", "outdated", "unclear"];

/// Most open reports of one desk: past it the desk is told to wait for
/// the decisions, so that one desk cannot grow the hub's store at will.
pub const MAX_OPEN_PER_DESK: usize = 200;

/// Most open reports in the whole network, so that many desks together
/// cannot either; far above what coordinators can read.
pub const MAX_OPEN: usize = 5_000;

/// Bytes of the comment: 1,000 characters of up to four bytes each.
const MAX_COMMENT_BYTES: usize = domain::scrub::MAX_COMMENT_CHARS * 4;
const MAX_ID_BYTES: usize = 200;
const MAX_NOTE_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("nessuna segnalazione «{0}» / no report with id `{0}`")]
    NotFound(String),
    #[error("la segnalazione «{id}» è già chiusa ({state}) / report `{id}` is already {state}")]
    Decided { id: String, state: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> ReportError {
    ReportError::Invalid {
        field,
        message: message.into(),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn bounded(field: &'static str, value: &str, max: usize) -> Result<String, ReportError> {
    if value.len() > max {
        return Err(invalid(field, format!("longer than {max} bytes")));
    }
    Ok(value.trim().to_string())
}

/// Stores a report a desk sent; a resend of the same id stores nothing and
/// returns what is held.
pub fn receive(
    store: &dyn Store,
    desk_id: &str,
    r: DeskReport,
) -> Result<StoredReport, ReportError> {
    let id = uuid::Uuid::parse_str(&r.report_id)
        .map_err(|_| invalid("report_id", "must be a UUID"))?
        .to_string();
    if !KINDS.contains(&r.kind.as_str()) {
        return Err(invalid(
            "kind",
            format!("must be one of {}", KINDS.join(", ")),
        ));
    }
    if !REASONS.contains(&r.reason.as_str()) {
        return Err(invalid(
            "reason",
            format!("must be one of {}", REASONS.join(", ")),
        ));
    }
    let code = bounded("code", &r.code, MAX_ID_BYTES)?;
    let item_id = bounded("item_id", &r.item_id, MAX_ID_BYTES)?;
    if item_id.is_empty() {
        return Err(invalid("item_id", "must name the item"));
    }
    let language = domain::normalise_language_tag(&r.language)
        .ok_or_else(|| invalid("language", "must be a language tag such as it, en, ar, ur"))?;
    if r.comment.len() > MAX_COMMENT_BYTES {
        return Err(invalid(
            "comment",
            format!("longer than {MAX_COMMENT_BYTES} bytes"),
        ));
    }
    // The desk scrubbed it; the hub does again, so that a desk running an
    // older scrubber cannot leave the hub holding what a newer one finds.
    let comment =
        domain::scrub_comment(&r.comment).map_err(|e| invalid("comment", e.to_string()))?;
    if let Some(held) = store.report(&id)? {
        return if held.desk_id == desk_id {
            Ok(held)
        } else {
            Err(invalid(
                "report_id",
                "already used by another desk's report",
            ))
        };
    }
    let open: Vec<StoredReport> = store
        .reports()?
        .into_iter()
        .filter(|q| q.state == OPEN)
        .collect();
    if open.iter().filter(|q| q.desk_id == desk_id).count() >= MAX_OPEN_PER_DESK {
        return Err(invalid(
            "report",
            format!(
                "{MAX_OPEN_PER_DESK} segnalazioni di questo sportello attendono già una risposta / \
                 {MAX_OPEN_PER_DESK} reports of this desk are still waiting for an answer"
            ),
        ));
    }
    if open.len() >= MAX_OPEN {
        return Err(invalid(
            "report",
            format!(
                "la rete ha già {MAX_OPEN} segnalazioni aperte / \
                 the network already has {MAX_OPEN} open reports: try again later"
            ),
        ));
    }
    let owner = owner_of(store, &r.kind, &item_id)?;
    let report = StoredReport {
        id,
        desk_id: desk_id.into(),
        kind: r.kind,
        code,
        item_id,
        language,
        item_version: r.item_version,
        reason: r.reason,
        comment,
        owner,
        state: OPEN.into(),
        fixed_version: 0,
        note: String::new(),
        received_at: now(),
        decided_at: String::new(),
    };
    match store.insert_report(&report)? {
        ProposalInsert::Stored => {
            tracing::info!(desk_id, id = %report.id, kind = %report.kind, item = %report.item_id, reason = %report.reason, "operator report received");
            Ok(report)
        }
        ProposalInsert::AlreadyHeld => Ok(store.report(&report.id)?.unwrap_or(report)),
        ProposalInsert::Conflict => Err(invalid(
            "report_id",
            "already used by another desk's report",
        )),
    }
}

/// A card's report goes to the card's owner when the Italian card names
/// one; everything else to the coordinator.
fn owner_of(store: &dyn Store, kind: &str, item_id: &str) -> Result<String, StorageError> {
    if kind == "card" {
        let cards = crate::cards::current(store)?;
        if let Some(card) = cards.get(&(
            item_id.to_string(),
            domain::card::REFERENCE_LANGUAGE.to_string(),
        )) {
            let owner = card.owner.trim();
            if !owner.is_empty() {
                return Ok(owner.to_string());
            }
        }
    }
    Ok(COORDINATOR.into())
}

/// One report as listed (`hub reports --json`, the dashboard), its text
/// made safe to show.
pub fn shown(mut r: StoredReport) -> StoredReport {
    r.comment = crate::proposals::shown(&r.comment);
    r.note = crate::proposals::shown(&r.note);
    r.item_id = crate::proposals::shown(&r.item_id);
    r.code = crate::proposals::shown(&r.code);
    r
}

/// Any text from the hub's logs made safe to show beside a report.
pub fn shown_text(text: &str) -> String {
    crate::proposals::shown(text)
}

/// Every report, oldest first, ready to be shown.
pub fn rows(store: &dyn Store) -> Result<Vec<StoredReport>, StorageError> {
    Ok(store.reports()?.into_iter().map(shown).collect())
}

/// Where each of a desk's reports stands, as the desk is told.
pub fn statuses(store: &dyn Store, desk_id: &str) -> Result<Vec<ReportStatus>, StorageError> {
    Ok(store
        .reports()?
        .into_iter()
        .filter(|r| r.desk_id == desk_id)
        .map(|r| status(&r))
        .collect())
}

pub fn status(r: &StoredReport) -> ReportStatus {
    ReportStatus {
        report_id: r.id.clone(),
        state: r.state.clone(),
        fixed_version: r.fixed_version,
        note: r.note.clone(),
    }
}

/// What a coordinator decides on an open report.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Fixed by the item's version `version`, with an optional note.
    Fixed { version: u64, note: String },
    /// Declined, with why.
    Declined { note: String },
}

impl Decision {
    /// As the API and the CLI say it: fixed with a version, or not.
    pub fn new(fixed: bool, version: u64, note: String) -> Self {
        if fixed {
            Decision::Fixed { version, note }
        } else {
            Decision::Declined { note }
        }
    }
}

/// Closes an open report, audits it and tells its desk (through `push`,
/// when the hub is running).
pub fn decide(
    store: &dyn Store,
    push: Option<&Push>,
    id: &str,
    decision: Decision,
    actor: &str,
) -> Result<StoredReport, ReportError> {
    let id = id.trim();
    if id.len() > 64 {
        return Err(invalid("id", "longer than 64 bytes"));
    }
    let (state, version, note) = match decision {
        Decision::Fixed { version, note } => {
            if version == 0 {
                return Err(invalid(
                    "version",
                    "indicare la versione che corregge (almeno 1) / give the version that fixed it (1 or more)",
                ));
            }
            (FIXED, version, note)
        }
        Decision::Declined { note } => {
            if note.trim().is_empty() {
                return Err(invalid(
                    "note",
                    "per respingere serve un motivo / declining needs a reason",
                ));
            }
            (DECLINED, 0, note)
        }
    };
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(invalid(
            "note",
            format!("longer than {MAX_NOTE_CHARS} characters"),
        ));
    }
    let mut r = store
        .report(id)?
        .ok_or_else(|| ReportError::NotFound(id.chars().take(64).collect()))?;
    if r.state != OPEN {
        return Err(ReportError::Decided {
            id: r.id,
            state: r.state,
        });
    }
    r.state = state.into();
    r.fixed_version = version;
    r.note = note.trim().to_string();
    r.decided_at = now();
    store.put_report(&r)?;
    let action = if state == FIXED {
        "report.fix"
    } else {
        "report.decline"
    };
    let detail = format!("{} {} {} from {}", r.kind, r.item_id, r.language, r.desk_id);
    crate::audit::record(store, actor, action, &r.id, &detail)?;
    tracing::info!(id = %r.id, state = %r.state, "operator report decided");
    if let Some(push) = push {
        push.report_decided();
    }
    Ok(r)
}

#[cfg(test)]
mod tests;
