//! Template proposals: a desk's own wording for a template key and language,
//! stored with its similarity to the canonical text and a word-level diff so
//! that a coordinator can accept it (a new canonical version, pushed to every
//! desk) or decline it.
//!
//! A proposal is text from a desk, so hostile input: it is bounded when
//! received and, when shown, invisible controls are written out (`<U+202E>`)
//! rather than left to reorder what the coordinator reads.

use crate::answer_templates::{self, TemplatesError};
use crate::push::Push;
use crate::storage::{ProposalInsert, StorageError, Store};
use domain::template::MAX_BODY_CHARS;
use domain::TemplateProposal as Proposal;
use proto::DeskProposal;
use serde::Serialize;

pub const OPEN: &str = "open";
pub const ACCEPTED: &str = "accepted";
pub const DECLINED: &str = "declined";

#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no proposal with id `{0}`")]
    NotFound(String),
    #[error("proposal `{id}` is already {state}")]
    Decided { id: String, state: String },
    #[error("the proposal cannot become the canonical text: {0}")]
    Template(#[from] TemplatesError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> ProposalError {
    ProposalError::Invalid {
        field,
        message: message.into(),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Direction controls that can make text read differently from how it is
/// stored (embeddings, overrides, isolates).
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text as it may be shown to a coordinator: direction marks, controls and
/// other invisible format characters written out as `<U+XXXX>`, line breaks
/// and tabs kept.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let invisible = is_direction_control(c)
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{061C}' | '\u{FEFF}')
            || (c.is_control() && c != '\n' && c != '\t');
        if invisible {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Most open proposals one desk may have at the hub, as many as a desk may
/// queue: past it the desk is told to wait for the coordinator's decisions,
/// so that one desk cannot grow the hub's store without bound.
pub const MAX_OPEN_PER_DESK: usize = 100;

/// Stores a proposal a desk sent; a resend of the same id stores nothing.
pub fn receive(
    store: &dyn Store,
    desk_id: &str,
    p: DeskProposal,
) -> Result<Proposal, ProposalError> {
    let id = uuid::Uuid::parse_str(&p.proposal_id)
        .map_err(|_| invalid("proposal_id", "must be a UUID"))?
        .to_string();
    if p.key.len() > 100 {
        return Err(invalid("key", "longer than 100 characters"));
    }
    answer_templates::check_key(&p.key)?;
    let language = domain::normalise_language_tag(&p.language)
        .ok_or_else(|| invalid("language", "must be a language tag such as it, en, ar, ur"))?;
    let chars = p.body.chars().count();
    if p.body.trim().is_empty() || chars > MAX_BODY_CHARS {
        return Err(invalid(
            "body",
            format!("must be 1 to {MAX_BODY_CHARS} characters"),
        ));
    }
    let open = store
        .proposals()?
        .iter()
        .filter(|q| q.desk_id == desk_id && q.state == OPEN && q.id != id)
        .count();
    if open >= MAX_OPEN_PER_DESK {
        return Err(invalid(
            "proposal",
            format!(
                "{MAX_OPEN_PER_DESK} proposals of this desk are still waiting for the coordinator's decision"
            ),
        ));
    }
    let canonical = answer_templates::current(store)?.remove(&(p.key.clone(), language.clone()));
    let (base_version, similarity, diff) = match &canonical {
        Some(c) => (
            c.version,
            domain::similarity(&c.body, &p.body),
            domain::diff_text(&domain::word_diff(&c.body, &p.body)),
        ),
        None => (0, 0.0, domain::diff_text(&domain::word_diff("", &p.body))),
    };
    let proposal = Proposal {
        id,
        desk_id: desk_id.into(),
        key: p.key,
        language,
        body: p.body,
        similarity,
        diff,
        state: OPEN.into(),
        base_version,
        received_at: now(),
        decided_at: String::new(),
        template_version: 0,
    };
    match store.insert_proposal(&proposal)? {
        ProposalInsert::Stored => {
            tracing::info!(desk_id, id = %proposal.id, key = %proposal.key, language = %proposal.language, similarity, "template proposal received");
            Ok(proposal)
        }
        ProposalInsert::AlreadyHeld => Ok(store.proposal(&proposal.id)?.unwrap_or(proposal)),
        ProposalInsert::Conflict => Err(invalid(
            "proposal_id",
            "already used by another desk's proposal",
        )),
    }
}

/// One proposal as listed (`hub proposals --json`), its text made safe to
/// show.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProposalRow {
    pub id: String,
    pub desk_id: String,
    pub key: String,
    pub language: String,
    pub state: String,
    /// 0 to 1, against the canonical text of version `base_version`.
    pub similarity: f64,
    pub base_version: u64,
    /// `kept [-removed-] {+added+}` from the canonical text to the proposal.
    pub diff: String,
    pub body: String,
    pub received_at: String,
    pub decided_at: Option<String>,
    pub template_version: Option<u64>,
}

impl From<Proposal> for ProposalRow {
    fn from(p: Proposal) -> Self {
        Self {
            body: shown(&p.body),
            diff: shown(&p.diff),
            key: shown(&p.key),
            id: p.id,
            desk_id: p.desk_id,
            language: p.language,
            state: p.state,
            similarity: (p.similarity * 1000.0).round() / 1000.0,
            base_version: p.base_version,
            received_at: p.received_at,
            decided_at: (!p.decided_at.is_empty()).then_some(p.decided_at),
            template_version: (p.template_version > 0).then_some(p.template_version),
        }
    }
}

/// Every proposal, oldest first, as stored (the API's form).
pub fn list(store: &dyn Store) -> Result<Vec<Proposal>, StorageError> {
    store.proposals()
}

/// Every proposal, oldest first, ready to be shown.
pub fn rows(store: &dyn Store) -> Result<Vec<ProposalRow>, StorageError> {
    Ok(list(store)?.into_iter().map(ProposalRow::from).collect())
}

/// Accepts (the proposal becomes the canonical text, with the same checks as
/// `hub template put`, and is pushed) or declines an open proposal. Returns
/// the new template version when accepted.
pub fn decide(
    store: &dyn Store,
    push: Option<&Push>,
    id: &str,
    accept: bool,
    actor: &str,
) -> Result<Option<u64>, ProposalError> {
    let id = id.trim();
    if id.len() > 64 {
        return Err(invalid("id", "longer than 64 characters"));
    }
    let mut p = store
        .proposal(id)?
        .ok_or_else(|| ProposalError::NotFound(id.chars().take(64).collect()))?;
    if p.state != OPEN {
        return Err(ProposalError::Decided {
            id: p.id,
            state: p.state,
        });
    }
    let version = if accept {
        if let Some(c) = p.body.chars().find(|c| is_direction_control(*c)) {
            return Err(invalid(
                "body",
                format!(
                    "holds the invisible direction control <U+{:04X}>; remove it before accepting",
                    c as u32
                ),
            ));
        }
        let v = answer_templates::put(store, push, &p.key, &p.language, &p.body, false, actor)?;
        p.state = ACCEPTED.into();
        p.template_version = v;
        Some(v)
    } else {
        p.state = DECLINED.into();
        None
    };
    p.decided_at = now();
    store.put_proposal(&p)?;
    let action = if accept {
        "proposal.accept"
    } else {
        "proposal.decline"
    };
    let detail = format!("{} {} from {}", p.key, p.language, p.desk_id);
    crate::audit::record(store, actor, action, &p.id, &detail)?;
    tracing::info!(id = %p.id, state = %p.state, "template proposal decided");
    Ok(version)
}

#[cfg(test)]
mod tests;
