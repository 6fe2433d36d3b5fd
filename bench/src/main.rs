//! `bench`: the load generator of issue 6. It runs the real `hub` binary as a
//! process of its own, so that its memory is measured alone, and simulates
//! the desks in this process with the desk agent's own outbox and sync code
//! over real gRPC, mutual TLS and sled.

mod desks;
mod hub_proc;
mod pg;
mod progress;
mod report;
mod scenarios;
mod shard;
mod stats;

use clap::{Parser, ValueEnum};
use report::Results;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    All,
    RawSled,
    Ingest,
    Fanout,
    Connections,
    Catchup,
    Intake,
    Handout,
    Search,
    SigninFlood,
    Dashboard,
    DeskFlood,
    History,
    /// A sled hub filled with --records, moved to PostgreSQL by `hub migrate`.
    Migrate,
}

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Rete Sportelli load generator: the real hub binary against simulated desks"
)]
struct Cli {
    /// Which scenario to run; `all` runs every built one in turn.
    #[arg(value_enum, default_value = "all")]
    scenario: Scenario,
    /// Desks for ingest, fanout or connections (defaults: 100, 1,000, 10,000).
    #[arg(long)]
    desks: Option<usize>,
    /// Records for raw-sled/ingest, catchup or history (defaults: 1,000,000 each).
    #[arg(long)]
    records: Option<u64>,
    /// Print one JSON object keyed by scenario instead of a table.
    #[arg(long)]
    json: bool,
    /// Small sizes, so that CI proves the generator still works.
    #[arg(long)]
    quick: bool,
    /// Folder for the hub's and the desks' data (a fresh subfolder is made
    /// and removed); use the filesystem a real hub would run on.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Folder for the simulated desks' outboxes (default: beside the hub's
    /// data). Another disk, or tmpfs, keeps the desks' own flushes off the
    /// hub's disk, as on a real network where every desk has its own.
    #[arg(long)]
    desk_dir: Option<PathBuf>,
    /// Most fan-out desks one process holds (default: 250, or fewer if the
    /// open-file limit allows fewer); the rest run in desk shards.
    #[arg(long)]
    desks_per_process: Option<usize>,
    /// Seconds of RecordVisit load in the intake scenario.
    #[arg(long)]
    intake_secs: Option<u64>,
    /// Where the hub keeps its state: `sled` (the default) or `postgres`,
    /// a server the bench starts; `postgres` measures ingest, beside a
    /// raw COPY of the same rows, and fan-out.
    #[arg(long, value_enum, default_value = "sled")]
    store: StoreKind,
    /// Hub replicas on the store (1 or 2; 2 needs `--store postgres`).
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// Run as a shard of simulated desks for a parent bench (`shard.rs`).
    #[arg(long = "desk-shard", hide = true)]
    desk_shard: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Sled,
    Postgres,
}

/// Sizes after applying --quick and the explicit flags.
#[derive(Debug, Clone)]
pub(crate) struct Sizes {
    pub ingest_desks: usize,
    pub ingest_records: u64,
    pub fanout_desks: usize,
    /// Most fan-out desks one process holds; the rest run in desk shards
    /// (`shard.rs`). `None`: as many as the open-file limit allows.
    pub fanout_desks_per_process: Option<usize>,
    pub connections: usize,
    pub catchup_records: u64,
    /// Records the history scenario fills the store with.
    pub history_records: u64,
    /// Records the dashboard scenario fills the store with before it
    /// measures (`--records` with `dashboard`; none by default).
    pub dashboard_records: u64,
    pub intake_rate: u32,
    /// Handouts rendered per language in the handout scenario.
    pub handouts: usize,
    /// Passes over the labelled query set in the search scenario.
    pub search_rounds: usize,
    pub intake_secs: u64,
    /// Length of each measured phase of the overload scenarios.
    pub phase: std::time::Duration,
    pub flood_clients: usize,
    pub page_views_per_s: u32,
    pub desk_dir: Option<PathBuf>,
    pub replicas: usize,
}

