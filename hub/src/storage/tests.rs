//! The store's promises, checked on a real sled database in a temporary
//! folder and on a real PostgreSQL (`pgtest`): resends are not stored
//! twice, a reused record id is refused, the counts always equal a
//! recount, the collections beside ingest keep sled's rules, and
//! everything survives a reopen. Each contract test is one body run on
//! both stores (`on_both!`); the tests of sled's own layout stay sled's.

use super::*;
use chrono::{TimeZone, Utc};
use domain::{Catalogue, Visit};
use proptest::prelude::*;

const CACHE: u64 = 8 << 20;

fn record(desk: &str, procedure: &str, id: uuid::Uuid) -> AnonymisedRecord {
    visit(desk, procedure, "walk_in", "MA", "2026-11-20", id)
}

fn visit(
    desk: &str,
    procedure: &str,
    channel: &str,
    nationality: &str,
    day: &str,
    id: uuid::Uuid,
) -> AnonymisedRecord {
    let line = format!(
        r#"{{"procedure":"{procedure}","channel":"{channel}","language":"it","outcome":"answered","minutes":12,"nationality":"{nationality}","birth_date":"1990-04-03","visited_at":"{day}T10:00:00Z"}}"#
    );
    let visit = Visit::from_json_line(&line).expect("test visit parses");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
        .single()
        .expect("valid time");
    domain::anonymise(&visit, desk, &Catalogue::seed(), now, id).expect("test visit is valid")
}

fn batch(desk: &str, seqs: std::ops::RangeInclusive<u64>) -> DeskAppend {
    let accepted = seqs
        .clone()
        .map(|s| {
            (
                s,
                record(desk, "permesso.rinnovo.lavoro", uuid::Uuid::now_v7()),
            )
        })
        .collect();
    DeskAppend {
        desk_id: desk.into(),
        incarnation: 0,
        first_seq: *seqs.start(),
        last_seq: *seqs.end(),
        accepted,
        rejected: vec![],
    }
}

/// Fail points are process-wide: a test that sets one runs alone (the
/// write side, `fail_points`), and every other test holds the read side
/// from its first `open` to its thread's end, so that no write or flush of
/// it fails with another test's fail point.
static FAIL_POINTS: std::sync::RwLock<()> = std::sync::RwLock::new(());

thread_local! {
    static SHARED: std::cell::RefCell<Option<std::sync::RwLockReadGuard<'static, ()>>> =
        const { std::cell::RefCell::new(None) };
    static ALONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn fail_points() -> std::sync::RwLockWriteGuard<'static, ()> {
    // With one test thread, tests run one after another on the same
    // thread, whose read side is left from an earlier test.
    SHARED.with(|s| s.borrow_mut().take());
    let alone = FAIL_POINTS.write().unwrap_or_else(|e| e.into_inner());
    ALONE.with(|a| a.set(true));
    alone
}

/// Opens a sled store in `dir`, for the tests of sled's own layout.
fn open(dir: &tempfile::TempDir) -> SledStore {
    hold_fail_points_shared();
    SledStore::open(&dir.path().join("store"), CACHE).expect("store opens")
}

fn hold_fail_points_shared() {
    if !ALONE.with(|a| a.get()) {
        SHARED.with(|s| {
            let mut s = s.borrow_mut();
            if s.is_none() {
                *s = Some(FAIL_POINTS.read().unwrap_or_else(|e| e.into_inner()));
            }
        });
    }
}

/// A new, empty store of either kind, that a test opens, drops and opens
/// again (a restart), so that one body checks both implementations of
/// the contract.
enum Fresh {
    Sled(tempfile::TempDir),
    /// Kept for the test's length: dropping it stops its server.
    Postgres(pgtest::Database),
}

impl Fresh {
    fn sled() -> Self {
        Fresh::Sled(tempfile::tempdir().expect("tempdir"))
    }

    fn postgres() -> Self {
        Fresh::Postgres(pgtest::Database::new().expect("a test database"))
    }

    fn open(&self) -> Box<dyn Store> {
        hold_fail_points_shared();
        match self {
            Fresh::Sled(dir) => {
                Box::new(SledStore::open(&dir.path().join("store"), CACHE).expect("store opens"))
            }
            Fresh::Postgres(db) => Box::new(
                PostgresStore::open(&db.url(), Some(pgtest::PASSWORD), None).expect("store opens"),
            ),
        }
    }
}

/// Runs each named `fn(&Fresh)` as two tests, `name::sled` and
/// `name::postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sled() {
                super::$name(&super::Fresh::sled());
            }

            #[test]
            fn postgres() {
                super::$name(&super::Fresh::postgres());
            }
        }
    )*};
}

on_both!(
    a_resent_batch_is_not_stored_twice_and_gets_its_first_refusals_back,
    a_record_id_already_held_is_refused_with_a_reason,
    records_progress_counts_and_desks_survive_a_reopen,
    counts_answer_every_table_of_week_and_two_fields_exactly,
    incarnations_keep_their_sequences_apart_and_a_restored_desk_is_flagged,
    a_failed_commit_stores_nothing_of_its_group,
    pruned_records_stay_counted_and_known_and_verify_holds,
    a_failed_pruning_leaves_the_store_as_it_was,
    refusals_go_by_the_day_they_were_noted,
    a_retention_run_deletes_what_is_older_than_the_policy_and_audits_it,
    pruning_while_desks_send_keeps_every_count_and_id,
    an_id_resent_after_a_restart_is_refused,
    an_id_resent_under_a_new_incarnation_is_refused,
    pruned_ids_are_refused_under_a_new_incarnation_after_a_restart,
    the_register_keeps_entries_per_table_in_order_across_a_reopen,
    the_audit_log_numbers_entries_and_lists_the_newest_first,
    a_report_is_stored_once_decided_and_pruned_when_old,
    a_resent_miss_batch_counts_once_and_old_ids_are_let_go,
    a_week_keeps_a_bounded_number_of_distinct_queries,
    sessions_survive_a_reopen_and_expire_touch_and_end,
    a_user_keeps_at_most_the_bound_of_sessions_and_the_sweep_prunes,
    users_are_added_once_and_survive_a_reopen,
);

// Tests of sled's own layout and crash handling (the layouts of earlier
// versions, counts checkpoints, record id runs, a failed flush) are
// sled's alone and take a `SledStore`.

fn a_resent_batch_is_not_stored_twice_and_gets_its_first_refusals_back(fresh: &Fresh) {
    let store = fresh.open();
    let mut first = batch("desk-a", 1..=3);
    first.accepted.retain(|(s, _)| *s != 2);
    first.rejected.push((2, "procedure: unknown code".into()));

    let out = store.append(std::slice::from_ref(&first)).expect("append");
    assert_eq!(out[0].up_to_seq, 3);
    assert_eq!(
        out[0].rejected,
        vec![(2, "procedure: unknown code".to_string())]
    );

    let again = store.append(std::slice::from_ref(&first)).expect("resend");
    assert_eq!(
        again[0].rejected, out[0].rejected,
        "a resend must see the same refusals"
    );
    let p = store.progress("desk-a", 0).expect("progress");
    assert_eq!(
        p,
        DeskProgress {
            last_seq: 3,
            records: 2,
            rejected: 1
        }
    );
    assert_eq!(store.records("desk-a").expect("records").len(), 2);
    assert!(store.verify().expect("verify").problems.is_empty());
}

fn a_record_id_already_held_is_refused_with_a_reason(fresh: &Fresh) {
    let store = fresh.open();
    let id = uuid::Uuid::now_v7();
    let a = DeskAppend {
        desk_id: "desk-a".into(),
        incarnation: 0,
        first_seq: 1,
        last_seq: 1,
        accepted: vec![(1, record("desk-a", "cittadinanza.residenza", id))],
        rejected: vec![],
    };
    let b = DeskAppend {
        desk_id: "desk-b".into(),
        incarnation: 0,
        first_seq: 1,
        last_seq: 1,
        accepted: vec![(1, record("desk-b", "cittadinanza.residenza", id))],
        rejected: vec![],
    };
    // Same group commit and across commits both refuse the second holder.
    let out = store.append(&[a, b]).expect("append");
    assert!(out[0].rejected.is_empty());
    assert_eq!(out[1].rejected.len(), 1);
    assert!(
        out[1].rejected[0].1.contains("duplicate record id"),
        "{:?}",
        out[1].rejected
    );
    let c = DeskAppend {
        desk_id: "desk-c".into(),
        incarnation: 0,
        first_seq: 1,
        last_seq: 1,
        accepted: vec![(1, record("desk-c", "cittadinanza.residenza", id))],
        rejected: vec![],
    };
    assert_eq!(store.append(&[c]).expect("append")[0].rejected.len(), 1);
    let v = store.verify().expect("verify");
    assert_eq!((v.records, v.ids, v.counted), (1, 1, 1));
    assert!(v.problems.is_empty(), "{:?}", v.problems);
}

