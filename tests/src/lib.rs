//! Builders for end-to-end tests: they run the real `hub` and `desk-agent`
//! binaries in temporary folders, on loopback ports, and talk to them with
//! the real CLI and real gRPC.

pub mod browser;
pub mod http;
pub mod lp;
pub mod tap;
pub mod tmpfs;
pub mod web;

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The folder holding the binaries of the profile these tests were built
/// with; builds them once per test process, so `cargo test` alone suffices.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target profile folder")
            .to_path_buf();
        let release = dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        // The same package and target selection as `cargo test --workspace`
        // resolves the same features, so this reuses every dependency the
        // test build compiled instead of building them all a second time.
        cmd.args(["build", "--quiet", "--workspace", "--bins", "--tests"]);
        if release {
            cmd.arg("--release");
        }
        // The test runner describes the e2e package in these variables; a
        // build script that reruns when they change (ring's does) would
        // otherwise rebuild here, and again at the next plain cargo command.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_PRIMARY_",
            ]
            .iter()
            .any(|p| name.starts_with(p))
            {
                cmd.env_remove(&*name);
            }
        }
        let status = cmd.status().expect("run cargo build for the binaries");
        assert!(
            status.success(),
            "building the hub and desk-agent binaries failed"
        );
        dir
    })
}

pub fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// Runs a CLI command to completion.
pub fn run(name: &str, args: &[&str]) -> Output {
    Command::new(bin(name))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("spawn CLI")
}

pub fn run_ok(name: &str, args: &[&str]) -> String {
    let out = run(name, args);
    assert!(
        out.status.success(),
        "{name} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A loopback address with a port no one listens on, for a process the
/// test starts next. The port is taken below Linux's ephemeral range
/// (32768 up): a port the kernel hands out for port 0 is in that range, and
/// in the gap before the child binds it, one of the suite's thousands of
/// outgoing connections could take it, leaving the child unable to listen
/// (seen once: a hub that never answered within 20 s). Each test process
/// starts at its own place (its pid) and moves on, so that tests running at
/// once do not pick the same ports.
pub fn free_addr() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 10_000;
    const PORTS: u32 = 22_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::process::id().wrapping_mul(2_654_435_761) % PORTS;
    for _ in 0..100 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = FIRST + (base + n * 7) % PORTS;
        if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", port as u16)) {
            return l.local_addr().expect("local addr").to_string();
        }
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("local addr").to_string()
}

