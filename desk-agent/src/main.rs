//! `desk-agent`: the command line of a desk's agent.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use desk_agent::config::AgentConfig;
use desk_agent::intake;
use proto::desk_client::DeskClient;
use runtime::grpc::Bearer;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(Parser)]
#[command(
    name = "desk-agent",
    version,
    about = "Rete Sportelli desk agent: anonymises visits at intake and ships them to the hub"
)]
struct Cli {
    /// Log output: pretty or json (overrides log_format in agent.toml).
    #[arg(long, global = true, env = "RETE_AGENT_LOG_FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// `--data`, declared once for every command that works on a desk's folder.
#[derive(Args)]
struct DataArg {
    /// The desk's data folder.
    #[arg(long)]
    data: PathBuf,
}

/// `--agent`, declared once for every command that talks to a running agent.
#[derive(Args)]
struct AgentArg {
    /// The agent's local API, e.g. http://127.0.0.1:7710.
    #[arg(long)]
    agent: String,
    /// The agent's `api.token`, for an agent whose API is open to the
    /// network (listen_public).
    #[arg(long, env = "RETE_AGENT_TOKEN_FILE")]
    token_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Install an enrollment bundle (from `hub desk add`) into a data folder.
    Enroll {
        bundle: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Run the agent until SIGTERM or Ctrl-C.
    Serve {
        #[command(flatten)]
        data: DataArg,
        /// Local API address (default 127.0.0.1:7710); loopback only unless
        /// --listen-public.
        #[arg(long)]
        listen: Option<String>,
        /// Serve the local API on a non-loopback address on purpose; every
        /// call must then carry the token in DATA/api.token.
        #[arg(long)]
        listen_public: bool,
        /// The operator page's address (default 127.0.0.1:7711, or
        /// `http_addr` in agent.toml); loopback only unless --http-public.
        #[arg(long)]
        http_addr: Option<String>,
        /// Serve the operator page on a non-loopback address on purpose (it
        /// has no sign-in: only on a network the desk trusts).
        #[arg(long)]
        http_public: bool,
        /// Serve `/metrics` for Prometheus on HOST:PORT (or `metrics_addr`
        /// in agent.toml); off when not given, loopback only unless
        /// --metrics-public.
        #[arg(long)]
        metrics_addr: Option<String>,
        /// Serve the metrics on a non-loopback address on purpose.
        #[arg(long)]
        metrics_public: bool,
    },
    /// Record visits: JSON lines in, one anonymised record JSON out per line.
    Record {
        #[command(flatten)]
        agent: AgentArg,
        /// A file of JSON lines, or `-` for standard input (the default).
        #[arg(long, default_value = "-")]
        file: String,
    },
    /// Anonymise visit JSON lines from standard input to record JSON lines on
    /// standard output, with no store and no hub: what would leave the desk.
    Anonymise {
        /// Accept notes and scrub them, as a desk with `scrub_notes = true`.
        #[arg(long)]
        notes: bool,
        /// Fill the pseudonym with this federation secret file.
        #[arg(long)]
        secret: Option<PathBuf>,
        /// The desk id to put in the records.
        #[arg(long, default_value = "anteprima")]
        desk_id: String,
    },
    /// Create or install the federation secret that keys the pseudonyms.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// Show the desk's local copy of the guidance (works offline).
    Guidance {
        #[command(flatten)]
        agent: AgentArg,
        /// Only the guidance that concerns this procedure code.
        #[arg(long, default_value = "")]
        procedure: String,
        #[arg(long)]
        json: bool,
    },
    /// Render template KEY in LANG from the desk's local copy as HTML (escaped,
    /// right-to-left with isolated values for Arabic and Urdu); a variable the
    /// text needs and that is not given is an error.
    Render {
        key: String,
        lang: String,
        #[command(flatten)]
        agent: AgentArg,
        /// A value for a `{{NAME}}` field; repeat for each field.
        #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
        vars: Vec<(String, String)>,
    },
    /// Propose the desk's own wording (FILE) for template KEY in LANG; the
    /// agent queues it and sends it to the hub. Prints the proposal id.
    Propose {
        key: String,
        lang: String,
        file: PathBuf,
        #[command(flatten)]
        agent: AgentArg,
    },
    /// Show the procedure card of CODE in Italian and in LANG from the desk's
    /// local copy (works offline), with the translated fields that are stale.
    Card {
        code: String,
        lang: String,
        #[command(flatten)]
        agent: AgentArg,
        #[arg(long)]
        json: bool,
    },
    /// Search what the desk holds (procedures, cards, guidance, answer
    /// templates), offline, forgiving typos and abbreviations: best first.
    Search {
        query: String,
        #[command(flatten)]
        agent: AgentArg,
        /// The page's language: titles in it and its items first.
        #[arg(long, default_value = "it")]
        lang: String,
        /// At most this many hits (1 to 50).
        #[arg(long, default_value_t = 10)]
        limit: u32,
        /// Print `[{"kind", "code", "id", "title", "language", "score"}]`.
        #[arg(long)]
        json: bool,
    },
    /// Write an A4 PDF handout of the card of CODE, Italian beside LANG, with
    /// the operator's additions for this visitor (never stored or sent).
    Handout {
        code: String,
        lang: String,
        #[command(flatten)]
        agent: AgentArg,
        /// The PDF file to write.
        #[arg(long)]
        out: PathBuf,
        /// An addition for this visitor, e.g. --var "Appuntamento=12 gennaio, ore 9";
        /// repeat for each.
        #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
        vars: Vec<(String, String)>,
    },
    /// Show the outbox and the link to the hub.
    Status {
        #[command(flatten)]
        agent: AgentArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SecretCommand {
    /// Write a new random federation secret to FILE (share it with every
    /// desk, never with the hub).
    Generate { file: PathBuf },
    /// Install a federation secret into a desk's data folder; the agent
    /// fills pseudonyms from its next start.
    Import {
        file: PathBuf,
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
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // `serve` and `secret import` work on an enrolled folder; its agent.toml
    // is read once, and gives the log format when the flag does not.
    let config = match &cli.command {
        Command::Serve { data, .. }
        | Command::Secret {
            command: SecretCommand::Import { data, .. },
        } => Some(load(&data.data)?),
        _ => None,
    };
    let format = cli
        .log_format
        .clone()
        .or_else(|| config.as_ref().map(|c| c.log_format.clone()))
        .unwrap_or_else(|| "pretty".into());
    runtime::telemetry::init(&format);
    match cli.command {
        Command::Enroll {
            bundle,
            data: DataArg { data },
        } => {
            let config = desk_agent::server::enroll(&bundle, &data)?;
            println!(
                "sportello {} registrato in {}; hub: {} / desk {} enrolled in {}; hub: {}",
                config.desk_id,
                data.display(),
                config.hubs().unwrap_or_default().join(", "),
                config.desk_id,
                data.display(),
                config.hubs().unwrap_or_default().join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            data: DataArg { data },
            listen,
            listen_public,
            http_addr,
            http_public,
            metrics_addr,
            metrics_public,
        } => {
            let mut config = config.context("agent.toml was not read")?;
            if let Some(l) = listen {
                config.listen = l;
            }
            if let Some(a) = http_addr {
                config.http_addr = a;
            }
            config.http_public |= http_public;
            config.listen_public |= listen_public;
            if let Some(a) = metrics_addr {
                config.metrics_addr = a;
            }
            config.metrics_public |= metrics_public;
            let page = desk_agent::operator::bind(&config.http_addr, config.http_public).await?;
            let listener = runtime::listen::bind(
                &config.listen,
                config.listen_public,
                runtime::listen::Purpose {
                    what: "the desk's local API",
                    open_with: "--listen-public (or listen_public = true in agent.toml), which then asks every call for the token in api.token",
                },
            )
            .await?;
            desk_agent::server::run_with_page(
                &data,
                config,
                listener,
                Some(page),
                runtime::shutdown::signal(),
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Record { agent, file } => record(&agent, &file).await,
        Command::Anonymise {
            notes,
            secret,
            desk_id,
        } => anonymise(notes, secret.as_deref(), &desk_id),
        Command::Secret {
            command: SecretCommand::Generate { file },
        } => {
            if file.exists() {
                anyhow::bail!(
                    "{} already exists; a federation secret is never overwritten",
                    file.display()
                );
            }
            let secret = domain::FederationSecret::generate();
            runtime::secret::write_secret(&file, secret.to_file_text().as_bytes())
                .with_context(|| format!("cannot write {}", file.display()))?;
            println!(
                "federation secret written to {} (keep it off the hub)",
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Secret {
            command:
                SecretCommand::Import {
                    file,
                    data: DataArg { data },
                },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let secret = intake::read_secret(&text, &file)?;
            let target = data.join(intake::SECRET_FILE);
            runtime::secret::write_secret(&target, secret.to_file_text().as_bytes())
                .with_context(|| format!("cannot write {}", target.display()))?;
            println!(
                "federation secret installed; pseudonyms are filled from the agent's next start"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Guidance {
            agent,
            procedure,
            json,
        } => {
            let list = connect(&agent)
                .await?
                .list_guidance(proto::ListGuidanceRequest { procedure })
                .await
                .map_err(status_error)?
                .into_inner();
            if json {
                let items: Vec<_> = list.items.iter().map(guidance_json).collect();
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else {
                println!("versione / version {}", list.version);
                for i in &list.items {
                    println!(
                        "[{}] {} ({})",
                        proto::severity_name(i.severity),
                        i.title,
                        i.id
                    );
                    println!("    {}", i.body.replace('\n', "\n    "));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Render {
            key,
            lang,
            agent,
            vars,
        } => {
            let mut variables = std::collections::HashMap::new();
            for (name, value) in vars {
                if variables.insert(name.clone(), value).is_some() {
                    anyhow::bail!("--var {name} is given twice");
                }
            }
            let language = domain::normalise_language_tag(&lang).unwrap_or_default();
            let rendered = connect(&agent)
                .await?
                .render_template(proto::RenderTemplateRequest {
                    key,
                    language: lang,
                    variables,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            println!(
                "<div lang=\"{language}\" dir=\"{}\">{}</div>",
                rendered.direction, rendered.html
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Propose {
            key,
            lang,
            file,
            agent,
        } => {
            let body = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let id = connect(&agent)
                .await?
                .propose_template(proto::ProposeTemplateRequest {
                    key,
                    language: lang,
                    body,
                })
                .await
                .map_err(status_error)?
                .into_inner()
                .proposal_id;
            eprintln!("proposta in coda per l'hub / proposal queued for the hub");
            println!("{id}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            query,
            agent,
            lang,
            limit,
            json,
        } => {
            let found = connect(&agent)
                .await?
                .search(proto::SearchRequest {
                    query,
                    language: lang,
                    limit,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_search(&found, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Card {
            code,
            lang,
            agent,
            json,
        } => {
            let card = connect(&agent)
                .await?
                .get_card(proto::GetCardRequest {
                    code,
                    language: lang,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            if json {
                println!("{}", serde_json::to_string_pretty(&card_json(&card))?);
            } else {
                print_card(&card);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Handout {
            code,
            lang,
            agent,
            out,
            vars,
        } => {
            let mut additions = std::collections::HashMap::new();
            for (name, value) in vars {
                if additions.insert(name.clone(), value).is_some() {
                    anyhow::bail!("--var {name} is given twice");
                }
            }
            let pdf = connect(&agent)
                .await?
                .render_handout(proto::RenderHandoutRequest {
                    code,
                    language: lang,
                    additions,
                })
                .await
                .map_err(status_error)?
                .into_inner()
                .pdf;
            // It holds the visitor's additions: readable by the operator only.
            runtime::secret::write_secret(&out, &pdf)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "volantino scritto in / handout written to {} ({} bytes)",
                out.display(),
                pdf.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { agent, json } => {
            let status = connect(&agent)
                .await?
                .get_status(proto::GetStatusRequest {})
                .await
                .map_err(status_error)?
                .into_inner();
            let versions = status.versions.unwrap_or_default();
            if json {
                let quarantine: Vec<_> = status
                    .quarantine
                    .iter()
                    .map(|q| serde_json::json!({"seq": q.seq, "id": q.id, "reason": q.reason}))
                    .collect();
                let out = serde_json::json!({
                    "desk_id": status.desk_id,
                    "pending": status.pending,
                    "sent": status.sent,
                    "quarantined": status.quarantined,
                    "connected": status.connected,
                    "hub_address": status.hub_address,
                    "versions": {"guidance": versions.guidance, "template": versions.template, "catalogue": versions.catalogue},
                    "last_seq": status.last_seq,
                    "acked_seq": status.acked_seq,
                    "quarantine": quarantine,
                    "last_error": status.last_error,
                    "incarnation": status.incarnation,
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("sportello / desk   {}", status.desk_id);
                println!(
                    "collegato / connected   {}",
                    if status.connected { "sì / yes" } else { "no" }
                );
                println!("hub                     {}", status.hub_address);
                println!("in attesa / pending     {}", status.pending);
                println!("inviati / sent          {}", status.sent);
                println!("in quarantena / quarantined {}", status.quarantined);
                for q in &status.quarantine {
                    println!("  #{} {}: {}", q.seq, q.id, q.reason);
                }
                if !status.last_error.is_empty() {
                    println!("ultimo errore / last error: {}", status.last_error);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(data: &Path) -> anyhow::Result<AgentConfig> {
    if !data.join(desk_agent::config::FILE_NAME).exists() {
        anyhow::bail!(
            "{} holds no enrolled desk (run `desk-agent enroll BUNDLE --data {0}`)",
            data.display()
        );
    }
    Ok(AgentConfig::load(data, std::env::vars())?)
}

/// `NAME=VALUE`, split at the first `=`.
fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// `desk-agent search`: with `--json`, exactly the array of hits on stdout
/// (an empty array when nothing matches); "did you mean" goes to stderr, so
/// that the JSON contract stays the array.
fn print_search(found: &proto::SearchResponse, json: bool) -> anyhow::Result<()> {
    if json {
        let hits: Vec<serde_json::Value> = found
            .hits
            .iter()
            .map(|h| {
                serde_json::json!({
                    "kind": h.kind,
                    "code": h.code,
                    "id": h.id,
                    "title": h.title,
                    "language": h.language,
                    "score": h.score,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&hits)?);
    } else if found.hits.is_empty() {
        println!("nessun risultato / no results");
    } else {
        for (n, h) in found.hits.iter().enumerate() {
            let code = if h.code.is_empty() || h.code == h.id {
                String::new()
            } else {
                format!(" ({})", h.code)
            };
            println!(
                "{:>2}. [{}] {} — {}{} [{}] {:.2}",
                n + 1,
                h.kind,
                h.id,
                h.title,
                code,
                h.language,
                h.score
            );
        }
    }
    if !found.did_you_mean.is_empty() {
        eprintln!(
            "forse cercavi / did you mean: {}",
            found.did_you_mean.join(", ")
        );
    }
    Ok(())
}

/// One card as `desk-agent card --json` prints it: amounts also as text.
fn one_card_json(c: &proto::ProcedureCard) -> serde_json::Value {
    let items = |items: &[proto::CardItem]| -> Vec<serde_json::Value> {
        items
            .iter()
            .map(|i| serde_json::json!({"id": i.id, "text": i.text, "note": i.note}))
            .collect()
    };
    let costs: Vec<_> = c
        .costs
        .iter()
        .map(|k| {
            serde_json::json!({
                "id": k.id,
                "cents": k.cents,
                "amount": domain::card::format_euro(k.cents),
                "what": k.what,
            })
        })
        .collect();
    serde_json::json!({
        "code": c.code,
        "language": c.language,
        "version": c.version,
        "reference_version": c.reference_version,
        "summary": c.summary,
        "who_can_apply": c.who_can_apply,
        "steps": items(&c.steps),
        "documents": items(&c.documents),
        "costs": costs,
        "where": {"office": c.office, "hours": c.hours, "booking": c.booking},
        "deadlines": c.deadlines,
        "waiting_time": c.waiting_time,
        "legal_basis": c.legal_basis,
        "mistakes": items(&c.mistakes),
        "owner": c.owner,
        "verified_on": c.verified_on,
        "verified_by": c.verified_by,
        "review_by": c.review_by,
    })
}

fn card_json(card: &proto::GetCardResponse) -> serde_json::Value {
    serde_json::json!({
        "reference": card.reference.as_ref().map(one_card_json),
        "translation": card.translation.as_ref().map(one_card_json),
        "stale_fields": card.stale_fields,
        "missing_fields": card.missing_fields,
    })
}

fn print_card(card: &proto::GetCardResponse) {
    for c in card.reference.iter().chain(card.translation.iter()) {
        println!("== {} [{}] v{}", c.code, c.language, c.version);
        println!("{}", c.summary);
        if !c.who_can_apply.is_empty() {
            println!("\n{}", c.who_can_apply);
        }
        for (n, s) in c.steps.iter().enumerate() {
            println!("  {}. {}", n + 1, s.text);
        }
        for d in &c.documents {
            if d.note.is_empty() {
                println!("  - {}", d.text);
            } else {
                println!("  - {} ({})", d.text, d.note);
            }
        }
        for k in &c.costs {
            println!("  {}  {}", domain::card::format_euro(k.cents), k.what);
        }
        for (label, text) in [
            ("dove / where", &c.office),
            ("orari / hours", &c.hours),
            ("prenotazione / booking", &c.booking),
            ("scadenze / deadlines", &c.deadlines),
            ("attesa / waiting", &c.waiting_time),
        ] {
            if !text.is_empty() {
                println!("{label}: {text}");
            }
        }
        if !c.legal_basis.is_empty() {
            println!("norme / legal basis: {}", c.legal_basis.join("; "));
        }
        if !c.owner.is_empty() {
            println!(
                "responsabile / owner: {}; verificata / verified {}; rivedere entro / review by {}",
                c.owner, c.verified_on, c.review_by
            );
        }
        println!();
    }
    if !card.stale_fields.is_empty() {
        println!(
            "da aggiornare (l'italiano è cambiato) / stale: {}",
            card.stale_fields.join(", ")
        );
    }
}

fn status_error(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}", s.message())
}

type Client = DeskClient<InterceptedService<Channel, Bearer>>;

async fn connect(arg: &AgentArg) -> anyhow::Result<Client> {
    let agent = arg.agent.as_str();
    let token = match &arg.token_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?,
        None => String::new(),
    };
    let bearer = Bearer::new(&token).context("the token file does not hold a token")?;
    let url = if agent.contains("://") {
        agent.to_string()
    } else {
        format!("http://{agent}")
    };
    // TCP_NODELAY: a request's second frame would otherwise wait for the
    // agent's delayed ACK, 40 ms per line of a `record` file.
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .with_context(|| format!("`{agent}` is not a valid agent URL"))?
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("no agent answers at {url}"))?;
    Ok(DeskClient::with_interceptor(channel, bearer))
}

/// The lines a command refused, each said on standard error with its number.
#[derive(Default)]
struct Refused(usize);

impl Refused {
    /// The line's text; `None` for a blank line, or one that could not be
    /// read (said and counted here).
    fn text(&mut self, n: usize, line: intake::Line) -> Option<String> {
        match line {
            Ok(l) if l.trim().is_empty() => None,
            Ok(l) => Some(l),
            Err(why) => {
                self.refuse(n, why);
                None
            }
        }
    }

    fn refuse(&mut self, n: usize, why: impl std::fmt::Display) {
        eprintln!("line {n}: {why}");
        self.0 += 1;
    }

    /// 2 when any line was refused.
    fn exit_code(&self) -> ExitCode {
        if self.0 == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        }
    }
}

/// Same intake as `RecordVisit`, on standard input; bad lines are reported
/// with their number and field, and the rest still flow.
fn anonymise(notes: bool, secret: Option<&Path>, desk_id: &str) -> anyhow::Result<ExitCode> {
    let secret = match secret {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(intake::read_secret(&text, path)?)
        }
        None => None,
    };
    let intake = intake::Intake {
        scrub_notes: notes,
        secret,
    };
    let catalogue = domain::Catalogue::seed();
    let mut refused = Refused::default();
    for line in intake::lines(std::io::stdin().lock()) {
        let (n, line) = line.context("cannot read standard input")?;
        let Some(line) = refused.text(n, line) else {
            continue;
        };
        // A line's `request_id` is for `record`; anonymising stores nothing.
        let record = domain::Visit::from_keyed_json_line(&line)
            .and_then(|(visit, _)| intake.anonymise(&visit, desk_id, &catalogue));
        match record {
            Ok(r) => println!("{}", intake::record_json(&r.to_raw().into())),
            Err(e) => refused.refuse(n, e),
        }
    }
    Ok(refused.exit_code())
}

/// Bad lines are reported with their number and the rest still flow; the
/// exit code is 2 when any line was refused.
async fn record(agent: &AgentArg, file: &str) -> anyhow::Result<ExitCode> {
    let mut client = connect(agent).await?;
    let input: Box<dyn BufRead> = if file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("cannot open {file}"))?,
        ))
    };
    let mut refused = Refused::default();
    for line in intake::lines(input) {
        let (n, line) = line.with_context(|| format!("cannot read {file}"))?;
        let Some(line) = refused.text(n, line) else {
            continue;
        };
        let (visit, request_id) = match domain::Visit::from_keyed_json_line(&line) {
            Ok(v) => v,
            Err(e) => {
                refused.refuse(n, e);
                continue;
            }
        };
        match client
            .record_visit(proto::RecordVisitRequest {
                visit: Some(visit.into()),
                request_id: request_id.unwrap_or_default(),
            })
            .await
        {
            // Recorded before under this key: not a refusal of the line,
            // but its visit is not the one recorded.
            Err(s) if s.code() == tonic::Code::AlreadyExists => refused.refuse(n, s.message()),
            Ok(resp) => {
                let record = resp.into_inner().record.unwrap_or_default();
                println!("{}", intake::record_json(&record));
            }
            Err(s) if s.code() == tonic::Code::InvalidArgument => refused.refuse(n, s.message()),
            Err(s) => anyhow::bail!("line {n}: the agent failed: {}", s.message()),
        }
    }
    Ok(refused.exit_code())
}

fn guidance_json(i: &proto::GuidanceItem) -> serde_json::Value {
    serde_json::json!({
        "id": i.id,
        "version": i.version,
        "title": i.title,
        "body": i.body,
        "severity": proto::severity_name(i.severity),
        "procedures": i.procedures,
        "effective_from": i.effective_from,
        "expires_at": if i.expires_at.is_empty() { serde_json::Value::Null } else { i.expires_at.clone().into() },
    })
}
