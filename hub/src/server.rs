//! `init` lays out a hub's data folder; `run` serves it on listeners that
//! the caller bound (tests and the demo bind port 0) until `shutdown`
//! resolves, then drains every stream and flushes before returning.

use crate::config::{DataDir, HubConfig};
use crate::connections::Connections;
use crate::coordinator::CoordinatorService;
use crate::federation::{FederationService, Limits};
use crate::group_commit::GroupCommit;
use crate::pki::{self, Authority, Ca, Issued};
use crate::push::Push;
use crate::storage::{PostgresStore, SledStore, Store};
use crate::transport::{grpc, tls};
use anyhow::Context;
use runtime::secret::write_secret;
use runtime::shutdown;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

const DRAIN_GRACE: Duration = Duration::from_secs(15);

/// Creates the CA, the hub's certificate, the coordinator token and the
/// config file. Refuses a folder that already holds a hub.
pub fn init(data: &Path, config: &HubConfig, extra_hosts: &[String]) -> anyhow::Result<()> {
    let dir = DataDir(data.to_path_buf());
    if data.join(crate::config::FILE_NAME).exists() {
        anyhow::bail!(
            "{} already holds a hub (hub.toml exists); refusing to overwrite it",
            data.display()
        );
    }
    runtime::secret::private_dir(data)
        .with_context(|| format!("cannot create {}", data.display()))?;
    let ca = Ca::create()?;
    let mut hosts: Vec<String> = extra_hosts.to_vec();
    hosts.extend(certificate_host(&config.federation_addr));
    let server = ca.issue_server(&hosts)?;
    std::fs::write(dir.ca_cert(), ca.cert_pem())?;
    write_secret(&dir.ca_key(), ca.key_pem().as_bytes())?;
    std::fs::write(dir.hub_cert(), &server.cert_pem)?;
    write_secret(&dir.hub_key(), server.key_pem.as_bytes())?;
    let token = runtime::secret::new_token();
    write_secret(&dir.token(), token.as_bytes())?;
    config.save(data)?;
    let store = open_store(&dir, config)?;
    crate::catalogue::ensure_seeded(store.as_ref())?;
    crate::cards::ensure_seeded(store.as_ref())?;
    store.flush()?;
    Ok(())
}

/// The host of a listen address, for the server certificate; `None` for a
/// wildcard, which names no host.
pub fn certificate_host(listen: &str) -> Option<String> {
    let (host, _) = listen.rsplit_once(':')?;
    let host = host.trim_matches(['[', ']']);
    (!host.is_empty() && host != "0.0.0.0" && host != "::").then(|| host.to_string())
}

pub struct Listeners {
    pub federation: TcpListener,
    pub coordinator: TcpListener,
    /// The dashboard; `None` when `http_addr` is empty.
    pub http: Option<TcpListener>,
    /// `/metrics`; `None` when `metrics_addr` is empty.
    pub metrics: Option<TcpListener>,
}

impl Listeners {
    pub async fn bind(config: &HubConfig) -> anyhow::Result<Self> {
        let federation = TcpListener::bind(&config.federation_addr)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on federation_addr {}",
                    config.federation_addr
                )
            })?;
        let coordinator = TcpListener::bind(&config.coordinator_addr)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on coordinator_addr {}",
                    config.coordinator_addr
                )
            })?;
        let http = if config.http_addr.trim().is_empty() {
            None
        } else {
            Some(
                TcpListener::bind(config.http_addr.trim())
                    .await
                    .with_context(|| format!("cannot listen on http_addr {}", config.http_addr))?,
            )
        };
        let metrics = if config.metrics_addr.trim().is_empty() {
            None
        } else {
            Some(
                runtime::metrics::bind(
                    config.metrics_addr.trim(),
                    config.metrics_public,
                    "--metrics-public (or metrics_public = true in hub.toml)",
                )
                .await?,
            )
        };
        Ok(Self {
            federation,
            coordinator,
            http,
            metrics,
        })
    }
}

/// The CA of the data folder: with its key when `ca.key` is there, the
/// certificate alone on a replica (`hub replica add`), which then serves
/// but enrols no desk.
pub fn load_ca(dir: &DataDir) -> anyhow::Result<Authority> {
    let cert = std::fs::read_to_string(dir.ca_cert())
        .with_context(|| format!("cannot read {}", dir.ca_cert().display()))?;
    match std::fs::read_to_string(dir.ca_key()) {
        Ok(key) => Ok(Ca::from_pem(&cert, &key)?.into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Authority::cert_only(
            &cert,
            &format!("CA certificate {}", dir.ca_cert().display()),
        )?),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.ca_key().display())),
    }
}