/// Polls `f` until it returns `Some`, for at most `limit`.
pub async fn eventually<T>(
    limit: Duration,
    mut f: impl AsyncFnMut() -> Option<T>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if start.elapsed() > limit {
            bail!("condition not met within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A process we can SIGKILL or SIGTERM; its output goes to a log file so the
/// tests can search the logs for personal data.
pub struct Proc {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Proc {
    fn spawn(name: &str, args: &[&str], log: PathBuf) -> anyhow::Result<Self> {
        Self::spawn_command(Command::new(bin(name)), name, args, log)
    }

    /// `name` run inside the network namespace `netns` (`ip netns exec`,
    /// which becomes the binary, so that a kill reaches it).
    pub fn spawn_in_netns(
        netns: &str,
        name: &str,
        args: &[&str],
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", netns]).arg(bin(name));
        Self::spawn_command(command, name, args, log)
    }

    fn spawn_command(
        mut command: Command,
        name: &str,
        args: &[&str],
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let child = command
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("spawn {name}"))?;
        Ok(Self {
            child: Some(child),
            log,
        })
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(&mut self) -> anyhow::Result<()> {
        match self.child.take() {
            Some(mut c) => terminate_child(&mut c),
            None => Ok(()),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Hub {
    pub data: PathBuf,
    pub federation: String,
    pub coordinator: String,
    pub proc: Option<Proc>,
    starts: usize,
    /// The PostgreSQL database the hub keeps its state in, when the tests
    /// run on that store (`RETE_TEST_STORE=postgres`).
    pub database: Option<pgtest::Database>,
}

/// Which store the tests give a hub: `RETE_TEST_STORE=postgres` runs the
/// same test bodies on PostgreSQL, each hub on a fresh database.
pub fn on_postgres() -> bool {
    std::env::var("RETE_TEST_STORE").is_ok_and(|s| s == "postgres")
}

impl Hub {
    pub fn init(root: &Path) -> Self {
        Self::init_with(root, free_addr())
    }

    /// `init`, with the federation port on `federation` (HOST:PORT).
    pub fn init_with(root: &Path, federation: String) -> Self {
        let database = on_postgres().then(|| pgtest::Database::new().expect("a test database"));
        Self::init_on(root, federation, database)
    }

    /// `init` with its state in `database` (PostgreSQL), or in sled when
    /// `None`. The password goes in a 0600 file beside the data folder, as
    /// a deployment keeps it.
    pub fn init_on(root: &Path, federation: String, database: Option<pgtest::Database>) -> Self {
        let data = root.join("hub");
        let coordinator = free_addr();
        let mut args = vec![
            "init".to_owned(),
            "--data".into(),
            path(&data).into(),
            "--federation-addr".into(),
            federation.clone(),
            "--coordinator-addr".into(),
            coordinator.clone(),
        ];
        if let Some(db) = &database {
            std::fs::create_dir_all(root).expect("the test's folder");
            let file = root.join("pg-password");
            runtime::secret::write_secret(&file, pgtest::PASSWORD.as_bytes())
                .expect("password file written");
            args.extend([
                "--store".into(),
                db.url(),
                "--store-password-file".into(),
                path(&file).into(),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok("hub", &args);
        Self {
            data,
            federation,
            coordinator,
            proc: None,
            starts: 0,
            database,
        }
    }

    /// A hub whose data folder already exists (made by `hub replica add`,
    /// say), listening where its hub.toml says.
    pub fn at(data: PathBuf, federation: String, coordinator: String) -> Self {
        Self {
            data,
            federation,
            coordinator,
            proc: None,
            starts: 0,
            database: None,
        }
    }

    pub async fn start(&mut self) -> anyhow::Result<()> {
        self.start_with(&[]).await
    }

    /// Sets keys of `hub.toml` (read at the next start).
    pub fn configure(&self, settings: &[(&str, toml::Value)]) -> anyhow::Result<()> {
        let file = self.data.join("hub.toml");
        let mut table: toml::Table = std::fs::read_to_string(&file)?.parse()?;
        for (key, value) in settings {
            table.insert((*key).to_string(), value.clone());
        }
        std::fs::write(&file, toml::to_string(&table)?)?;
        Ok(())
    }

    /// `start`, with more arguments for `hub serve`.
    pub async fn start_with(&mut self, extra: &[&str]) -> anyhow::Result<()> {
        self.starts += 1;
        let log = self.data.parent().unwrap_or(&self.data).join(format!(
            "{}-{}.log",
            self.data
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("hub"),
            self.starts
        ));
        let mut args = vec!["serve", "--data", path(&self.data)];
        args.extend_from_slice(extra);
        self.proc = Some(Proc::spawn("hub", &args, log)?);
        let addr = self.coordinator.clone();
        eventually(Duration::from_secs(20), async || {
            tokio::net::TcpStream::connect(&addr).await.ok()
        })
        .await?;
        Ok(())
    }

    pub fn kill(&mut self) {
        if let Some(p) = self.proc.as_mut() {
            p.kill();
        }
    }

    pub fn terminate(&mut self) -> anyhow::Result<()> {
        match self.proc.as_mut() {
            Some(p) => p.terminate(),
            None => Ok(()),
        }
    }

    /// Enrols a desk through the CLI and returns its bundle path.
    pub fn add_desk(&self, desk_id: &str) -> PathBuf {
        let out = self
            .data
            .parent()
            .unwrap_or(&self.data)
            .join(format!("{desk_id}.bundle"));
        run_ok(
            "hub",
            &[
                "desk",
                "add",
                desk_id,
                "--data",
                path(&self.data),
                "--hub-address",
                &self.federation,
                "--out",
                path(&out),
            ],
        );
        out
    }

    pub fn desks(&self) -> serde_json::Value {
        let out = run_ok("hub", &["desks", "--data", path(&self.data), "--json"]);
        serde_json::from_str(&out).expect("hub desks --json prints JSON")
    }

    /// Publishes a guidance notice `id` (a TOML file written under `root`)
    /// through `hub guidance publish`; its version.
    pub fn publish_guidance(&self, root: &Path, id: &str) -> u64 {
        self.publish_guidance_toml(
            root,
            id,
            &format!(
                "id = \"{id}\"\ntitle = \"Avviso {id}\"\nbody = \"Testo dell'avviso {id}.\"\n"
            ),
        )
    }

    /// Publishes the guidance file `toml` (written as `root/NAME.toml`)
    /// through `hub guidance publish`; its version.
    pub fn publish_guidance_toml(&self, root: &Path, name: &str, toml: &str) -> u64 {
        let file = root.join(format!("{name}.toml"));
        std::fs::write(&file, toml).expect("write guidance");
        run_ok(
            "hub",
            &[
                "guidance",
                "publish",
                path(&file),
                "--data",
                path(&self.data),
            ],
        )
        .trim()
        .parse()
        .expect("a version")
    }

    /// `hub verify --json` on the stopped store.
    pub fn verify(&self) -> serde_json::Value {
        let out = run_ok("hub", &["verify", "--data", path(&self.data), "--json"]);
        serde_json::from_str(&out).expect("hub verify --json prints JSON")
    }

    /// One desk's row of `hub desks --json` (null when it is not listed).
    pub fn desk(&self, desk_id: &str) -> serde_json::Value {
        self.desks()
            .as_array()
            .and_then(|a| a.iter().find(|d| d["desk_id"] == desk_id).cloned())
            .unwrap_or_default()
    }

    /// Waits until the hub holds `n` records of the agent's desk and the
    /// desk has nothing left to send, then checks that the number holds.
    pub async fn settle(&self, agent: &Agent, n: u64) -> anyhow::Result<()> {
        let id = agent.desk_id.clone();
        eventually(Duration::from_secs(90), async || {
            (self.records_of(&id) == Some(n)).then_some(())
        })
        .await?;
        eventually(Duration::from_secs(60), async || {
            let s = agent.status();
            (s["pending"] == 0 && s["connected"] == true).then_some(())
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        anyhow::ensure!(
            self.records_of(&id) == Some(n),
            "the hub no longer holds {n} records of {id}: {}",
            self.desk(&id)
        );
        Ok(())
    }

    /// `records` of one desk per `hub desks --json`.
    pub fn records_of(&self, desk_id: &str) -> Option<u64> {
        self.desks()
            .as_array()?
            .iter()
            .find(|d| d["desk_id"] == desk_id)
            .and_then(|d| d["records"].as_u64())
    }
}

/// A valid anonymised record of `desk`, as a desk would put it on the
/// wire: for tests that play a desk over raw gRPC.
pub fn wire_record(desk: &str) -> proto::AnonymisedRecord {
    proto::AnonymisedRecord {
        id: uuid::Uuid::now_v7().to_string(),
        desk_id: desk.into(),
        week: "2026-W48".into(),
        procedure: "permesso.rinnovo.lavoro".into(),
        channel: "walk_in".into(),
        language: "it".into(),
        outcome: "answered".into(),
        duration_band: "<15".into(),
        ..Default::default()
    }
}

/// A running hub and one enrolled desk, `sportello-centro`, holding the
/// seed procedure cards (waits until the Arabic card of
/// `permesso.rinnovo.lavoro` has reached it).
pub async fn desk_with_cards(root: &Path) -> anyhow::Result<(Hub, Agent)> {
    let mut hub = Hub::init(root);
    hub.start().await?;
    let bundle = hub.add_desk("sportello-centro");
    let mut agent = Agent::enroll(root, "sportello-centro", &bundle);
    agent.start().await?;
    eventually(Duration::from_secs(20), async || {
        let out = run(
            "desk-agent",
            &[
                "card",
                "permesso.rinnovo.lavoro",
                "ar",
                "--agent",
                &agent.url,
                "--json",
            ],
        );
        out.status.success().then_some(())
    })
    .await?;
    Ok((hub, agent))
}

/// A running hub under `root` with one running desk per id, enrolled
/// through the CLI: how most end-to-end tests begin.
pub async fn network(root: &Path, desk_ids: &[&str]) -> anyhow::Result<(Hub, Vec<Agent>)> {
    let mut hub = Hub::init(root);
    hub.start().await?;
    let mut agents = Vec::new();
    for id in desk_ids {
        let bundle = hub.add_desk(id);
        let mut agent = Agent::enroll(root, id, &bundle);
        agent.start().await?;
        agents.push(agent);
    }
    Ok((hub, agents))
}

pub struct Agent {
    pub desk_id: String,
    pub data: PathBuf,
    pub url: String,
    listen: String,
    /// The operator page's address (`host:port`).
    pub http: String,
    pub proc: Option<Proc>,
    starts: usize,
}

impl Agent {
    pub fn enroll(root: &Path, desk_id: &str, bundle: &Path) -> Self {
        let data = root.join(desk_id);
        run_ok(
            "desk-agent",
            &["enroll", path(bundle), "--data", path(&data)],
        );
        let listen = free_addr();
        Self {
            desk_id: desk_id.into(),
            data,
            url: format!("http://{listen}"),
            listen,
            http: free_addr(),
            proc: None,
            starts: 0,
        }
    }

    pub async fn start(&mut self) -> anyhow::Result<()> {
        self.start_with(&[]).await
    }

    /// `start`, with more arguments for `desk-agent serve`.
    pub async fn start_with(&mut self, extra: &[&str]) -> anyhow::Result<()> {
        self.starts += 1;
        let log = self
            .data
            .parent()
            .unwrap_or(&self.data)
            .join(format!("{}-{}.log", self.desk_id, self.starts));
        let mut args = vec![
            "serve",
            "--data",
            path(&self.data),
            "--listen",
            &self.listen,
            "--http-addr",
            &self.http,
        ];
        args.extend_from_slice(extra);
        self.proc = Some(Proc::spawn("desk-agent", &args, log)?);
        for addr in [self.listen.clone(), self.http.clone()] {
            eventually(Duration::from_secs(20), async || {
                tokio::net::TcpStream::connect(&addr).await.ok()
            })
            .await?;
        }
        Ok(())
    }

    /// The operator page's URL for `path`.
    pub fn page(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn kill(&mut self) {
        if let Some(p) = self.proc.as_mut() {
            p.kill();
        }
    }

    pub fn terminate(&mut self) -> anyhow::Result<()> {
        match self.proc.as_mut() {
            Some(p) => p.terminate(),
            None => Ok(()),
        }
    }

    pub async fn client(
        &self,
    ) -> anyhow::Result<proto::desk_client::DeskClient<tonic::transport::Channel>> {
        Ok(proto::desk_client::DeskClient::connect(self.url.clone()).await?)
    }

    /// Records `n` synthetic visits (seeded) through `RecordVisit`; every
    /// one must be acknowledged.
    pub async fn record_visits(&self, n: usize, seed: u64) -> anyhow::Result<()> {
        use rand::SeedableRng;
        let mut client = self.client().await?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for _ in 0..n {
            client
                .record_visit(proto::RecordVisitRequest {
                    visit: Some(synthetic::visit(&mut rng)),
                    ..Default::default()
                })
                .await
                .map_err(|s| anyhow::anyhow!("RecordVisit failed: {}", s.message()))?;
        }
        Ok(())
    }

    pub fn status(&self) -> serde_json::Value {
        let out = run_ok("desk-agent", &["status", "--agent", &self.url, "--json"]);
        serde_json::from_str(&out).expect("status --json prints JSON")
    }
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Every file under `root` whose bytes contain `needle`.
pub fn files_containing(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p);
                }
            }
        }
    }
    hits
}

fn bundle_field(bundle: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(bundle).expect("bundle");
    let table: toml::Table = text.parse().expect("bundle is TOML");
    table[key].as_str().expect("string").to_string()
}

/// A mutual-TLS channel to the hub's federation port with a desk's bundle,
/// for tests that play a desk by hand.
pub async fn desk_channel(
    hub: &Hub,
    bundle: &Path,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(
            std::fs::read_to_string(hub.data.join("ca.crt")).expect("ca"),
        ))
        .identity(Identity::from_pem(
            bundle_field(bundle, "cert_pem"),
            bundle_field(bundle, "key_pem"),
        ))
        .domain_name("rete-sportelli-hub");
    Endpoint::from_shared(format!("https://{}", hub.federation))?
        .tls_config(tls)?
        .connect()
        .await
}

/// SIGTERM to `child`, then waits up to 30 s for a clean exit.
pub fn terminate_child(child: &mut std::process::Child) -> anyhow::Result<()> {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status()?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("exited with {status} after SIGTERM");
            }
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            bail!("did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
