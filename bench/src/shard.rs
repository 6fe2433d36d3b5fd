//! Simulated desks in child processes of the bench, for networks larger
//! than one process can hold: each desk keeps two sled databases and a
//! socket open (three files), and the open-file limit is per process (20,000
//! here, so about 6,500 desks a process). A shard is this same executable
//! started with `--desk-shard PLAN`: it opens the plan's desks, starts the
//! agent's sync loop for each, and answers its parent line by line on
//! standard input and output. Apply times cross the process boundary as
//! wall-clock microseconds, which both processes read from one kernel.

use crate::desks::SimDesk;
use anyhow::{bail, Context};
use runtime::bundle::Bundle;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::task::JoinSet;

/// The hidden flag that makes the bench a shard.
pub(crate) const FLAG: &str = "--desk-shard";

/// Files a simulated desk keeps open: its outbox, its local copy, its
/// connection (counted in a run: 912 for 300 desks).
const FILES_PER_DESK: u64 = 3;
/// Files the process needs besides its desks (the runtime, sled's own,
/// the hub's pipes).
const FILES_SPARE: u64 = 300;

const CONNECT_LIMIT: Duration = Duration::from_secs(300);
/// How long a desk has to apply one publish before it counts as missing.
pub(crate) const APPLY_LIMIT: Duration = Duration::from_secs(120);

/// What a shard is asked to run.
#[derive(Serialize, Deserialize)]
struct Plan {
    /// Where the desks' folders go.
    root: PathBuf,
    bundles: Vec<Bundle>,
}

/// Most simulated desks one process holds when the open-file limit allows
/// more. sled 0.34 takes one process-wide lock around every write batch and
/// (once any batch was written) every read, and runs every database's
/// writes on one process-wide thread pool; desks in one process wait for
/// each other there, which real desks, each its own process, never do.
/// With 1,000 desks in one process they took 295–325 µs of CPU a desk per
/// publish against 240 µs in four processes of 250, and fan-out's p99 was
/// 250–310 ms against 167–192 ms (`bench/README.md`).
const DESKS_PER_PROCESS: usize = 250;

/// How many simulated desks one process holds: [`DESKS_PER_PROCESS`], or
/// fewer if the open-file limit allows fewer.
pub(crate) fn desks_per_process() -> usize {
    let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft);
    let n = soft.saturating_sub(FILES_SPARE) / FILES_PER_DESK;
    usize::try_from(n)
        .unwrap_or(usize::MAX)
        .clamp(1, DESKS_PER_PROCESS)
}

/// Microseconds since the epoch, the clock both sides of a shard share.
pub(crate) fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Starts waiting for each desk's next guidance version; each task ends
/// with the wall-clock microsecond the desk applied it, or `None` past
/// [`APPLY_LIMIT`].
pub(crate) fn arm(
    desks: &[SimDesk],
    tick: impl Fn() + Clone + Send + 'static,
) -> JoinSet<Option<u64>> {
    let mut waiters = JoinSet::new();
    for d in desks {
        let mut rx = d.local.watch_guidance();
        let before = *rx.borrow();
        let tick = tick.clone();
        waiters.spawn(async move {
            let applied = tokio::time::timeout(APPLY_LIMIT, rx.wait_for(|v| *v > before))
                .await
                .is_ok_and(|r| r.is_ok());
            tick();
            applied.then(now_micros)
        });
    }
    waiters
}

pub(crate) async fn collect(mut waiters: JoinSet<Option<u64>>) -> anyhow::Result<Vec<Option<u64>>> {
    let mut times = Vec::with_capacity(waiters.len());
    while let Some(done) = waiters.join_next().await {
        times.push(done?);
    }
    Ok(times)
}