fn records_progress_counts_and_desks_survive_a_reopen(fresh: &Fresh) {
    {
        let store = fresh.open();
        store
            .add_desk(DeskEntry {
                desk_id: "desk-a".into(),
                revoked: false,
                added_at: "t".into(),
                last_seen: None,
            })
            .expect("add desk");
        store
            .append(&[batch("desk-a", 1..=50), batch("desk-b", 1..=7)])
            .expect("append");
        store
            .mark_seen("desk-a", "2026-11-25T10:00:00Z")
            .expect("mark seen");
    }
    let store = fresh.open();
    assert_eq!(store.progress("desk-a", 0).expect("progress").last_seq, 50);
    assert_eq!(store.progress("desk-b", 0).expect("progress").records, 7);
    let total: u64 = store
        .counts(&[])
        .expect("counts")
        .iter()
        .map(|c| c.count)
        .sum();
    assert_eq!(total, 57);
    // The id index is rebuilt at open: an id stored before is still refused.
    let held = store.records("desk-a").expect("records")[0].1.id.clone();
    let again = DeskAppend {
        desk_id: "desk-c".into(),
        incarnation: 0,
        first_seq: 1,
        last_seq: 1,
        accepted: vec![(
            1,
            record(
                "desk-c",
                "cittadinanza.residenza",
                uuid::Uuid::parse_str(&held).expect("stored id parses"),
            ),
        )],
        rejected: vec![],
    };
    let out = store.append(&[again]).expect("append");
    assert!(
        out[0].rejected[0].1.contains("duplicate record id"),
        "{:?}",
        out[0].rejected
    );
    let desks = store.desks().expect("desks");
    assert_eq!(desks.len(), 1);
    assert_eq!(desks[0].last_seen.as_deref(), Some("2026-11-25T10:00:00Z"));
    assert!(matches!(
        store.add_desk(DeskEntry {
            desk_id: "desk-a".into(),
            revoked: false,
            added_at: "t".into(),
            last_seen: None
        }),
        Err(StorageError::DeskExists(_))
    ));
}

