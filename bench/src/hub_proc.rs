//! The hub under test: built and started as its own process so that its
//! memory (`/proc/PID/status`) is the hub's alone, and the desks' data folder
//! layout prepared with the hub's own library while the hub is stopped.

use anyhow::{bail, Context};
use hub::config::{DataDir, HubConfig};
use runtime::bundle::Bundle;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `hub.toml` overrides for desks that all share one loopback address.
const LOOPBACK_DESKS: [(&str, &str); 3] = [
    ("RETE_HUB_MAX_CONNECTIONS", "20000"),
    ("RETE_HUB_MAX_CONNECTIONS_PER_SOURCE", "20000"),
    ("RETE_HUB_MAX_HANDSHAKES_PER_SOURCE", "256"),
];

/// Where the `hub` and `desk-agent` binaries of this profile are.
pub(crate) struct Binaries {
    pub hub: PathBuf,
    pub desk_agent: PathBuf,
}

impl Binaries {
    /// The binaries next to this executable; built first when run through
    /// cargo, so that a stale hub is never measured.
    pub(crate) fn locate() -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the bench executable")?;
        let dir = exe
            .parent()
            .context("the bench executable has no folder")?
            .to_path_buf();
        if let Ok(cargo) = std::env::var("CARGO") {
            let release = dir.file_name().is_some_and(|n| n == "release");
            let mut cmd = Command::new(cargo);
            cmd.args([
                "build",
                "--quiet",
                "-p",
                "hub",
                "-p",
                "desk-agent",
                "--bins",
            ]);
            if release {
                cmd.arg("--release");
            }
            let status = cmd
                .status()
                .context("cannot run cargo to build the binaries")?;
            if !status.success() {
                bail!("building the hub and desk-agent binaries failed");
            }
        }
        let bins = Self {
            hub: dir.join("hub"),
            desk_agent: dir.join("desk-agent"),
        };
        for b in [&bins.hub, &bins.desk_agent] {
            if !b.exists() {
                bail!(
                    "{} not found; run `cargo build -p hub -p desk-agent --bins` with this profile",
                    b.display()
                );
            }
        }
        Ok(bins)
    }
}

pub(crate) fn free_addr() -> anyhow::Result<String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.to_string())
}

pub(crate) fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not UTF-8", p.display()))
}

/// A hub data folder, and the hub process once started.
pub(crate) struct Hub {
    pub data: PathBuf,
    pub federation: String,
    coordinator: String,
    bin: PathBuf,
    child: Option<Child>,
    /// Settings for this run, as the hub's environment overrides.
    env: Vec<(&'static str, String)>,
}

impl Hub {
    /// `hub init` with loopback ports.
    pub(crate) fn init(bins: &Binaries, root: &Path) -> anyhow::Result<Self> {
        let data = root.join("hub");
        let (federation, coordinator) = (free_addr()?, free_addr()?);
        let mut command = Command::new(&bins.hub);
        command.args([
            "init",
            "--data",
            path_str(&data)?,
            "--federation-addr",
            &federation,
            "--coordinator-addr",
            &coordinator,
        ]);
        if let Some(store) = crate::pg::store() {
            command
                .args(["--store", &store.url, "--store-password-file"])
                .arg(&store.password_file);
        }
        let out = command
            .env("RUST_LOG", "warn")
            .output()
            .context("cannot run hub init")?;
        if !out.status.success() {
            bail!("hub init failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(Self {
            data,
            federation,
            coordinator,
            bin: bins.hub.clone(),
            child: None,
            env: Vec::new(),
        })
    }