/// The store `hub.toml` names: sled in the data folder, or PostgreSQL.
/// Every way to the store opens it here, so a hub from before the accounts
/// moved into the store brings its `users.json` along at its first start.
pub fn open_store(dir: &DataDir, config: &HubConfig) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = config.store.postgres()? {
        let password = config.store_password()?;
        let store = PostgresStore::open(url, password.as_deref(), config.store_ca_file())
            .with_context(|| {
                format!(
                    "cannot open the hub's store at {}",
                    crate::storage::redacted(url)
                )
            })?;
        crate::users::import_file(&store, dir)?;
        return Ok(Arc::new(store));
    }
    let store = SledStore::open(&dir.store(), config.cache_mib << 20).with_context(|| {
        format!(
            "cannot open the hub's store in {} (is another hub running on this folder?)",
            dir.store().display()
        )
    })?;
    crate::users::import_file(&store, dir)?;
    Ok(Arc::new(store))
}

/// Threads of the dashboard's and the coordinator port's own runtimes.
const OWN_RUNTIME_THREADS: usize = 2;

/// Serves `listener` with `serve` on a runtime of its own, whose threads
/// are called `name`, so that a page or a coordinator's request waits for
/// a CPU, not behind every desk stream's task in the federation's queue:
/// with ingest at full rate the tasks of a hundred desks are always ready,
/// and the operating system's scheduler shares the CPU between threads
/// fairly where tokio's queue would not. Ends when `serve` does (the
/// receiver then resolves).
fn on_own_runtime<F, Fut>(
    name: &str,
    listener: TcpListener,
    serve: F,
) -> anyhow::Result<tokio::sync::oneshot::Receiver<()>>
where
    F: FnOnce(TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    // The socket moves to the new runtime's reactor, so that its
    // connections are polled by that runtime's threads too.
    let listener = listener.into_std()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(OWN_RUNTIME_THREADS)
        .thread_name(name)
        .enable_all()
        .build()
        .with_context(|| format!("cannot start the {name} threads"))?;
    let (done, ended) = tokio::sync::oneshot::channel();
    let thread = name.to_owned();
    std::thread::Builder::new()
        .name(thread.clone())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener).await,
                    Err(e) => tracing::error!(server = %thread, error = %e, "cannot listen"),
                }
            });
            // A page's query still running on the blocking pool is not
            // waited for past the drain grace.
            runtime.shutdown_timeout(DRAIN_GRACE);
            let _ = done.send(());
        })
        .with_context(|| format!("cannot start the {name} thread"))?;
    Ok(ended)
}