// Sled's alone: the key layout of an earlier sled store.
#[test]
fn a_store_of_the_earlier_layout_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = ::sled::open(dir.path().join("store")).expect("sled opens");
        let tree = db.open_tree("ingest").expect("tree");
        tree.insert(b"rdesk-a/\0\0\0\0\0\0\0\x01", &b"x"[..])
            .expect("insert");
        db.flush().expect("flush");
    }
    let err = match SledStore::open(&dir.path().join("store"), CACHE) {
        Ok(_) => panic!("an old store must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("earlier hub version"), "{err}");
}

// Sled's alone: how a segment is stored.
#[test]
fn segments_are_stored_compressed_and_those_stored_raw_before_still_read() {
    let records: Vec<_> = (0..40)
        .map(|_| record("desk-a", "cittadinanza.residenza", uuid::Uuid::now_v7()))
        .collect();
    let mut raw = Vec::new();
    for (seq, r) in (1u64..).zip(&records) {
        segment::push(&mut raw, seq, r);
    }
    let stored = segment::seal(raw.clone());
    assert!(
        stored.len() * 2 < raw.len(),
        "{} stored bytes for {} raw",
        stored.len(),
        raw.len()
    );
    assert_eq!(segment::open(&stored).expect("opens")[..], raw[..]);
    // A segment written before compression (or one that does not shrink)
    // is its raw bytes, read as they are.
    assert_eq!(segment::open(&raw).expect("opens")[..], raw[..]);
    let read: Vec<u128> = segment::entries(&segment::open(&stored).expect("opens"))
        .map(|e| e.expect("entry").id)
        .collect();
    let ids: Vec<u128> = records.iter().map(|r| r.id().as_u128()).collect();
    assert_eq!(read, ids);

    let mut one = Vec::new();
    segment::push(&mut one, 1, &records[0]);
    assert_eq!(
        segment::seal(one.clone()),
        one,
        "one record does not shrink"
    );

    for damaged in [
        &stored[..stored.len() / 2],
        &stored[..3],
        &[0xF4, 0xFF, 0xFF, 0xFF, 0xFF, 0][..],
    ] {
        assert!(matches!(
            segment::open(damaged),
            Err(StorageError::Corrupt(_))
        ));
    }
}

proptest! {
    /// Whatever a segment holds, sealing keeps it; and no stored bytes,
    /// however damaged, make opening panic (a damaged compressed segment is
    /// an error, `segments_are_stored_compressed_…` above).
    #[test]
    fn a_sealed_segment_opens_to_its_bytes_and_no_stored_bytes_make_opening_panic(
        part in proptest::collection::vec(any::<u8>(), 0..3_000),
        repeat in 1usize..8,
        stored in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        // Repeated parts compress, single ones do not; a raw segment starts
        // with a sequence's high byte, 0.
        let mut raw = part.repeat(repeat);
        if let Some(first) = raw.first_mut() {
            *first = 0;
        }
        let sealed = segment::seal(raw.clone());
        prop_assert_eq!(&segment::open(&sealed).expect("opens")[..], &raw[..]);
        let _ = segment::open(&stored);
        let mut marked = stored.clone();
        marked.insert(0, 0xF4);
        let _ = segment::open(&marked);
    }
}

/// Every table the stats can ask for (week and up to two fields) equals a
/// count made straight from the stored records.
fn assert_every_table_matches_a_recount(store: &dyn Store, desks: &[impl AsRef<str>]) {
    let mut raws = Vec::new();
    for desk in desks {
        raws.extend(
            store
                .records(desk.as_ref())
                .expect("records")
                .into_iter()
                .map(|(_, r)| r),
        );
    }
    let others: Vec<usize> = (1..COUNT_DIMENSIONS.len()).collect();
    let mut asks: Vec<Vec<usize>> = vec![vec![]];
    asks.extend(others.iter().map(|a| vec![*a]));
    for a in &others {
        for b in &others {
            if a != b {
                asks.push(vec![*a, *b]);
            }
        }
    }
    for ask in asks {
        let names: Vec<&str> = ask.iter().map(|i| COUNT_DIMENSIONS[*i]).collect();
        let mut expected: std::collections::BTreeMap<Vec<String>, u64> = Default::default();
        for raw in &raws {
            let v = cubes::values(raw);
            let mut key = vec![v[0].to_string()];
            key.extend(ask.iter().map(|i| v[*i].to_string()));
            *expected.entry(key).or_default() += 1;
        }
        let got: std::collections::BTreeMap<Vec<String>, u64> = store
            .counts(&names)
            .expect("counts")
            .into_iter()
            .map(|c| (c.values, c.count))
            .collect();
        assert_eq!(got, expected, "table by week and {names:?}");
    }
}

/// `counts_between` gives the cells of `counts` whose week lies in the run,
/// for runs inside, across, outside and upside down of the weeks held
/// (2026-W45 to W47).
fn assert_runs_of_weeks_are_the_whole_table_cut(store: &dyn Store) {
    let runs = [
        ("2026-W46", "2026-W47"),
        ("2026-W45", "2026-W45"),
        ("2026-W01", "2026-W53"),
        ("2026-W48", "2026-W52"),
        ("2026-W47", "2026-W46"),
    ];
    let cells = |c: Vec<CountCell>| -> Vec<(Vec<String>, u64)> {
        c.into_iter().map(|c| (c.values, c.count)).collect()
    };
    for (from, to) in runs {
        for names in [vec![], vec!["procedure"], vec!["nationality", "channel"]] {
            let mut whole = cells(store.counts(&names).expect("counts"));
            whole.retain(|(v, _)| v[0].as_str() >= from && v[0].as_str() <= to);
            let run = cells(store.counts_between(&names, from, to).expect("counts"));
            assert_eq!(run, whole, "weeks {from}..={to} by {names:?}");
        }
    }
    assert_ne!(
        cells(
            store
                .counts_between(&["procedure"], "2026-W46", "2026-W46")
                .expect("counts")
        ),
        Vec::new(),
        "a week held has cells"
    );
}

fn counts_answer_every_table_of_week_and_two_fields_exactly(fresh: &Fresh) {
    let store = fresh.open();
    let procedures = [
        "permesso.rinnovo.lavoro",
        "cittadinanza.residenza",
        "permesso.kit_postale",
    ];
    let channels = ["walk_in", "phone", "email"];
    let nationalities = ["MA", "UA", "CN", "RO"];
    let days = ["2026-11-02", "2026-11-10", "2026-11-20"];
    let mut seq = 0;
    for round in 0..3u64 {
        let mut group = Vec::new();
        for desk in ["desk-a", "desk-b"] {
            let first = seq + 1;
            let accepted: Vec<(u64, AnonymisedRecord)> = (0..40u64)
                .map(|i| {
                    let n = (i * 7 + round * 3) as usize;
                    (
                        first + i,
                        visit(
                            desk,
                            procedures[n % 3],
                            channels[(n / 3) % 3],
                            nationalities[(n / 2) % 4],
                            days[(n / 5) % 3],
                            uuid::Uuid::now_v7(),
                        ),
                    )
                })
                .collect();
            group.push(DeskAppend {
                desk_id: desk.into(),
                incarnation: 0,
                first_seq: first,
                last_seq: first + 39,
                accepted,
                rejected: vec![],
            });
        }
        seq += 40;
        store.append(&group).expect("append");
    }
    assert_every_table_matches_a_recount(&*store, &["desk-a", "desk-b"]);
    assert_runs_of_weeks_are_the_whole_table_cut(&*store);
    // Once more with the counts stored rather than pending in memory.
    store.flush().expect("flush");
    assert_runs_of_weeks_are_the_whole_table_cut(&*store);
    let v = store.verify().expect("verify");
    assert_eq!((v.records, v.counted, v.ids), (240, 240, 240));
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert!(matches!(
        store.counts(&["week"]),
        Err(StorageError::NotCounted(_))
    ));
    assert!(matches!(
        store.counts(&["sex", "age_band", "channel"]),
        Err(StorageError::NotCounted(_))
    ));
}

fn deliveries() -> impl Strategy<Value = Vec<(usize, u64, u64)>> {
    prop::collection::vec((0usize..2, 1u64..40, 1u64..6), 1..25)
}

/// Whatever order and overlap batches arrive in (resends after a lost
/// acknowledgement, two desks in one group), each sequence is stored at
/// most once and the counts always equal a recount. `every_desk` is each
/// desk the store holds, `desks` among them; the counts are over all.
fn any_delivery_order_case(
    fresh: &Fresh,
    desks: &[String; 2],
    every_desk: &[String],
    deliveries: Vec<(usize, u64, u64)>,
) -> Result<(), TestCaseError> {
    let store = fresh.open();
    for (d, first, len) in deliveries {
        let b = batch(&desks[d], first..=first + len - 1);
        store.append(&[b]).expect("append");
    }
    let v = store.verify().expect("verify");
    prop_assert!(v.problems.is_empty(), "{:?}", v.problems);
    for desk in desks {
        let seqs: Vec<u64> = store
            .records(desk)
            .expect("records")
            .iter()
            .map(|(s, _)| *s)
            .collect();
        let mut unique = seqs.clone();
        unique.dedup();
        prop_assert_eq!(&seqs, &unique);
        prop_assert_eq!(
            store.progress(desk, 0).expect("progress").records,
            seqs.len() as u64
        );
    }
    prop_assert_eq!(v.counted, v.records);
    assert_every_table_matches_a_recount(&*store, every_desk);
    // On sled, counts since the last checkpoint are rebuilt from the
    // segments at open, with nothing flushed on purpose before (a crash).
    drop(store);
    let store = fresh.open();
    let again = store.verify().expect("verify");
    prop_assert_eq!((again.records, again.counted), (v.records, v.counted));
    prop_assert!(again.problems.is_empty(), "{:?}", again.problems);
    assert_every_table_matches_a_recount(&*store, every_desk);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_delivery_order_keeps_sequences_unique_and_counts_exact_on_sled(
        deliveries in deliveries()
    ) {
        let desks = ["desk-a".to_owned(), "desk-b".to_owned()];
        any_delivery_order_case(&Fresh::sled(), &desks, &desks, deliveries)?;
    }
}

/// The same on PostgreSQL, with few cases on one database: a server per
/// case would take most of the run. Each case's desks are new, so the
/// cases never see each other's sequences; the counts are over them all.
#[test]
fn any_delivery_order_keeps_sequences_unique_and_counts_exact_on_postgres() {
    let fresh = Fresh::postgres();
    let case = std::cell::Cell::new(0u32);
    let every_desk = std::cell::RefCell::new(Vec::<String>::new());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(6));
    runner
        .run(&deliveries(), |deliveries| {
            case.set(case.get() + 1);
            let desks = [
                format!("desk-a-{}", case.get()),
                format!("desk-b-{}", case.get()),
            ];
            every_desk.borrow_mut().extend(desks.iter().cloned());
            let every_desk = every_desk.borrow().clone();
            any_delivery_order_case(&fresh, &desks, &every_desk, deliveries)
        })
        .expect("every case holds");
}

// Sled's alone: its counts checkpoints (PostgreSQL stores the counts in
// every commit).
#[test]
fn counts_after_the_last_checkpoint_are_replayed_at_open_and_stored_by_flush() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stored_total = |store: &SledStore| -> u64 {
        store
            .ingest
            .scan_prefix([b'c', 0])
            .map(|kv| {
                let (_, v) = kv.expect("read");
                cubes::decode(&v).expect("decodes").values().sum::<u64>()
            })
            .sum()
    };
    {
        let store = open(&dir);
        // Three records, below the checkpoint size: only in the tally.
        store.append(&[batch("desk-a", 1..=3)]).expect("append");
        assert_eq!(stored_total(&store), 0);
        assert_eq!(store.verify().expect("verify").counted, 3);
    }
    {
        let store = open(&dir);
        assert_eq!(store.verify().expect("verify").counted, 3);
        // A checkpoint (here by size) stores them with the next ones.
        store.append(&[batch("desk-b", 1..=10)]).expect("append");
        assert_eq!(stored_total(&store), 13);
        store.append(&[batch("desk-a", 4..=5)]).expect("append");
        assert_eq!(stored_total(&store), 13);
        store.flush().expect("flush");
        assert_eq!(stored_total(&store), 15);
    }
    let store = open(&dir);
    let v = store.verify().expect("verify");
    assert_eq!((v.records, v.counted), (15, 15));
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_every_table_matches_a_recount(&store, &["desk-a", "desk-b"]);
}

// Sled's alone: a store from before its counts checkpoints.
#[test]
fn a_store_whose_every_commit_stored_its_counts_is_read_without_a_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(&dir);
        store.append(&[batch("desk-a", 1..=10)]).expect("append");
        store.flush().expect("flush");
        // As the hub before checkpoints left it: no `k` keys, no marker.
        for k in [b"vcounts".to_vec(), [b"k".as_slice(), b"desk-a"].concat()] {
            store.ingest.remove(k).expect("remove");
        }
        store.flush().expect("flush");
    }
    let store = open(&dir);
    let v = store.verify().expect("verify");
    assert_eq!((v.records, v.counted), (10, 10));
    assert!(v.problems.is_empty(), "{:?}", v.problems);
}