/// The shard's side: runs until its parent closes standard input.
pub(crate) async fn serve(plan: &Path) -> anyhow::Result<()> {
    let plan: Plan = serde_json::from_slice(
        &std::fs::read(plan).with_context(|| format!("cannot read {}", plan.display()))?,
    )
    .context("the shard plan is not valid")?;
    let mut desks = Vec::with_capacity(plan.bundles.len());
    for b in &plan.bundles {
        let mut d = SimDesk::open(&plan.root, b)?;
        d.start_sync();
        desks.push(d);
    }
    let started = tokio::time::Instant::now();
    while !desks.iter().all(SimDesk::connected) {
        if started.elapsed() > CONNECT_LIMIT {
            let missing = desks.iter().filter(|d| !d.connected()).count();
            bail!("{missing} desks of a shard did not connect within {CONNECT_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut out = tokio::io::stdout();
    out.write_all(b"ready\n").await?;
    out.flush().await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        if line != "arm" {
            break;
        }
        let waiters = arm(&desks, || {});
        out.write_all(b"armed\n").await?;
        out.flush().await?;
        let times = collect(waiters).await?;
        let words: Vec<String> = times
            .iter()
            .map(|t| t.map_or_else(|| "-".to_string(), |us| us.to_string()))
            .collect();
        out.write_all(format!("applied {}\n", words.join(" ")).as_bytes())
            .await?;
        out.flush().await?;
    }
    for d in &mut desks {
        d.stop().await;
    }
    Ok(())
}

/// The parent's handle on one shard.
pub(crate) struct Shard {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Shard {
    /// Writes the plan into `dir` and starts the shard; its desks' folders
    /// go under `root`.
    pub(crate) fn spawn(
        dir: &Path,
        index: usize,
        root: &Path,
        bundles: &[Bundle],
    ) -> anyhow::Result<Self> {
        let file = dir.join(format!("shard-{index}.json"));
        let plan = Plan {
            root: root.to_path_buf(),
            bundles: bundles.to_vec(),
        };
        std::fs::write(&file, serde_json::to_vec(&plan)?)
            .with_context(|| format!("cannot write {}", file.display()))?;
        let exe = std::env::current_exe().context("cannot find the bench executable")?;
        let mut child = tokio::process::Command::new(exe)
            .arg(FLAG)
            .arg(&file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a desk shard")?;
        let stdin = child.stdin.take().context("the shard has no stdin")?;
        let stdout = child.stdout.take().context("the shard has no stdout")?;
        Ok(Self {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    async fn expect(&mut self, word: &str, limit: Duration) -> anyhow::Result<String> {
        let line = tokio::time::timeout(limit, self.lines.next_line())
            .await
            .with_context(|| format!("a desk shard did not say `{word}` within {limit:?}"))??;
        match line {
            Some(l) if l.split(' ').next() == Some(word) => Ok(l),
            Some(l) => bail!("a desk shard said `{l}`, not `{word}`"),
            None => bail!("a desk shard ended before `{word}` (its error is above)"),
        }
    }

    /// Waits until every desk of the shard is connected.
    pub(crate) async fn ready(&mut self) -> anyhow::Result<()> {
        self.expect("ready", CONNECT_LIMIT + Duration::from_secs(60))
            .await?;
        Ok(())
    }

    /// Has the shard's desks wait for the next guidance version.
    pub(crate) async fn arm(&mut self) -> anyhow::Result<()> {
        self.stdin.write_all(b"arm\n").await?;
        self.stdin.flush().await?;
        self.expect("armed", Duration::from_secs(60)).await?;
        Ok(())
    }

    /// When each of the shard's desks applied it.
    pub(crate) async fn applied(&mut self) -> anyhow::Result<Vec<Option<u64>>> {
        let line = self
            .expect("applied", APPLY_LIMIT + Duration::from_secs(60))
            .await?;
        Ok(line
            .split(' ')
            .skip(1)
            .map(|w| w.parse::<u64>().ok())
            .collect())
    }

    /// CPU seconds the shards have used so far, together.
    pub(crate) fn cpu_of(shards: &[Shard]) -> f64 {
        shards
            .iter()
            .filter_map(|s| crate::hub_proc::cpu_seconds(&s.child.id()?.to_string()))
            .sum()
    }

    /// Closes the shard's input, which stops its desks, and waits for it.
    pub(crate) async fn finish(mut self) {
        drop(self.stdin);
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
