//! Tables the dashboard published a moment ago, kept for a second: every
//! page view runs protected queries (eleven for the overview), and many
//! views of the same page within a second (several coordinators, a
//! refresh) would otherwise each take the ingest's CPU for the same
//! figures. A second-old figure is as current as a person can read it.
//!
//! While a table is being viewed, it is published again in the background
//! shortly before it stops being served, so that a view finds it ready
//! rather than waiting for the eleven queries behind the ingest's CPU; a
//! table nobody looks at is not refreshed, and one older than a second is
//! never served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::stats::{self, Period, Published, StatsError};
use crate::storage::Store;

/// How long a published table is served again.
const FRESH: Duration = Duration::from_secs(1);
/// From this age, a view starts publishing its table again in the
/// background: room for about a quarter of a second of queries on a busy
/// hub before the table stops being served.
const AHEAD: Duration = Duration::from_millis(750);
/// Tables kept at most; older ones are dropped first.
const KEPT: usize = 64;

type Key = (Vec<String>, Period);

struct Kept {
    at: Instant,
    table: Published,
    /// A background publication of this table is under way.
    refreshing: bool,
}

/// The tables by dimensions and period.
type Tables = HashMap<Key, Kept>;

#[derive(Default)]
pub(crate) struct Recent {
    tables: Arc<Mutex<Tables>>,
}

impl Recent {
    /// `stats::query`, or its result of less than [`FRESH`] ago.
    pub(crate) fn query(
        &self,
        store: &Arc<dyn Store>,
        by: &[&str],
        period: &Period,
    ) -> Result<Published, StatsError> {
        let key: Key = (by.iter().map(|d| (*d).to_owned()).collect(), period.clone());
        if let Some(kept) = lock(&self.tables).get_mut(&key) {
            let age = kept.at.elapsed();
            if age < FRESH {
                if age >= AHEAD && !kept.refreshing {
                    kept.refreshing = refresh(&self.tables, store, &key);
                }
                return Ok(kept.table.clone());
            }
        }
        let table = stats::query(store.as_ref(), by, period)?;
        keep(&self.tables, key, table.clone());
        Ok(table)
    }
}

/// Publishes `key`'s table again on the blocking pool; whether it could
/// start (outside a runtime it cannot, and the next view publishes it).
fn refresh(tables: &Arc<Mutex<Tables>>, store: &Arc<dyn Store>, key: &Key) -> bool {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return false;
    };
    let (tables, store, key) = (Arc::clone(tables), Arc::clone(store), key.clone());
    runtime.spawn_blocking(move || {
        let by: Vec<&str> = key.0.iter().map(String::as_str).collect();
        match stats::query(store.as_ref(), &by, &key.1) {
            Ok(table) => keep(&tables, key, table),
            Err(e) => {
                // The next view past `FRESH` asks again and shows the error.
                tracing::warn!(error = %e, "a dashboard table could not be published again");
                if let Some(kept) = lock(&tables).get_mut(&key) {
                    kept.refreshing = false;
                }
            }
        }
    });
    true
}

fn keep(tables: &Mutex<Tables>, key: Key, table: Published) {
    let mut tables = lock(tables);
    tables.retain(|_, kept| kept.at.elapsed() < FRESH);
    if tables.len() < KEPT || tables.contains_key(&key) {
        tables.insert(
            key,
            Kept {
                at: Instant::now(),
                table,
                refreshing: false,
            },
        );
    }
}

fn lock(tables: &Mutex<Tables>) -> std::sync::MutexGuard<'_, Tables> {
    tables.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sled store in a folder of its own, kept as long as the folder.
    fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::storage::SledStore::open(&dir.path().join("store"), 1 << 20)
            .expect("store opens");
        (dir, Arc::new(store))
    }

    fn published_at(recent: &Recent) -> Option<(Instant, bool)> {
        lock(&recent.tables)
            .values()
            .next()
            .map(|k| (k.at, k.refreshing))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_viewed_table_is_published_again_before_it_stops_being_served() {
        let (_dir, store) = store();
        let recent = Recent::default();
        let view = || recent.query(&store, &["family"], &Period::Current);
        view().expect("published");
        let (first, _) = published_at(&recent).expect("kept");

        // Before AHEAD, a view is served what is kept and starts nothing.
        view().expect("served");
        assert_eq!(published_at(&recent), Some((first, false)));

        // Past it, the view is still served at once, and the table is
        // published again behind it.
        tokio::time::sleep(AHEAD + Duration::from_millis(20)).await;
        view().expect("served");
        let deadline = Instant::now() + Duration::from_secs(10);
        let again = loop {
            match published_at(&recent) {
                Some((at, false)) if at > first => break at,
                _ if Instant::now() > deadline => panic!("the table was not published again"),
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        };
        assert!(again.duration_since(first) >= AHEAD);
    }

    #[test]
    fn outside_a_runtime_a_table_past_its_second_is_published_on_the_view() {
        let (_dir, store) = store();
        let recent = Recent::default();
        let view = || recent.query(&store, &["family"], &Period::Current);
        view().expect("published");
        let (first, _) = published_at(&recent).expect("kept");
        std::thread::sleep(AHEAD + Duration::from_millis(20));
        view().expect("served");
        assert_eq!(published_at(&recent), Some((first, false)));
        std::thread::sleep(FRESH - AHEAD);
        view().expect("published");
        assert!(published_at(&recent).is_some_and(|(at, _)| at > first));
    }
}
