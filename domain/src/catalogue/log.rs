//! The catalogue as the hub's log keeps it: change sets of procedures
//! added, amended under the same code, or retired.

use serde::{Deserialize, Serialize};

use super::Procedure;

/// A procedure as one change set wrote it: in force, or retired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    pub code: String,
    pub family: String,
    pub name_it: String,
    pub name_en: String,
    pub office: String,
    pub retired: bool,
}

/// One version of the catalogue log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueChange {
    pub version: u64,
    pub procedures: Vec<CatalogueEntry>,
    /// The search glossary (TOML) when this version replaced it; empty
    /// when it stayed as it was.
    pub glossary: String,
}

/// A procedure in force, as a change set writes it.
impl From<&Procedure> for CatalogueEntry {
    fn from(p: &Procedure) -> Self {
        Self {
            code: p.code.clone(),
            family: p.family.clone(),
            name_it: p.name_it.clone(),
            name_en: p.name_en.clone(),
            office: p.office.clone(),
            retired: false,
        }
    }
}

/// The `retired` flag is the log's concern: the caller filters on it first.
impl From<&CatalogueEntry> for Procedure {
    fn from(p: &CatalogueEntry) -> Self {
        Self {
            code: p.code.clone(),
            family: p.family.clone(),
            name_it: p.name_it.clone(),
            name_en: p.name_en.clone(),
            office: p.office.clone(),
        }
    }
}
