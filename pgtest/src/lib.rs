//! A real PostgreSQL for tests, started as the tests start the real hub:
//! `initdb` and `postgres` from the Debian packages on a temporary folder
//! and a free loopback port, as the `postgres` user when run as root (the
//! server refuses to run as root), stopped and deleted on drop.
//!
//! A test asks for a [`Database`]: a fresh, empty database of its own. When
//! `RETE_TEST_PG` names a running server (`host:port`, as `cargo xtask
//! test` starts one for the whole run), the database is made there;
//! otherwise the test starts a server of its own, so that any test runs
//! alone too.
//!
//! The server asks for a password over TCP (SCRAM), as a deployment's does,
//! so that the hub's way of reading it from a 0600 file is what the tests
//! use; local socket connections (used here to create databases) are
//! trusted.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The superuser every test server has.
pub const USER: &str = "rete";
/// Its password. Tests only: the servers listen on loopback.
pub const PASSWORD: &str = "rete-test-password";

/// Where `RETE_TEST_PG` names a shared server (`host:port`); its socket
/// folder is in `RETE_TEST_PG_SOCKET`.
pub const SHARED: &str = "RETE_TEST_PG";
const SHARED_SOCKET: &str = "RETE_TEST_PG_SOCKET";

/// The folder of PostgreSQL's programs: the newest version Debian installed.
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context(
            "PostgreSQL is not installed (no /usr/lib/postgresql); `cargo xtask test` installs it",
        )?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!("no initdb under /usr/lib/postgresql/*/bin; `cargo xtask test` installs it"),
    }
}

/// A PostgreSQL server of the test's own.
pub struct Server {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
    /// Serves TLS too (`start_with_tls`).
    tls: bool,
}

impl Server {
    /// Makes a cluster in a temporary folder and starts it.
    pub fn start() -> anyhow::Result<Self> {
        Self::make(None)
    }

    /// The same, serving TLS (besides plain connections) with this
    /// certificate and key, both PEM.
    pub fn start_with_tls(cert_pem: &str, key_pem: &str) -> anyhow::Result<Self> {
        Self::make(Some((cert_pem, key_pem)))
    }

