//! Published statistics: the counts kept on ingest, summed to the one or two
//! dimensions asked for and passed through small-cell protection
//! (`domain::disclosure`) before anything leaves the hub.
//!
//! [`query`] is the one way out for every publisher (CLI, coordinator API,
//! dashboard, exports): it protects the table against the whole population
//! and against every table published before it (the publication register in
//! the store), and registers it durably before returning it.

use std::sync::Mutex;

use crate::storage::{StorageError, Store};
use domain::disclosure::{self, CountTable, Options, ProtectedTable};

/// One publication at a time, so that every table is checked against all
/// those registered before it.
static PUBLISHING: Mutex<()> = Mutex::new(());

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Disclosure(#[from] disclosure::DisclosureError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// One period of ISO weeks, both ends included; `None` is open.
#[derive(Debug, Default, Clone)]
pub struct Period {
    pub from_week: Option<String>,
    pub to_week: Option<String>,
}

impl Period {
    fn check(&self) -> Result<(), StatsError> {
        for (name, w) in [("from_week", &self.from_week), ("to_week", &self.to_week)] {
            if let Some(w) = w {
                if !domain::is_iso_week(w) {
                    return Err(StatsError::Invalid(format!(
                        "{name} must be an ISO week such as 2026-W48"
                    )));
                }
            }
        }
        Ok(())
    }

    fn is_open(&self) -> bool {
        self.from_week.is_none() && self.to_week.is_none()
    }

    fn contains(&self, week: &str) -> bool {
        // ISO week strings of one shape sort as the weeks do.
        self.from_week.as_deref().is_none_or(|f| week >= f)
            && self.to_week.as_deref().is_none_or(|t| week <= t)
    }
}

/// The protected table over `by` for `period`. A period is protected within
/// the whole population and against every table published before it, so
/// that no two published tables can be differenced into a hidden cell; the
/// same figures asked again, or through another period, are shown with the
/// same pattern.
pub fn query(
    store: &dyn Store,
    by: &[&str],
    period: &Period,
) -> Result<ProtectedTable, StatsError> {
    if by.is_empty() || by.len() > 2 {
        return Err(StatsError::Invalid(
            "ask for one or two dimensions, e.g. --by procedure or --by nationality,outcome".into(),
        ));
    }
    period.check()?;
    // Names are checked here so that a wrong one gets its own reason.
    CountTable::new(by.iter().copied())?;
    // One register entry per pair of dimensions, whichever order they are
    // asked in: `outcome,nationality` is `nationality,outcome` transposed.
    let mut canonical: Vec<&str> = by.to_vec();
    canonical.sort_unstable();
    let swapped = canonical.as_slice() != by;
    // The store keeps counts by week and two dimensions at most; `family`
    // is derived from `procedure`.
    let mut dims: Vec<&str> = Vec::new();
    for d in &canonical {
        let d = if *d == disclosure::FAMILY {
            "procedure"
        } else {
            d
        };
        if d != "week" && !dims.contains(&d) {
            dims.push(d);
        }
    }
    let mut fields: Vec<&str> = vec!["week"];
    fields.extend(&dims);
    fields.push(disclosure::FAMILY);
    let procedure_at = fields.iter().position(|d| *d == "procedure");
    let _one_at_a_time = PUBLISHING.lock().unwrap_or_else(|e| e.into_inner());
    let cells: Vec<(Vec<String>, u64)> = store
        .counts(&dims)?
        .into_iter()
        .map(|c| {
            let mut values = c.values;
            let family = procedure_at
                .and_then(|i| values.get(i))
                .map(|p| domain::catalogue::family_of(p).to_string())
                .unwrap_or_default();
            values.push(family);
            (values, c.count)
        })
        .collect();
    let all = || cells.iter().map(|(v, c)| (v.as_slice(), *c));
    let reference = CountTable::project(&fields, &canonical, all())?;
    let part = if period.is_open() {
        reference.clone()
    } else {
        CountTable::project(
            &fields,
            &canonical,
            all().filter(|(v, _)| v.first().is_some_and(|w| period.contains(w))),
        )?
    };
    let register_dims: Vec<String> = canonical.iter().map(|d| (*d).to_owned()).collect();
    let earlier = store.publications(&register_dims)?;
    let linked = disclosure::protect_linked(&part, &reference, &earlier, Options::default())?;
    if let Some(entry) = &linked.entry {
        store.add_publication(entry)?;
    }
    Ok(if swapped {
        linked.table.transposed()
    } else {
        linked.table
    })
}

/// The published figure as text: a number, `<5` or `x`.
pub fn figure(cell: disclosure::Cell) -> String {
    match cell {
        disclosure::Cell::Published(n) => n.to_string(),
        disclosure::Cell::Suppressed => disclosure::BELOW_K.to_string(),
        disclosure::Cell::Withheld => disclosure::WITHHELD.to_string(),
    }
}
