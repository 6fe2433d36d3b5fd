//! The PostgreSQL side of the bench (issue 19): with `--store postgres`
//! every hub of the run keeps its state in a PostgreSQL server the bench
//! starts (Debian's `initdb` and `postgres`, as the tests do), ingest is
//! quoted beside a raw binary `COPY` of the same rows into the same server
//! in the same run, and the server's memory is reported beside the hub's.

use crate::desks::RecordMaker;
use crate::Sizes;
use anyhow::Context;
use prost::Message;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// Where the hubs of this run keep their state, when not in sled: the
/// URL without the password, and the 0600 file holding it.
pub(crate) struct StoreSetting {
    pub url: String,
    pub password_file: PathBuf,
}

static STORE: OnceLock<StoreSetting> = OnceLock::new();

/// The store every `hub init` of this run is given; `None`: sled.
pub(crate) fn store() -> Option<&'static StoreSetting> {
    STORE.get()
}

/// The run's server, and a fresh database per hub.
pub(crate) struct Pg {
    server: pgtest::Server,
    dir: PathBuf,
}

impl Pg {
    pub(crate) fn start(dir: &Path) -> anyhow::Result<Self> {
        let server = pgtest::Server::start().context("cannot start PostgreSQL for the bench")?;
        let password_file = dir.join("pg-password");
        runtime::secret::write_secret(&password_file, pgtest::PASSWORD.as_bytes())?;
        Ok(Self {
            server,
            dir: dir.to_path_buf(),
        })
    }

    pub(crate) fn server(&self) -> &pgtest::Server {
        &self.server
    }

    /// A fresh database, which the next `hub init` uses.
    pub(crate) fn fresh_database(&self) -> anyhow::Result<pgtest::Database> {
        let db = pgtest::Database::on(&self.server)?;
        let _ = STORE.set(StoreSetting {
            url: db.url(),
            password_file: self.dir.join("pg-password"),
        });
        Ok(db)
    }

    /// The server's processes' proportional memory (PSS, so that shared
    /// buffers are counted once), in MiB.
    pub(crate) fn memory_mib(&self) -> f64 {
        let mut kib = 0u64;
        for pid in self.server.pids() {
            let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
                continue;
            };
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("Pss:") {
                    kib += v
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .unwrap_or(0);
                }
            }
        }
        kib as f64 / 1024.0
    }
}

/// The reference for ingest on PostgreSQL: the same number of records,
/// encoded as the hub stores them, copied with binary `COPY` into a table
/// shaped as the hub's `records` (its keys and id index included), 1,000
/// rows per transaction as a group commit holds.
pub(crate) async fn raw_copy(pg: &Pg, sizes: &Sizes) -> anyhow::Result<f64> {
    const BATCH: u64 = 1_000;
    let db = pgtest::Database::on(&pg.server)?;
    let (mut client, connection) =
        tokio_postgres::connect(&db.url_with_password(), tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    client
        .batch_execute(
            "CREATE TABLE records (
                 desk_id text NOT NULL, incarnation integer NOT NULL, seq bigint NOT NULL,
                 id uuid NOT NULL, week text NOT NULL, body bytea NOT NULL,
                 PRIMARY KEY (desk_id, incarnation, seq));
             CREATE UNIQUE INDEX records_id ON records (id);
             CREATE INDEX records_week ON records (week);",
        )
        .await?;
    let mut maker = RecordMaker::new();
    let desks = sizes.ingest_desks as u64;
    let total = sizes.ingest_records;
    // The rows are made before the clock starts, as ingest's visits are.
    let mut rows = Vec::with_capacity(total as usize);
    for i in 0..total {
        let desk = format!("bench-{}", i % desks);
        let record = maker.make(&desk)?;
        let body = proto::AnonymisedRecord::from(record.to_raw()).encode_to_vec();
        rows.push((
            desk,
            (i / desks + 1) as i64,
            record.id(),
            record.week().to_owned(),
            body,
        ));
    }
    let bar = crate::progress::bar(total, "raw COPY");
    let start = Instant::now();
    for chunk in rows.chunks(BATCH as usize) {
        let tx = client.transaction().await?;
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
        for (desk, seq, id, week, body) in chunk {
            writer
                .as_mut()
                .write(&[desk as &(dyn ToSql + Sync), &0i32, seq, id, week, body])
                .await?;
        }
        writer.finish().await?;
        tx.commit().await?;
        bar.inc(chunk.len() as u64);
    }
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    drop(client);
    let _ = driver.await;
    Ok(total as f64 / secs)
}
