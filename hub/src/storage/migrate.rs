//! `hub migrate --from-sled DIR --to postgres://…`: a Comune that outgrows
//! one hub moves its whole state from the sled store into an empty
//! PostgreSQL database, in one transaction, so that a failed migration
//! leaves the database as empty as it found it and can simply be run
//! again. Records keep their desk, incarnation, sequence and id, so the
//! desks' resends after the move are recognised; the logs keep their
//! versions and epoch, so the desks take nothing for a restore. Dashboard
//! sessions are not carried: coordinators sign in again.

use super::cubes::{self, Cells};
use super::postgres::PostgresStore;
use super::sled::{Pruned, SledStore};
use super::{AuditLog, Logs, ReportInbox, SearchMissLog, StorageError, Store, COUNT_DIMENSIONS};
use std::collections::HashMap;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Transaction;

/// What was moved.
#[derive(Debug, Default, serde::Serialize)]
pub struct Migrated {
    pub desks: u64,
    pub records: u64,
    pub refusals: u64,
    pub pruned: u64,
    pub log_entries: u64,
    pub publications: u64,
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Copies everything `from` holds into `to`, which must hold nothing yet.
/// `progress` is told the records copied so far.
pub fn sled_to_postgres(
    from: &SledStore,
    to: &PostgresStore,
    progress: &mut dyn FnMut(u64),
) -> Result<Migrated, StorageError> {
    to.block(async {
        let mut client = to.client().await?;
        let tx = client.transaction().await?;
        let held: i64 = tx
            .query_one(
                "SELECT (SELECT count(*) FROM desks) + (SELECT count(*) FROM records)
                      + (SELECT count(*) FROM count_deltas)
                      + (SELECT count(*) FROM audit)",
                &[],
            )
            .await?
            .get(0);
        if held > 0 {
            return Err(StorageError::Database(
                "the database already holds a hub's state; migrate into an empty database \
                 (il database contiene già i dati di un hub: usare un database vuoto)"
                    .into(),
            ));
        }
        let mut done = Migrated::default();
        // `hub init` on the target seeded the catalogue and cards; the
        // source's logs replace them, versions and all.
        tx.execute("DELETE FROM logs", &[]).await?;
        desks(from, &tx, &mut done).await?;
        records(from, &tx, &mut done, progress).await?;
        counts(from, &tx).await?;
        logs(from, &tx, &mut done).await?;
        side(from, &tx, &mut done).await?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('logs_epoch', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&from.logs_epoch()?],
        )
        .await?;
        if let Some(week) = from.records_pruned()? {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('records_pruned', $1)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&week],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    })
}

async fn desks(
    from: &SledStore,
    tx: &Transaction<'_>,
    done: &mut Migrated,
) -> Result<(), StorageError> {
    for mut d in from.desks()? {
        let seen = d.last_seen.take();
        tx.execute(
            "INSERT INTO desks (desk_id, entry) VALUES ($1, $2)",
            &[&d.desk_id, &json(&d)?],
        )
        .await?;
        if let Some(at) = seen {
            tx.execute(
                "INSERT INTO desk_seen (desk_id, at) VALUES ($1, $2)",
                &[&d.desk_id, &at],
            )
            .await?;
        }
        let incarnations = from.incarnations(&d.desk_id)?;
        if !incarnations.is_empty() {
            tx.execute(
                "INSERT INTO incarnations (desk_id, list) VALUES ($1, $2)",
                &[&d.desk_id, &json(&incarnations)?],
            )
            .await?;
        }
        tx.execute(
            "INSERT INTO push_state (desk_id, state) VALUES ($1, $2)",
            &[&d.desk_id, &json(&from.push_state(&d.desk_id)?)?],
        )
        .await?;
        done.desks += 1;
    }
    Ok(())
}

