//! The ingest half of [`PostgresStore`]: a group commit is one transaction
//! that takes each desk's advisory lock, reads the streams' progress and
//! which ids are held, copies the new records in with binary `COPY`, and
//! upserts the refusals, the progress and the counts once per group.
//!
//! The advisory lock (per desk, for the transaction) is what keeps two
//! replicas from storing one sequence twice when a desk's stream moves
//! between them mid-batch: the second waits for the first to commit, then
//! reads the progress it left and stores only what comes after it. The
//! unique index on the record id is the last word on ids: a record id two
//! desks send at once through two replicas fails one transaction, whose
//! batches the desks send again and are then told "already stored".

use super::PostgresStore;
use crate::storage::cubes::{self, Cells, Tally};
use crate::storage::{
    AppendOutcome, CountCell, DeskAppend, DeskProgress, StorageError, Verification,
    COUNT_DIMENSIONS,
};
use domain::RawRecord;
use prost::Message;
use std::collections::{BTreeMap, HashMap, HashSet};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

/// The advisory lock of a desk's ingest; the second key keeps it apart
/// from other users of `hashtextextended`.
/// Taken in the array's order, which `unnest` keeps.
const DESK_LOCKS: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended(d, 1917)) FROM unnest($1::text[]) AS d";

/// The columns `COPY` fills, in order.
const RECORD_COLUMNS: [Type; 6] = [
    Type::TEXT,
    Type::INT4,
    Type::INT8,
    Type::UUID,
    Type::TEXT,
    Type::BYTEA,
];

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn i32_of(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// One record to copy in.
struct Row {
    desk: usize,
    incarnation: i32,
    seq: i64,
    id: uuid::Uuid,
    week: String,
    body: Vec<u8>,
}

impl PostgresStore {
    pub(super) fn append_batches(
        &self,
        batches: &[DeskAppend],
    ) -> Result<Vec<AppendOutcome>, StorageError> {
        let (mut outcomes, resent) = self.block(self.write_group(batches))?;
        for i in resent {
            let b = &batches[i];
            outcomes[i].rejected = self.read_rejections(
                &b.desk_id,
                b.incarnation,
                b.first_seq.saturating_sub(1),
                b.last_seq,
                usize::MAX,
            )?;
        }
        Ok(outcomes)
    }

    #[allow(clippy::type_complexity)]
    async fn write_group(
        &self,
        batches: &[DeskAppend],
    ) -> Result<(Vec<AppendOutcome>, Vec<usize>), StorageError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;

        let mut desks: Vec<&str> = batches.iter().map(|b| b.desk_id.as_str()).collect();
        desks.sort_unstable();
        desks.dedup();
        // Sorted, so that two replicas locking the same desks never wait
        // for each other in a cycle.
        tx.execute(DESK_LOCKS, &[&desks]).await?;

        let streams: Vec<(String, i32)> = batches
            .iter()
            .map(|b| (b.desk_id.clone(), i32_of(b.incarnation)))
            .collect();
        let mut progress = read_progress_of(&tx, &streams).await?;

        let candidates: Vec<uuid::Uuid> = batches
            .iter()
            .flat_map(|b| {
                let held = progress
                    .get(&(b.desk_id.clone(), i32_of(b.incarnation)))
                    .map_or(0, |p| p.last_seq);
                b.accepted
                    .iter()
                    .filter(move |(s, _)| *s > held)
                    .map(|(_, r)| r.id())
            })
            .collect();
        // Bounded by the group's lowest and highest id as well: record ids
        // are UUIDv7, so fresh ones fall in the index's last pages, and the
        // planner reads that range instead of testing every row held
        // against twenty thousand values.
        let low = candidates.iter().min().copied().unwrap_or_default();
        let high = candidates.iter().max().copied().unwrap_or_default();
        let mut held_ids: HashSet<uuid::Uuid> = tx
            .query(
                "SELECT id FROM records WHERE id BETWEEN $2 AND $3 AND id = ANY($1)
                 UNION ALL
                 SELECT id FROM pruned_ids WHERE id BETWEEN $2 AND $3 AND id = ANY($1)",
                &[&candidates, &low, &high],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();

        let mut rows: Vec<Row> = Vec::new();
        let mut refusals: (Vec<String>, Vec<i32>, Vec<i64>, Vec<String>) = Default::default();
        let mut tally = Tally::default();
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut resent = Vec::new();
        let mut touched: HashSet<(String, i32)> = HashSet::new();

        for b in batches {
            let key = (b.desk_id.clone(), i32_of(b.incarnation));
            let p = progress.get(&key).copied().unwrap_or_default();
            if b.last_seq <= p.last_seq {
                resent.push(outcomes.len());
                outcomes.push(AppendOutcome {
                    up_to_seq: b.last_seq,
                    rejected: Vec::new(),
                    stored: 0,
                    refused: 0,
                });
                continue;
            }
            if b.first_seq > p.last_seq.saturating_add(1) {
                tracing::warn!(desk_id = %b.desk_id, held = p.last_seq, first_seq = b.first_seq,
                    "sequence gap: the desk sent records the hub never held before");
            }
            let desk = desks.binary_search(&b.desk_id.as_str()).unwrap_or(0);
            let mut next = p;
            let mut rejected = Vec::new();
            let mut refuse = |seq: u64, reason: String, rejected: &mut Vec<(u64, String)>| {
                refusals.0.push(b.desk_id.clone());
                refusals.1.push(key.1);
                refusals.2.push(i64_of(seq));
                refusals.3.push(reason.clone());
                rejected.push((seq, reason));
            };
            for (seq, reason) in b.rejected.iter().filter(|(s, _)| *s > p.last_seq) {
                refuse(*seq, reason.clone(), &mut rejected);
                next.rejected += 1;
            }
            for (seq, record) in b.accepted.iter().filter(|(s, _)| *s > p.last_seq) {
                let id = record.id();
                // `held_ids` takes the group's own ids as they are kept.
                if !held_ids.insert(id) {
                    let reason = format!("{} {id}: already stored", domain::ALREADY_HELD);
                    refuse(*seq, reason, &mut rejected);
                    next.rejected += 1;
                    continue;
                }
                let wire = proto::WireRecord::new(record);
                let mut body = Vec::with_capacity(wire.encoded_len());
                wire.encode(&mut body);
                tally.add_values(cubes::record_values(record));
                rows.push(Row {
                    desk,
                    incarnation: key.1,
                    seq: i64_of(*seq),
                    id,
                    week: record.week().to_owned(),
                    body,
                });
                next.records += 1;
            }
            rejected.sort_unstable_by_key(|(s, _)| *s);
            next.last_seq = b.last_seq;
            outcomes.push(AppendOutcome {
                up_to_seq: b.last_seq,
                rejected,
                stored: next.records - p.records,
                refused: next.rejected - p.rejected,
            });
            progress.insert(key.clone(), next);
            touched.insert(key);
        }

        if !rows.is_empty() {
            let sink = tx
                .copy_in(
                    "COPY records (desk_id, incarnation, seq, id, week, body) FROM STDIN BINARY",
                )
                .await?;
            let writer = BinaryCopyInWriter::new(sink, &RECORD_COLUMNS);
            futures::pin_mut!(writer);
            for r in &rows {
                let desk = desks.get(r.desk).copied().unwrap_or_default();
                writer
                    .as_mut()
                    .write(&[&desk, &r.incarnation, &r.seq, &r.id, &r.week, &r.body])
                    .await?;
            }
            writer.finish().await?;
        }
        if !refusals.0.is_empty() {
            tx.execute(
                "INSERT INTO refusals (desk_id, incarnation, seq, reason)
                 SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[])
                 ON CONFLICT DO NOTHING",
                &[&refusals.0, &refusals.1, &refusals.2, &refusals.3],
            )
            .await?;
        }
        if !touched.is_empty() {
            let mut cols: (Vec<String>, Vec<i32>, Vec<i64>, Vec<i64>, Vec<i64>) =
                Default::default();
            for key in &touched {
                let p = progress.get(key).copied().unwrap_or_default();
                cols.0.push(key.0.clone());
                cols.1.push(key.1);
                cols.2.push(i64_of(p.last_seq));
                cols.3.push(i64_of(p.records));
                cols.4.push(i64_of(p.rejected));
            }
            tx.execute(
                "INSERT INTO streams (desk_id, incarnation, last_seq, records, rejected)
                 SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[])
                 ON CONFLICT (desk_id, incarnation) DO UPDATE SET
                     last_seq = EXCLUDED.last_seq, records = EXCLUDED.records,
                     rejected = EXCLUDED.rejected",
                &[&cols.0, &cols.1, &cols.2, &cols.3, &cols.4],
            )
            .await?;
        }
        copy_cells(&tx, tally.drain()).await?;
        fail::fail_point!("store-append", |_| Err(super::injected("store-append")));
        tx.commit().await?;
        Ok((outcomes, resent))
    }

    pub(super) fn read_progress(
        &self,
        desk_id: &str,
        incarnation: u32,
    ) -> Result<DeskProgress, StorageError> {
        let rows = self.query(
            "SELECT last_seq, records, rejected FROM streams
             WHERE desk_id = $1 AND incarnation = $2",
            &[&desk_id, &i32_of(incarnation)],
        )?;
        Ok(rows.first().map(progress_of).unwrap_or_default())
    }

    pub(super) fn read_rejections(
        &self,
        desk_id: &str,
        incarnation: u32,
        after: u64,
        up_to: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StorageError> {
        if up_to <= after {
            return Ok(Vec::new());
        }
        let rows = self.query(
            "SELECT seq, reason FROM refusals
             WHERE desk_id = $1 AND incarnation = $2 AND seq > $3 AND seq <= $4
             ORDER BY seq LIMIT $5",
            &[
                &desk_id,
                &i32_of(incarnation),
                &i64_of(after),
                &i64_of(up_to),
                &i64_of(limit as u64),
            ],
        )?;
        Ok(rows.iter().map(|r| (u64_of(r.get(0)), r.get(1))).collect())
    }

    pub(super) fn read_counts(&self, dims: &[&str]) -> Result<Vec<CountCell>, StorageError> {
        let idx = dims
            .iter()
            .map(|d| {
                COUNT_DIMENSIONS
                    .iter()
                    .position(|f| f == d)
                    .ok_or_else(|| StorageError::NotCounted(dims.join(",")))
            })
            .collect::<Result<Vec<usize>, _>>()?;
        let (cube, at) =
            cubes::cube_for(&idx).ok_or_else(|| StorageError::NotCounted(dims.join(",")))?;
        // Summed in the database over the dimension the table leaves out.
        let pick = |i: usize| if i == 0 { "a" } else { "b" };
        let columns: Vec<&str> = at.iter().map(|i| pick(*i)).collect();
        let mut select = String::from("week");
        for c in &columns {
            select.push_str(", ");
            select.push_str(c);
        }
        let sql = format!(
            "SELECT {select}, sum(n)::bigint FROM (
                 SELECT week, a, b, n FROM counts WHERE cube = $1
                 UNION ALL SELECT week, a, b, n FROM count_deltas WHERE cube = $1) c
             GROUP BY {select} ORDER BY {select}"
        );
        let rows = self.query(&sql, &[&(cube as i16)])?;
        Ok(rows
            .iter()
            .map(|r| {
                let values = (0..=columns.len()).map(|i| r.get::<_, String>(i)).collect();
                CountCell {
                    values,
                    count: u64_of(r.get(columns.len() + 1)),
                }
            })
            .collect())
    }

    pub(super) fn read_records(
        &self,
        desk_id: &str,
    ) -> Result<Vec<(u64, RawRecord)>, StorageError> {
        let rows = self.query(
            "SELECT seq, body FROM records WHERE desk_id = $1 ORDER BY incarnation, seq",
            &[&desk_id],
        )?;
        rows.iter()
            .map(|r| Ok((u64_of(r.get(0)), decode(r.get(1))?)))
            .collect()
    }

    /// Reads every record and recounts it; the same checks as the sled
    /// store's, on the tables.
    pub(super) fn verify_ingest(&self) -> Result<Verification, StorageError> {
        self.block(async {
            let mut client = self.client().await?;
            // One snapshot for every read below.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let mut v = Verification::default();
            let mut recount: HashMap<(usize, String), Cells> = HashMap::new();
            let mut tally = Tally::default();
            let stream = tx
                .query_raw(
                    "SELECT desk_id, id, body FROM records",
                    std::iter::empty::<i32>(),
                )
                .await?;
            futures::pin_mut!(stream);
            use futures::TryStreamExt;
            while let Some(row) = stream.try_next().await? {
                let desk: String = row.get(0);
                let id: uuid::Uuid = row.get(1);
                let raw = decode(row.get(2))?;
                v.records += 1;
                *v.per_desk.entry(desk.clone()).or_default() += 1;
                if uuid::Uuid::parse_str(&raw.id).ok() != Some(id) {
                    v.problems
                        .push(format!("desk {desk}: a record is stored under another id"));
                }
                tally.add(&raw);
                if tally.records() >= 100_000 {
                    fold(&mut recount, tally.drain());
                }
            }
            fold(&mut recount, tally.drain());
            fold(&mut recount, read_cells(&tx, "pruned_counts").await?);
            let pruned = tx.query_one("SELECT count(*) FROM pruned_ids", &[]).await?;
            v.pruned = u64_of(pruned.get(0));
            // Both tables' keys are unique, and no id is in both: `append`
            // checks both, and pruning moves an id from one to the other.
            let both = tx
                .query_one(
                    "SELECT count(*) FROM records r JOIN pruned_ids p USING (id)",
                    &[],
                )
                .await?;
            if u64_of(both.get(0)) > 0 {
                v.problems.push(format!(
                    "{} record ids are both held and pruned",
                    u64_of(both.get(0))
                ));
            }
            v.ids = v.records + v.pruned;
            let pruned_streams: i64 = tx
                .query_one("SELECT coalesce(sum(pruned), 0)::bigint FROM streams", &[])
                .await?
                .get(0);
            if u64_of(pruned_streams) != v.pruned {
                v.problems.push(format!(
                    "{} records pruned, and the desks' pruned numbers add up to {pruned_streams}",
                    v.pruned
                ));
            }
            let mut stored = read_cells(&tx, "counts").await?;
            fold(&mut stored, read_cells(&tx, "count_deltas").await?);
            v.counted = stored
                .iter()
                .filter(|((cube, _), _)| *cube == 0)
                .map(|(_, cells)| cells.values().sum::<u64>())
                .sum();
            if stored != recount {
                v.problems
                    .push("counts differ from a recount of the records".into());
            }
            let pruned_counted: u64 = read_cells(&tx, "pruned_counts")
                .await?
                .iter()
                .filter(|((cube, _), _)| *cube == 0)
                .map(|(_, cells)| cells.values().sum::<u64>())
                .sum();
            if pruned_counted != v.pruned {
                v.problems.push(format!(
                    "{} records pruned, and the counts kept of them hold {pruned_counted}",
                    v.pruned
                ));
            }
            v.pruned_before = tx
                .query_opt("SELECT value FROM meta WHERE key = 'pruned_before'", &[])
                .await?
                .map(|r| r.get(0));
            // Each desk's progress against what it holds, kept or pruned.
            let rows = tx
                .query(
                    "SELECT s.desk_id, sum(s.records)::bigint,
                            (SELECT count(*) FROM records r WHERE r.desk_id = s.desk_id)
                              + sum(s.pruned)::bigint
                     FROM streams s GROUP BY s.desk_id ORDER BY s.desk_id",
                    &[],
                )
                .await?;
            for r in rows {
                let (desk, said, found): (String, i64, i64) = (r.get(0), r.get(1), r.get(2));
                if said != found {
                    v.problems.push(format!(
                        "desk {desk}: progress says {said} records, found {found} kept or pruned"
                    ));
                }
            }
            tx.commit().await?;
            Ok(v)
        })
    }

    /// Deletes the records of the weeks before `before_week` in one
    /// transaction, keeping their ids (still refused as held), their cells
    /// (so `verify` still adds up) and how many each stream lost.
    pub(super) fn prune_weeks(&self, before_week: &str) -> Result<u64, StorageError> {
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let mut tally = Tally::default();
            let mut lost: HashMap<(String, i32), i64> = HashMap::new();
            let mut ids: Vec<uuid::Uuid> = Vec::new();
            {
                // The rows the delete itself removed, so that a record a
                // group commit adds meanwhile is either pruned and tallied
                // here or left for the next run, never pruned uncounted.
                let rows = tx
                    .query_raw(
                        "DELETE FROM records WHERE week < $1
                         RETURNING desk_id, incarnation, id, body",
                        [before_week],
                    )
                    .await?;
                futures::pin_mut!(rows);
                use futures::TryStreamExt;
                while let Some(row) = rows.try_next().await? {
                    *lost.entry((row.get(0), row.get(1))).or_default() += 1;
                    ids.push(row.get(2));
                    tally.add(&decode(row.get(3))?);
                }
            }
            tx.execute(
                "INSERT INTO pruned_ids (id) SELECT * FROM unnest($1::uuid[])",
                &[&ids],
            )
            .await?;
            let (desks, (incs, ns)): (Vec<String>, (Vec<i32>, Vec<i64>)) =
                lost.into_iter().map(|((d, i), n)| (d, (i, n))).unzip();
            tx.execute(
                "UPDATE streams s SET pruned = s.pruned + l.n
                 FROM unnest($1::text[], $2::int[], $3::bigint[]) AS l(desk_id, incarnation, n)
                 WHERE s.desk_id = l.desk_id AND s.incarnation = l.incarnation",
                &[&desks, &incs, &ns],
            )
            .await?;
            add_cells(&tx, "pruned_counts", tally.drain()).await?;
            if !ids.is_empty() {
                // What `verify` tells, apart from `records_pruned`, which
                // notes a run over every record whether or not it pruned
                // (as on sled).
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('pruned_before', $1)
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    &[&before_week],
                )
                .await?;
            }
            fail::fail_point!("retention-prune", |_| Err(super::injected(
                "retention-prune"
            )));
            tx.commit().await?;
            Ok(ids.len() as u64)
        })
    }
}

