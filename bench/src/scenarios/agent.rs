//! A real `desk-agent serve` process enrolled with a running hub, for the
//! scenarios that measure the desk's own answers (intake, handout).

use crate::hub_proc::{free_addr, path_str, Binaries, Hub};
use anyhow::{bail, Context};
use proto::desk_client::DeskClient;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the agent when the scenario ends, however it ends.
pub(crate) struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh hub with one desk `name` enrolled, its agent serving its local
/// API on the returned address.
pub(crate) async fn linked_agent(
    bins: &Binaries,
    dir: &Path,
    name: &str,
) -> anyhow::Result<(Hub, Agent, String)> {
    let mut hub = Hub::init(bins, dir)?;
    let bundles = hub.enrol(name, 1)?;
    let Some(bundle) = bundles.first() else {
        bail!("no desk was enrolled");
    };
    let bundle_path = dir.join(format!("{name}.bundle"));
    bundle.write(&bundle_path)?;
    hub.start().await?;

    let data = dir.join("agent");
    let out = Command::new(&bins.desk_agent)
        .args([
            "enroll",
            path_str(&bundle_path)?,
            "--data",
            path_str(&data)?,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .context("cannot run desk-agent enroll")?;
    if !out.status.success() {
        bail!(
            "desk-agent enroll failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listen = free_addr()?;
    let log = std::fs::File::create(dir.join("agent.log"))?;
    let agent = Agent(
        Command::new(&bins.desk_agent)
            .args([
                "serve",
                "--data",
                path_str(&data)?,
                "--listen",
                &listen,
                "--http-addr",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start desk-agent serve")?,
    );
    Ok((hub, agent, listen))
}

/// Waits until the seed cards, pushed with the desk's first connection,
/// are held (the Urdu card of `permesso.rinnovo.lavoro` is among the last).
pub(crate) async fn wait_for_seed_cards(
    client: &mut DeskClient<tonic::transport::Channel>,
) -> anyhow::Result<()> {
    let began = Instant::now();
    while client
        .get_card(proto::GetCardRequest {
            code: "permesso.rinnovo.lavoro".into(),
            language: "ur".into(),
        })
        .await
        .is_err()
    {
        anyhow::ensure!(
            began.elapsed() < Duration::from_secs(30),
            "the seed cards did not reach the desk within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

pub(crate) async fn connect(listen: &str) -> anyhow::Result<DeskClient<tonic::transport::Channel>> {
    let start = Instant::now();
    loop {
        // Without TCP_NODELAY a request's second frame waits for the
        // agent's delayed ACK: 40 ms a call on Linux loopback.
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{listen}"))?.tcp_nodelay(true);
        match endpoint.connect().await {
            Ok(c) => return Ok(DeskClient::new(c)),
            Err(e) if start.elapsed() > Duration::from_secs(30) => {
                bail!("the desk agent did not listen within 30 s: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
