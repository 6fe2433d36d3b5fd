//! Simulated desks in this process: the desk agent's own outbox (real sled)
//! and sync loop, or, for the connections scenario, a bare idle Sync stream.

use anyhow::Context;
use desk_agent::config::AgentConfig;
use desk_agent::local::LocalCopy;
use desk_agent::outbox::Outbox;
use desk_agent::sync::{self, LinkStatus, SyncConfig};
use domain::{AnonymisedRecord, Catalogue};
use proto::federation_client::FederationClient;
use proto::{desk_message, hub_message, DeskMessage, Hello, HubMessage};
use runtime::bundle::Bundle;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// Outbox page cache per simulated desk: a real agent's 16 MiB times a
/// hundred desks would only measure this process's page cache.
const OUTBOX_CACHE: u64 = 4 << 20;

/// One desk: its outbox and, once started, its sync loop.
pub(crate) struct SimDesk {
    pub desk_id: String,
    pub outbox: Arc<Outbox>,
    /// The desk's copy of what the hub pushes (guidance).
    pub local: Arc<LocalCopy>,
    pub link: Arc<LinkStatus>,
    sync_config: SyncConfig,
    stop: runtime::shutdown::Trigger,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimDesk {
    pub(crate) fn open(root: &Path, bundle: &Bundle) -> anyhow::Result<Self> {
        let outbox = Outbox::open(&root.join(&bundle.desk_id), OUTBOX_CACHE)
            .with_context(|| format!("cannot open the outbox of {}", bundle.desk_id))?;
        let local = LocalCopy::open(&root.join(format!("{}-local", bundle.desk_id)))
            .with_context(|| format!("cannot open the local copy of {}", bundle.desk_id))?;
        // The agent's own defaults (batch size, window, backoff), as
        // `desk-agent enroll` would write them.
        let agent = AgentConfig::new(bundle.desk_id.clone(), bundle.hub_address.clone());
        let sync_config = SyncConfig {
            desk_id: bundle.desk_id.clone(),
            hub_addresses: bundle.addresses(),
            ca_pem: bundle.ca_cert_pem.clone(),
            cert_pem: bundle.cert_pem.clone(),
            key_pem: bundle.key_pem.clone(),
            batch_records: agent.batch_records.clamp(1, 1000),
            window: agent.max_unacked_batches.max(1),
            backoff_max: Duration::from_millis(agent.backoff_max_ms.max(100)),
            max_message_bytes: 4 * 1024 * 1024,
            misses_every: Duration::from_secs(agent.search_misses_every_secs.max(1)),
        };
        Ok(Self {
            desk_id: bundle.desk_id.clone(),
            outbox: Arc::new(outbox),
            local: Arc::new(local),
            link: Arc::new(LinkStatus::default()),
            sync_config,
            stop: runtime::shutdown::channel().0,
            task: None,
        })
    }

    /// Starts `desk_agent::sync::run`, the agent's own link to the hub.
    pub(crate) fn start_sync(&mut self) {
        // A fresh trigger, so that a desk stopped before can start again.
        self.stop = runtime::shutdown::channel().0;
        let task = tokio::spawn(sync::run(
            self.sync_config.clone(),
            Arc::clone(&self.outbox),
            Arc::clone(&self.local),
            Arc::clone(&self.link),
            self.stop.subscribe(),
        ));
        self.task = Some(task);
    }

    pub(crate) fn connected(&self) -> bool {
        self.link
            .connected
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) async fn stop(&mut self) {
        self.stop.fire();
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

/// Synthetic visits made once and shared by every desk: making them is the
/// simulated operator's work, not the system's, so it stays out of the
/// timed phases. Enough of them that the counts see every procedure,
/// country and band mixed as at a real desk.
const VISIT_POOL: usize = 20_000;

pub(crate) fn visit_pool() -> &'static [domain::Visit] {
    static POOL: std::sync::OnceLock<Vec<domain::Visit>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let mut rng: rand::rngs::StdRng = rand::SeedableRng::seed_from_u64(2026);
        (0..VISIT_POOL)
            .map(|_| domain::Visit::from(synthetic::visit(&mut rng)))
            .collect()
    })
}

