//! Searches that found nothing at the desks (issue 16): what the hub takes
//! from a desk's `SearchMisses`, and the one rule for what of it may be
//! shown (dashboard, `hub gaps`, the coordinator API).
//!
//! A desk sends counts only: the query scrubbed of personal data and
//! normalised, per ISO week and page language. The hub checks each entry
//! again (shape, bounds, and the notes scrubber's detectors, as `recheck`
//! does for notes) and drops one that fails, alone. A batch is stored once
//! by its id, so a resend after a lost acknowledgement counts nothing twice.
//!
//! **The k rule.** A query is shown only when the whole network asked it
//! at least [`K`] times (all desks, all weeks held, per language): a rarer
//! one may be a name or a detail of one visitor that the scrubber did not
//! recognise.

use serde::Serialize;

use crate::storage::{MissCount, StorageError, Store};

/// The fewest times a query must have been asked to be shown.
pub const K: u64 = domain::disclosure::K;
/// Most entries in one batch; a desk sends at most 500.
pub const MAX_MISSES_PER_BATCH: usize = 1000;
/// Longest query, in characters, as the desk bounds it.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most times one entry may say a query was asked in a week at one desk.
pub const MAX_COUNT: u32 = 100_000;
/// Longest batch id (a UUID is 36).
const MAX_BATCH_ID_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum MissError {
    /// The batch as a whole cannot be taken; a resend would not change it.
    #[error("search misses refused: {0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What became of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// False for a batch whose id was held already.
    pub stored: bool,
    /// Entries dropped by the check.
    pub dropped: usize,
}

/// Whether one entry may be kept: never echoes the query.
fn entry_ok(m: &proto::SearchMiss) -> bool {
    let chars = m.query.chars().count();
    domain::is_iso_week(&m.week)
        && domain::normalise_language_tag(&m.language).as_deref() == Some(m.language.as_str())
        && (1..=MAX_QUERY_CHARS).contains(&chars)
        && m.query.trim() == m.query
        && !m.query.chars().any(char::is_control)
        && (1..=MAX_COUNT).contains(&m.count)
        && domain::find_personal_data(&m.query).is_empty()
}

/// The batch id and the entries that pass, with how many did not.
pub fn check(batch: &proto::SearchMisses) -> Result<(String, Vec<MissCount>, usize), MissError> {
    let id = &batch.batch_id;
    if id.is_empty()
        || id.chars().count() > MAX_BATCH_ID_CHARS
        || id.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(MissError::Invalid(format!(
            "batch_id must be 1 to {MAX_BATCH_ID_CHARS} printable characters"
        )));
    }
    if batch.misses.len() > MAX_MISSES_PER_BATCH {
        return Err(MissError::Invalid(format!(
            "{} entries exceed the limit of {MAX_MISSES_PER_BATCH}",
            batch.misses.len()
        )));
    }
    let kept: Vec<MissCount> = batch
        .misses
        .iter()
        .filter(|m| entry_ok(m))
        .map(|m| MissCount {
            week: m.week.clone(),
            language: m.language.clone(),
            query: m.query.clone(),
            count: u64::from(m.count),
        })
        .collect();
    let dropped = batch.misses.len() - kept.len();
    Ok((id.clone(), kept, dropped))
}

/// Checks a desk's batch and stores what passes, once per batch id.
pub fn receive(store: &dyn Store, batch: &proto::SearchMisses) -> Result<Received, MissError> {
    let (id, kept, dropped) = check(batch)?;
    let stored = store.add_miss_batch(&id, &kept)?;
    Ok(Received { stored, dropped })
}

/// A query the network asked often enough to be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ShownMiss {
    pub language: String,
    pub query: String,
    /// Times asked, over every desk and week held: at least `K`.
    pub count: u64,
    /// In how many ISO weeks it was asked.
    pub weeks: usize,
    /// The last ISO week it was asked in.
    pub last_week: String,
}