fn incarnations_keep_their_sequences_apart_and_a_restored_desk_is_flagged(fresh: &Fresh) {
    let store = fresh.open();
    let now = "2026-12-02T10:00:00Z";
    // History kept before incarnations is the first incarnation's.
    store.append(&[batch("desk-a", 1..=30)]).expect("append");
    let j = crate::incarnations::join(&*store, "desk-a", "aaaa", 30, 0, now).expect("join");
    let (first, p) = (j.incarnation, j.progress);
    assert_eq!((first.number, p.last_seq), (0, 30));

    // A reinstalled desk numbers from 1 again under a new incarnation; its
    // sequences are not taken for resends of the first one's.
    let j = crate::incarnations::join(&*store, "desk-a", "bbbb", 10, 0, now).expect("join");
    assert!(j.started && !j.older_state);
    let (second, p) = (j.incarnation, j.progress);
    assert_eq!((second.number, p.last_seq), (1, 0));
    let mut b = batch("desk-a", 1..=10);
    b.incarnation = second.number;
    let out = store.append(&[b]).expect("append");
    assert_eq!(out[0].up_to_seq, 10);
    assert!(out[0].rejected.is_empty());
    assert_eq!(store.progress("desk-a", 1).expect("progress").last_seq, 10);
    assert_eq!(store.progress("desk-a", 0).expect("progress").last_seq, 30);
    assert_eq!(store.records("desk-a").expect("records").len(), 40);

    // The first incarnation comes back holding less than the hub had.
    let j = crate::incarnations::join(&*store, "desk-a", "aaaa", 12, 0, now).expect("join");
    assert!(!j.started && j.older_state);
    let again = j.incarnation;
    assert_eq!(again.number, 0);
    let older = again.older_state.expect("flagged");
    assert_eq!((older.hub_held, older.desk_held), (30, 12));

    let summary = crate::incarnations::summary(&*store, "desk-a").expect("summary");
    assert_eq!(summary.current, "bbbb");
    assert_eq!(summary.count, 2);
    assert_eq!(summary.progress.records, 40);
    assert_eq!(summary.progress.last_seq, 10);
    assert!(summary.older_state.is_some());
    assert_eq!(summary.records_lost, 0);

    // A desk whose acknowledged records the hub lost and that no longer
    // keeps them says so in its next incarnation; the hub keeps the figure.
    let j = crate::incarnations::join(&*store, "desk-a", "cccc", 0, 7, now).expect("join");
    assert!(j.started);
    assert_eq!((j.incarnation.lost, j.newly_lost), (7, 7));
    let j = crate::incarnations::join(&*store, "desk-a", "cccc", 0, 7, now).expect("join");
    assert_eq!(j.newly_lost, 0, "counted once, not at every connection");
    let summary = crate::incarnations::summary(&*store, "desk-a").expect("summary");
    assert_eq!(summary.records_lost, 7);

    drop(store);
    let store = fresh.open();
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.ids), (40, 40));
    assert_eq!(store.incarnations("desk-a").expect("list").len(), 3);
}

// Sled's alone past its first failure: a write that succeeds and whose
// flush fails is sled's (a PostgreSQL commit is both); the first part runs
// on both in `a_failed_commit_stores_nothing_of_its_group`.
/// Fail points are global to the process; nextest runs each test in its own.
#[test]
fn a_failed_commit_is_never_acknowledged_and_a_resend_after_it_is_stored_once() {
    let _alone = fail_points();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    store.append(&[batch("desk-a", 1..=5)]).expect("append");

    // The write itself fails: nothing of the group is held.
    fail::cfg("store-append", "return").expect("fail point");
    assert!(store.append(&[batch("desk-a", 6..=10)]).is_err());
    fail::remove("store-append");
    assert_eq!(store.progress("desk-a", 0).expect("progress").last_seq, 5);

    // The write succeeds and its flush fails: sled serves the records, but
    // no watermark above 5 may be told until a flush succeeds.
    fail::cfg("store-flush", "return").expect("fail point");
    assert!(store.append(&[batch("desk-a", 6..=10)]).is_err());
    let told = |store: &dyn Store| store.progress("desk-a", 0).expect("progress").last_seq;
    assert_eq!(
        told(&store),
        5,
        "a watermark that is not on disk is never told"
    );
    fail::remove("store-flush");
    assert_eq!(told(&store), 5, "nothing has been flushed since");

    // The desk, never acknowledged, sends the batch again: held once, and
    // its flush makes the first write's watermark durable with it.
    let out = store.append(&[batch("desk-a", 6..=10)]).expect("resend");
    assert_eq!(out[0].up_to_seq, 10);
    assert_eq!(told(&store), 10);
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.records, 10);
}

/// The desk list and the desks' welcomes read the watermarks the last flush
/// made durable; a flush after a failed one makes the failed group's
/// durable too, for streams that group's resend has not yet reached.
#[test]
fn a_flush_after_a_failed_one_makes_every_watermark_it_reached_known() {
    let _alone = fail_points();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    fail::cfg("store-flush", "return").expect("fail point");
    assert!(store.append(&[batch("desk-a", 1..=5)]).is_err());
    fail::remove("store-flush");
    let told = |desk: &str| store.progress(desk, 0).expect("progress").last_seq;
    assert_eq!(told("desk-a"), 0);

    // Another desk's group: its flush carries desk-a's earlier write.
    store.append(&[batch("desk-b", 1..=3)]).expect("append");
    assert_eq!((told("desk-a"), told("desk-b")), (5, 3));
    let both = store
        .progress_of(&[("desk-b", 0), ("desk-a", 0), ("desk-c", 0)])
        .expect("progress");
    let seqs: Vec<u64> = both.iter().map(|p| p.last_seq).collect();
    assert_eq!(seqs, [3, 5, 0]);

    drop(store);
    let store = open(&dir);
    assert_eq!(store.progress("desk-a", 0).expect("progress").last_seq, 5);
}

// Retention

/// One desk's batch of visits on the given days, each under a new id.
fn visits_on(desk: &str, first_seq: u64, days: &[&str]) -> DeskAppend {
    let accepted: Vec<(u64, AnonymisedRecord)> = days
        .iter()
        .zip(first_seq..)
        .map(|(day, s)| {
            let r = visit(
                desk,
                "permesso.rinnovo.lavoro",
                "walk_in",
                "MA",
                day,
                uuid::Uuid::now_v7(),
            );
            (s, r)
        })
        .collect();
    DeskAppend {
        desk_id: desk.into(),
        incarnation: 0,
        first_seq,
        last_seq: first_seq + days.len() as u64 - 1,
        accepted,
        rejected: vec![],
    }
}

/// Every table the store keeps counts for, by week and each counted field.
fn every_table(store: &dyn Store) -> Vec<Vec<CountCell>> {
    let mut out = vec![store.counts(&[]).expect("counts")];
    for name in &COUNT_DIMENSIONS[1..] {
        out.push(store.counts(&[name]).expect("counts"));
    }
    out
}

fn pruned_records_stay_counted_and_known_and_verify_holds(fresh: &Fresh) {
    let store = fresh.open();
    let old = "2019-03-06";
    let new = "2026-11-18";
    // Several segments (one per commit), one of them half old, so that the
    // pruning goes in more than one chunk and rewrites a segment.
    store
        .append(&[visits_on("desk-a", 1, &[old, old])])
        .expect("append");
    store
        .append(&[visits_on("desk-a", 3, &[old, new])])
        .expect("append");
    store
        .append(&[visits_on("desk-a", 5, &[new, new])])
        .expect("append");
    store
        .append(&[visits_on("desk-b", 1, &[old])])
        .expect("append");
    store
        .append(&[visits_on("desk-b", 2, &[old])])
        .expect("append");
    let old_ids: Vec<uuid::Uuid> = store
        .records("desk-a")
        .expect("records")
        .iter()
        .filter(|(_, r)| r.week.as_str() < "2020-W01")
        .map(|(_, r)| uuid::Uuid::parse_str(&r.id).expect("a uuid"))
        .collect();
    assert_eq!(old_ids.len(), 3);
    let tables = every_table(&*store);
    let counted = store.verify().expect("verify").counted;

    assert_eq!(store.prune_records("2020-W01").expect("prune"), 5);
    assert_eq!(
        every_table(&*store),
        tables,
        "published counts never change"
    );
    let weeks: Vec<String> = store
        .records("desk-a")
        .expect("records")
        .into_iter()
        .map(|(_, r)| r.week)
        .collect();
    assert_eq!(weeks.len(), 3);
    assert!(weeks.iter().all(|w| w.as_str() >= "2020-W01"), "{weeks:?}");
    assert!(store.records("desk-b").expect("records").is_empty());
    assert_eq!(store.progress("desk-a", 0).expect("progress").records, 6);

    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.pruned, v.counted), (3, 5, counted));
    assert_eq!(v.records + v.pruned, v.counted);
    assert_eq!(v.ids, 8);
    assert_eq!(v.pruned_before.as_deref(), Some("2020-W01"));
    assert_eq!(store.prune_records("2020-W01").expect("again"), 0);

    // A pruned record sent again, by another desk or a new incarnation, is
    // still refused as held: before and after a reopen.
    let resend = |store: &dyn Store, seq: u64| {
        let mut b = visits_on("desk-c", seq, &[old]);
        b.accepted[0].1 = visit(
            "desk-c",
            "permesso.rinnovo.lavoro",
            "walk_in",
            "MA",
            old,
            old_ids[0],
        );
        store.append(&[b]).expect("append")
    };
    let out = resend(&*store, 1);
    assert!(
        out[0].rejected[0].1.contains("duplicate record id"),
        "{out:?}"
    );
    drop(store);
    let store = fresh.open();
    let out = resend(&*store, 2);
    assert!(
        out[0].rejected[0].1.contains("duplicate record id"),
        "{out:?}"
    );
    assert_eq!(
        every_table(&*store),
        tables,
        "nothing pruned is replayed at open"
    );
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.pruned), (3, 5));
}