impl Sizes {
    fn from_cli(cli: &Cli) -> Self {
        let mut s = if cli.quick {
            Sizes {
                ingest_desks: 10,
                ingest_records: 20_000,
                fanout_desks: 20,
                // So that CI runs the desk shards too.
                fanout_desks_per_process: Some(10),
                connections: 200,
                catchup_records: 20_000,
                history_records: 20_000,
                dashboard_records: 0,
                intake_rate: 200,
                intake_secs: 3,
                handouts: 3,
                search_rounds: 1,
                phase: std::time::Duration::from_secs(2),
                flood_clients: 100,
                page_views_per_s: 20,
                desk_dir: cli.desk_dir.clone(),
                replicas: 1,
            }
        } else {
            Sizes {
                ingest_desks: 100,
                ingest_records: 1_000_000,
                fanout_desks: 1_000,
                fanout_desks_per_process: None,
                connections: 10_000,
                catchup_records: 1_000_000,
                history_records: 1_000_000,
                dashboard_records: 0,
                intake_rate: 200,
                intake_secs: 30,
                handouts: 50,
                search_rounds: 10,
                phase: std::time::Duration::from_secs(10),
                flood_clients: 1_000,
                page_views_per_s: 20,
                desk_dir: cli.desk_dir.clone(),
                replicas: 1,
            }
        };
        // --desks and --records apply to the scenario named; under `all`
        // they apply to every scenario they make sense for.
        if let Some(d) = cli.desks {
            match cli.scenario {
                Scenario::Connections => s.connections = d,
                Scenario::Fanout => s.fanout_desks = d,
                Scenario::Ingest
                | Scenario::RawSled
                | Scenario::SigninFlood
                | Scenario::Dashboard
                | Scenario::DeskFlood
                | Scenario::History
                | Scenario::Migrate => s.ingest_desks = d,
                _ => {
                    s.ingest_desks = d;
                    s.fanout_desks = d;
                    s.connections = d;
                }
            }
        }
        if let Some(r) = cli.records {
            match cli.scenario {
                Scenario::Catchup => s.catchup_records = r,
                Scenario::Ingest | Scenario::RawSled => s.ingest_records = r,
                Scenario::History | Scenario::Migrate => s.history_records = r,
                Scenario::Dashboard => s.dashboard_records = r,
                _ => {
                    s.ingest_records = r;
                    s.catchup_records = r;
                    s.history_records = r;
                }
            }
        }
        if let Some(n) = cli.desks_per_process {
            s.fanout_desks_per_process = Some(n.max(1));
        }
        if let Some(secs) = cli.intake_secs {
            s.intake_secs = secs;
        }
        s.replicas = cli.replicas;
        s.ingest_desks = s.ingest_desks.max(1);
        s.fanout_desks = s.fanout_desks.max(1);
        s.ingest_records = s.ingest_records.max(s.ingest_desks as u64);
        s
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let sizes = Sizes::from_cli(&cli);
    if let Some(plan) = &cli.desk_shard {
        raise_fd_limit(0);
        return shard::serve(plan).await;
    }
    raise_fd_limit(sizes.connections);
    let bins = hub_proc::Binaries::locate()?;
    let base = cli.dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)?;
    let work = tempfile::Builder::new()
        .prefix("rete-bench-")
        .tempdir_in(&base)?;
    eprintln!("bench: data in {}", work.path().display());

