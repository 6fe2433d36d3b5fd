//! The demo network: the hub and its desks as tasks of this process, fed
//! synthetic visits through the agents' own gRPC API, with what arrives at
//! the hub printed per desk.

use anyhow::Context;
use desk_agent::config::AgentConfig;
use hub::config::{DataDir, HubConfig};
use hub::server::{self, Listeners};
use proto::desk_client::DeskClient;
use runtime::bundle::Bundle;
use runtime::shutdown::{self, Shutdown};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

const DEMO_TEMPLATE_KEY: &str = "permesso.rinnovo.lavoro/documenti";
/// Italian first: the translations are checked against it.
const DEMO_TEMPLATE: [(&str, &str); 3] = [
    (
        "it",
        "Gentile {{nome}}, per il rinnovo del permesso per lavoro porti {{documento}}, il contratto di lavoro, quattro foto e la ricevuta del kit postale.",
    ),
    (
        "en",
        "Dear {{nome}}, to renew your work permit bring {{documento}}, your employment contract, four photos and the receipt of the postal kit.",
    ),
    (
        "ar",
        "عزيزي {{nome}}، لتجديد تصريح الإقامة للعمل أحضر {{documento}} وعقد العمل وأربع صور وإيصال طقم البريد.",
    ),
];
const DEMO_USER: &str = "coordinatore";

const DESK_NAMES: &[&str] = &[
    "centro",
    "nord",
    "sud",
    "est",
    "ovest",
    "carmine",
    "lamarmora",
    "sanpolo",
];

