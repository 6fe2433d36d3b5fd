//! `hub`: the command line of the Comune's hub.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use hub::client::{print, Way};
use hub::config::{DataDir, HubConfig};
use hub::server::{self, Listeners};
use std::path::PathBuf;
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

/// `--data`, declared once for every command that works on a hub's folder.
#[derive(Args)]
struct DataArg {
    /// The hub's data folder.
    #[arg(long)]
    data: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Create a hub's data folder: certificate authority, hub certificate, coordinator token, hub.toml.
    Init {
        #[command(flatten)]
        data: DataArg,
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
        /// Keep the hub's state on PostgreSQL (postgres://USER@HOST:PORT/DB)
        /// instead of the embedded store in the data folder.
        #[arg(long)]
        store: Option<String>,
        /// A 0600 file holding the PostgreSQL password (else
        /// RETE_HUB_STORE_PASSWORD is read).
        #[arg(long)]
        store_password_file: Option<String>,
        /// The CA certificate (PEM) that signed the PostgreSQL server's
        /// certificate: the hub then reaches the database over TLS only.
        #[arg(long)]
        store_ca_file: Option<String>,
    },
    /// Run the hub until SIGTERM or Ctrl-C.
    Serve {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        federation_addr: Option<String>,
        #[arg(long)]
        coordinator_addr: Option<String>,
        /// The coordinators' web dashboard, HOST:PORT (HTTPS).
        #[arg(long)]
        http_addr: Option<String>,
        /// Serve `/metrics` for Prometheus on HOST:PORT (or `metrics_addr`
        /// in hub.toml); off when not given, loopback only unless
        /// --metrics-public.
        #[arg(long)]
        metrics_addr: Option<String>,
        /// Serve the metrics on a non-loopback address on purpose.
        #[arg(long)]
        metrics_public: bool,
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
    /// Hub replicas sharing one PostgreSQL store.
    Replica {
        #[command(subcommand)]
        command: ReplicaCommand,
    },
    /// List the enrolled desks.
    Desks {
        #[command(flatten)]
        data: DataArg,
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
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Accept (new canonical version, pushed) or decline a desk's proposal.
    Proposal {
        #[command(subcommand)]
        command: ProposalCommand,
    },
    /// Operators' reports that an item is wrong, outdated or unclear, open first within each owner.
    Reports {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Close an operator's report as fixed (by a version) or declined (with a reason); the desk is told.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Harmonisation: per key and language current / stale (with the reference's diff) / missing, and rollout per template.
    Templates {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Change the procedure catalogue; every change is a new version pushed to every desk.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// The desks' search glossary (synonym groups), pushed with the catalogue.
    Glossary {
        #[command(subcommand)]
        command: GlossaryCommand,
    },
    /// Save a procedure card: the Italian reference or a translation; prints the new version.
    Card {
        #[command(subcommand)]
        command: CardCommand,
    },
    /// Procedure cards: owner, review dates, what is due, stale translations with the Italian diff.
    Cards {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Which desks have applied the current guidance, templates and catalogue.
    Rollout {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Published figures over one or two dimensions, under small-cell protection.
    Stats {
        #[command(flatten)]
        data: DataArg,
        /// One or two dimensions, comma-separated (e.g. nationality,outcome).
        #[arg(long, value_delimiter = ',', required = true)]
        by: Vec<String>,
        /// Release period: 2026-W47 (week), 2026-11 (month: the ISO weeks
        /// whose Thursday falls in it), 2026-Q4, 2026 (ISO year) or 2026-YTD;
        /// without it, the current year so far.
        #[arg(long)]
        period: Option<String>,
        /// First ISO week, e.g. 2026-W45: with --to-week, only when the two
        /// are exactly one release period.
        #[arg(long)]
        from_week: Option<String>,
        /// Last ISO week, e.g. 2026-W48.
        #[arg(long)]
        to_week: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// What the network cannot yet serve: languages without cards, mediators needed but unavailable, unanswered searches (asked 5+ times), cards due.
    Gaps {
        #[command(flatten)]
        data: DataArg,
        /// Release period of the visit figures, as for `hub stats`; without it, the current year so far.
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Move a stopped sled hub's whole state into an empty PostgreSQL
    /// database, check both agree, and point the hub's hub.toml at it.
    Migrate {
        /// The sled hub's data folder (stopped).
        #[arg(long = "from-sled", value_name = "DIR")]
        from_sled: PathBuf,
        /// The PostgreSQL store: postgres://USER@HOST:PORT/DATABASE.
        #[arg(long, value_name = "URL")]
        to: String,
        /// A 0600 file holding the PostgreSQL password (else
        /// RETE_HUB_STORE_PASSWORD is read).
        #[arg(long)]
        store_password_file: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check a stopped hub's store: every record once, counts equal to a recount.
    Verify {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent copy of the hub (store, certificates, token) to a file, while it runs or stopped.
    Backup {
        #[command(flatten)]
        data: DataArg,
        /// The backup file to write (mode 0600: it holds the CA key and the token).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup in place of a stopped hub's state; the previous state is kept in before-restore-<time>/.
    Restore {
        /// A file written by `hub backup`.
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
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
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum TemplateCommand {
    /// Save the body in FILE as template KEY in language LANG; prints the new version.
    Put {
        key: String,
        lang: String,
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
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
        #[command(flatten)]
        data: DataArg,
    },
    /// Decline the proposal; the decision is kept.
    Decline {
        id: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The item was corrected: give the item's version that fixed it.
    Fix {
        id: String,
        /// The version of the card, guidance, template or catalogue that fixed it.
        #[arg(long = "version")]
        fixed_version: u64,
        /// A note for the desk.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// The report is not taken up: say why (the desk sees it).
    Decline {
        id: String,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Add, amend or retire procedures from a TOML file of `[[procedure]]` tables; prints the new version.
    Put {
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum GlossaryCommand {
    /// Replace the glossary with a TOML file of `[[group]]` tables (`terms = [...]`); prints the new catalogue version.
    Put {
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum CardCommand {
    /// Save the card of procedure CODE in language LANG from a TOML file; prints the new version.
    Put {
        code: String,
        lang: String,
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// "Still correct": stamp the Italian card of CODE as verified today; prints the new version.
    Confirm {
        code: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum GuidanceCommand {
    /// Publish a guidance item from a TOML file (the same id amends it); prints the new version.
    Publish {
        file: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Retire a guidance item; prints the new version.
    Retire {
        id: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum ReplicaCommand {
    /// Write the data folder of another hub replica: the CA certificate (never its key), a server certificate of its own, the coordinator token, the dashboard's sign-in key, the accounts and hub.toml with its addresses. Run where the CA key is kept.
    Add {
        #[command(flatten)]
        data: DataArg,
        /// The new replica's data folder (must not exist, or be empty).
        #[arg(long)]
        out: PathBuf,
        /// Where the replica listens for desks; default: as in this hub.toml.
        #[arg(long)]
        federation_addr: Option<String>,
        #[arg(long)]
        coordinator_addr: Option<String>,
        /// The replica's dashboard, HOST:PORT (HTTPS).
        #[arg(long)]
        dashboard_addr: Option<String>,
        /// Extra host names or IPs for the replica's certificate (repeatable).
        #[arg(long = "host")]
        hosts: Vec<String>,
    },
}

#[derive(Subcommand)]
enum DeskCommand {
    /// Enrol a desk and write its enrollment bundle (holds its private key).
    Add {
        desk_id: String,
        #[command(flatten)]
        data: DataArg,
        /// The address the desk will dial, HOST:PORT; repeat it (or separate
        /// by commas) for several hub replicas, tried in order. Omitted:
        /// `desk_addresses` in hub.toml.
        #[arg(long = "hub-address", value_delimiter = ',')]
        hub_addresses: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Refuse a desk from now on, its open stream included.
    Revoke {
        desk_id: String,
        #[command(flatten)]
        data: DataArg,
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

impl Command {
    /// The existing data folder the command works on; `init` makes its own
    /// and `demo` uses a temporary one.
    fn data(&self) -> Option<&DataArg> {
        use Command::*;
        match self {
            // `restore` may make the folder it is given.
            Init { .. } | Demo { .. } | Restore { .. } | Migrate { .. } => None,
            Serve { data, .. }
            | Desks { data, .. }
            | Proposals { data, .. }
            | Reports { data, .. }
            | Templates { data, .. }
            | Cards { data, .. }
            | Rollout { data, .. }
            | Stats { data, .. }
            | Gaps { data, .. }
            | Verify { data, .. }
            | Backup { data, .. } => Some(data),
            User {
                command: UserCommand::Add { data, .. },
            } => Some(data),
            Desk { command } => match command {
                DeskCommand::Add { data, .. } | DeskCommand::Revoke { data, .. } => Some(data),
            },
            Replica {
                command: ReplicaCommand::Add { data, .. },
            } => Some(data),
            Guidance { command } => match command {
                GuidanceCommand::Publish { data, .. } | GuidanceCommand::Retire { data, .. } => {
                    Some(data)
                }
            },
            Template {
                command: TemplateCommand::Put { data, .. },
            } => Some(data),
            Proposal { command } => match command {
                ProposalCommand::Accept { data, .. } | ProposalCommand::Decline { data, .. } => {
                    Some(data)
                }
            },
            Report { command } => match command {
                ReportCommand::Fix { data, .. } | ReportCommand::Decline { data, .. } => Some(data),
            },
            Catalogue {
                command: CatalogueCommand::Put { data, .. },
            } => Some(data),
            Glossary {
                command: GlossaryCommand::Put { data, .. },
            } => Some(data),
            Card { command } => match command {
                CardCommand::Put { data, .. } | CardCommand::Confirm { data, .. } => Some(data),
            },
        }
    }
}

/// The folder and its configuration, loaded once for the whole command.
struct Folder {
    dir: DataDir,
    config: HubConfig,
}

impl Folder {
    fn load(data: &DataArg) -> anyhow::Result<Self> {
        let config = HubConfig::load(&data.data, std::env::vars()).with_context(|| {
            format!(
                "{} is not a hub data folder (run `hub init --data {0}`)",
                data.data.display()
            )
        })?;
        Ok(Self {
            dir: DataDir(data.data.clone()),
            config,
        })
    }

    /// Through the running hub, or on the stopped store.
    async fn way(&self) -> anyhow::Result<Way> {
        Way::open(&self.dir, &self.config).await
    }
}

fn read_file(file: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

/// A change file, parsed before reaching the hub, so that a bad file is
/// refused with its own name and line.
fn parse_file<T, E>(
    file: &std::path::Path,
    what: &str,
    parse: fn(&str) -> Result<T, E>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    parse(&read_file(file)?)
        .with_context(|| format!("{} is not a valid {what} file", file.display()))
}

/// `--json` prints the value as scripts read it; otherwise as a table.
fn output<T: serde::Serialize + ?Sized>(
    json: bool,
    value: &T,
    table: fn(&T),
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        table(value);
    }
    Ok(())
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let folder = cli.command.data().map(Folder::load).transpose()?;
    // The one place logging starts: the flag, else the folder's hub.toml.
    let format = match (&cli.log_format, &folder) {
        (Some(f), _) => f.clone(),
        (None, Some(f)) => f.config.log_format.clone(),
        (None, None) => "pretty".into(),
    };
    runtime::telemetry::init(&format);
    // Commands with a data folder have one; `data()` says which.
    let folder = || {
        folder
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("this command needs --data"))
    };
    match cli.command {
        Command::Init {
            data,
            federation_addr,
            coordinator_addr,
            http_addr,
            hosts,
            store,
            store_password_file,
            store_ca_file,
        } => {
            let mut config = HubConfig::default();
            override_addrs(&mut config, federation_addr, coordinator_addr, http_addr);
            if let Some(url) = store {
                config.store = hub::config::StoreUrl(url);
            }
            if let Some(file) = store_password_file {
                config.store_password_file = file;
            }
            if let Some(file) = store_ca_file {
                config.store_ca_file = file;
            }
            config.store_password =
                hub::config::Password(std::env::var("RETE_HUB_STORE_PASSWORD").unwrap_or_default());
            server::init(&data.data, &config, &hosts)?;
            println!("hub initialised in {}", data.data.display());
        }
        Command::Serve {
            data,
            federation_addr,
            coordinator_addr,
            http_addr,
            metrics_addr,
            metrics_public,
        } => {
            let mut config = folder()?.config.clone();
            override_addrs(&mut config, federation_addr, coordinator_addr, http_addr);
            if let Some(a) = metrics_addr {
                config.metrics_addr = a;
            }
            config.metrics_public |= metrics_public;
            let listeners = Listeners::bind(&config).await?;
            server::run(&data.data, config, listeners, runtime::shutdown::signal()).await?;
        }
        Command::User {
            command: UserCommand::Add { name, .. },
        } => {
            hub::users::check_name(&name)?;
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            let hash = hub::users::hash_password(line.trim_end_matches(['\n', '\r']))?;
            folder()?.way().await?.add_user(&name, hash).await?;
            println!("user {name} added / utente {name} aggiunto");
        }
        Command::Desk {
            command:
                DeskCommand::Add {
                    desk_id,
                    hub_addresses,
                    out,
                    ..
                },
        } => {
            let folder = folder()?;
            let given = hub_addresses.iter().map(|a| a.trim().to_string()).collect();
            let addresses = hub::admin::desk_addresses(given, &folder.config.desk_addresses);
            let bundle = folder.way().await?.add_desk(&desk_id, &addresses).await?;
            bundle.write(&out)?;
            println!(
                "desk {desk_id} enrolled; bundle written to {} (keep it secret)",
                out.display()
            );
        }
        Command::Replica {
            command:
                ReplicaCommand::Add {
                    data,
                    out,
                    federation_addr,
                    coordinator_addr,
                    dashboard_addr,
                    hosts,
                },
        } => {
            let addresses = hub::replica::Addresses {
                federation: federation_addr,
                coordinator: coordinator_addr,
                dashboard: dashboard_addr,
                hosts,
            };
            let config = hub::replica::add(&data.data, &out, &addresses)?;
            print!("{}", hub::replica::next_steps(&data.data, &out, &config));
        }
        Command::Desk {
            command: DeskCommand::Revoke { desk_id, .. },
        } => {
            folder()?.way().await?.revoke_desk(&desk_id).await?;
            println!("desk {desk_id} revoked");
        }
        Command::Desks { json, .. } => {
            let rows = folder()?.way().await?.desks().await?;
            output(json, &rows[..], print::print_desks)?;
        }
        Command::Migrate {
            from_sled,
            to,
            store_password_file,
            json,
        } => {
            let report = migrate(&from_sled, to, store_password_file)?;
            output(json, &report, print_migration)?;
        }
        Command::Verify { json, .. } => {
            // Only on the stopped store: a running hub holds it open.
            let f = folder()?;
            let store = server::open_store(&f.dir, &f.config)?;
            let v = hub::storage::Store::verify(store.as_ref())?;
            output(json, &v, print::print_verification)?;
            if !v.problems.is_empty() {
                anyhow::bail!("{} problem(s) found", v.problems.len())
            }
        }
        Command::Guidance {
            command: GuidanceCommand::Publish { file, .. },
        } => {
            let item = parse_file(&file, "guidance", hub::guidance::from_toml)?;
            println!("{}", folder()?.way().await?.publish_guidance(item).await?);
        }
        Command::Guidance {
            command: GuidanceCommand::Retire { id, .. },
        } => {
            println!("{}", folder()?.way().await?.retire_guidance(id).await?);
        }
        Command::Template {
            command:
                TemplateCommand::Put {
                    key,
                    lang,
                    file,
                    minor,
                    ..
                },
        } => {
            let body = read_file(&file)?;
            let way = folder()?.way().await?;
            println!("{}", way.put_template(key, lang, body, minor).await?);
        }
        Command::Rollout { json, .. } => {
            let rollout = folder()?.way().await?.rollout().await?;
            output(json, &rollout, print::print_rollout)?;
        }
        Command::Proposals { json, .. } => {
            let rows = folder()?.way().await?.proposals().await?;
            output(json, &rows[..], print::print_proposals)?;
        }
        Command::Proposal { command } => {
            let (id, accept) = match command {
                ProposalCommand::Accept { id, .. } => (id, true),
                ProposalCommand::Decline { id, .. } => (id, false),
            };
            match folder()?.way().await?.decide(&id, accept).await? {
                Some(version) => println!("{version}"),
                None => println!("proposta {id} rifiutata / proposal {id} declined"),
            }
        }
        Command::Reports { json, .. } => {
            let rows = folder()?.way().await?.reports().await?;
            output(json, &rows[..], print::print_reports)?;
        }
        Command::Report { command } => {
            let (id, decision) = match command {
                ReportCommand::Fix {
                    id,
                    fixed_version,
                    note,
                    ..
                } => (
                    id,
                    hub::reports::Decision::Fixed {
                        version: fixed_version,
                        note: note.unwrap_or_default(),
                    },
                ),
                ReportCommand::Decline { id, note, .. } => {
                    (id, hub::reports::Decision::Declined { note })
                }
            };
            let fixed = matches!(decision, hub::reports::Decision::Fixed { .. });
            folder()?.way().await?.decide_report(&id, decision).await?;
            if fixed {
                println!("segnalazione {id} corretta / report {id} fixed");
            } else {
                println!("segnalazione {id} respinta / report {id} declined");
            }
        }
        Command::Templates { json, .. } => {
            let listing = folder()?.way().await?.templates().await?;
            output(json, &listing, print::print_templates)?;
        }
        Command::Catalogue {
            command: CatalogueCommand::Put { file, .. },
        } => {
            let changes = parse_file(&file, "catalogue", hub::catalogue::from_toml)?;
            println!("{}", folder()?.way().await?.put_catalogue(changes).await?);
        }
        Command::Glossary {
            command: GlossaryCommand::Put { file, .. },
        } => {
            let text = read_file(&file)?;
            println!("{}", folder()?.way().await?.put_glossary(text).await?);
        }
        Command::Card {
            command: CardCommand::Put {
                code, lang, file, ..
            },
        } => {
            let text = read_file(&file)?;
            let card = hub::cards::from_toml(&text, &code, &lang)
                .with_context(|| format!("{} is not a valid card file", file.display()))?;
            println!("{}", folder()?.way().await?.put_card(card).await?);
        }
        Command::Card {
            command: CardCommand::Confirm { code, .. },
        } => {
            println!("{}", folder()?.way().await?.confirm_card(code).await?);
        }
        Command::Cards { json, .. } => {
            let rows = folder()?.way().await?.cards().await?;
            output(json, &rows[..], print::print_cards)?;
        }
        Command::Stats {
            by,
            period,
            from_week,
            to_week,
            json,
            ..
        } => {
            // Checked here too, so that a wrong period is refused in plain
            // words whether or not the hub runs.
            hub::stats::Period::from_args(
                period.as_deref(),
                from_week.as_deref(),
                to_week.as_deref(),
            )?;
            let asked = hub::client::StatsPeriod {
                period: period.unwrap_or_default(),
                from_week: from_week.unwrap_or_default(),
                to_week: to_week.unwrap_or_default(),
            };
            let table = folder()?.way().await?.stats(by, asked).await?;
            output(json, &table, print::print_stats)?;
        }
        Command::Gaps { period, json, .. } => {
            let period = period.unwrap_or_default();
            hub::stats::Period::from_args(Some(&period), None, None)?;
            let gaps = folder()?.way().await?.gaps(period).await?;
            output(json, &gaps, print::print_gaps)?;
        }
        Command::Backup { out, .. } => {
            let written = folder()?.way().await?.backup(&out).await?;
            println!(
                "backup written to {} ({} bytes)\n\
                 it holds the hub's CA private key and coordinator token: keep it as secret as the data folder (mode 0600)",
                out.display(),
                written.bytes
            );
        }
        Command::Restore { file, data } => {
            if let Ok(config) = HubConfig::load(&data.data, std::env::vars()) {
                if config.store.postgres()?.is_some() {
                    anyhow::bail!(
                        "questo hub tiene i dati su PostgreSQL: ripristinali con gli strumenti del database \
                         (pg_basebackup e archivio WAL, deploy/POSTGRES.md) / this hub keeps its state on \
                         PostgreSQL: restore it with the database's own tools"
                    );
                }
            }
            let restored = hub::backup::restore(&file, &DataDir(data.data.clone()))?;
            println!(
                "hub restored from {}: {} records from {} desk(s)",
                file.display(),
                restored.records,
                restored.desks
            );
            if let Some(previous) = &restored.previous {
                println!("the previous state is kept in {}", previous.display());
            }
            println!(
                "at their next connection desks send again the records the backup lacks and fetch guidance, templates and catalogue again"
            );
        }
        Command::Demo { desks, rate } => {
            hub::demo::exec(desks, rate, cli.log_format.as_deref())?;
        }
    }
    Ok(())
}

/// The listen addresses given on the command line win over hub.toml's.
fn override_addrs(
    config: &mut HubConfig,
    federation: Option<String>,
    coordinator: Option<String>,
    http: Option<String>,
) {
    if let Some(a) = federation {
        config.federation_addr = a;
    }
    if let Some(a) = coordinator {
        config.coordinator_addr = a;
    }
    if let Some(a) = http {
        config.http_addr = a;
    }
}

/// What `hub migrate` did, and `hub verify` on both sides.
#[derive(serde::Serialize)]
struct MigrationReport {
    store: String,
    seconds: f64,
    moved: hub::storage::migrate::Migrated,
    sled: hub::storage::Verification,
    postgres: hub::storage::Verification,
}

fn migrate(
    data: &std::path::Path,
    to: String,
    password_file: Option<String>,
) -> anyhow::Result<MigrationReport> {
    use hub::storage::Store;
    let dir = DataDir(data.to_path_buf());
    let mut config = HubConfig::load(data, std::env::vars())?;
    if config.store.postgres()?.is_some() {
        anyhow::bail!(
            "{} tiene già i dati su PostgreSQL (already keeps its state on PostgreSQL)",
            data.display()
        );
    }
    let sled =
        hub::storage::SledStore::open(&dir.store(), config.cache_mib << 20).with_context(|| {
            format!(
                "cannot open the sled store in {} (is the hub still running? stop it first)",
                dir.store().display()
            )
        })?;
    let before = sled.verify()?;
    if !before.problems.is_empty() {
        anyhow::bail!(
            "the sled store has problems; fix them before moving it: {}",
            before.problems.join("; ")
        );
    }
    config.store = hub::config::StoreUrl(to);
    if let Some(file) = password_file {
        config.store_password_file = file;
    }
    let url = config
        .store
        .postgres()?
        .ok_or_else(|| anyhow::anyhow!("--to needs a postgres:// URL"))?
        .to_owned();
    let shown = hub::storage::redacted(&url);
    let password = config.store_password()?;
    let pg = hub::storage::PostgresStore::open(&url, password.as_deref(), config.store_ca_file())
        .with_context(|| format!("cannot open the store at {shown}"))?;
    let started = std::time::Instant::now();
    let moved = hub::storage::migrate::sled_to_postgres(&sled, &pg, &mut |n| {
        eprint!("\r{n} records copied");
    })?;
    eprintln!();
    let after = pg.verify()?;
    let agree = after.problems.is_empty()
        && (
            after.records,
            after.counted,
            after.ids,
            after.pruned,
            &after.per_desk,
        ) == (
            before.records,
            before.counted,
            before.ids,
            before.pruned,
            &before.per_desk,
        );
    if !agree {
        anyhow::bail!(
            "the copy does not agree with the source (sled: {} records, {} counted; \
             PostgreSQL: {} records, {} counted; problems: {}); hub.toml is unchanged",
            before.records,
            before.counted,
            after.records,
            after.counted,
            after.problems.join("; ")
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    config.save(data)?;
    Ok(MigrationReport {
        store: shown,
        seconds,
        moved,
        sled: before,
        postgres: after,
    })
}

fn print_migration(r: &MigrationReport) {
    println!(
        "spostati su {} in {:.1} s (moved): {} sportelli, {} registrazioni, {} rifiuti, {} eliminati dalla conservazione, {} voci di log, {} tabelle pubblicate",
        r.store,
        r.seconds,
        r.moved.desks,
        r.moved.records,
        r.moved.refusals,
        r.moved.pruned,
        r.moved.log_entries,
        r.moved.publications
    );
    print!("sled:       ");
    print::print_verification(&r.sled);
    print!("PostgreSQL: ");
    print::print_verification(&r.postgres);
    println!("hub.toml now names the PostgreSQL store; the sled folder `store` is no longer read and may be archived.");
}
