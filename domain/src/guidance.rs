//! Guidance items: the Comune's procedural news as the hub's log keeps it
//! and the desks show it. Publishing, amending (the same id again) and
//! retiring each write one entry.

use serde::{Deserialize, Serialize};

/// How prominently a desk shows an item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Info,
    Important,
    Urgent,
}

impl Severity {
    /// The name forms, files and scripts use: `info`, `important`, `urgent`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Important => "important",
            Severity::Urgent => "urgent",
        }
    }

    /// The severity a name means; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Severity> {
        match name {
            "info" => Some(Severity::Info),
            "important" => Some(Severity::Important),
            "urgent" => Some(Severity::Urgent),
            _ => None,
        }
    }
}

/// One entry of the guidance log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceItem {
    pub id: String,
    pub title: String,
    pub body: String,
    /// Catalogue codes the item concerns.
    pub procedures: Vec<String>,
    pub severity: Severity,
    /// `YYYY-MM-DD`.
    pub effective_from: String,
    /// `YYYY-MM-DD`, empty when open-ended.
    pub expires_at: String,
    /// The log version that wrote this entry; 0 until the store assigns it.
    pub version: u64,
    pub retired: bool,
    /// Law references the item concerns ("art. 5 D.Lgs. 286/1998").
    pub legal_basis: Vec<String>,
}