async fn records(
    from: &SledStore,
    tx: &Transaction<'_>,
    done: &mut Migrated,
    progress: &mut dyn FnMut(u64),
) -> Result<(), StorageError> {
    let Pruned {
        ids,
        cells,
        per_stream,
    } = from.export_pruned()?;
    let sink = tx
        .copy_in("COPY records (desk_id, incarnation, seq, id, week, body) FROM STDIN BINARY")
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::TEXT,
            Type::INT4,
            Type::INT8,
            Type::UUID,
            Type::TEXT,
            Type::BYTEA,
        ],
    );
    futures::pin_mut!(writer);
    let streams = from.export_streams()?;
    for s in &streams {
        let incarnation = i32::try_from(s.incarnation).unwrap_or(i32::MAX);
        // sled is read on this thread between the copy's writes.
        let mut batch = Vec::new();
        from.export_records(&s.desk_id, s.incarnation, |r| {
            batch.push(r);
            Ok(())
        })?;
        for r in batch {
            writer
                .as_mut()
                .write(&[
                    &s.desk_id as &(dyn ToSql + Sync),
                    &incarnation,
                    &i64_of(r.seq),
                    &r.id,
                    &r.week,
                    &r.body,
                ])
                .await?;
            done.records += 1;
            if done.records.is_multiple_of(50_000) {
                progress(done.records);
            }
        }
    }
    writer.finish().await?;
    progress(done.records);
    for s in &streams {
        let stream = if s.incarnation == 0 {
            s.desk_id.clone()
        } else {
            format!("{}#{}", s.desk_id, s.incarnation)
        };
        tx.execute(
            "INSERT INTO streams (desk_id, incarnation, last_seq, records, rejected, pruned)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &s.desk_id,
                &i32::try_from(s.incarnation).unwrap_or(i32::MAX),
                &i64_of(s.progress.last_seq),
                &i64_of(s.progress.records),
                &i64_of(s.progress.rejected),
                &i64_of(per_stream.get(&stream).copied().unwrap_or(0)),
            ],
        )
        .await?;
    }
    for (desk, incarnation, seq, reason) in from.export_refusals()? {
        tx.execute(
            "INSERT INTO refusals (desk_id, incarnation, seq, reason) VALUES ($1, $2, $3, $4)",
            &[
                &desk,
                &i32::try_from(incarnation).unwrap_or(i32::MAX),
                &i64_of(seq),
                &reason,
            ],
        )
        .await?;
        done.refusals += 1;
    }
    let ids: Vec<uuid::Uuid> = ids.into_iter().map(uuid::Uuid::from_u128).collect();
    done.pruned = ids.len() as u64;
    tx.execute(
        "INSERT INTO pruned_ids (id) SELECT * FROM unnest($1::uuid[])",
        &[&ids],
    )
    .await?;
    insert_cells(tx, "pruned_counts", cells).await
}

/// The counts as the source serves them, cube by cube: each cube is the
/// table over its two dimensions.
async fn counts(from: &SledStore, tx: &Transaction<'_>) -> Result<(), StorageError> {
    let mut all: HashMap<(usize, String), Cells> = HashMap::new();
    for c in 0..cubes::CUBES {
        let (a, b) = cubes::pair(c);
        let dims = [COUNT_DIMENSIONS[a], COUNT_DIMENSIONS[b]];
        for cell in from.counts(&dims)? {
            if let [week, va, vb] = cell.values.as_slice() {
                *all.entry((c, week.clone()))
                    .or_default()
                    .entry((va.clone(), vb.clone()))
                    .or_default() += cell.count;
            }
        }
    }
    insert_cells(tx, "counts", all).await
}

async fn insert_cells(
    tx: &Transaction<'_>,
    table: &str,
    cells: HashMap<(usize, String), Cells>,
) -> Result<(), StorageError> {
    let sink = tx
        .copy_in(&format!(
            "COPY {table} (cube, week, a, b, n) FROM STDIN BINARY"
        ))
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[Type::INT2, Type::TEXT, Type::TEXT, Type::TEXT, Type::INT8],
    );
    futures::pin_mut!(writer);
    for ((cube, week), cells) in cells {
        let cube = i16::try_from(cube).unwrap_or(i16::MAX);
        for ((a, b), n) in cells {
            writer
                .as_mut()
                .write(&[&cube as &(dyn ToSql + Sync), &week, &a, &b, &i64_of(n)])
                .await?;
        }
    }
    writer.finish().await?;
    Ok(())
}

