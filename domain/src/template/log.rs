//! Answer templates and the desks' proposals as the hub's logs keep them.

use serde::{Deserialize, Serialize};

/// One body of the template log: a key in one language at one version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerTemplate {
    /// `procedure/purpose`.
    pub key: String,
    pub language: String,
    /// Text with `{{placeholder}}` fields.
    pub body: String,
    /// The log version that wrote this body; 0 until the store assigns it.
    pub version: u64,
    /// For a translation, the Italian version it follows; for the Italian
    /// reference, 0 means "this version itself" until stored.
    pub reference_version: u64,
    pub stale: bool,
}

/// A desk's proposed wording for a template, with the coordinator's
/// decision once taken.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateProposal {
    /// The desk's UUID v7, so that ids sort oldest first.
    pub id: String,
    pub desk_id: String,
    pub key: String,
    pub language: String,
    pub body: String,
    /// How close the body is to the canonical one, 0 to 1.
    pub similarity: f64,
    pub diff: String,
    /// `open`, `accepted` or `declined`.
    pub state: String,
    /// The canonical version compared with, 0 when none.
    pub base_version: u64,
    /// RFC 3339.
    pub received_at: String,
    /// RFC 3339, empty while open.
    pub decided_at: String,
    /// The canonical version an accepted proposal became.
    pub template_version: u64,
}
