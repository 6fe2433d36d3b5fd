//! What moving a grown sled hub to PostgreSQL costs (issue 19): N records
//! through the real ingest path into a sled hub, the hub stopped, then
//! `hub migrate --from-sled` into a fresh database of a server the bench
//! starts, timed; `hub verify` on both sides must agree (the command
//! refuses to switch the hub otherwise, and the figures are read back from
//! its report).

use super::ingest::start_desks;
use crate::desks::DeskRoot;
use crate::hub_proc::{Binaries, Hub};
use crate::report::Migration;
use crate::Sizes;
use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub(crate) async fn run(bins: &Binaries, dir: &Path, sizes: &Sizes) -> anyhow::Result<Migration> {
    let mut hub = Hub::init(bins, dir)?;
    let bundles = hub.enrol("migrate", sizes.ingest_desks)?;
    hub.start().await?;
    let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
    let mut desks = start_desks(&root, &bundles, &mut hub).await?;
    crate::desks::visit_pool();
    super::history::fill(&mut hub, &desks, sizes.history_records).await?;
    for d in &mut desks {
        d.stop().await;
    }
    hub.terminate().context("the hub did not stop cleanly")?;

    let pg = crate::pg::Pg::start(dir)?;
    let database = pgtest::Database::on(pg.server())?;
    let password = dir.join("pg-password");
    let started = Instant::now();
    let out = Command::new(&bins.hub)
        .args(["migrate", "--from-sled"])
        .arg(&hub.data)
        .args(["--to", &database.url(), "--store-password-file"])
        .arg(&password)
        .arg("--json")
        .env("RUST_LOG", "warn")
        .output()
        .context("cannot run hub migrate")?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "hub migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let figure = |side: &str, key: &str| report[side][key].as_u64().unwrap_or(0);
    let agree = ["records", "counted", "ids", "pruned"]
        .iter()
        .all(|k| figure("sled", k) == figure("postgres", k))
        && report["sled"]["per_desk"] == report["postgres"]["per_desk"]
        && report["postgres"]["problems"] == serde_json::json!([]);
    Ok(Migration {
        records: figure("postgres", "records"),
        seconds,
        verified: agree,
        postgres_mib: pg.memory_mib(),
    })
}
