//! `enroll` installs a bundle into a data folder; `run` serves the local API
//! and keeps the link to the hub until `shutdown`, then flushes.

use crate::config::AgentConfig;
use crate::intake::Intake;
use crate::local::LocalCopy;
use crate::metrics::DeskMetrics;
use crate::operator::{self, Operator};
use crate::outbox::Outbox;
use crate::service::DeskService;
use crate::sync::{self, LinkStatus, SyncConfig};
use anyhow::Context;
use proto::desk_server::DeskServer;
use runtime::bundle::Bundle;
use runtime::secret::write_secret;
use runtime::shutdown;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub const MAX_LOCAL_MESSAGE: usize = 64 * 1024;
const MAX_HUB_MESSAGE: usize = 4 * 1024 * 1024;

pub fn enroll(bundle_path: &Path, data: &Path) -> anyhow::Result<AgentConfig> {
    let bundle = Bundle::read(bundle_path)?;
    if data.join(crate::config::FILE_NAME).exists() {
        anyhow::bail!(
            "{} already holds an enrolled desk (agent.toml exists)",
            data.display()
        );
    }
    runtime::secret::private_dir(data)
        .with_context(|| format!("cannot create {}", data.display()))?;
    std::fs::write(data.join("ca.crt"), &bundle.ca_cert_pem)?;
    std::fs::write(data.join("desk.crt"), &bundle.cert_pem)?;
    write_secret(&data.join("desk.key"), bundle.key_pem.as_bytes())?;
    let config = AgentConfig::for_hubs(bundle.desk_id.clone(), bundle.addresses());
    config.save(data)?;
    Ok(config)
}

pub async fn run(
    data: &Path,
    config: AgentConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    run_with_page(data, config, listener, None, shutdown).await
}