    let pg = match cli.store {
        StoreKind::Postgres => {
            if !matches!(cli.scenario, Scenario::Ingest | Scenario::Fanout) {
                anyhow::bail!("--store postgres measures ingest and fan-out only: bench ingest --store postgres");
            }
            let pg = pg::Pg::start(work.path())?;
            let _database = pg.fresh_database()?;
            Some((pg, _database))
        }
        StoreKind::Sled => None,
    };
    if !(1..=2).contains(&cli.replicas)
        || (cli.replicas == 2 && (pg.is_none() || !matches!(cli.scenario, Scenario::Ingest)))
    {
        anyhow::bail!(
            "--replicas is 1, or 2 with bench ingest --store postgres (replicas share one database)"
        );
    }
    let wanted: Vec<Scenario> = match cli.scenario {
        Scenario::All => vec![
            Scenario::RawSled,
            Scenario::Ingest,
            Scenario::Fanout,
            Scenario::Connections,
            Scenario::Catchup,
            Scenario::Intake,
            Scenario::Handout,
            Scenario::Search,
            Scenario::SigninFlood,
            Scenario::Dashboard,
            Scenario::DeskFlood,
            Scenario::History,
            Scenario::Migrate,
        ],
        // The ratio needs raw sled measured in the same run, on the same disk.
        Scenario::Ingest => vec![Scenario::RawSled, Scenario::Ingest],
        one => vec![one],
    };
    let mut results = Results::default();
    for scenario in wanted {
        let dir = work.path().join(format!("{scenario:?}").to_lowercase());
        std::fs::create_dir_all(&dir)?;
        match scenario {
            Scenario::RawSled => match &pg {
                // The reference on PostgreSQL is COPY into the same server.
                Some((pg, _)) => {
                    results.raw_copy = Some(report::RawCopy {
                        records_per_s: pg::raw_copy(pg, &sizes).await?,
                    });
                }
                None => results.raw_sled = Some(scenarios::raw_sled::run(&dir, &sizes)?),
            },
            Scenario::Ingest => {
                let raw = results
                    .raw_sled
                    .as_ref()
                    .map(|r| r.records_per_s)
                    .or(results.raw_copy.as_ref().map(|r| r.records_per_s));
                let pg = pg.as_ref().map(|(pg, _)| pg);
                results.ingest = Some(scenarios::ingest::run(&bins, &dir, &sizes, raw, pg).await?);
            }
            Scenario::Fanout => {
                results.fanout = Some(scenarios::fanout::run(&bins, &dir, &sizes).await?);
            }
            Scenario::Connections => {
                results.connections = Some(scenarios::connections::run(&bins, &dir, &sizes).await?);
            }
            Scenario::Catchup => {
                results.catchup = Some(scenarios::catchup::run(&bins, &dir, &sizes).await?);
            }
            Scenario::Intake => {
                results.intake = Some(scenarios::intake::run(&bins, &dir, &sizes).await?);
            }
            Scenario::Handout => {
                results.handout = Some(scenarios::handout::run(&bins, &dir, &sizes).await?);
            }
            Scenario::Search => {
                results.search = Some(scenarios::search::run(&bins, &dir, &sizes).await?);
            }
            Scenario::SigninFlood => {
                results.signin_flood =
                    Some(scenarios::signin_flood::run(&bins, &dir, &sizes).await?);
            }
            Scenario::Dashboard => {
                results.dashboard = Some(scenarios::dashboard::run(&bins, &dir, &sizes).await?);
            }
            Scenario::DeskFlood => {
                results.desk_flood = Some(scenarios::desk_flood::run(&bins, &dir, &sizes).await?);
            }
            Scenario::History => {
                results.history = Some(scenarios::history::run(&bins, &dir, &sizes).await?);
            }
            Scenario::Migrate => {
                results.migrate = Some(scenarios::migrate::run(&bins, &dir, &sizes).await?);
            }
            Scenario::All => {}
        }
        // Each scenario's folder can be gigabytes; the next does not need it.
        let _ = std::fs::remove_dir_all(&dir);
        // Nor should it pay for this one's writeback: the fan-out's thousand
        // flushes, run right after ingest, waited behind a gigabyte of it.
        settle_disk();
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&results.to_json())?);
    } else {
        print!("{}", results.table());
    }
    Ok(())
}

/// Writes every dirty page out (`sync`), so that a scenario starts on a
/// quiet disk.
fn settle_disk() {
    if let Err(e) = std::process::Command::new("sync").status() {
        eprintln!("bench: cannot run sync between scenarios: {e}");
    }
}

/// Thousands of desks need as many sockets; the hub, spawned from here,
/// inherits the raised limit.
fn raise_fd_limit(desks: usize) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => {
            if n < desks as u64 + 500 {
                eprintln!("bench: open-file limit is {n}; {desks} desks need one each here and in the hub, plus a few hundred");
            }
        }
        Err(e) => eprintln!("bench: cannot raise the open-file limit: {e}"),
    }
}