fn a_failed_pruning_leaves_the_store_as_it_was(fresh: &Fresh) {
    let _alone = fail_points();
    let store = fresh.open();
    store
        .append(&[visits_on("desk-a", 1, &["2019-03-06", "2026-11-18"])])
        .expect("append");
    let tables = every_table(&*store);
    fail::cfg("retention-prune", "return").expect("fail point");
    assert!(store.prune_records("2020-W01").is_err());
    fail::remove("retention-prune");
    assert_eq!(store.records("desk-a").expect("records").len(), 2);
    assert_eq!(every_table(&*store), tables);
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.pruned, 0);
    // And a later run prunes as if none had failed.
    assert_eq!(store.prune_records("2020-W01").expect("prune"), 1);
    store
        .append(&[visits_on("desk-a", 3, &["2026-11-19"])])
        .expect("append after");
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.pruned, v.counted), (2, 1, 3));
}

fn refusals_go_by_the_day_they_were_noted(fresh: &Fresh) {
    let store = fresh.open();
    let mut first = batch("desk-a", 1..=2);
    first.accepted.retain(|(s, _)| *s != 2);
    first.rejected.push((2, "procedure: unknown code".into()));
    store.append(std::slice::from_ref(&first)).expect("append");
    store.mark_refusals("2026-01-01").expect("mark");
    let mut later = batch("desk-a", 3..=4);
    later.accepted.retain(|(s, _)| *s != 4);
    later.rejected.push((4, "channel: unknown code".into()));
    store.append(std::slice::from_ref(&later)).expect("append");
    store.mark_refusals("2026-02-01").expect("mark");

    assert_eq!(store.prune_refusals("2026-01-01").expect("prune"), 0);
    assert_eq!(store.prune_refusals("2026-01-15").expect("prune"), 1);
    assert!(store.append(&[first]).expect("resend")[0]
        .rejected
        .is_empty());
    assert_eq!(store.append(&[later]).expect("resend")[0].rejected.len(), 1);
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
}

fn proposal(id: &str, state: &str, decided_at: &str) -> domain::TemplateProposal {
    domain::TemplateProposal {
        id: id.into(),
        desk_id: "desk-a".into(),
        key: "greeting".into(),
        language: "it".into(),
        body: "Buongiorno".into(),
        state: state.into(),
        received_at: "2024-01-02T09:00:00Z".into(),
        decided_at: decided_at.into(),
        ..Default::default()
    }
}

fn a_retention_run_deletes_what_is_older_than_the_policy_and_audits_it(fresh: &Fresh) {
    let store = fresh.open();
    store
        .append(&[visits_on("desk-a", 1, &["2019-03-06", "2026-11-18"])])
        .expect("append");
    for p in [
        proposal("p-old", "accepted", "2025-01-10T10:00:00Z"),
        proposal("p-new", "declined", "2026-11-01T10:00:00Z"),
        proposal("p-open", "open", ""),
    ] {
        store.insert_proposal(&p).expect("proposal");
    }
    let policy = crate::config::RetentionConfig {
        records_years: 5,
        quarantine_days: 90,
        proposals_days: 365,
        reports_days: 365,
        search_misses_weeks: 104,
    };
    let now = Utc
        .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
        .single()
        .expect("valid time");
    let mut retention = crate::retention::Retention::new(policy);
    let done = retention.apply(&*store, now).expect("retention");
    assert_eq!(done.records, 1);
    assert_eq!(done.records_before.as_deref(), Some("2021-W46"));
    assert_eq!(done.proposals, 1);
    let left: Vec<String> = store
        .proposals()
        .expect("proposals")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(left, ["p-new", "p-open"]);
    assert_eq!(
        store
            .insert_proposal(&proposal("p-old", "open", ""))
            .expect("resent"),
        ProposalInsert::AlreadyHeld,
        "a deleted proposal sent again is not new"
    );
    let audit = store.audit_recent(10).expect("audit");
    let ours: Vec<&str> = audit
        .iter()
        .filter(|e| e.actor == crate::retention::ACTOR)
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(ours, ["retention.proposals", "retention.records"]);
    // Within the same week nothing is read again, and nothing is audited.
    let again = retention.apply(&*store, now).expect("retention");
    assert_eq!((again.records, again.proposals), (0, 0));
    assert_eq!(store.audit_recent(10).expect("audit").len(), audit.len());
    // Nor after a restart: the store keeps how far the last reading went,
    // so a late old record waits for next week's run, as without one.
    store
        .append(&[visits_on("desk-a", 3, &["2019-03-06"])])
        .expect("append");
    let restarted = crate::retention::Retention::new(retention.policy)
        .apply(&*store, now)
        .expect("retention");
    assert_eq!(restarted.records, 0);
    assert_eq!(
        store.records_pruned().expect("mark").as_deref(),
        Some("2021-W46")
    );
    let next_week = now + chrono::Duration::weeks(1);
    let moved = crate::retention::Retention::new(retention.policy)
        .apply(&*store, next_week)
        .expect("retention");
    assert_eq!(moved.records, 1);
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.pruned, v.counted), (1, 2, 3));
}

#[test]
fn zero_keeps_records_forever() {
    let now = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid time");
    assert_eq!(crate::retention::first_week_kept(0, now), None);
    // 2021-01-01 falls in ISO week 53 of 2020: the whole week is kept.
    assert_eq!(
        crate::retention::first_week_kept(5, now).as_deref(),
        Some("2020-W53")
    );
}

fn pruning_while_desks_send_keeps_every_count_and_id(fresh: &Fresh) {
    let store = std::sync::Arc::new(fresh.open());
    let old = "2019-03-06";
    let new = "2026-11-18";
    for s in 0..10u64 {
        store
            .append(&[visits_on("desk-a", s * 2 + 1, &[old, new])])
            .expect("append");
    }
    let sender = {
        let store = std::sync::Arc::clone(&store);
        std::thread::spawn(move || {
            for s in 0..50u64 {
                store
                    .append(&[visits_on("desk-b", s * 2 + 1, &[old, new])])
                    .expect("append while pruning");
            }
        })
    };
    let mut pruned = 0;
    for _ in 0..20 {
        pruned += store.prune_records("2020-W01").expect("prune");
    }
    sender.join().expect("the sender finishes");
    pruned += store.prune_records("2020-W01").expect("prune");
    assert_eq!(pruned, 60, "every old record is pruned once");
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.pruned, v.counted, v.ids), (60, 60, 120, 120));
    drop(store);
    let v = fresh.open().verify().expect("verify after a reopen");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.pruned, v.counted), (60, 60, 120));
}

