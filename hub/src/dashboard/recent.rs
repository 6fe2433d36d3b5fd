//! Tables the dashboard published a moment ago, kept for a second: every
//! page view runs protected queries (eleven for the overview), and many
//! views of the same page within a second (several coordinators, a
//! refresh) would otherwise each take the ingest's CPU for the same
//! figures. A second-old figure is as current as a person can read it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::stats::{self, Period, Published, StatsError};
use crate::storage::Store;

/// How long a published table is served again.
const FRESH: Duration = Duration::from_secs(1);
/// Tables kept at most; older ones are dropped first.
const KEPT: usize = 64;

/// The tables by dimensions and period, with when they were published.
type Tables = HashMap<(Vec<String>, Period), (Instant, Published)>;

#[derive(Default)]
pub(crate) struct Recent {
    tables: Mutex<Tables>,
}

impl Recent {
    /// `stats::query`, or its result of less than [`FRESH`] ago.
    pub(crate) fn query(
        &self,
        store: &dyn Store,
        by: &[&str],
        period: &Period,
    ) -> Result<Published, StatsError> {
        let key = (by.iter().map(|d| (*d).to_owned()).collect(), period.clone());
        if let Some((at, table)) = self.lock().get(&key) {
            if at.elapsed() < FRESH {
                return Ok(table.clone());
            }
        }
        let table = stats::query(store, by, period)?;
        let mut tables = self.lock();
        tables.retain(|_, (at, _)| at.elapsed() < FRESH);
        if tables.len() < KEPT {
            tables.insert(key, (Instant::now(), table.clone()));
        }
        Ok(table)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}
