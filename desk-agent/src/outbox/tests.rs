use super::*;
use rand::SeedableRng;

const DESK: &str = "desk-test";

pub(crate) fn records(n: usize) -> Vec<AnonymisedRecord> {
    let catalogue = domain::Catalogue::seed();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    (0..n)
        .map(|_| {
            let visit = domain::Visit::from(synthetic::visit(&mut rng));
            domain::anonymise(
                &visit,
                DESK,
                &catalogue,
                chrono::Utc::now(),
                uuid::Uuid::now_v7(),
            )
            .expect("anonymise")
        })
        .collect()
}

/// The same visit anonymised again: another id, the rest alike.
fn twin(r: &AnonymisedRecord) -> AnonymisedRecord {
    let raw = r.to_raw();
    let catalogue = domain::Catalogue::seed();
    domain::recheck(
        domain::RawRecord {
            id: uuid::Uuid::now_v7().to_string(),
            ..raw
        },
        DESK,
        &catalogue,
    )
    .expect("the same record under a new id passes the re-check")
}

async fn fill(outbox: &Outbox, records: &[AnonymisedRecord]) {
    for r in records {
        outbox.append(r).await.expect("append");
    }
}

/// Opens again once the flusher thread of the previous handle let go of
/// the database.
fn reopen(path: &std::path::Path) -> Outbox {
    for _ in 0..200 {
        match Outbox::open(path, 1 << 20) {
            Ok(o) => return o,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    Outbox::open(path, 1 << 20).expect("reopen")
}

fn wire(r: &AnonymisedRecord) -> proto::AnonymisedRecord {
    proto::AnonymisedRecord::from(r.to_raw())
}

/// The batch as the hub decodes it, in an incarnation that starts at 0.
fn decoded(batch: &PendingBatch, outbox_last_seq: u64) -> proto::RecordBatch {
    let first = Incarnation {
        id: uuid::Uuid::nil(),
        base: 0,
        lost: 0,
    };
    let message =
        proto::DeskMessage::decode(batch.message(first, outbox_last_seq)).expect("decodes");
    match message.body {
        Some(desk_message::Body::Batch(b)) => b,
        other => panic!("not a batch: {other:?}"),
    }
}

use proto::desk_message;

#[tokio::test]
async fn batches_cross_record_trees_and_decode_as_the_hub_reads_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = Outbox::open(&dir.path().join("o"), 1 << 20).expect("open");
    let recs = records(40);
    fill(&outbox, &recs).await;
    assert_eq!(outbox.last_seq().expect("last"), 40);

    let batch = outbox.read_from(3, 25).expect("read").expect("some");
    assert_eq!((batch.first_seq, batch.last_seq), (3, 27));
    let b = decoded(&batch, 40);
    assert_eq!(b.first_seq, 3);
    assert_eq!(b.outbox_last_seq, 40);
    let want: Vec<_> = recs[2..27].iter().map(wire).collect();
    assert_eq!(b.records, want);

    let rest = outbox.read_from(28, 100).expect("read").expect("some");
    assert_eq!((rest.first_seq, rest.last_seq), (28, 40));
    assert_eq!(decoded(&rest, 40).records.len(), 13);
    assert!(outbox.read_from(41, 100).expect("read").is_none());
}

#[tokio::test]
async fn an_ack_quarantines_refusals_drops_acked_trees_and_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("o");
    let recs = records(50);
    {
        let outbox = Outbox::open(&path, 1 << 20).expect("open");
        fill(&outbox, &recs).await;
        outbox
            .ack(
                35,
                &[
                    (20, "bad week".into()),
                    (20, "again".into()),
                    (99, "x".into()),
                ],
            )
            .expect("ack");
        assert_eq!(outbox.acked_seq().expect("acked"), 35);
        assert_eq!(outbox.sent().expect("sent"), 34);
        assert_eq!(outbox.pending().expect("pending"), 15);
        let q = outbox.quarantine().expect("quarantine");
        assert_eq!(q.len(), 1);
        assert_eq!((q[0].seq, q[0].reason.as_str()), (20, "bad week"));
        assert_eq!(q[0].record, wire(&recs[19]));
        // Runs of 16: sequences 1..=31 are in trees 0 and 1, acknowledged whole.
        let held: Vec<u64> = outbox
            .flusher
            .runs
            .trees
            .lock()
            .expect("lock")
            .keys()
            .copied()
            .collect();
        assert_eq!(held, vec![2, 3]);
        // An old acknowledgement changes nothing.
        outbox.ack(30, &[(31, "late".into())]).expect("old ack");
        assert_eq!(outbox.sent().expect("sent"), 34);
        outbox.flush().expect("flush");
    }
    {
        let outbox = reopen(&path);
        assert_eq!(outbox.last_seq().expect("last"), 50);
        assert_eq!(outbox.acked_seq().expect("acked"), 35);
        let batch = outbox.read_from(36, 100).expect("read").expect("some");
        assert_eq!((batch.first_seq, batch.last_seq), (36, 50));
        let want: Vec<_> = recs[35..].iter().map(wire).collect();
        assert_eq!(decoded(&batch, 50).records, want);
        outbox.ack(50, &[]).expect("ack all");
        assert_eq!(outbox.pending().expect("pending"), 0);
        assert_eq!(outbox.sent().expect("sent"), 49);
        outbox.flush().expect("flush");
    }
    // Every record acknowledged and most trees gone: the numbering goes on.
    let outbox = reopen(&path);
    assert_eq!(outbox.last_seq().expect("last"), 50);
    let extra = records(1);
    assert_eq!(outbox.append(&extra[0]).await.expect("append"), 51);
    let batch = outbox.read_from(51, 10).expect("read").expect("some");
    assert_eq!(decoded(&batch, 51).records, vec![wire(&extra[0])]);
}