// Sled's alone: a sled store from before the `mediator` cubes.
#[test]
fn a_store_from_before_the_mediator_gains_its_counts_at_open_as_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(&dir);
        // Past the checkpoint size, so that stored cells hold some and the
        // tally replayed at open holds the rest.
        store.append(&[batch("desk-a", 1..=10)]).expect("append");
        store.flush().expect("flush");
        store.append(&[batch("desk-b", 1..=3)]).expect("append");
        // As a hub before `mediator` left it: no cube over it, no mark.
        let added: Vec<::sled::IVec> = store
            .ingest
            .iter()
            .keys()
            .map(|k| k.expect("read"))
            .filter(|k| {
                k.len() > 1
                    && (k[0] == b'c' || k[0] == b'p')
                    && usize::from(k[1]) >= cubes::FIRST_CUBES
            })
            .collect();
        assert!(!added.is_empty(), "the new store counts the mediator");
        for k in added {
            store.ingest.remove(k).expect("remove");
        }
        store.ingest.remove(b"vmediator").expect("remove");
        store.db.flush().expect("flush");
    }
    let store = open(&dir);
    let cells = store.counts(&["mediator"]).expect("counted");
    let unknown: u64 = cells
        .iter()
        .filter(|c| c.values[1] == domain::MEDIATOR_UNKNOWN)
        .map(|c| c.count)
        .sum();
    assert_eq!(unknown, 13, "{cells:?}");
    assert_eq!(cells.iter().map(|c| c.count).sum::<u64>(), 13);
    let by_desk = store.counts(&["desk_id", "mediator"]).expect("counted");
    assert!(
        by_desk
            .iter()
            .any(|c| c.values[1..] == ["desk-a", "unknown"] && c.count == 10),
        "{by_desk:?}"
    );
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_every_table_matches_a_recount(&store, &["desk-a", "desk-b"]);
    drop(store);
    // Done once: a second open changes nothing.
    let store = open(&dir);
    assert_eq!(store.counts(&["mediator"]).expect("counted"), cells);
}

// Record id runs on disk (`ids.rs`)

/// `desk`'s batch `first_seq..` under `incarnation`, holding `records` as
/// they are (their ids kept), as a desk sends them again.
fn resend_of(
    desk: &str,
    incarnation: u32,
    first_seq: u64,
    records: &[AnonymisedRecord],
) -> DeskAppend {
    DeskAppend {
        desk_id: desk.into(),
        incarnation,
        first_seq,
        last_seq: first_seq + records.len() as u64 - 1,
        accepted: (first_seq..).zip(records.iter().cloned()).collect(),
        rejected: vec![],
    }
}

fn all_refused_as_held(out: &[AppendOutcome], n: usize) {
    assert_eq!(out[0].stored, 0, "{out:?}");
    assert_eq!(out[0].rejected.len(), n, "{out:?}");
    assert!(
        out[0]
            .rejected
            .iter()
            .all(|(_, why)| why.contains("duplicate record id")),
        "{out:?}"
    );
}

fn an_id_resent_after_a_restart_is_refused(fresh: &Fresh) {
    let sent = batch("desk-a", 1..=20);
    let records: Vec<AnonymisedRecord> = sent.accepted.iter().map(|(_, r)| r.clone()).collect();
    {
        let store = fresh.open();
        store.append(&[sent]).expect("append");
        // Some records after the last counts checkpoint, some before it.
        store.append(&[batch("desk-b", 1..=3)]).expect("append");
    }
    let store = fresh.open();
    // Another desk sends them: only the ids can tell.
    let out = store
        .append(&[resend_of("desk-c", 0, 1, &records)])
        .expect("append");
    all_refused_as_held(&out, 20);
    drop(store);
    // And again after a second open, with the refusals themselves stored.
    let store = fresh.open();
    let out = store
        .append(&[resend_of("desk-c", 0, 21, &records[..1])])
        .expect("append");
    all_refused_as_held(&out, 1);
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.ids, v.counted), (23, 23, 23));
}

fn an_id_resent_under_a_new_incarnation_is_refused(fresh: &Fresh) {
    let now = "2026-12-02T10:00:00Z";
    let sent = batch("desk-a", 1..=12);
    let records: Vec<AnonymisedRecord> = sent.accepted.iter().map(|(_, r)| r.clone()).collect();
    {
        let store = fresh.open();
        crate::incarnations::join(&*store, "desk-a", "aaaa", 0, 0, now).expect("join");
        store.append(&[sent]).expect("append");
    }
    let store = fresh.open();
    // The desk restored from a copy of its folder: a new incarnation that
    // numbers from 1 again and resends what it holds, then takes in more.
    let j = crate::incarnations::join(&*store, "desk-a", "bbbb", 12, 0, now).expect("join");
    assert!(j.started);
    let fresh = record("desk-a", "cittadinanza.residenza", uuid::Uuid::now_v7());
    let mut again = records.clone();
    again.push(fresh);
    let out = store
        .append(&[resend_of("desk-a", j.incarnation.number, 1, &again)])
        .expect("append");
    assert_eq!(out[0].stored, 1, "{out:?}");
    assert_eq!(out[0].rejected.len(), 12, "{out:?}");
    assert!(out[0].rejected.iter().all(|(seq, _)| *seq <= 12));
    assert_eq!(store.records("desk-a").expect("records").len(), 13);
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.ids), (13, 13));
}

/// Removes every id run and the mark, as a store written before them.
fn as_before_the_id_runs(store: &SledStore) {
    let keys: Vec<::sled::IVec> = store
        .ingest
        .scan_prefix([ids::PREFIX])
        .keys()
        .map(|k| k.expect("read"))
        .collect();
    assert!(!keys.is_empty(), "the new store keeps id runs");
    for k in keys {
        store.ingest.remove(k).expect("remove");
    }
    store.ingest.remove(ids::BUILT).expect("remove");
    store.db.flush().expect("flush");
}

// Sled's alone: its record id runs (PostgreSQL has a unique index).
#[test]
fn a_store_from_before_the_id_runs_gains_them_at_open_and_refuses_its_old_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = "2019-03-06";
    let new = "2026-11-18";
    let (kept, pruned) = {
        let store = open(&dir);
        store
            .append(&[visits_on("desk-a", 1, &[old, old, new])])
            .expect("append");
        store.append(&[batch("desk-b", 1..=10)]).expect("append");
        let pruned: Vec<AnonymisedRecord> = store
            .records("desk-a")
            .expect("records")
            .into_iter()
            .filter(|(_, r)| r.week.as_str() < "2020-W01")
            .map(|(_, r)| {
                let id = uuid::Uuid::parse_str(&r.id).expect("a uuid");
                visit(
                    "desk-c",
                    "permesso.rinnovo.lavoro",
                    "walk_in",
                    "MA",
                    old,
                    id,
                )
            })
            .collect();
        assert_eq!(pruned.len(), 2);
        assert_eq!(store.prune_records("2020-W01").expect("prune"), 2);
        let kept: Vec<AnonymisedRecord> = store
            .records("desk-b")
            .expect("records")
            .into_iter()
            .map(|(_, r)| {
                record(
                    "desk-c",
                    "cittadinanza.residenza",
                    uuid::Uuid::parse_str(&r.id).expect("a uuid"),
                )
            })
            .collect();
        as_before_the_id_runs(&store);
        assert!(store
            .verify()
            .expect("verify")
            .problems
            .iter()
            .any(|p| p.contains("in no id run")));
        (kept, pruned)
    };
    let store = open(&dir);
    assert!(store.ingest.get(ids::BUILT).expect("read").is_some());
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.pruned, v.ids), (11, 2, 13));
    let out = store
        .append(&[resend_of("desk-c", 0, 1, &kept)])
        .expect("append");
    all_refused_as_held(&out, 10);
    let out = store
        .append(&[resend_of("desk-c", 0, 11, &pruned)])
        .expect("append");
    all_refused_as_held(&out, 2);

    // Built once: a run lost after the mark is not written again at the
    // next open, and verify tells it.
    let (first, run) = store
        .ingest
        .scan_prefix([ids::PREFIX])
        .next()
        .expect("an id run")
        .expect("read");
    let lost = ids::decode(&run).expect("a run").len();
    store.ingest.remove(first).expect("remove");
    drop(store);
    let store = open(&dir);
    let v = store.verify().expect("verify");
    assert_eq!(
        v.problems,
        vec![format!("{lost} record ids held are in no id run")]
    );
}