/// `run`, and the operator page on `page` when given (bound by
/// `operator::bind`, which keeps it on loopback unless told otherwise).
pub async fn run_with_page(
    data: &Path,
    config: AgentConfig,
    listener: TcpListener,
    page: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let read = |name: &str| {
        std::fs::read_to_string(data.join(name))
            .with_context(|| format!("cannot read {name} in {}", data.display()))
    };
    let sync_config = SyncConfig {
        desk_id: config.desk_id.clone(),
        hub_addresses: config
            .hubs()
            .map_err(|e| anyhow::anyhow!("agent.toml: {e}"))?,
        ca_pem: read("ca.crt")?,
        cert_pem: read("desk.crt")?,
        key_pem: read("desk.key")?,
        batch_records: config.batch_records.clamp(1, 1000),
        window: config.max_unacked_batches.max(1),
        backoff_max: Duration::from_millis(config.backoff_max_ms.max(100)),
        max_message_bytes: MAX_HUB_MESSAGE,
        misses_every: Duration::from_secs(config.search_misses_every_secs.max(1)),
    };
    let outbox = Arc::new(
        Outbox::open(&data.join("outbox"), config.cache_mib << 20)
            .with_context(|| {
                format!(
                    "cannot open the outbox in {} (is another agent running on it?)",
                    data.display()
                )
            })?
            .with_reserve(data, config.disk_reserve_mib << 20)
            .with_keep_acked(Duration::from_secs(
                config.keep_acked_days.saturating_mul(24 * 3600),
            )),
    );
    let local = Arc::new(
        LocalCopy::open(&data.join("local"))
            .with_context(|| format!("cannot open the local copy in {}", data.display()))?,
    );
    let link = Arc::new(LinkStatus::default());
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = DeskMetrics::register(&mut registry);
    let metrics_listener = if config.metrics_addr.is_empty() {
        None
    } else {
        Some(
            runtime::metrics::bind(
                &config.metrics_addr,
                config.metrics_public,
                "--metrics-public (or metrics_public = true in agent.toml)",
            )
            .await?,
        )
    };
    let (stop, stopped) = shutdown::channel();
    if let Some(listener) = metrics_listener {
        tokio::spawn(Arc::clone(&metrics).sample(
            Arc::clone(&outbox),
            Arc::clone(&link),
            stopped.clone(),
        ));
        tokio::spawn(runtime::metrics::serve(
            listener,
            Arc::new(registry),
            stopped.clone(),
        ));
    }
    let hubs = sync_config.hub_addresses.join(", ");
    let syncer = tokio::spawn(sync::run(
        sync_config,
        Arc::clone(&outbox),
        Arc::clone(&local),
        Arc::clone(&link),
        stopped.clone(),
    ));

    let search = desk_search(&local);
    let service = Arc::new(DeskService {
        desk_id: config.desk_id.clone(),
        outbox: Arc::clone(&outbox),
        search,
        local,
        intake: Intake::for_desk(data, config.scrub_notes)?,
        link,
        metrics,
    });
    let page = page.map(|listener| {
        let state = Operator::new(
            Arc::clone(&service),
            config.scrub_notes,
            config.http_public,
            stopped.clone(),
        );
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(addr = %addr, url = %format!("http://{addr}/"), "operator page listening");
        }
        tokio::spawn(operator::serve(listener, state, stopped.clone().waited()))
    });
    // On loopback the API is the desk PC's own; opened to the network it
    // takes the visitor's personal data from anyone who can reach it, so
    // every call must carry the token.
    let mut check = if config.listen_public {
        let token = api_token(data)?;
        tracing::warn!(file = %data.join(API_TOKEN_FILE).display(), "the local API is open to the network: every call needs the token in this file");
        Some(runtime::grpc::bearer_check(
            token,
            "api.token in the desk's data folder",
        ))
    } else {
        None
    };
    let desk = tonic::service::interceptor::InterceptedService::new(
        DeskServer::from_arc(service).max_decoding_message_size(MAX_LOCAL_MESSAGE),
        move |req| match &mut check {
            Some(check) => check(req),
            None => Ok(req),
        },
    );
    tracing::info!(addr = %listener.local_addr()?, desk_id = %config.desk_id, hubs = %hubs, "desk API listening");
    let api = runtime::grpc::standard_services::<DeskServer<DeskService>>(
        runtime::grpc::server().add_service(desk),
    )
    .await?;
    // tonic sets TCP_NODELAY only on sockets it accepts itself. Without it
    // a unary answer's trailers wait for the client's delayed ACK behind
    // its headers and body: 40 ms a call, one at a time.
    let incoming = tokio_stream::StreamExt::map(
        tokio_stream::wrappers::TcpListenerStream::new(listener),
        |accepted| {
            accepted.inspect(|tcp| {
                let _ = tcp.set_nodelay(true);
            })
        },
    );
    let api = tokio::spawn(api.serve_with_incoming_shutdown(incoming, stopped.clone().waited()));
    shutdown.await;
    tracing::info!("shutting down: finishing requests, flushing the outbox");
    stop.fire();
    match tokio::time::timeout(Duration::from_secs(10), api).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "desk API ended with an error"),
        Err(_) => tracing::warn!("desk API did not finish in time"),
        _ => {}
    }
    if let Some(page) = page {
        match tokio::time::timeout(Duration::from_secs(5), page).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "operator page ended with an error"),
            Err(_) => tracing::warn!("operator page did not finish in time"),
            _ => {}
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), syncer).await;
    outbox.flush()?;
    tracing::info!("agent stopped cleanly");
    Ok(())
}

/// The token the local API asks for when it is open to the network.
pub const API_TOKEN_FILE: &str = "api.token";

/// The desk's API token, made (0600) the first time it is needed.
fn api_token(data: &Path) -> anyhow::Result<String> {
    let path = data.join(API_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let token = runtime::secret::new_token();
    write_secret(&path, token.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
}

/// The desk's search, its index built once in the background at start so
/// that the first search does not wait; later pushes rebuild it lazily.
fn desk_search(local: &Arc<LocalCopy>) -> Arc<crate::search::Search> {
    let search = Arc::new(crate::search::Search::new(Arc::clone(local)));
    let warm = Arc::clone(&search);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = warm.index() {
            tracing::warn!(error = %e, "search index not built at start; built at the first search");
        }
    });
    search
}