    fn make(tls: Option<(&str, &str)>) -> anyhow::Result<Self> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new().prefix("rete-pg").tempdir()?;
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD)?;
        chown_to_postgres(dir.path())?;
        let out = as_postgres(&bin.join("initdb"))
            .args(["-D", path(&data)?, "-U", USER, "--pwfile", path(&pwfile)?])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .args(["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
            .output()
            .context("initdb could not start")?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        if let Some((cert, key)) = tls {
            // Where the server looks by default; the key must be private.
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(data.join("server.crt"), cert)?;
            std::fs::write(data.join("server.key"), key)?;
            std::fs::set_permissions(
                data.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )?;
            chown_to_postgres(dir.path())?;
        }
        let port = free_port()?;
        let mut server = Self {
            dir,
            bin,
            port,
            child: None,
            tls: tls.is_some(),
        };
        server.run()?;
        Ok(server)
    }

    /// Starts the server again on the same folder and port (after `kill`).
    pub fn run(&mut self) -> anyhow::Result<()> {
        let data = self.dir.path().join("data");
        let log = std::fs::File::create(self.dir.path().join("postgres.log"))?;
        let child = as_postgres(&self.bin.join("postgres"))
            .args(["-D", path(&data)?, "-p", &self.port.to_string()])
            .args(["-h", "127.0.0.1", "-k", path(self.dir.path())?])
            // Sized for tests: many small databases, a few hubs each.
            .args(["-c", "max_connections=200", "-c", "shared_buffers=32MB"])
            .args(["-c", "fsync=on", "-c", "synchronous_commit=on"])
            .args(["-c", if self.tls { "ssl=on" } else { "ssl=off" }])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("postgres could not start")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.ready() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!("postgres stopped at start ({status}): {}", self.log());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "postgres did not accept connections within 30 s: {}",
            self.log()
        )
    }

    fn ready(&self) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// SIGKILL, as a crashed database server: the postmaster and its
    /// backends, not only `runuser`, which passes no signal on (as root the
    /// child is `runuser`, and killing it alone leaves the server running).
    pub fn kill(&mut self) {
        let pids: Vec<String> = self.pids().iter().map(u32::to_string).collect();
        if !pids.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(&pids).status();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && pids.iter().any(|p| alive(p)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        // A killed postmaster may linger as a zombie until whatever adopted
        // it reaps it, and a new server takes a zombie's lock file for a
        // live server's; every process of this one is dead, so the lock
        // guards nothing.
        if !pids.is_empty() && !pids.iter().any(|p| alive(p)) {
            let dir = self.dir.path();
            for lock in [
                dir.join("data").join("postmaster.pid"),
                dir.join(format!(".s.PGSQL.{}.lock", self.port)),
                dir.join(format!(".s.PGSQL.{}", self.port)),
            ] {
                let _ = std::fs::remove_file(lock);
            }
        }
    }

    /// The running postmaster's process id, as it wrote it in its folder.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let text =
            std::fs::read_to_string(self.dir.path().join("data").join("postmaster.pid")).ok()?;
        let pid = text.lines().next()?.trim().to_owned();
        alive(&pid).then(|| pid.parse().ok()).flatten()
    }

    /// The server's processes (the postmaster and its children), for
    /// measuring their memory.
    pub fn pids(&self) -> Vec<u32> {
        let Some(root) = self.child.as_ref().map(Child::id) else {
            return Vec::new();
        };
        // `runuser` is the child when run as root; the postmaster is its
        // child, and the backends are the postmaster's.
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            if let Ok(text) =
                std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            {
                out.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
            i += 1;
        }
        out
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGINT to the postmaster itself: the fast shutdown, so that the
        // folder can go at once.
        if let Some(postmaster) = self.postmaster_pid().map(|p| p.to_string()) {
            let _ = Command::new("kill").args(["-INT", &postmaster]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && alive(&postmaster) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.kill();
    }
}

/// A fresh database for one test, on its own server or the shared one.
pub struct Database {
    name: String,
    address: String,
    /// Set when the test started the server itself.
    pub server: Option<Server>,
}

impl Database {
    /// A database on `server`, which the test keeps (to kill and restart
    /// it, say).
    pub fn on(server: &Server) -> anyhow::Result<Self> {
        Self::create(server.address(), server.socket_dir(), None)
    }

    pub fn new() -> anyhow::Result<Self> {
        let (address, socket, server) = match std::env::var(SHARED) {
            Ok(address) if !address.is_empty() => {
                let socket = std::env::var(SHARED_SOCKET)
                    .with_context(|| format!("{SHARED} is set without {SHARED_SOCKET}"))?;
                (address, PathBuf::from(socket), None)
            }
            _ => {
                let server = Server::start()?;
                (
                    server.address(),
                    server.socket_dir().to_owned(),
                    Some(server),
                )
            }
        };
        Self::create(address, &socket, server)
    }

    fn create(address: String, socket: &Path, server: Option<Server>) -> anyhow::Result<Self> {
        let name = format!("t{}", uuid::Uuid::now_v7().simple());
        let port = address.rsplit(':').next().unwrap_or("5432").to_owned();
        let out = Command::new(bin_dir()?.join("createdb"))
            .args(["-h", path(socket)?, "-p", &port, "-U", USER, &name])
            .output()
            .context("createdb could not start")?;
        if !out.status.success() {
            bail!("createdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(Self {
            name,
            address,
            server,
        })
    }

    /// The URL a hub is given, without the password (it reads that from a
    /// file or the environment).
    pub fn url(&self) -> String {
        format!("postgres://{USER}@{}/{}", self.address, self.name)
    }

    /// The URL with the password in it, for a client in the test itself.
    pub fn url_with_password(&self) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@{}/{}",
            self.address, self.name
        )
    }
}

/// `cargo xtask test` keeps one server for the whole run and names it in
/// the environment of every test; this starts it.
pub fn start_shared() -> anyhow::Result<(Server, Vec<(String, String)>)> {
    let server = Server::start()?;
    let env = vec![
        (SHARED.to_owned(), server.address()),
        (
            SHARED_SOCKET.to_owned(),
            server.socket_dir().display().to_string(),
        ),
    ];
    Ok((server, env))
}

fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The server runs as `postgres` when the tests run as root, and must own
/// its folder.
fn chown_to_postgres(dir: &Path) -> anyhow::Result<()> {
    if !is_root() {
        return Ok(());
    }
    let status = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(dir)
        .status()?;
    if !status.success() {
        bail!("could not give {} to the postgres user", dir.display());
    }
    Ok(())
}

fn alive(pid: &str) -> bool {
    // A zombie still has a /proc entry; its state says it is gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn path(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not UTF-8", p.display()))
}