async fn logs(
    from: &SledStore,
    tx: &Transaction<'_>,
    done: &mut Migrated,
) -> Result<(), StorageError> {
    let mut entries: Vec<(&str, u64, Vec<u8>)> = Vec::new();
    for g in from.guidance_since(0)? {
        entries.push(("guidance", g.version, super::entries::encode(g)));
    }
    for t in from.templates_since(0)? {
        entries.push(("templates", t.version, super::entries::encode(t)));
    }
    for c in from.catalogue_since(0)? {
        entries.push(("catalogue", c.version, super::entries::encode(c)));
    }
    for card in from.cards_since(0)? {
        entries.push(("cards", card.version, super::entries::encode(card)));
    }
    for (log, version, body) in entries {
        tx.execute(
            "INSERT INTO logs (log, version, body) VALUES ($1, $2, $3)",
            &[&log, &i64_of(version), &body],
        )
        .await?;
        done.log_entries += 1;
    }
    Ok(())
}

/// Proposals, minor edits, reports, the audit log, search misses and the
/// publication register.
async fn side(
    from: &SledStore,
    tx: &Transaction<'_>,
    done: &mut Migrated,
) -> Result<(), StorageError> {
    for p in from.proposals()? {
        let body = super::entries::encode(p.clone());
        tx.execute(
            "INSERT INTO proposals (id, desk_id, body) VALUES ($1, $2, $3)",
            &[&p.id, &p.desk_id, &body],
        )
        .await?;
    }
    for (id, desk) in from.export_pruned_proposals()? {
        tx.execute(
            "INSERT INTO pruned_proposals (id, desk_id) VALUES ($1, $2)",
            &[&id, &desk],
        )
        .await?;
    }
    for e in from.minor_edits()? {
        tx.execute(
            "INSERT INTO minor_edits (version, edit) VALUES ($1, $2)",
            &[&i64_of(e.version), &json(&e)?],
        )
        .await?;
    }
    for r in from.reports()? {
        tx.execute(
            "INSERT INTO reports (id, report) VALUES ($1, $2)",
            &[&r.id, &json(&r)?],
        )
        .await?;
    }
    let mut audit = from.audit_recent(usize::MAX)?;
    audit.reverse();
    for e in &audit {
        tx.execute(
            "INSERT INTO audit (seq, entry) VALUES ($1, $2)",
            &[&i64_of(e.seq), &json(e)?],
        )
        .await?;
    }
    tx.execute(
        "SELECT setval(pg_get_serial_sequence('audit', 'seq'), greatest((SELECT max(seq) FROM audit), 1))",
        &[],
    )
    .await?;
    for m in from.miss_counts()? {
        tx.execute(
            "INSERT INTO search_misses (week, language, query, n) VALUES ($1, $2, $3, $4)",
            &[&m.week, &m.language, &m.query, &i64_of(m.count)],
        )
        .await?;
    }
    for p in from.export_publications()? {
        tx.execute(
            "INSERT INTO publications (dims, period, publication) VALUES ($1, $2, $3)",
            &[&p.dims.join(","), &p.period, &json(&p)?],
        )
        .await?;
        done.publications += 1;
    }
    for (dims, year, detail) in from.export_release_details()? {
        tx.execute(
            "INSERT INTO release_details (dims, year, detail) VALUES ($1, $2, $3)",
            &[&dims.join(","), &year, &detail],
        )
        .await?;
    }
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, StorageError> {
    serde_json::to_value(value).map_err(|e| StorageError::Corrupt(e.to_string()))
}
