//! Searches that found nothing at this desk, counted and queued for the hub
//! (issue 16), in tree `search_misses` of the local copy:
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `c` | week 0x00 language 0x00 query | times asked, not yet packaged (u32 BE) |
//! | `b` | batch id (UUID v7) | `SearchMisses` waiting for the hub's ack, protobuf |
//!
//! Only the query as `search::miss::miss_query` leaves it (scrubbed,
//! normalised, at most 200 characters) is ever written. Packaging moves
//! counts into a batch in one atomic write, so a crash neither loses nor
//! doubles a count; the hub keeps a batch once by its id.

use super::{LocalCopy, LocalError};
use prost::Message;
use proto::{SearchMiss, SearchMisses};

pub(super) const TREE: &str = "search_misses";

/// Distinct queries counted per week; further new ones that week are not
/// counted (the ones held still are).
pub const MAX_QUERIES_PER_WEEK: usize = 500;
/// Entries in one batch.
pub const MAX_BATCH_MISSES: usize = 500;
/// Batches waiting for the hub; beyond it counts wait in `c` until there
/// is room, so a desk offline for months holds a bounded queue.
pub const MAX_QUEUED_BATCHES: usize = 50;

fn count_prefix(week: &str, language: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + week.len() + language.len());
    k.push(b'c');
    k.extend_from_slice(week.as_bytes());
    k.push(0);
    k.extend_from_slice(language.as_bytes());
    k.push(0);
    k
}

fn batch_key(id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(b'b');
    k.extend_from_slice(id.as_bytes());
    k
}

fn decode_count(v: &[u8]) -> u32 {
    <[u8; 4]>::try_from(v).map_or(0, u32::from_be_bytes)
}

impl LocalCopy {
    /// Counts one search that found nothing: `query` as typed (it is
    /// scrubbed and normalised here, before anything is written),
    /// `language` the page's (a checked tag), in the ISO week of `today`.
    /// False when nothing was counted (nothing countable left, or the
    /// week's bound reached).
    pub fn note_search_miss(
        &self,
        query: &str,
        language: &str,
        today: chrono::NaiveDate,
    ) -> Result<bool, LocalError> {
        let Some(query) = crate::search::miss::miss_query(query) else {
            return Ok(false);
        };
        let week = domain::iso_week(today);
        let _one_at_a_time = self.misses_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = count_prefix(&week, language);
        key.extend_from_slice(query.as_bytes());
        let held = match self.misses.get(&key)? {
            Some(v) => decode_count(&v),
            None => {
                let mut week_prefix = vec![b'c'];
                week_prefix.extend_from_slice(week.as_bytes());
                week_prefix.push(0);
                if self.misses.scan_prefix(week_prefix).count() >= MAX_QUERIES_PER_WEEK {
                    return Ok(false);
                }
                0
            }
        };
        // Not flushed here: a search is no record, and sled writes it out
        // within its flush interval; packaging flushes.
        self.misses
            .insert(key, &held.saturating_add(1).to_be_bytes()[..])?;
        Ok(true)
    }

    /// Moves the counts into a new batch queued for the hub, durably;
    /// `None` when there is nothing to send or the queue is full.
    pub fn package_search_misses(&self) -> Result<Option<SearchMisses>, LocalError> {
        let _one_at_a_time = self.misses_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.misses.scan_prefix([b'b']).count() >= MAX_QUEUED_BATCHES {
            return Ok(None);
        }
        let mut batch = sled::Batch::default();
        let mut misses = Vec::new();
        for kv in self.misses.scan_prefix([b'c']).take(MAX_BATCH_MISSES) {
            let (k, v) = kv?;
            let mut parts = k[1..].splitn(3, |b| *b == 0);
            let mut text =
                || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            let (week, language, query) = (text(), text(), text());
            misses.push(SearchMiss {
                week,
                language,
                query,
                count: decode_count(&v),
            });
            batch.remove(k);
        }
        if misses.is_empty() {
            return Ok(None);
        }
        let out = SearchMisses {
            batch_id: uuid::Uuid::now_v7().to_string(),
            misses,
        };
        batch.insert(batch_key(&out.batch_id), out.encode_to_vec());
        self.misses.apply_batch(batch)?;
        self.db.flush()?;
        Ok(Some(out))
    }

    /// Every batch waiting for the hub's acknowledgement, oldest first.
    pub fn queued_search_misses(&self) -> Result<Vec<SearchMisses>, LocalError> {
        let mut out = Vec::new();
        for v in self.misses.scan_prefix([b'b']).values() {
            match SearchMisses::decode(v?.as_ref()) {
                Ok(b) => out.push(b),
                Err(_) => {
                    tracing::warn!("a queued batch of search misses does not decode; skipped")
                }
            }
        }
        Ok(out)
    }

    /// The hub holds the batch: it is not sent again.
    pub fn drop_search_misses(&self, batch_id: &str) -> Result<(), LocalError> {
        self.misses.remove(batch_key(batch_id))?;
        self.db.flush()?;
        Ok(())
    }

    /// Counts not yet packaged, for tests and status: (week, language,
    /// query, count).
    pub fn pending_search_misses(&self) -> Result<Vec<(String, String, String, u32)>, LocalError> {
        let mut out = Vec::new();
        for kv in self.misses.scan_prefix([b'c']) {
            let (k, v) = kv?;
            let mut parts = k[1..].splitn(3, |b| *b == 0);
            let mut text =
                || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            let (week, language, query) = (text(), text(), text());
            out.push((week, language, query, decode_count(&v)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default()
    }

    #[test]
    fn misses_are_counted_scrubbed_packaged_once_and_dropped_on_ack() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = LocalCopy::open(&dir.path().join("local")).expect("opens");
        for q in ["Carta blu?", "carta  BLU", "chiamare 333 1234567"] {
            assert!(local.note_search_miss(q, "it", day()).expect("counted"));
        }
        assert!(!local.note_search_miss("  ", "it", day()).expect("nothing"));
        let pending = local.pending_search_misses().expect("read");
        assert_eq!(pending.len(), 2, "{pending:?}");
        assert!(pending.contains(&("2026-W47".into(), "it".into(), "carta blu".into(), 2)));
        assert!(pending.iter().all(|p| !p.2.contains("1234567")));
        let batch = local
            .package_search_misses()
            .expect("packaged")
            .expect("a batch");
        assert_eq!(batch.misses.len(), 2);
        assert!(local.pending_search_misses().expect("read").is_empty());
        assert_eq!(local.package_search_misses().expect("nothing"), None);
        drop(local);
        let local = LocalCopy::open(&dir.path().join("local")).expect("reopens");
        let queued = local.queued_search_misses().expect("queued");
        assert_eq!(queued, vec![batch.clone()], "queued durably");
        local.drop_search_misses(&batch.batch_id).expect("dropped");
        assert!(local.queued_search_misses().expect("queued").is_empty());
    }

    #[test]
    fn a_week_counts_a_bounded_number_of_distinct_queries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = LocalCopy::open(&dir.path().join("local")).expect("opens");
        for i in 0..MAX_QUERIES_PER_WEEK {
            assert!(local
                .note_search_miss(&format!("domanda {i}"), "it", day())
                .expect("counted"));
        }
        assert!(!local
            .note_search_miss("un'altra", "it", day())
            .expect("bounded"));
        assert!(local
            .note_search_miss("domanda 1", "it", day())
            .expect("held one"));
        let next_week = day() + chrono::Duration::days(7);
        assert!(local
            .note_search_miss("un'altra", "it", next_week)
            .expect("new week"));
    }
}
