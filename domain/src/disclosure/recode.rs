//! Recoding before suppressing: coarser values for the dimensions that have
//! a fixed hierarchy, so that a table of small counts is published merged
//! rather than hidden.
//!
//! Three levels, each applied to every recodable dimension of the table at
//! once: as asked; then nationality by UN M49 sub-region, age bands in
//! pairs (`0-17` kept apart: minors' procedures differ) and procedure by
//! family; then nationality by M49 region. The hierarchies are fixed, so a
//! recoded table is the sum of the detailed one and its labels never depend
//! on the counts. Which level a table gets is decided once per ISO year and
//! dimensions (`release::decide_detail`), so every table of a year lies on
//! one grid and can be protected against the others.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{CountTable, MergedLabel};

/// How detailed the published values are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detail {
    /// The values as asked (countries still climb M49 when below K).
    #[default]
    Asked,
    /// Nationality by M49 sub-region, age bands paired, procedure by family.
    SubRegion,
    /// Nationality by M49 region, age bands paired, procedure by family.
    Region,
}

impl Detail {
    pub const ALL: [Detail; 3] = [Detail::Asked, Detail::SubRegion, Detail::Region];

    pub fn name(self) -> &'static str {
        match self {
            Detail::Asked => "asked",
            Detail::SubRegion => "sub-region",
            Detail::Region => "region",
        }
    }

    /// The level named `name` (see [`Detail::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The M49 level nationality starts from (see `generalise::chain_ranked`).
    pub(super) fn nationality_rank(self) -> usize {
        match self {
            Detail::Asked => 0,
            Detail::SubRegion => 2,
            Detail::Region => 3,
        }
    }
}

/// Whether recoding can change a table over `dims`.
pub fn recodable(dims: &[String]) -> bool {
    dims.iter()
        .any(|d| matches!(d.as_str(), "nationality" | "age_band" | "procedure"))
}

/// The paired age band of `band`; minors and unknown values stay as they are.
fn age_pair(band: &str) -> &str {
    match band {
        "18-24" | "25-34" => "18-34",
        "35-44" | "45-54" => "35-54",
        "55-64" | "65+" => "55+",
        other => other,
    }
}

/// Recodes the values of one cell (nationality is left to the M49 climb).
pub(super) fn apply(dims: &[String], values: &mut [String], detail: Detail) {
    if detail == Detail::Asked {
        return;
    }
    for (d, v) in dims.iter().zip(values.iter_mut()) {
        match d.as_str() {
            "age_band" => *v = age_pair(v).to_owned(),
            "procedure" => *v = crate::catalogue::family_of(v).to_owned(),
            _ => {}
        }
    }
}

/// What recoding merged in `table`, for the table's `merged` list (the
/// nationality groups are listed by the M49 climb).
pub(super) fn merged_labels(table: &CountTable, detail: Detail) -> Vec<MergedLabel> {
    if detail == Detail::Asked {
        return Vec::new();
    }
    let mut out = BTreeSet::new();
    for (i, d) in table.dims().iter().enumerate() {
        for values in table.cells().keys() {
            let Some(v) = values.get(i) else { continue };
            match d.as_str() {
                "age_band" if age_pair(v) != v => {
                    out.insert((d.clone(), age_pair(v).to_owned(), "age bands"));
                }
                "procedure" => {
                    out.insert((
                        d.clone(),
                        crate::catalogue::family_of(v).to_owned(),
                        "family",
                    ));
                }
                _ => {}
            }
        }
    }
    out.into_iter()
        .map(|(dim, label, level)| MergedLabel { dim, label, level })
        .collect()
}