pub(crate) async fn run(
    desks: usize,
    rate: u32,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("rete-sportelli-demo-")
        .tempdir()?;
    let hub_dir = tmp.path().join("hub");
    let listeners = Listeners {
        federation: TcpListener::bind("127.0.0.1:0").await?,
        coordinator: TcpListener::bind("127.0.0.1:0").await?,
        http: Some(TcpListener::bind("127.0.0.1:0").await?),
        metrics: None,
    };
    let config = HubConfig {
        federation_addr: listeners.federation.local_addr()?.to_string(),
        coordinator_addr: listeners.coordinator.local_addr()?.to_string(),
        http_addr: listeners
            .http
            .as_ref()
            .map(|l| l.local_addr().map(|a| a.to_string()))
            .transpose()?
            .unwrap_or_default(),
        ..HubConfig::default()
    };
    server::init(&hub_dir, &config, &[])?;
    let (trigger, stopped) = shutdown::channel();
    let hub = tokio::spawn({
        let (dir, config, stop) = (hub_dir.clone(), config.clone(), stopped.clone().waited());
        async move { server::run(&dir, config, listeners, stop).await }
    });

    let dir = DataDir(hub_dir.clone());
    let mut coordinator = connect_with_retry(&dir, &config).await?;
    let password = {
        use rand::Rng;
        let bytes: [u8; 12] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    coordinator
        .add_user(proto::AddUserRequest {
            name: DEMO_USER.into(),
            password_hash: hub::users::hash_password(&password)?,
        })
        .await
        .map_err(|s| anyhow::anyhow!("cannot create the demo user: {}", s.message()))?;
    let mut agents = Vec::new();
    let mut feeders = Vec::new();
    let mut pages = Vec::new();
    for i in 0..desks.max(1) {
        let desk_id = match DESK_NAMES.get(i) {
            Some(n) => format!("sportello-{n}"),
            None => format!("sportello-{}", i + 1),
        };
        let resp = coordinator
            .add_desk(proto::AddDeskRequest {
                desk_id: desk_id.clone(),
                hub_address: config.federation_addr.clone(),
                hub_addresses: Vec::new(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("cannot enrol {desk_id}: {}", s.message()))?;
        let bundle_path = tmp.path().join(format!("{desk_id}.bundle"));
        Bundle::from_toml(
            &String::from_utf8_lossy(&resp.into_inner().bundle),
            "hub response",
        )?
        .write(&bundle_path)?;
        let desk_dir = tmp.path().join(&desk_id);
        let agent_config: AgentConfig = desk_agent::server::enroll(&bundle_path, &desk_dir)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let agent_url = format!("http://{}", listener.local_addr()?);
        let page = TcpListener::bind("127.0.0.1:0").await?;
        pages.push((desk_id.clone(), page.local_addr()?));
        let stop = stopped.clone().waited();
        agents.push(tokio::spawn(async move {
            desk_agent::server::run_with_page(&desk_dir, agent_config, listener, Some(page), stop)
                .await
        }));
        feeders.push(tokio::spawn(feed(agent_url, rate.max(1), stopped.clone())));
    }

    // One piece of procedural news, so that the push is visible too.
    let published = coordinator
        .publish_guidance(proto::PublishGuidanceRequest {
            item: Some(proto::GuidanceItem {
                id: "demo-questura-orari".into(),
                title: "Questura: rinnovi solo su appuntamento".into(),
                body: "Da lunedì l'Ufficio Immigrazione riceve i rinnovi solo su appuntamento \
                       preso online; portare la ricevuta del kit postale."
                    .into(),
                procedures: vec!["permesso.rinnovo.lavoro".into()],
                severity: proto::Severity::Urgent as i32,
                ..Default::default()
            }),
        })
        .await
        .map_err(|s| anyhow::anyhow!("cannot publish the demo guidance: {}", s.message()))?
        .into_inner()
        .version;

    // One answer in three languages, so that the operator pages have
    // something to render (Arabic right-to-left).
    for (language, body) in DEMO_TEMPLATE {
        coordinator
            .put_template(proto::PutTemplateRequest {
                key: DEMO_TEMPLATE_KEY.into(),
                language: language.into(),
                body: body.into(),
                minor: false,
            })
            .await
            .map_err(|s| anyhow::anyhow!("cannot save the demo template: {}", s.message()))?;
    }

    println!();
    println!(
        "Rete Sportelli demo: a hub and {} desks on this machine",
        agents.len()
    );
    println!("  data folder       {}", tmp.path().display());
    println!("  federation (mTLS) {}", config.federation_addr);
    println!(
        "  coordinator API   https://{}  (token in {})",
        config.coordinator_addr,
        dir.token().display()
    );
    println!("  dashboard         https://{}/", config.http_addr);
    println!("                    user {DEMO_USER}  password {password}");
    println!(
        "                    (the browser will warn: the certificate is the hub's own; its CA is {})",
        dir.ca_cert().display()
    );
    for (desk_id, addr) in &pages {
        println!("  operator page     http://{addr}/  ({desk_id})");
    }
    println!(
        "  guidance          version {published} published; `hub rollout --data {} --json` shows who applied it",
        hub_dir.display()
    );
    println!("Press Ctrl-C to stop.\n");

    let mut ticker = tokio::time::interval(Duration::from_secs(2));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = ticker.tick() => {
                if let Ok(resp) = coordinator.list_desks(proto::ListDesksRequest {}).await {
                    let desks = resp.into_inner().desks;
                    let line: Vec<String> = desks
                        .iter()
                        .map(|d| format!("{} {} {}", d.desk_id, d.records, if d.connected { "●" } else { "○" }))
                        .collect();
                    let applied = desks
                        .iter()
                        .filter(|d| d.versions.as_ref().is_some_and(|v| v.guidance >= published))
                        .count();
                    println!(
                        "records at the hub: {}  |  guidance v{published} applied by {applied}/{}",
                        line.join("  |  "),
                        desks.len()
                    );
                }
            }
        }
    }
    trigger.fire();
    for f in feeders {
        let _ = f.await;
    }
    for a in agents {
        let _ = a.await;
    }
    hub.await.context("hub task failed")??;
    println!("demo stopped; temporary data removed");
    Ok(())
}

async fn connect_with_retry(
    dir: &DataDir,
    config: &HubConfig,
) -> anyhow::Result<hub::client::Client> {
    for _ in 0..50 {
        if let Some(c) = hub::client::connect(dir, config).await? {
            return Ok(c);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the demo hub did not start")
}

async fn feed(agent_url: String, rate: u32, stop: Shutdown) {
    let mut client = loop {
        match DeskClient::connect(agent_url.clone()).await {
            Ok(c) => break c,
            Err(_) => tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = stop.wait() => return,
            },
        }
    };
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait() => return,
        }
        let visit = synthetic::visit(&mut rng);
        if let Err(s) = client
            .record_visit(proto::RecordVisitRequest {
                visit: Some(visit),
                ..Default::default()
            })
            .await
        {
            tracing::warn!(agent = %agent_url, error = %s.message(), "demo visit refused");
        }
    }
}
