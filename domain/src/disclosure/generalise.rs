//! Merging countries up the M49 tree, decided on the reference population
//! only so that every table built from it uses the same groups.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    m49_groups, CountTable, DisclosureError, MergedLabel, Options, K, OTHER_NATIONALITIES,
};

/// Dimension names with their sensitivity, and the cells after merging.
pub(super) struct Prepared {
    pub(super) dims: Vec<(String, bool)>,
    pub(super) cells: BTreeMap<Vec<String>, u64>,
}

const LEVELS: [&str; 4] = ["area", "sub-region", "region", "all"];

/// The groups a country can climb through, most specific first, with the
/// level each one names. Repeated names (a sub-region with no intermediate
/// region) are kept once so that a climb always changes the group.
fn chain(code: &str) -> Vec<(String, &'static str)> {
    chain_ranked(code)
        .into_iter()
        .map(|(n, l, _)| (n, l))
        .collect()
}

/// [`chain`] with, for each group, the highest level (0 country, 1 area,
/// 2 sub-region, 3 region, 4 all) it stands for: a sub-region without
/// intermediate regions is both an area and a sub-region.
fn chain_ranked(code: &str) -> Vec<(String, &'static str, usize)> {
    let mut chain = vec![(code.to_owned(), "country", 0)];
    if code.is_empty() {
        // Nationality not stated is no country: it is never merged into one.
        return chain;
    }
    let upper: Vec<&str> = match m49_groups(code) {
        Some(g) => vec![g.area, g.sub_region, g.region, OTHER_NATIONALITIES],
        None => vec![
            OTHER_NATIONALITIES,
            OTHER_NATIONALITIES,
            OTHER_NATIONALITIES,
            OTHER_NATIONALITIES,
        ],
    };
    for (rank, (name, level)) in upper.into_iter().zip(LEVELS).enumerate() {
        match chain.last_mut() {
            Some((last, _, top)) if last == name => *top = rank + 1,
            _ => chain.push((name.to_owned(), level, rank + 1)),
        }
    }
    chain
}

/// The label of every country present in `totals`, and the merged labels.
fn nationality_groups(
    totals: &BTreeMap<String, u64>,
    start: usize,
) -> (BTreeMap<String, String>, Vec<MergedLabel>) {
    let chains: BTreeMap<&String, Vec<(String, &'static str)>> =
        totals.keys().map(|c| (c, chain(c))).collect();
    // Recoding starts every country at the group of level `start` (see
    // `recode`); the climb below goes on from there.
    let mut at: BTreeMap<&String, usize> = totals
        .keys()
        .map(|c| {
            let ranked = chain_ranked(c);
            let i = ranked
                .iter()
                .position(|(_, _, top)| *top >= start)
                .unwrap_or(ranked.len().saturating_sub(1));
            (c, i)
        })
        .collect();
    // All small groups climb together, round by round, so the outcome does
    // not depend on the order countries are visited in.
    loop {
        let mut sums: BTreeMap<&str, u64> = BTreeMap::new();
        for (code, &i) in &at {
            if let Some((label, _)) = chains.get(code).and_then(|c| c.get(i)) {
                let n = totals.get(*code).copied().unwrap_or(0);
                let slot = sums.entry(label.as_str()).or_insert(0);
                *slot = slot.saturating_add(n);
            }
        }
        let mut climbed = false;
        for (code, i) in at.iter_mut() {
            let Some(chain) = chains.get(code) else {
                continue;
            };
            let small = chain
                .get(*i)
                .and_then(|(label, _)| sums.get(label.as_str()))
                .is_some_and(|&n| n > 0 && n < K);
            if small && *i + 1 < chain.len() {
                *i += 1;
                climbed = true;
            }
        }
        if !climbed {
            break;
        }
    }

    let mut labels = BTreeMap::new();
    let mut merged = BTreeSet::new();
    for (code, &i) in &at {
        let Some(chain) = chains.get(code) else {
            continue;
        };
        let Some((name, level)) = chain.get(i) else {
            continue;
        };
        if i == 0 {
            labels.insert((*code).clone(), name.clone());
            continue;
        }
        // A group that leaves out some present member of its node must say
        // so, or readers would take it for the whole region.
        let partial = at.iter().any(|(other, &j)| {
            chains.get(other).is_some_and(|c| {
                c.iter().any(|(n, _)| n == name) && c.get(j).is_none_or(|(n, _)| n != name)
            })
        });
        let label = if partial && name != OTHER_NATIONALITIES {
            format!("{name} (other)")
        } else {
            name.clone()
        };
        merged.insert((label.clone(), *level));
        labels.insert((*code).clone(), label);
    }
    let merged = merged
        .into_iter()
        .map(|(label, level)| MergedLabel {
            dim: "nationality".to_owned(),
            label,
            level,
        })
        .collect();
    (labels, merged)
}

/// The labels values take in tables decided on one reference population:
/// the recoding level, then the M49 groups.
pub(super) struct Labeller {
    dims: Vec<String>,
    nationality: Option<usize>,
    groups: BTreeMap<String, String>,
    detail: super::Detail,
    /// The M49 groups that merge countries.
    pub(super) merged: Vec<MergedLabel>,
}

impl Labeller {
    /// The labeller of tables over `dims` decided on `reference`.
    pub(super) fn new(
        dims: &[String],
        reference: &CountTable,
        options: Options,
    ) -> Result<Self, DisclosureError> {
        let nat = dims.iter().position(|d| d == "nationality");
        let (groups, merged) = match nat {
            Some(i) if options.merge_nationality => {
                let mut totals: BTreeMap<String, u64> = BTreeMap::new();
                for (values, &n) in &reference.cells {
                    if let Some(v) = values.get(i) {
                        let slot = totals.entry(v.clone()).or_insert(0);
                        *slot = slot.checked_add(n).ok_or(DisclosureError::Overflow)?;
                    }
                }
                nationality_groups(&totals, options.detail.nationality_rank())
            }
            _ => (BTreeMap::new(), Vec::new()),
        };
        Ok(Self {
            dims: dims.to_vec(),
            nationality: nat,
            groups,
            detail: options.detail,
            merged,
        })
    }

    /// The published labels of one cell's values.
    pub(super) fn label(&self, values: &[String]) -> Vec<String> {
        let mut key = values.to_vec();
        super::recode::apply(&self.dims, &mut key, self.detail);
        if let Some(slot) = self.nationality.and_then(|i| key.get_mut(i)) {
            if let Some(label) = self.groups.get(slot.as_str()) {
                slot.clone_from(label);
            }
        }
        key
    }
}

/// `table` relabelled with the groups decided on `reference`.
pub(super) fn apply(
    table: &CountTable,
    reference: &CountTable,
    options: Options,
) -> Result<(Prepared, Vec<MergedLabel>), DisclosureError> {
    let dims: Vec<(String, bool)> = table
        .dims
        .iter()
        .map(|d| (d.clone(), super::SENSITIVE_DIMENSIONS.contains(&d.as_str())))
        .collect();
    let mut labeller = Labeller::new(&table.dims, reference, options)?;
    labeller
        .merged
        .extend(super::recode::merged_labels(table, options.detail));
    let mut cells: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for (values, &n) in &table.cells {
        let sum = cells.entry(labeller.label(values)).or_insert(0);
        *sum = sum.checked_add(n).ok_or(DisclosureError::Overflow)?;
    }
    Ok((Prepared { dims, cells }, labeller.merged))
}