#[test]
fn an_outbox_of_the_earlier_layout_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("o");
    {
        let db = sled::open(&path).expect("sled");
        let tree = db.open_tree("outbox").expect("tree");
        tree.insert(key(b'o', 1), b"record".to_vec())
            .expect("insert");
        db.flush().expect("flush");
    }
    match Outbox::open(&path, 1 << 20) {
        Err(e) => assert!(e.to_string().contains("earlier desk-agent version"), "{e}"),
        Ok(_) => panic!("an old outbox was opened"),
    }
}

#[tokio::test]
async fn concurrent_intakes_share_chunks_and_read_back_in_sequence_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = Arc::new(Outbox::open(&dir.path().join("o"), 1 << 20).expect("open"));
    let recs = records(150);
    let mut tasks = tokio::task::JoinSet::new();
    for r in recs.clone() {
        let outbox = Arc::clone(&outbox);
        tasks.spawn(async move { (outbox.append(&r).await.expect("append"), r) });
    }
    let mut by_seq = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (seq, r) = done.expect("task");
        by_seq.insert(seq, wire(&r));
    }
    assert_eq!(
        by_seq.keys().copied().collect::<Vec<_>>(),
        (1..=150).collect::<Vec<_>>()
    );
    // Every start and length, across chunks and runs of 16.
    for from in [1, 2, 15, 16, 17, 63, 100, 150] {
        for max in [1, 3, 16, 40, 500] {
            let batch = outbox.read_from(from, max).expect("read").expect("some");
            let last = (from + max as u64 - 1).min(150);
            assert_eq!((batch.first_seq, batch.last_seq), (from, last));
            let want: Vec<_> = by_seq.range(from..=last).map(|(_, r)| r.clone()).collect();
            assert_eq!(decoded(&batch, 150).records, want, "from {from} max {max}");
        }
    }
    let trees = outbox.flusher.runs.trees.lock().expect("lock").clone();
    let chunks: usize = trees.values().map(|t| t.len()).sum();
    assert!(chunks < 150, "{chunks} chunks for 150 concurrent intakes");
    // A refusal is found inside its chunk.
    outbox.ack(150, &[(77, "bad".into())]).expect("ack");
    let q = outbox.quarantine().expect("quarantine");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].record, by_seq[&77]);
}

#[test]
fn an_outbox_of_one_record_per_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("o");
    {
        let db = sled::open(&path).expect("sled");
        let tree = db.open_tree("outbox-0000000000000000").expect("tree");
        tree.insert(1u64.to_be_bytes(), b"record".to_vec())
            .expect("insert");
        db.flush().expect("flush");
    }
    match Outbox::open(&path, 1 << 20) {
        Err(e) => assert!(e.to_string().contains("earlier desk-agent version"), "{e}"),
        Ok(_) => panic!("an old outbox was opened"),
    }
}

#[tokio::test]
async fn an_incarnation_is_kept_across_a_reopen_and_a_new_one_counts_after_the_watermark() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("o");
    let recs = records(12);
    let first = {
        let outbox = Outbox::open(&path, 1 << 20).expect("open");
        fill(&outbox, &recs[..10]).await;
        let first = outbox.incarnation();
        assert_eq!(first.base, 0);
        outbox.ack(6, &[]).expect("ack");
        first
    };
    let outbox = reopen(&path);
    assert_eq!(
        outbox.incarnation(),
        first,
        "the incarnation survives a reopen"
    );
    // The hub may acknowledge only what the outbox holds: a watermark above
    // it would hide the visits recorded next.
    let e = outbox
        .ack(11, &[])
        .expect_err("an ack above the outbox is refused");
    assert!(matches!(e, OutboxError::AheadOfOutbox(11, 10)), "{e}");
    assert_eq!(outbox.acked_seq().expect("acked"), 6);

    let next = outbox.start_incarnation(0).expect("new incarnation");
    assert_ne!(next.id, first.id);
    assert_eq!(next.base, 6);
    fill(&outbox, &recs[10..]).await;
    // Local 7..=12 are the new incarnation's 1..=6.
    let batch = outbox.read_from(7, 100).expect("read").expect("some");
    let message = proto::DeskMessage::decode(batch.message(next, 12)).expect("decodes");
    let Some(desk_message::Body::Batch(b)) = message.body else {
        panic!("not a batch");
    };
    assert_eq!((b.first_seq, b.records.len(), b.outbox_last_seq), (1, 6, 6));
    assert_eq!(next.local(6), 12);
    drop(outbox);
    assert_eq!(reopen(&path).incarnation(), next);
}