    /// Another replica of this hub on the same store (`hub replica add`),
    /// not started.
    pub(crate) fn replica(&self, root: &Path) -> anyhow::Result<Self> {
        let data = root.join("replica");
        let (federation, coordinator) = (free_addr()?, free_addr()?);
        let out = Command::new(&self.bin)
            .args([
                "replica",
                "add",
                "--data",
                path_str(&self.data)?,
                "--out",
                path_str(&data)?,
                "--federation-addr",
                &federation,
                "--coordinator-addr",
                &coordinator,
            ])
            .env("RUST_LOG", "warn")
            .output()
            .context("cannot run hub replica add")?;
        if !out.status.success() {
            bail!(
                "hub replica add failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(Self {
            data,
            federation,
            coordinator,
            bin: self.bin.clone(),
            child: None,
            env: self.env.clone(),
        })
    }

    /// A `hub.toml` setting for this run, given as its environment override.
    pub(crate) fn set_env(&mut self, key: &'static str, value: String) {
        self.env.push((key, value));
    }

    /// Enrols desks `{prefix}-{i}` on the stopped hub's store, through the
    /// same `admin::add_desk` the CLI uses; thousands of `hub desk add`
    /// processes would take longer than the measurement.
    pub(crate) fn enrol(&self, prefix: &str, n: usize) -> anyhow::Result<Vec<Bundle>> {
        let own = vec![self.federation.clone()];
        self.enrol_to(prefix, n, |_| own.clone())
    }