/// Builds anonymised records the way intake does: a synthetic visit through
/// `domain::anonymise`, with a fresh UUIDv7 (the hub refuses repeated ids).
pub(crate) struct RecordMaker {
    catalogue: Catalogue,
    visits: &'static [domain::Visit],
    next: usize,
}

impl RecordMaker {
    pub(crate) fn new() -> Self {
        let visits = visit_pool();
        Self {
            catalogue: Catalogue::seed(),
            visits,
            // Desks start at different visits of the pool.
            next: rand::random_range(0..visits.len()),
        }
    }

    pub(crate) fn make(&mut self, desk_id: &str) -> anyhow::Result<AnonymisedRecord> {
        let visit = &self.visits[self.next % self.visits.len()];
        self.next = self.next.wrapping_add(1);
        domain::anonymise(
            visit,
            desk_id,
            &self.catalogue,
            chrono::Utc::now(),
            uuid::Uuid::now_v7(),
        )
        .map_err(|e| anyhow::anyhow!("a synthetic visit was refused: {e}"))
    }
}

/// A desk that only holds its Sync stream open, without an outbox: what
/// an idle desk costs the hub is one mTLS connection and one stream.
pub(crate) struct IdleDesk {
    // Held so that the connection outlives this function.
    _client: FederationClient<tonic::transport::Channel>,
    _tx: mpsc::Sender<DeskMessage>,
    /// Reads what the hub pushes after Welcome (the seed catalogue, cards
    /// and templates, a few hundred KiB), as a real desk does before it
    /// idles: left unread, the pushes would sit in the hub's send buffers
    /// and be counted as the cost of an idle connection.
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for IdleDesk {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl IdleDesk {
    pub(crate) async fn connect(bundle: &Bundle) -> anyhow::Result<Self> {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&bundle.ca_cert_pem))
            .identity(Identity::from_pem(&bundle.cert_pem, &bundle.key_pem))
            .domain_name(runtime::HUB_SERVER_NAME);
        // The agent's keepalive settings, so the hub sees the same pings.
        let channel = Endpoint::from_shared(format!("https://{}", bundle.hub_address))?
            .tls_config(tls)?
            .connect_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true)
            .connect()
            .await
            .with_context(|| format!("{} cannot reach the hub", bundle.desk_id))?;
        let mut client = FederationClient::new(channel);
        let (tx, rx) = mpsc::channel(4);
        let hello = Hello {
            desk_id: bundle.desk_id.clone(),
            agent_version: "bench".into(),
            last_acked_seq: 0,
            ..Default::default()
        };
        tx.send(DeskMessage {
            body: Some(desk_message::Body::Hello(hello)),
        })
        .await
        .context("the stream closed before Hello")?;
        let mut inbound = client
            .sync(ReceiverStream::new(rx))
            .await
            .map_err(|s| anyhow::anyhow!("{}: {:?} {}", bundle.desk_id, s.code(), s.message()))?
            .into_inner();
        match inbound.message().await {
            Ok(Some(HubMessage {
                body: Some(hub_message::Body::Welcome(_)),
            })) => Ok(Self {
                _client: client,
                _tx: tx,
                reader: tokio::spawn(
                    async move { while let Ok(Some(_)) = inbound.message().await {} },
                ),
            }),
            Ok(_) => anyhow::bail!("{}: the hub did not answer with Welcome", bundle.desk_id),
            Err(s) => anyhow::bail!("{}: {:?} {}", bundle.desk_id, s.code(), s.message()),
        }
    }
}

/// Where a scenario's desks keep their outboxes: beside the hub's data, or a
/// fresh folder under `--desk-dir`, removed when this is dropped.
pub(crate) struct DeskRoot {
    pub path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl DeskRoot {
    pub(crate) fn new(scenario_dir: &Path, elsewhere: Option<&Path>) -> anyhow::Result<Self> {
        match elsewhere {
            None => Ok(Self {
                path: scenario_dir.join("desks"),
                _temp: None,
            }),
            Some(base) => {
                std::fs::create_dir_all(base)?;
                let temp = tempfile::Builder::new()
                    .prefix("rete-bench-desks-")
                    .tempdir_in(base)?;
                Ok(Self {
                    path: temp.path().to_path_buf(),
                    _temp: Some(temp),
                })
            }
        }
    }
}