fn pruned_ids_are_refused_under_a_new_incarnation_after_a_restart(fresh: &Fresh) {
    let now = "2026-12-02T10:00:00Z";
    let old = "2019-03-06";
    let sent = visits_on("desk-a", 1, &[old, old, old]);
    let records: Vec<AnonymisedRecord> = sent.accepted.iter().map(|(_, r)| r.clone()).collect();
    {
        let store = fresh.open();
        crate::incarnations::join(&*store, "desk-a", "aaaa", 0, 0, now).expect("join");
        store.append(&[sent]).expect("append");
        assert_eq!(store.prune_records("2020-W01").expect("prune"), 3);
        assert!(store.records("desk-a").expect("records").is_empty());
    }
    let store = fresh.open();
    let j = crate::incarnations::join(&*store, "desk-a", "bbbb", 3, 0, now).expect("join");
    let out = store
        .append(&[resend_of("desk-a", j.incarnation.number, 1, &records)])
        .expect("append");
    all_refused_as_held(&out, 3);
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!((v.records, v.pruned, v.ids), (0, 3, 3));
}

/// The write fails: nothing of the group is held, and the resend after it
/// is stored once.
fn a_failed_commit_stores_nothing_of_its_group(fresh: &Fresh) {
    let _alone = fail_points();
    let store = fresh.open();
    store.append(&[batch("desk-a", 1..=5)]).expect("append");
    fail::cfg("store-append", "return").expect("fail point");
    assert!(store.append(&[batch("desk-a", 6..=10)]).is_err());
    fail::remove("store-append");
    assert_eq!(store.progress("desk-a", 0).expect("progress").last_seq, 5);
    let out = store.append(&[batch("desk-a", 6..=10)]).expect("resend");
    assert_eq!((out[0].up_to_seq, out[0].stored), (10, 5));
    let v = store.verify().expect("verify");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.records, 10);
}

// The collections beside ingest

fn publication(dims: &[&str], counts: &[(&str, u64)]) -> domain::disclosure::Publication {
    use domain::disclosure::{CountTable, Options};
    let table = CountTable::from_cells(
        dims.iter().copied(),
        counts.iter().map(|(v, n)| (vec![(*v).to_owned()], *n)),
    )
    .expect("table");
    domain::disclosure::protect_linked(&table, &table, &[], Options::default())
        .expect("protect")
        .entry
        .expect("a first table is registered")
}

fn the_register_keeps_entries_per_table_in_order_across_a_reopen(fresh: &Fresh) {
    let first = publication(&["nationality"], &[("MA", 12), ("AL", 3)]);
    let second = publication(&["nationality"], &[("MA", 14), ("AL", 3)]);
    let other = publication(&["outcome"], &[("answered", 9)]);
    let mut november = publication(&["nationality"], &[("MA", 9)]);
    november.period = Some("2026-11".to_owned());
    let nationality = vec!["nationality".to_owned()];
    {
        let store = fresh.open();
        for p in [&first, &november, &other, &second] {
            store.add_publication(p).expect("add");
        }
        assert_eq!(
            store.release_detail(&nationality, 2026).expect("read"),
            None
        );
        store
            .set_release_detail(&nationality, 2026, "province")
            .expect("fix");
        // Durable with the next publication (sled), or at once.
        store.add_publication(&second).expect("add");
    }
    let store = fresh.open();
    assert_eq!(
        store.publications(&nationality, None).expect("read"),
        vec![first, second.clone(), second]
    );
    assert_eq!(
        store
            .publications(&["outcome".to_owned()], None)
            .expect("read"),
        vec![other]
    );
    assert_eq!(
        store.publications(&["sex".to_owned()], None).expect("read"),
        vec![]
    );
    // A calendar period is its own, apart from the entries from before
    // the calendar and from periods whose name starts the same.
    assert_eq!(
        store
            .publications(&nationality, Some("2026-11"))
            .expect("read"),
        vec![november]
    );
    assert_eq!(
        store
            .publications(&nationality, Some("2026-1"))
            .expect("read"),
        vec![]
    );
    assert_eq!(
        store.release_detail(&nationality, 2026).expect("read"),
        Some("province".to_owned())
    );
    assert_eq!(
        store.release_detail(&nationality, 2027).expect("read"),
        None
    );
    store
        .set_release_detail(&nationality, 2026, "region")
        .expect("fix again");
    assert_eq!(
        store.release_detail(&nationality, 2026).expect("read"),
        Some("region".to_owned())
    );
}

fn audit_entry(action: &str) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at: "2026-11-20T10:00:00Z".into(),
        actor: "cli".into(),
        action: action.into(),
        target: "desk-a".into(),
        detail: String::new(),
    }
}

fn the_audit_log_numbers_entries_and_lists_the_newest_first(fresh: &Fresh) {
    let seqs: Vec<u64> = {
        let store = fresh.open();
        assert!(store.audit_recent(10).expect("read").is_empty());
        ["desk.add", "desk.revoke"]
            .iter()
            .map(|a| store.append_audit(audit_entry(a)).expect("append"))
            .collect()
    };
    assert!(seqs[0] >= 1 && seqs[1] > seqs[0], "{seqs:?}");
    let store = fresh.open();
    let third = store.append_audit(audit_entry("user.add")).expect("append");
    assert!(third > seqs[1], "increasing across a reopen");
    let recent = store.audit_recent(2).expect("read");
    let shown: Vec<(u64, &str)> = recent.iter().map(|e| (e.seq, e.action.as_str())).collect();
    assert_eq!(shown, [(third, "user.add"), (seqs[1], "desk.revoke")]);
    assert_eq!(recent[0].target, "desk-a");
    assert_eq!(store.audit_recent(10).expect("read").len(), 3);
}

fn report(id: &str, desk: &str) -> StoredReport {
    StoredReport {
        id: id.into(),
        desk_id: desk.into(),
        kind: "card".into(),
        code: "permesso.rinnovo.lavoro".into(),
        item_id: String::new(),
        language: "it".into(),
        item_version: 3,
        reason: "outdated".into(),
        comment: "Il modulo è cambiato".into(),
        owner: "coordinator".into(),
        state: crate::reports::OPEN.into(),
        fixed_version: 0,
        note: String::new(),
        received_at: "2025-01-02T09:00:00Z".into(),
        decided_at: String::new(),
    }
}

fn a_report_is_stored_once_decided_and_pruned_when_old(fresh: &Fresh) {
    let (a, b, c) = (
        "0190a000-0000-7000-8000-000000000001",
        "0190a000-0000-7000-8000-000000000002",
        "0190a000-0000-7000-8000-000000000003",
    );
    {
        let store = fresh.open();
        // Inserted out of order: listed by id, oldest first.
        for id in [b, a, c] {
            assert_eq!(
                store.insert_report(&report(id, "desk-a")).expect("insert"),
                ProposalInsert::Stored
            );
        }
        assert_eq!(
            store.insert_report(&report(a, "desk-a")).expect("resend"),
            ProposalInsert::AlreadyHeld
        );
        assert_eq!(
            store
                .insert_report(&report(a, "desk-b"))
                .expect("other desk"),
            ProposalInsert::Conflict
        );
        let mut old = report(a, "desk-a");
        old.state = "fixed".into();
        old.fixed_version = 4;
        old.decided_at = "2025-01-10T10:00:00Z".into();
        store.put_report(&old).expect("decide");
        let mut recent = report(b, "desk-a");
        recent.state = "declined".into();
        recent.decided_at = "2026-11-01T10:00:00Z".into();
        store.put_report(&recent).expect("decide");
    }
    let store = fresh.open();
    let ids: Vec<String> = store
        .reports()
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, [a, b, c]);
    let decided = store.report(a).expect("read").expect("held");
    assert_eq!(
        (decided.state.as_str(), decided.fixed_version),
        ("fixed", 4)
    );
    assert_eq!(store.report("nessuno").expect("read"), None);
    assert!(store.prune_reports("not a date").is_err());
    assert_eq!(
        store.prune_reports("2026-01-01T00:00:00Z").expect("prune"),
        1
    );
    let ids: Vec<String> = store
        .reports()
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, [b, c], "the open one stays whatever its age");
    assert_eq!(
        store.prune_reports("2026-01-01T00:00:00Z").expect("again"),
        0
    );
}

fn miss(week: &str, query: &str, count: u64) -> MissCount {
    MissCount {
        week: week.into(),
        language: "it".into(),
        query: query.into(),
        count,
    }
}

