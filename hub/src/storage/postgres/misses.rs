//! Searches that found nothing, on PostgreSQL: table `search_misses`, a
//! count per week, language and query, and table `miss_batches`, the ids
//! of the batches counted, numbered as they came so that only the newest
//! `MAX_BATCH_IDS` are kept. A batch's counts and its id commit together,
//! under an advisory lock, so that "is this id new, then count" is one
//! step across replicas, and a week's bound on distinct queries holds.
//!
//! The bounds and the order new queries take the room in are the sled
//! store's (`sled/misses.rs`).

use super::{i64_of, u64_of};
use crate::storage::postgres::PostgresStore;
use crate::storage::{MissCount, SearchMissLog, StorageError};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Distinct (language, query) pairs kept per week, over every desk.
#[cfg(not(test))]
const MAX_QUERIES_PER_WEEK: u64 = 50_000;
#[cfg(test)]
const MAX_QUERIES_PER_WEEK: u64 = 4;

/// Batch ids remembered: a desk keeps at most a few dozen batches waiting.
#[cfg(not(test))]
const MAX_BATCH_IDS: i64 = 100_000;
#[cfg(test)]
const MAX_BATCH_IDS: i64 = 3;

/// The advisory lock every change to the misses takes ("misses").
const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended('misses', 1919))";

type Key = (String, String, String);

impl SearchMissLog for PostgresStore {
    fn add_miss_batch(&self, batch_id: &str, misses: &[MissCount]) -> Result<bool, StorageError> {
        // Summed per key and in byte order (the sled key's), which decides
        // which new queries take a week's last room.
        let mut added: BTreeMap<Key, u64> = BTreeMap::new();
        for m in misses {
            let n = added
                .entry((m.week.clone(), m.language.clone(), m.query.clone()))
                .or_default();
            *n = n.saturating_add(m.count);
        }
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(LOCK, &[]).await?;
            if tx
                .query_opt("SELECT 1 FROM miss_batches WHERE id = $1", &[&batch_id])
                .await?
                .is_some()
            {
                return Ok(false);
            }
            let cols = |f: fn(&Key) -> &String| -> Vec<&str> {
                added.keys().map(|k| f(k).as_str()).collect()
            };
            let (weeks, languages, queries) = (cols(|k| &k.0), cols(|k| &k.1), cols(|k| &k.2));
            let held: HashSet<Key> = tx
                .query(
                    "SELECT m.week, m.language, m.query FROM search_misses m
                     JOIN unnest($1::text[], $2::text[], $3::text[]) AS w(week, language, query)
                     USING (week, language, query)",
                    &[&weeks, &languages, &queries],
                )
                .await?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
            let mut distinct: HashMap<String, u64> = tx
                .query(
                    "SELECT week, count(*) FROM search_misses WHERE week = ANY($1)
                     GROUP BY week",
                    &[&weeks],
                )
                .await?
                .iter()
                .map(|r| (r.get(0), u64_of(r.get(1))))
                .collect();
            let mut kept: (Vec<&str>, Vec<&str>, Vec<&str>, Vec<i64>) = Default::default();
            for (key, n) in &added {
                if !held.contains(key) {
                    let slot = distinct.entry(key.0.clone()).or_default();
                    if *slot >= MAX_QUERIES_PER_WEEK {
                        // Beyond the bound a new query is not kept: a desk
                        // sending distinct noise cannot grow the store
                        // without end.
                        continue;
                    }
                    *slot += 1;
                }
                kept.0.push(&key.0);
                kept.1.push(&key.1);
                kept.2.push(&key.2);
                kept.3.push(i64_of(*n));
            }
            tx.execute(
                "INSERT INTO search_misses (week, language, query, n)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
                 ON CONFLICT (week, language, query) DO UPDATE SET n =
                     CASE WHEN search_misses.n > 9223372036854775807 - EXCLUDED.n
                          THEN 9223372036854775807
                          ELSE search_misses.n + EXCLUDED.n END",
                &[&kept.0, &kept.1, &kept.2, &kept.3],
            )
            .await?;
            // Arrivals are one run (only the oldest leave), so the newest
            // number says which ids fall out of the window.
            let next: i64 = tx
                .query_one(
                    "SELECT coalesce(max(arrival) + 1, 0) FROM miss_batches",
                    &[],
                )
                .await?
                .get(0);
            tx.execute(
                "INSERT INTO miss_batches (id, arrival) VALUES ($1, $2)",
                &[&batch_id, &next],
            )
            .await?;
            tx.execute(
                "DELETE FROM miss_batches WHERE arrival <= $1",
                &[&(next - MAX_BATCH_IDS)],
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn miss_counts(&self) -> Result<Vec<MissCount>, StorageError> {
        Ok(self
            .query(
                "SELECT week, language, query, n FROM search_misses
                 ORDER BY week COLLATE \"C\", language COLLATE \"C\", query COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(|r| MissCount {
                week: r.get(0),
                language: r.get(1),
                query: r.get(2),
                count: u64_of(r.get(3)),
            })
            .collect())
    }

    fn prune_misses(&self, before_week: &str) -> Result<u64, StorageError> {
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(LOCK, &[]).await?;
            // Byte order, as ISO week names sort and as sled compares.
            let removed = tx
                .execute(
                    "DELETE FROM search_misses WHERE week COLLATE \"C\" < $1",
                    &[&before_week],
                )
                .await?;
            tx.commit().await?;
            Ok(removed)
        })
    }
}