async fn read_progress_of(
    tx: &tokio_postgres::Transaction<'_>,
    streams: &[(String, i32)],
) -> Result<HashMap<(String, i32), DeskProgress>, StorageError> {
    let desks: Vec<&str> = streams.iter().map(|s| s.0.as_str()).collect();
    let incs: Vec<i32> = streams.iter().map(|s| s.1).collect();
    let rows = tx
        .query(
            "SELECT s.desk_id, s.incarnation, s.last_seq, s.records, s.rejected
             FROM streams s JOIN unnest($1::text[], $2::int[]) AS w(desk_id, incarnation)
             USING (desk_id, incarnation)",
            &[&desks, &incs],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                (r.get::<_, String>(0), r.get::<_, i32>(1)),
                DeskProgress {
                    last_seq: u64_of(r.get(2)),
                    records: u64_of(r.get(3)),
                    rejected: u64_of(r.get(4)),
                },
            )
        })
        .collect())
}

fn progress_of(r: &tokio_postgres::Row) -> DeskProgress {
    DeskProgress {
        last_seq: u64_of(r.get(0)),
        records: u64_of(r.get(1)),
        rejected: u64_of(r.get(2)),
    }
}

/// A group's cells, appended to `count_deltas` with binary `COPY`.
async fn copy_cells(
    tx: &tokio_postgres::Transaction<'_>,
    cells: HashMap<(usize, String), Cells>,
) -> Result<(), StorageError> {
    if cells.is_empty() {
        return Ok(());
    }
    let sink = tx
        .copy_in("COPY count_deltas (cube, week, a, b, n) FROM STDIN BINARY")
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[Type::INT2, Type::TEXT, Type::TEXT, Type::TEXT, Type::INT8],
    );
    futures::pin_mut!(writer);
    for ((cube, week), cells) in cells {
        let cube = cube as i16;
        for ((a, b), n) in cells {
            writer
                .as_mut()
                .write(&[&cube, &week, &a, &b, &i64_of(n)])
                .await?;
        }
    }
    writer.finish().await?;
    Ok(())
}