/// The queries asked at least `K` times, by language, most asked first (then
/// by language and query, so the order is stable), at most `limit`.
pub fn shown(counts: &[MissCount], limit: usize) -> Vec<ShownMiss> {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<(&str, &str), (u64, Vec<&str>)> = BTreeMap::new();
    for c in counts {
        let slot = by.entry((&c.language, &c.query)).or_default();
        slot.0 = slot.0.saturating_add(c.count);
        slot.1.push(&c.week);
    }
    let mut out: Vec<ShownMiss> = by
        .into_iter()
        .filter(|(_, (n, _))| *n >= K)
        .map(|((language, query), (count, mut weeks))| {
            weeks.sort_unstable();
            weeks.dedup();
            ShownMiss {
                language: language.to_owned(),
                query: query.to_owned(),
                count,
                weeks: weeks.len(),
                last_week: weeks.last().map(|w| (*w).to_owned()).unwrap_or_default(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.language.cmp(&b.language))
            .then_with(|| a.query.cmp(&b.query))
    });
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SearchMissLog;

    fn miss(week: &str, language: &str, query: &str, count: u32) -> proto::SearchMiss {
        proto::SearchMiss {
            week: week.into(),
            language: language.into(),
            query: query.into(),
            count,
        }
    }

    fn counts(entries: &[(&str, &str, &str, u64)]) -> Vec<MissCount> {
        entries
            .iter()
            .map(|(w, l, q, n)| MissCount {
                week: (*w).into(),
                language: (*l).into(),
                query: (*q).into(),
                count: *n,
            })
            .collect()
    }

    #[test]
    fn a_query_asked_fewer_than_k_times_in_the_network_is_never_shown() {
        let held = counts(&[
            // 4 in all, over two weeks and two desks' batches: hidden.
            ("2026-W47", "ar", "bonus affitto", 2),
            ("2026-W48", "ar", "bonus affitto", 2),
            // 5 in all: shown, once, with both weeks.
            ("2026-W47", "it", "carta blu", 3),
            ("2026-W48", "it", "carta blu", 2),
            // The same text in another language is another query.
            ("2026-W48", "en", "carta blu", 4),
            ("2026-W48", "it", "sanatoria", 9),
        ]);
        let shown = shown(&held, 10);
        let names: Vec<(&str, &str, u64)> = shown
            .iter()
            .map(|s| (s.language.as_str(), s.query.as_str(), s.count))
            .collect();
        assert_eq!(names, [("it", "sanatoria", 9), ("it", "carta blu", 5)]);
        assert_eq!(shown[1].weeks, 2);
        assert_eq!(shown[1].last_week, "2026-W48");
        assert_eq!(super::shown(&held, 1).len(), 1, "the limit holds");
    }

    #[test]
    fn bad_entries_are_dropped_alone_and_a_bad_batch_is_refused() {
        let batch = proto::SearchMisses {
            batch_id: "0190-batch".into(),
            misses: vec![
                miss("2026-W48", "it", "carta blu", 1),
                miss("2026-48", "it", "carta blu", 1),
                miss("2026-W48", "IT", "carta blu", 1),
                miss("2026-W48", "it", "", 1),
                miss("2026-W48", "it", &"x".repeat(MAX_QUERY_CHARS + 1), 1),
                miss("2026-W48", "it", "carta blu", 0),
                miss("2026-W48", "it", "chiamare 333 1234567", 1),
                miss("2026-W48", "it", "chiamare [TELEFONO]", 1),
            ],
        };
        let (id, kept, dropped) = check(&batch).expect("the batch is well formed");
        assert_eq!(id, "0190-batch");
        assert_eq!(dropped, 6);
        let queries: Vec<&str> = kept.iter().map(|m| m.query.as_str()).collect();
        assert_eq!(queries, ["carta blu", "chiamare [TELEFONO]"]);
        let no_id = proto::SearchMisses {
            batch_id: String::new(),
            misses: vec![],
        };
        assert!(matches!(check(&no_id), Err(MissError::Invalid(_))));
        let huge = proto::SearchMisses {
            batch_id: "b".into(),
            misses: vec![miss("2026-W48", "it", "q", 1); MAX_MISSES_PER_BATCH + 1],
        };
        assert!(matches!(check(&huge), Err(MissError::Invalid(_))));
    }

    #[test]
    fn a_resent_batch_counts_once_and_old_ids_are_let_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store =
            crate::storage::SledStore::open(&dir.path().join("s"), 8 << 20).expect("store opens");
        let batch = |id: &str| proto::SearchMisses {
            batch_id: id.into(),
            misses: vec![miss("2026-W48", "it", "carta blu", 3)],
        };
        assert!(receive(&store, &batch("a")).expect("stored").stored);
        assert!(!receive(&store, &batch("a")).expect("held").stored);
        let total = |s: &crate::storage::SledStore| -> u64 {
            s.miss_counts().expect("read").iter().map(|m| m.count).sum()
        };
        assert_eq!(total(&store), 3);
        for id in ["b", "c", "d"] {
            receive(&store, &batch(id)).expect("stored");
        }
        assert_eq!(total(&store), 12);
        // Only the newest ids are kept (three in tests): "a" is let go,
        // "d" is still known.
        assert!(!receive(&store, &batch("d")).expect("held").stored);
        drop(store);
        let store =
            crate::storage::SledStore::open(&dir.path().join("s"), 8 << 20).expect("store reopens");
        assert_eq!(total(&store), 12, "durable");
        assert!(!receive(&store, &batch("c")).expect("held").stored);
    }

    #[test]
    fn a_week_keeps_a_bounded_number_of_distinct_queries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store =
            crate::storage::SledStore::open(&dir.path().join("s"), 8 << 20).expect("store opens");
        let many = proto::SearchMisses {
            batch_id: "many".into(),
            misses: (0..6)
                .map(|i| miss("2026-W48", "it", &format!("domanda {i}"), 1))
                .collect(),
        };
        receive(&store, &many).expect("stored");
        // Four in tests: the first four new ones are kept.
        assert_eq!(store.miss_counts().expect("read").len(), 4);
        let again = proto::SearchMisses {
            batch_id: "again".into(),
            misses: vec![
                miss("2026-W48", "it", "domanda 0", 2),
                miss("2026-W48", "it", "domanda 5", 1),
                miss("2026-W49", "it", "domanda 5", 1),
            ],
        };
        receive(&store, &again).expect("stored");
        let counts = store.miss_counts().expect("read");
        assert_eq!(
            counts.len(),
            5,
            "a held query still counts, a new week has room"
        );
        assert!(counts
            .iter()
            .any(|c| c.query == "domanda 0" && c.week == "2026-W48" && c.count == 3));
    }

    #[test]
    fn retention_drops_the_weeks_before_its_window_and_frees_their_room() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store =
            crate::storage::SledStore::open(&dir.path().join("s"), 8 << 20).expect("store opens");
        let batch = proto::SearchMisses {
            batch_id: "b".into(),
            misses: vec![
                miss("2024-W10", "it", "vecchia domanda", 7),
                miss("2026-W48", "it", "domanda nuova", 2),
            ],
        };
        receive(&store, &batch).expect("stored");
        let policy = crate::config::RetentionConfig {
            search_misses_weeks: 104,
            ..Default::default()
        };
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        let done = crate::retention::run_once(&store, &policy, now, true).expect("retention");
        assert_eq!(done.search_misses, 1);
        let left: Vec<String> = store
            .miss_counts()
            .expect("read")
            .into_iter()
            .map(|c| c.week)
            .collect();
        assert_eq!(left, ["2026-W48"]);
        // The week's room for distinct queries went with it.
        let again = proto::SearchMisses {
            batch_id: "c".into(),
            misses: (0..4)
                .map(|i| miss("2024-W10", "it", &format!("q {i}"), 1))
                .collect(),
        };
        receive(&store, &again).expect("stored");
        assert_eq!(store.miss_counts().expect("read").len(), 5);
    }
}