fn a_resent_miss_batch_counts_once_and_old_ids_are_let_go(fresh: &Fresh) {
    let total = |store: &dyn Store| -> u64 {
        store
            .miss_counts()
            .expect("read")
            .iter()
            .map(|m| m.count)
            .sum()
    };
    let batch = [miss("2026-W48", "carta blu", 3)];
    {
        let store = fresh.open();
        assert!(store.add_miss_batch("a", &batch).expect("stored"));
        assert!(!store.add_miss_batch("a", &batch).expect("held"));
        assert_eq!(total(&*store), 3);
        for id in ["b", "c", "d"] {
            assert!(store.add_miss_batch(id, &batch).expect("stored"));
        }
        assert_eq!(total(&*store), 12);
        // Only the newest ids are kept (three in tests): "d" is still
        // known; "a" is let go.
        assert!(!store.add_miss_batch("d", &batch).expect("held"));
    }
    let store = fresh.open();
    assert_eq!(total(&*store), 12, "durable");
    assert!(!store.add_miss_batch("b", &batch).expect("held"));
    assert!(store.add_miss_batch("a", &batch).expect("let go, so new"));
    assert_eq!(total(&*store), 15);
    // Counts from several entries of one batch add up too.
    let two = [
        miss("2026-W48", "carta blu", 1),
        miss("2026-W48", "carta blu", 2),
    ];
    assert!(store.add_miss_batch("e", &two).expect("stored"));
    assert_eq!(
        store.miss_counts().expect("read"),
        vec![miss("2026-W48", "carta blu", 18)]
    );
}

fn a_week_keeps_a_bounded_number_of_distinct_queries(fresh: &Fresh) {
    let store = fresh.open();
    // Sent out of order: the room goes to the first in byte order.
    let many: Vec<MissCount> = (0..6)
        .rev()
        .map(|i| miss("2026-W48", &format!("domanda {i}"), 1))
        .collect();
    assert!(store.add_miss_batch("many", &many).expect("stored"));
    let queries: Vec<String> = store
        .miss_counts()
        .expect("read")
        .into_iter()
        .map(|m| m.query)
        .collect();
    // Four in tests.
    assert_eq!(
        queries,
        ["domanda 0", "domanda 1", "domanda 2", "domanda 3"]
    );
    let again = [
        miss("2026-W48", "domanda 0", 2),
        miss("2026-W48", "domanda 5", 1),
        miss("2026-W49", "domanda 5", 1),
    ];
    assert!(store.add_miss_batch("again", &again).expect("stored"));
    let counts = store.miss_counts().expect("read");
    assert_eq!(
        counts.len(),
        5,
        "a held query still counts, a new week has room"
    );
    assert!(counts
        .iter()
        .any(|c| c.query == "domanda 0" && c.week == "2026-W48" && c.count == 3));
    // Retention drops the weeks before its window and frees their room.
    assert_eq!(store.prune_misses("2026-W49").expect("prune"), 4);
    assert_eq!(
        store.miss_counts().expect("read"),
        vec![miss("2026-W49", "domanda 5", 1)]
    );
    let more = [miss("2026-W48", "domanda 5", 1)];
    assert!(store.add_miss_batch("more", &more).expect("stored"));
    assert_eq!(store.miss_counts().expect("read").len(), 2);
    assert_eq!(store.prune_misses("2026-W48").expect("prune"), 0);
}

fn session(user: &str, used: u64) -> StoredSession {
    StoredSession {
        user: user.into(),
        csrf: format!("csrf-{user}-{used}"),
        created: used,
        used,
        expires: used + 100,
    }
}

fn sessions_survive_a_reopen_and_expire_touch_and_end(fresh: &Fresh) {
    let (a, b) = ([1u8; 32], [2u8; 32]);
    {
        let store = fresh.open();
        store
            .put_session(&a, &session("anna", 10), 20)
            .expect("put");
        store
            .put_session(&b, &session("bruno", 10), 20)
            .expect("put");
    }
    let store = fresh.open();
    assert_eq!(
        store.session(&a, 50).expect("read"),
        Some(session("anna", 10))
    );
    // A use moves the expiry; a use of a deleted session does not bring it back.
    store.touch_session(&a, 90, 190).expect("touch");
    let touched = store.session(&a, 150).expect("read").expect("still live");
    assert_eq!((touched.used, touched.expires), (90, 190));
    // A late use never moves `used` back.
    store.touch_session(&a, 80, 200).expect("touch");
    let touched = store.session(&a, 150).expect("read").expect("still live");
    assert_eq!((touched.used, touched.expires), (90, 200));
    store.delete_session(&a).expect("delete");
    store.touch_session(&a, 95, 195).expect("touch");
    assert_eq!(store.session(&a, 96).expect("read"), None);
    // Expired: refused on read, and deleted by it.
    assert_eq!(store.session(&b, 110).expect("read"), None);
    assert_eq!(store.prune_sessions(0).expect("prune"), 0, "nothing left");
}

fn a_user_keeps_at_most_the_bound_of_sessions_and_the_sweep_prunes(fresh: &Fresh) {
    let store = fresh.open();
    for n in 0..5u8 {
        store
            .put_session(&[n; 32], &session("anna", u64::from(n) * 10), 3)
            .expect("put");
    }
    store
        .put_session(&[9; 32], &session("bruno", 0), 3)
        .expect("put");
    // Anna's two least recently used went; Bruno is untouched.
    for (n, held) in [(0u8, false), (1, false), (2, true), (3, true), (4, true)] {
        assert_eq!(
            store.session(&[n; 32], 5).expect("read").is_some(),
            held,
            "{n}"
        );
    }
    // The same key again replaces its session and takes no more room.
    store
        .put_session(&[4; 32], &session("anna", 45), 3)
        .expect("put");
    assert!(store.session(&[2; 32], 5).expect("read").is_some());
    assert_eq!(store.prune_sessions(5).expect("prune"), 4);
    // At 125 only the sessions used at 30 and 45 are live.
    assert_eq!(store.prune_sessions(125).expect("prune"), 2);
    assert_eq!(store.session(&[2; 32], 0).expect("read"), None, "pruned");
    assert!(store.session(&[4; 32], 0).expect("read").is_some());
}

fn user(name: &str) -> User {
    User {
        name: name.into(),
        hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsZQ$hash-of-{name}"),
        added_at: "2026-11-20T10:00:00Z".into(),
    }
}

fn users_are_added_once_and_survive_a_reopen(fresh: &Fresh) {
    {
        let store = fresh.open();
        assert!(store.users().expect("list").is_empty());
        assert!(store.add_user(&user("bruno")).expect("add"));
        assert!(store.add_user(&user("anna")).expect("add"));
        let mut again = user("anna");
        again.hash = "$argon2id$another".into();
        assert!(!store.add_user(&again).expect("taken"), "never replaced");
    }
    let store = fresh.open();
    assert_eq!(
        store.users().expect("list"),
        vec![user("anna"), user("bruno")]
    );
    assert_eq!(store.user("anna").expect("read"), Some(user("anna")));
    assert_eq!(store.user("carla").expect("read"), None);
}

/// A decided report reaches every replica of a shared store: the decision
/// is announced in its transaction, and the other replica's listener
/// hears it. PostgreSQL's alone: a sled store has one process.
#[test]
fn a_decided_report_is_announced_to_the_other_replicas() {
    let fresh = Fresh::postgres();
    let deciding = fresh.open();
    let other = fresh.open();
    let mut heard = other.changes().expect("a shared store tells its changes");
    let id = "0190a000-0000-7000-8000-000000000001";
    deciding
        .insert_report(&report(id, "desk-a"))
        .expect("insert");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The listener connects in the background: decide until it hears.
    let found = rt.block_on(async {
        for _ in 0..50 {
            deciding.put_report(&report(id, "desk-a")).expect("decide");
            let wait = tokio::time::timeout(std::time::Duration::from_millis(200), async {
                loop {
                    match heard.recv().await {
                        Ok(Change::Report) => return true,
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return false,
                    }
                }
            });
            if wait.await == Ok(true) {
                return true;
            }
        }
        false
    });
    assert!(found, "the other replica heard of the decision");
}