pub async fn run(
    data: &Path,
    config: HubConfig,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let dir = DataDir(data.to_path_buf());
    let ca = Arc::new(load_ca(&dir)?);
    if ca.ca().is_none() {
        tracing::info!(
            "no CA key in the data folder: a replica; desks are enrolled where the key is kept"
        );
    }
    let server_id = Issued {
        cert_pem: std::fs::read_to_string(dir.hub_cert()).context("cannot read hub.crt")?,
        key_pem: std::fs::read_to_string(dir.hub_key()).context("cannot read hub.key")?,
    };
    let token = std::fs::read_to_string(dir.token())
        .context("cannot read coordinator.token")?
        .trim()
        .to_string();
    let store = open_store(&dir, &config)?;
    let connections = Arc::new(Connections::default());
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = crate::metrics::HubMetrics::register(&mut registry);
    let (group_commit, writer) = GroupCommit::start(
        Arc::clone(&store),
        config.ingest_queue,
        config.ingest_queue_bytes,
        config.group_records,
        runtime::disk::Reserve::new(data, config.disk_reserve_mib << 20),
        Arc::clone(&metrics),
    );
    let (stop, stopped) = shutdown::channel();
    crate::catalogue::ensure_seeded(store.as_ref())?;
    crate::cards::ensure_seeded(store.as_ref())?;
    let push = Push::new(store.as_ref())?;
    if let Some(listener) = listeners.metrics {
        let queue = group_commit.clone();
        tokio::spawn(Arc::clone(&metrics).sample(
            Arc::clone(&store),
            Arc::clone(&connections),
            push.clone(),
            move || queue.queued(),
            runtime::disk::Reserve::new(data, config.disk_reserve_mib << 20),
            stopped.clone(),
        ));
        tokio::spawn(runtime::metrics::serve(
            listener,
            Arc::new(registry),
            stopped.clone(),
        ));
    }

    if let Some(changes) = store.changes() {
        tokio::spawn(crate::replica::follow::follow(
            Arc::clone(&store),
            changes,
            push.clone(),
            Arc::clone(&connections),
            stopped.clone(),
        ));
    }

    tokio::spawn(crate::retention::run(
        Arc::clone(&store),
        config.retention,
        stopped.clone(),
    ));

    let federation = FederationService {
        store: Arc::clone(&store),
        group_commit,
        connections: Arc::clone(&connections),
        push: push.clone(),
        limits: Limits {
            max_batch_records: config.max_batch_records,
            max_unacked_batches: config.max_unacked_batches.max(1),
            hello_timeout: Duration::from_secs(10),
        },
        rates: Arc::new(crate::federation::DeskRates::new(crate::federation::Rate {
            records: config.desk_records_per_sec,
            bytes: config.desk_bytes_per_sec,
        })),
        shutdown: stopped.clone(),
        metrics: Arc::clone(&metrics),
    };
    let dashboard = crate::dashboard::Deps {
        store: Arc::clone(&store),
        ca: Arc::clone(&ca),
        connections: Arc::clone(&connections),
        push: push.clone(),
        data: data.to_path_buf(),
        federation_addr: config.federation_addr.clone(),
        desk_addresses: config.desk_addresses.clone(),
        sessions_gauge: metrics.dashboard_sessions.clone(),
    };
    let coordinator = CoordinatorService {
        store: Arc::clone(&store),
        ca: Arc::clone(&ca),
        connections,
        push,
        data: data.to_path_buf(),
        desk_addresses: config.desk_addresses.clone(),
    };

    let fed_tls = pki::server_config(ca.cert_pem(), &server_id, true)?;
    let coord_tls = pki::server_config(ca.cert_pem(), &server_id, false)?;
    tracing::info!(addr = %listeners.federation.local_addr()?, "federation port (mutual TLS) listening");
    tracing::info!(addr = %listeners.coordinator.local_addr()?, "coordinator port (TLS, bearer token) listening");
    // Every port is capped alike: the coordinator's and the dashboard's are
    // on loopback by default, but a dashboard opened to the offices meets
    // the same floods as the desks' port.
    let caps = tls::Caps {
        max_connections: config.max_connections.max(1),
        max_connections_per_source: config.max_connections_per_source.max(1),
        max_handshakes: config.max_handshakes.max(1),
        max_handshakes_per_source: config.max_handshakes_per_source.max(1),
        handshake_timeout: Duration::from_secs(config.handshake_timeout_secs.max(1)),
    };
    let refused = || metrics.connections_refused.clone();
    let fed_incoming = tls::capped(listeners.federation, fed_tls, caps, "federation", refused());

    let fed_server = tokio::spawn(
        grpc::federation_router(
            federation,
            config.max_message_bytes,
            config.http2_window_kib.max(64) << 10,
        )
        .await?
        .serve_with_incoming_shutdown(fed_incoming, stopped.clone().waited()),
    );
    // The coordinator's queries on a runtime of their own, as the
    // dashboard's pages, for the same reason (`on_own_runtime`).
    let coord_router = grpc::coordinator_router(coordinator, token).await?;
    let coord_server = {
        let refused = refused();
        let stopped = stopped.clone();
        on_own_runtime(
            "coordinator",
            listeners.coordinator,
            move |listener| async move {
                let incoming = tls::capped(listener, coord_tls, caps, "coordinator", refused);
                if let Err(e) = coord_router
                    .serve_with_incoming_shutdown(incoming, stopped.waited())
                    .await
                {
                    tracing::warn!(server = "coordinator", error = %e, "server ended with an error");
                }
            },
        )?
    };

    let web_server = match listeners.http {
        Some(listener) => {
            tracing::info!(addr = %listener.local_addr()?, "dashboard (HTTPS) listening");
            let web_tls = crate::dashboard::tls_config(&*pki::server_config(
                ca.cert_pem(),
                &server_id,
                false,
            )?);
            let login_key = crate::dashboard::LoginKey::load_or_create(data)
                .context("cannot load the dashboard's sign-in key (dashboard.key)")?;
            let web_caps = tls::Caps {
                max_connections: caps
                    .max_connections
                    .min(config.dashboard_max_connections.max(1)),
                ..caps
            };
            let refused = refused();
            let stopped = stopped.clone();
            Some(on_own_runtime(
                "dashboard",
                listener,
                move |listener| async move {
                    let incoming = tls::capped(listener, web_tls, web_caps, "dashboard", refused);
                    crate::dashboard::serve(incoming, dashboard, login_key, stopped.waited()).await;
                },
            )?)
        }
        None => None,
    };

    shutdown.await;
    tracing::info!("shutting down: draining desk streams");
    stop.fire();
    match tokio::time::timeout(DRAIN_GRACE, fed_server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => {
            tracing::warn!(server = "federation", error = %e, "server ended with an error")
        }
        Ok(Err(e)) => tracing::warn!(server = "federation", error = %e, "server task failed"),
        Err(_) => tracing::warn!(server = "federation", "server did not drain in time"),
    }
    for (name, server) in std::iter::once(("coordinator", coord_server))
        .chain(web_server.map(|web| ("dashboard", web)))
    {
        if tokio::time::timeout(DRAIN_GRACE, server).await.is_err() {
            tracing::warn!(server = name, "server did not stop in time");
        }
    }
    // The writer ends once every stream has dropped its handle and the queue
    // is empty: everything submitted is then on disk.
    if tokio::time::timeout(DRAIN_GRACE, writer).await.is_err() {
        tracing::warn!("ingest writer did not drain in time");
    }
    store.flush()?;
    tracing::info!("hub stopped cleanly");
    Ok(())
}