    /// `enrol`, desk `i`'s bundle listing `addresses(i)`.
    pub(crate) fn enrol_to(
        &self,
        prefix: &str,
        n: usize,
        addresses: impl Fn(usize) -> Vec<String>,
    ) -> anyhow::Result<Vec<Bundle>> {
        if self.child.is_some() {
            bail!("desks are enrolled before the hub starts");
        }
        let dir = DataDir(self.data.clone());
        let config = HubConfig::load(&self.data, std::iter::empty())?;
        let store = hub::server::open_store(&dir, &config)?;
        let ca = hub::server::load_ca(&dir)?;
        let bar = crate::progress::bar(n as u64, "enrolling desks");
        let mut bundles = Vec::with_capacity(n);
        for i in 0..n {
            let id = format!("{prefix}-{i}");
            bundles.push(hub::admin::add_desk(
                store.as_ref(),
                &ca,
                &id,
                &addresses(i),
                hub::audit::CLI,
            )?);
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(bundles)
    }

    /// Turns the coordinators' dashboard on (a free loopback port) and adds
    /// an account through `hub user add`, on the stopped hub. Returns the
    /// dashboard's address and the account's password.
    pub(crate) fn dashboard(&self, user: &str) -> anyhow::Result<(String, String)> {
        use std::io::Write;
        if self.child.is_some() {
            bail!("the dashboard is set up before the hub starts");
        }
        let addr = free_addr()?;
        let mut config = HubConfig::load(&self.data, std::iter::empty())?;
        config.http_addr = addr.clone();
        config.save(&self.data)?;
        let password = format!("bench-{:032x}", rand::random::<u128>());
        let mut child = Command::new(&self.bin)
            .args(["user", "add", user, "--data", path_str(&self.data)?])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run hub user add")?;
        child
            .stdin
            .take()
            .context("no stdin for hub user add")?
            .write_all(format!("{password}\n").as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "hub user add failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok((addr, password))
    }

    /// `hub serve`, logging at warn into a file beside the data folder (info
    /// would log a line per desk connection and measure the logger).
    pub(crate) async fn start(&mut self) -> anyhow::Result<()> {
        // sled releases its file lock a moment after the enrolling store is
        // dropped (its I/O threads hold the file until their last write
        // settles), so a hub started at once can find the store still locked.
        let mut attempts = 0;
        loop {
            match self.start_once().await {
                Err(e) if attempts < 20 && e.to_string().contains("could not acquire lock") => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    async fn start_once(&mut self) -> anyhow::Result<()> {
        let log = self.data.with_extension("log");
        let file = std::fs::File::create(&log)?;
        let child = Command::new(&self.bin)
            .args(["serve", "--data", path_str(&self.data)?])
            .env("RUST_LOG", "warn")
            // Every simulated desk connects from 127.0.0.1, where real desks
            // each have their own address: the per-source caps would meet
            // the bench itself, and the 10,000-desk run passes the total.
            .envs(LOOPBACK_DESKS)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .context("cannot start hub serve")?;
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(&self.coordinator)
                .await
                .is_ok()
                && tokio::net::TcpStream::connect(&self.federation)
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut() {
                if let Some(status) = c.try_wait()? {
                    self.child = None;
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    bail!("the hub exited with {status} at start: {text}");
                }
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("the hub did not listen within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn pid(&self) -> anyhow::Result<u32> {
        self.child
            .as_ref()
            .map(Child::id)
            .context("the hub is not running")
    }

    /// Fails if the hub died during a scenario, so that its figures are
    /// never reported as if it had served them.
    pub(crate) fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(c) = self.child.as_mut() {
            if let Some(status) = c.try_wait()? {
                bail!(
                    "the hub exited with {status} during the run (log: {})",
                    self.data.with_extension("log").display()
                );
            }
        }
        Ok(())
    }

    /// SIGTERM and a clean exit, as an operator's restart begins.
    pub(crate) fn terminate(&mut self) -> anyhow::Result<()> {
        match self.child.take() {
            Some(mut c) => e2e::terminate_child(&mut c),
            None => Ok(()),
        }
    }

    /// SIGKILL: a clean stop would note "last seen" for every desk, one
    /// flush each, which the figures do not need.
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Memory of a process, from `/proc/PID/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

pub(crate) fn memory(pid: u32) -> anyhow::Result<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Ok(Memory {
        rss_kib: field("VmRSS:").context("no VmRSS in /proc status")?,
        hwm_kib: field("VmHWM:").context("no VmHWM in /proc status")?,
    })
}

/// Samples a process's VmRSS every 100 ms on a thread of its own, keeping
/// the highest value seen; VmHWM then confirms it between samples.
pub(crate) struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
    pid: u32,
}

impl RssSampler {
    pub(crate) fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (Arc::clone(&stop), Arc::clone(&peak));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Ok(m) = memory(pid) {
                    p.fetch_max(m.rss_kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self {
            stop,
            peak,
            thread: Some(thread),
            pid,
        }
    }

    /// Peak resident memory in KiB: the kernel's high-water mark when the
    /// process is still there, else the highest sample.
    pub(crate) fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let sampled = self.peak.load(Ordering::Relaxed);
        memory(self.pid)
            .map(|m| m.hwm_kib.max(sampled))
            .unwrap_or(sampled)
    }
}

/// CPU time (user + system) a process has used, in seconds; `None` when
/// /proc cannot tell. Printed beside throughput so that a run shows which
/// side, the hub or the simulated desks, was the limit.
pub(crate) fn cpu_seconds(pid: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may itself hold spaces.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((utime + stime) / 100.0)
}

/// CPU seconds of the hub and of this process over a phase.
pub(crate) struct CpuWatch {
    hub: String,
    start_hub: Option<f64>,
    start_self: Option<f64>,
    began: Instant,
}

impl CpuWatch {
    pub(crate) fn start(hub_pid: u32) -> Self {
        let hub = hub_pid.to_string();
        Self {
            start_hub: cpu_seconds(&hub),
            start_self: cpu_seconds("self"),
            hub,
            began: Instant::now(),
        }
    }

    /// One line on stderr: wall time, hub CPU, desks' (this process's) CPU.
    /// Returns the hub's CPU seconds, when /proc told.
    pub(crate) fn report(&self, what: &str) -> Option<f64> {
        let wall = self.began.elapsed().as_secs_f64();
        let used = |start: Option<f64>, pid: &str| match (start, cpu_seconds(pid)) {
            (Some(a), Some(b)) => format!("{:.1} s", b - a),
            _ => "n/a".to_string(),
        };
        eprintln!(
            "bench: {what}: {wall:.1} s wall, hub CPU {}, desks (bench process) CPU {}",
            used(self.start_hub, &self.hub),
            used(self.start_self, "self")
        );
        Some(cpu_seconds(&self.hub)? - self.start_hub?)
    }
}
