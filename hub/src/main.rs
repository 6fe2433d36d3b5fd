//! `hub`: the command line of the Comune's hub.

use anyhow::Context;
use clap::{Parser, Subcommand};
use hub::admin::{self, DeskRow};
use hub::config::{DataDir, HubConfig};
use hub::server::{self, Listeners};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hub",
    version,
    about = "Rete Sportelli hub: receives the desks' anonymised visits, keeps the counts, serves the coordinator"
)]
struct Cli {
    /// Log output: pretty or json (overrides log_format in hub.toml).
    #[arg(long, global = true, env = "RETE_HUB_LOG_FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a hub's data folder: certificate authority, hub certificate, coordinator token, hub.toml.
    Init {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        federation_addr: Option<String>,
        #[arg(long)]
        coordinator_addr: Option<String>,
        /// The coordinators' web dashboard, HOST:PORT (HTTPS).
        #[arg(long)]
        http_addr: Option<String>,
        /// Extra host names or IPs desks may use to reach the hub (repeatable).
        #[arg(long = "host")]
        hosts: Vec<String>,
    },
    /// Run the hub until SIGTERM or Ctrl-C.
    Serve {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        federation_addr: Option<String>,
        #[arg(long)]
        coordinator_addr: Option<String>,
        /// The coordinators' web dashboard, HOST:PORT (HTTPS).
        #[arg(long)]
        http_addr: Option<String>,
    },
    /// Coordinator accounts for the web dashboard.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Enrol or revoke a desk.
    Desk {
        #[command(subcommand)]
        command: DeskCommand,
    },
    /// List the enrolled desks.
    Desks {
        #[arg(long)]
        data: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Publish, amend or retire guidance; it reaches every desk at once.
    Guidance {
        #[command(subcommand)]
        command: GuidanceCommand,
    },
    /// Save answer templates; every save is checked against the Italian reference.
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
    },
    /// Desks' template proposals, with similarity and word diff to the canonical text.
    Proposals {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Accept (new canonical version, pushed) or decline a desk's proposal.
    Proposal {
        #[command(subcommand)]
        command: ProposalCommand,
    },
    /// Harmonisation: per key and language current / stale (with the reference's diff) / missing, and rollout per template.
    Templates {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Change the procedure catalogue; every change is a new version pushed to every desk.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Which desks have applied the current guidance, templates and catalogue.
    Rollout {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Published figures over one or two dimensions, under small-cell protection.
    Stats {
        #[arg(long)]
        data: PathBuf,
        /// One or two dimensions, comma-separated (e.g. nationality,outcome).
        #[arg(long, value_delimiter = ',', required = true)]
        by: Vec<String>,
        /// First ISO week to count, e.g. 2026-W01.
        #[arg(long)]
        from_week: Option<String>,
        /// Last ISO week to count, e.g. 2026-W52.
        #[arg(long)]
        to_week: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check a stopped hub's store: every record once, counts equal to a recount.
    Verify {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Start a hub and three desks on a temporary folder and feed them visits.
    Demo {
        /// Number of desks.
        #[arg(long, default_value_t = 3)]
        desks: usize,
        /// Visits per second per desk.
        #[arg(long, default_value_t = 5)]
        rate: u32,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a dashboard account; the password is read from standard input (first line).
    Add {
        name: String,
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum TemplateCommand {
    /// Save the body in FILE as template KEY in language LANG; prints the new version.
    Put {
        key: String,
        lang: String,
        file: PathBuf,
        #[arg(long)]
        data: PathBuf,
        /// An Italian edit that does not make the translations stale.
        #[arg(long)]
        minor: bool,
    },
}

#[derive(Subcommand)]
enum ProposalCommand {
    /// Make the proposal the canonical text (same checks as `template put`); prints the new version.
    Accept {
        id: String,
        #[arg(long)]
        data: PathBuf,
    },
    /// Decline the proposal; the decision is kept.
    Decline {
        id: String,
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Add, amend or retire procedures from a TOML file of `[[procedure]]` tables; prints the new version.
    Put {
        file: PathBuf,
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum GuidanceCommand {
    /// Publish a guidance item from a TOML file (the same id amends it); prints the new version.
    Publish {
        file: PathBuf,
        #[arg(long)]
        data: PathBuf,
    },
    /// Retire a guidance item; prints the new version.
    Retire {
        id: String,
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum DeskCommand {
    /// Enrol a desk and write its enrollment bundle (holds its private key).
    Add {
        desk_id: String,
        #[arg(long)]
        data: PathBuf,
        /// The address the desk will dial, HOST:PORT.
        #[arg(long)]
        hub_address: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Refuse a desk from now on, its open stream included.
    Revoke {
        desk_id: String,
        #[arg(long)]
        data: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_config(data: &Path) -> anyhow::Result<HubConfig> {
    HubConfig::load(data, std::env::vars()).with_context(|| {
        format!(
            "{} is not a hub data folder (run `hub init --data {0}`)",
            data.display()
        )
    })
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let format = |c: &HubConfig| {
        cli.log_format
            .clone()
            .unwrap_or_else(|| c.log_format.clone())
    };
    match cli.command {
        Command::Init {
            data,
            federation_addr,
            coordinator_addr,
            http_addr,
            hosts,
        } => {
            runtime::telemetry::init(cli.log_format.as_deref().unwrap_or("pretty"));
            let mut config = HubConfig::default();
            if let Some(a) = federation_addr {
                config.federation_addr = a;
            }
            if let Some(a) = coordinator_addr {
                config.coordinator_addr = a;
            }
            if let Some(a) = http_addr {
                config.http_addr = a;
            }
            server::init(&data, &config, &hosts)?;
            println!("hub initialised in {}", data.display());
            Ok(())
        }
        Command::Serve {
            data,
            federation_addr,
            coordinator_addr,
            http_addr,
        } => {
            let mut config = load_config(&data)?;
            runtime::telemetry::init(&format(&config));
            if let Some(a) = federation_addr {
                config.federation_addr = a;
            }
            if let Some(a) = coordinator_addr {
                config.coordinator_addr = a;
            }
            if let Some(a) = http_addr {
                config.http_addr = a;
            }
            let listeners = Listeners::bind(&config).await?;
            server::run(&data, config, listeners, runtime::shutdown::signal()).await
        }
        Command::User {
            command: UserCommand::Add { name, data },
        } => {
            runtime::telemetry::init(cli.log_format.as_deref().unwrap_or("pretty"));
            user_add(&data, &name).await
        }
        Command::Desk { command } => {
            runtime::telemetry::init(cli.log_format.as_deref().unwrap_or("pretty"));
            match command {
                DeskCommand::Add {
                    desk_id,
                    data,
                    hub_address,
                    out,
                } => desk_add(&data, &desk_id, &hub_address, &out).await,
                DeskCommand::Revoke { desk_id, data } => desk_revoke(&data, &desk_id).await,
            }
        }
        Command::Desks { data, json } => {
            runtime::telemetry::init(cli.log_format.as_deref().unwrap_or("pretty"));
            let rows = desks(&data).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:<24} {:<10} {:>10} {:>10} {:>8}",
                    "desk", "connected", "records", "last_seq", "revoked"
                );
                for r in rows {
                    println!(
                        "{:<24} {:<10} {:>10} {:>10} {:>8}",
                        r.desk_id, r.connected, r.records, r.last_seq, r.revoked
                    );
                }
            }
            Ok(())
        }
        Command::Verify { data, json } => {
            let config = load_config(&data)?;
            let store = server::open_store(&DataDir(data), &config)?;
            let v = hub::storage::Store::verify(&store)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "records {}  counted {}  ids {}  problems {}",
                    v.records,
                    v.counted,
                    v.ids,
                    v.problems.len()
                );
                for p in &v.problems {
                    println!("  {p}");
                }
            }
            if v.problems.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} problem(s) found", v.problems.len())
            }
        }
        Command::Guidance { command } => {
            let version = guidance_command(command).await?;
            println!("{version}");
            Ok(())
        }
        Command::Template {
            command:
                TemplateCommand::Put {
                    key,
                    lang,
                    file,
                    data,
                    minor,
                },
        } => {
            let body = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let config = load_config(&data)?;
            let dir = DataDir(data.to_path_buf());
            let version = match hub::client::connect(&dir, &config).await? {
                Some(mut client) => {
                    client
                        .put_template(proto::PutTemplateRequest {
                            key,
                            language: lang,
                            body,
                            minor,
                        })
                        .await
                        .map_err(|s| anyhow::anyhow!("{}", s.message()))?
                        .into_inner()
                        .version
                }
                None => {
                    let store = server::open_store(&dir, &config)?;
                    hub::templates::put(&store, None, &key, &lang, &body, minor, hub::audit::CLI)?
                }
            };
            println!("{version}");
            Ok(())
        }
        Command::Rollout { data, json } => {
            let rollout = rollout(&data).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rollout)?);
            } else {
                let c = rollout.current();
                println!(
                    "in vigore / current: guidance {}  templates {}  catalogue {}",
                    c.guidance, c.template, c.catalogue
                );
                for d in &rollout.desks {
                    let v = d.versions();
                    println!(
                        "{:<24} {:<24} guidance {}  templates {}  catalogue {}{}",
                        d.desk_id,
                        if v == c {
                            "aggiornato / up to date"
                        } else {
                            "indietro / behind"
                        },
                        v.guidance,
                        v.template,
                        v.catalogue,
                        d.last_rejection
                            .as_deref()
                            .map(|r| format!("  rifiutato / refused: {r}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        Command::Proposals { data, json } => {
            let rows = hub::client::logs::proposals(&data).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                hub::client::logs::print_proposals(&rows);
            }
            Ok(())
        }
        Command::Proposal { command } => {
            let (id, data, accept) = match command {
                ProposalCommand::Accept { id, data } => (id, data, true),
                ProposalCommand::Decline { id, data } => (id, data, false),
            };
            match hub::client::logs::decide(&data, &id, accept).await? {
                Some(version) => println!("{version}"),
                None => println!("proposta {id} rifiutata / proposal {id} declined"),
            }
            Ok(())
        }
        Command::Templates { data, json } => {
            let listing = hub::client::logs::templates(&data).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&listing)?);
            } else {
                hub::client::logs::print_templates(&listing);
            }
            Ok(())
        }
        Command::Catalogue {
            command: CatalogueCommand::Put { file, data },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let changes = hub::catalogue::from_toml(&text)
                .with_context(|| format!("{} is not a valid catalogue file", file.display()))?;
            println!(
                "{}",
                hub::client::logs::put_catalogue(&data, changes).await?
            );
            Ok(())
        }
        Command::Stats {
            data,
            by,
            from_week,
            to_week,
            json,
        } => {
            let table = stats(&data, by, from_week, to_week).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&table)?);
            } else {
                let rows = table["rows"].as_array().cloned().unwrap_or_default();
                let dims: Vec<String> = table["dims"]
                    .as_array()
                    .map(|d| {
                        d.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                println!("{}\tcount", dims.join("\t"));
                for row in rows {
                    let keys: Vec<String> = dims
                        .iter()
                        .map(|d| row[d].as_str().unwrap_or("").to_string())
                        .collect();
                    println!("{}\t{}", keys.join("\t"), row["count"]);
                }
                println!("total\t{}", table["totals"]["all"]);
            }
            Ok(())
        }
        Command::Demo { desks, rate } => hub::demo::exec(desks, rate, cli.log_format.as_deref()),
    }
}

async fn desk_add(data: &Path, desk_id: &str, hub_address: &str, out: &Path) -> anyhow::Result<()> {
    let config = load_config(data)?;
    let dir = DataDir(data.to_path_buf());
    let bundle = match hub::client::connect(&dir, &config).await? {
        Some(mut client) => {
            let resp = client
                .add_desk(proto::AddDeskRequest {
                    desk_id: desk_id.into(),
                    hub_address: hub_address.into(),
                })
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
            let text = String::from_utf8(resp.into_inner().bundle)
                .context("the hub sent a bundle that is not text")?;
            runtime::bundle::Bundle::from_toml(&text, "response")?
        }
        None => {
            let store = server::open_store(&dir, &config)?;
            let ca = server::load_ca(&dir)?;
            admin::add_desk(&store, &ca, desk_id, hub_address, hub::audit::CLI)?
        }
    };
    bundle.write(out)?;
    println!(
        "desk {desk_id} enrolled; bundle written to {} (keep it secret)",
        out.display()
    );
    Ok(())
}

async fn user_add(data: &Path, name: &str) -> anyhow::Result<()> {
    hub::users::check_name(name)?;
    let config = load_config(data)?;
    let dir = DataDir(data.to_path_buf());
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']);
    let hash = hub::users::hash_password(password)?;
    match hub::client::connect(&dir, &config).await? {
        Some(mut client) => {
            client
                .add_user(proto::AddUserRequest {
                    name: name.into(),
                    password_hash: hash,
                })
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
        }
        None => {
            let store = server::open_store(&dir, &config)?;
            hub::users::add_audited(&store, &dir, name, &hash, hub::audit::CLI)?;
        }
    }
    println!("user {name} added / utente {name} aggiunto");
    Ok(())
}

async fn desk_revoke(data: &Path, desk_id: &str) -> anyhow::Result<()> {
    let config = load_config(data)?;
    let dir = DataDir(data.to_path_buf());
    match hub::client::connect(&dir, &config).await? {
        Some(mut client) => {
            client
                .revoke_desk(proto::RevokeDeskRequest {
                    desk_id: desk_id.into(),
                })
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
        }
        None => {
            let store = server::open_store(&dir, &config)?;
            admin::revoke_desk(&store, None, desk_id, hub::audit::CLI)?;
        }
    }
    println!("desk {desk_id} revoked");
    Ok(())
}

async fn desks(data: &Path) -> anyhow::Result<Vec<DeskRow>> {
    let config = load_config(data)?;
    let dir = DataDir(data.to_path_buf());
    match hub::client::connect(&dir, &config).await? {
        Some(mut client) => {
            let resp = client
                .list_desks(proto::ListDesksRequest {})
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
            Ok(resp
                .into_inner()
                .desks
                .into_iter()
                .map(|d| DeskRow {
                    desk_id: d.desk_id,
                    connected: d.connected,
                    records: d.records,
                    last_seq: d.last_seq,
                    rejected: d.rejected,
                    revoked: d.revoked,
                    added_at: d.added_at,
                    last_seen: (!d.last_seen.is_empty()).then_some(d.last_seen),
                    versions: d.versions.into(),
                    last_rejection: (!d.last_rejection.is_empty()).then_some(d.last_rejection),
                })
                .collect())
        }
        None => {
            let store = server::open_store(&dir, &config)?;
            Ok(admin::list_desks(&store, None)?)
        }
    }
}

/// Guidance changes go through the running hub, so that they are pushed at
/// once; with the hub stopped they are stored and pushed when desks connect.
async fn guidance_command(command: GuidanceCommand) -> anyhow::Result<u64> {
    let (data, change) = match command {
        GuidanceCommand::Publish { file, data } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let item = hub::guidance::from_toml(&text)
                .with_context(|| format!("{} is not a valid guidance file", file.display()))?;
            (data, Ok(item))
        }
        GuidanceCommand::Retire { id, data } => (data, Err(id)),
    };
    let config = load_config(&data)?;
    let dir = DataDir(data.to_path_buf());
    match hub::client::connect(&dir, &config).await? {
        Some(mut client) => {
            let resp = match change {
                Ok(item) => {
                    client
                        .publish_guidance(proto::PublishGuidanceRequest { item: Some(item) })
                        .await
                }
                Err(id) => {
                    client
                        .retire_guidance(proto::RetireGuidanceRequest { id })
                        .await
                }
            };
            Ok(resp
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?
                .into_inner()
                .version)
        }
        None => {
            let store = server::open_store(&dir, &config)?;
            hub::catalogue::ensure_seeded(&store)?;
            let (_, catalogue) = hub::catalogue::catalogues(&store)?;
            Ok(match change {
                Ok(item) => {
                    hub::guidance::publish(&store, None, &catalogue, item, hub::audit::CLI)?
                }
                Err(id) => hub::guidance::retire(&store, None, &id, hub::audit::CLI)?,
            })
        }
    }
}

async fn rollout(data: &Path) -> anyhow::Result<admin::Rollout> {
    let config = load_config(data)?;
    let dir = DataDir(data.to_path_buf());
    match hub::client::connect(&dir, &config).await? {
        Some(mut client) => {
            let resp = client
                .rollout(proto::RolloutRequest {})
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
            Ok(resp.into_inner().into())
        }
        None => {
            let store = server::open_store(&dir, &config)?;
            Ok(admin::rollout(&store, None)?)
        }
    }
}

async fn stats(
    data: &Path,
    by: Vec<String>,
    from_week: Option<String>,
    to_week: Option<String>,
) -> anyhow::Result<serde_json::Value> {
    let config = load_config(data)?;
    let dir = DataDir(data.to_path_buf());
    match hub::client::connect(&dir, &config).await? {
        Some(mut client) => {
            let resp = client
                .query_stats(proto::QueryStatsRequest {
                    by,
                    from_week: from_week.unwrap_or_default(),
                    to_week: to_week.unwrap_or_default(),
                })
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
            Ok(serde_json::from_str(&resp.into_inner().table_json)?)
        }
        None => {
            let store = server::open_store(&dir, &config)?;
            let by: Vec<&str> = by.iter().map(String::as_str).collect();
            let period = hub::stats::Period { from_week, to_week };
            let table = hub::stats::query(&store, &by, &period)?;
            Ok(serde_json::to_value(&table)?)
        }
    }
}