/// Moves every committed delta into `counts`, in one statement: the rows
/// a concurrent group commit adds meanwhile are not in this statement's
/// snapshot and stay for the next merge. One replica at a time (the
/// advisory lock), so that two merges never lock cells against each other.
pub(super) async fn merge_deltas(
    client: &mut deadpool_postgres::Object,
) -> Result<u64, StorageError> {
    let tx = client.transaction().await?;
    let locked: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock(1919)", &[])
        .await?
        .get(0);
    if !locked {
        return Ok(0);
    }
    let merged = tx
        .execute(
            "WITH moved AS (DELETE FROM count_deltas RETURNING cube, week, a, b, n)
             INSERT INTO counts (cube, week, a, b, n)
             SELECT cube, week, a, b, sum(n)::bigint FROM moved
             GROUP BY cube, week, a, b ORDER BY cube, week, a, b
             ON CONFLICT (cube, week, a, b) DO UPDATE SET n = counts.n + EXCLUDED.n",
            &[],
        )
        .await?;
    tx.commit().await?;
    Ok(merged)
}

/// Adds cells to `table` (`counts` or `pruned_counts`) in one statement,
/// in key order, so that two replicas' commits lock shared cells in the
/// same order.
async fn add_cells(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    cells: HashMap<(usize, String), Cells>,
) -> Result<(), StorageError> {
    let mut sorted: BTreeMap<(i16, String, String, String), i64> = BTreeMap::new();
    for ((cube, week), cells) in cells {
        for ((a, b), n) in cells {
            *sorted.entry((cube as i16, week.clone(), a, b)).or_default() += i64_of(n);
        }
    }
    if sorted.is_empty() {
        return Ok(());
    }
    let n = sorted.len();
    let (mut cube, mut week, mut a, mut b, mut count) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for ((c, w, va, vb), k) in sorted {
        cube.push(c);
        week.push(w);
        a.push(va);
        b.push(vb);
        count.push(k);
    }
    let sql = format!(
        "INSERT INTO {table} (cube, week, a, b, n)
         SELECT * FROM unnest($1::smallint[], $2::text[], $3::text[], $4::text[], $5::bigint[])
         ON CONFLICT (cube, week, a, b) DO UPDATE SET n = {table}.n + EXCLUDED.n"
    );
    tx.execute(&sql, &[&cube, &week, &a, &b, &count]).await?;
    Ok(())
}

async fn read_cells(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
) -> Result<HashMap<(usize, String), Cells>, StorageError> {
    let rows = tx
        .query(&format!("SELECT cube, week, a, b, n FROM {table}"), &[])
        .await?;
    let mut out: HashMap<(usize, String), Cells> = HashMap::new();
    for r in rows {
        let cube: i16 = r.get(0);
        // `count_deltas` may hold one cell several times.
        *out.entry((cube as usize, r.get(1)))
            .or_default()
            .entry((r.get(2), r.get(3)))
            .or_default() += u64_of(r.get(4));
    }
    Ok(out)
}

fn fold(into: &mut HashMap<(usize, String), Cells>, part: HashMap<(usize, String), Cells>) {
    for (at, cells) in part {
        let slot = into.entry(at).or_default();
        for (values, n) in cells {
            *slot.entry(values).or_default() += n;
        }
    }
}

fn decode(body: &[u8]) -> Result<RawRecord, StorageError> {
    proto::AnonymisedRecord::decode(body)
        .map(RawRecord::from)
        .map_err(|e| StorageError::Corrupt(format!("record does not decode: {e}")))
}