/// Fail points are global to the process; nextest runs each test in its own.
#[tokio::test]
async fn a_failed_write_or_flush_stores_nothing_of_its_intakes_and_the_next_one_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("o");
    let recs = records(12);
    let outbox = Arc::new(Outbox::open(&path, 1 << 20).expect("open"));
    fill(&outbox, &recs[..3]).await;

    for point in ["outbox-write", "outbox-flush"] {
        fail::cfg(point, "return").expect("fail point");
        let refused: Vec<_> =
            futures::future::join_all(recs[3..8].iter().map(|r| outbox.append(r))).await;
        for r in &refused {
            assert!(matches!(r, Err(OutboxError::Flush(_))), "{point}: {r:?}");
        }
        fail::remove(point);
    }
    // Nothing of the refused intakes is held, and the numbering stays dense.
    assert_eq!(outbox.append(&recs[8]).await.expect("append"), 4);
    assert_eq!(outbox.last_seq().expect("last"), 4);
    let batch = outbox.read_from(1, 100).expect("read").expect("some");
    let want: Vec<_> = recs[..3].iter().chain([&recs[8]]).map(wire).collect();
    assert_eq!(decoded(&batch, 4).records, want);
    outbox.flush().expect("flush");
    drop(batch);
    drop(outbox);

    let outbox = reopen(&path);
    assert_eq!(outbox.last_seq().expect("last"), 4);
    let batch = outbox.read_from(1, 100).expect("read").expect("some");
    assert_eq!(decoded(&batch, 4).records, want);
}

#[tokio::test]
async fn a_repeated_request_id_gives_the_first_answer_and_stores_nothing_even_after_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("o");
    let recs = records(3);
    let first = {
        let outbox = Outbox::open(&path, 1 << 20).expect("open");
        let first = outbox.append_once(&recs[0], "req-1").await.expect("append");
        assert!(!first.repeat);
        // The same visit asked again: its anonymised record differs only in
        // the id each intake draws.
        let again = twin(&recs[0]);
        let repeat = outbox.append_once(&again, "req-1").await.expect("repeat");
        assert!(repeat.repeat);
        assert_eq!((repeat.seq, &repeat.record), (first.seq, &first.record));
        assert_eq!(outbox.last_seq().expect("last"), 1);
        let e = outbox
            .append_once(&recs[1], "req-1")
            .await
            .expect_err("another visit under a used key");
        assert!(
            matches!(e, OutboxError::KeyReused(ref k) if k == "req-1"),
            "{e}"
        );
        first
    };
    let outbox = reopen(&path);
    let repeat = outbox.append_once(&recs[0], "req-1").await.expect("repeat");
    assert!(repeat.repeat, "keys survive a restart");
    assert_eq!(repeat.record, first.record);
    assert_eq!(
        outbox
            .append_once(&recs[2], "req-2")
            .await
            .expect("new")
            .seq,
        2
    );
    assert_eq!(outbox.last_seq().expect("last"), 2);
}

#[tokio::test]
async fn acknowledged_records_are_kept_for_the_window_so_a_restored_hub_gets_them_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("o");
    let recs = records(50);
    {
        let outbox = Outbox::open(&path, 1 << 20)
            .expect("open")
            .with_keep_acked(Duration::from_secs(3600));
        fill(&outbox, &recs).await;
        outbox.ack(50, &[]).expect("ack");
        assert_eq!(outbox.pending().expect("pending"), 0);
        // Runs 0..=2 are acknowledged whole, and still held.
        assert!(outbox.holds(1).expect("holds"));
        let batch = outbox.read_from(1, 100).expect("read").expect("some");
        assert_eq!((batch.first_seq, batch.last_seq), (1, 50));
        outbox.flush().expect("flush");
    }
    // Across a restart too; with no window, the next acknowledgement drops them.
    let outbox = reopen(&path);
    assert!(outbox.holds(1).expect("holds"));
    let extra = records(1);
    outbox.append(&extra[0]).await.expect("append");
    outbox.ack(51, &[]).expect("ack");
    assert!(!outbox.holds(1).expect("holds"));
    assert!(
        outbox.holds(50).expect("holds"),
        "run 3 is not acknowledged whole"
    );
}
