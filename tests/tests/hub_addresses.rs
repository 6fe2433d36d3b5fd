//! Several hub addresses (issue 19): a desk whose first address is dead
//! reaches the next, a desk whose hub comes back at its second address
//! follows it there, and a replica made by `hub replica add` serves
//! without the CA key and refuses to enrol desks.

use e2e::{eventually, free_addr, path, run, run_ok, Agent, Hub};
use std::path::Path;
use std::time::Duration;

/// `hub desk add` naming `addresses` (empty: the hub's `desk_addresses`).
fn add_desk(hub: &Hub, root: &Path, desk_id: &str, addresses: &[&str]) -> std::path::PathBuf {
    let out = root.join(format!("{desk_id}.bundle"));
    let mut args = vec!["desk", "add", desk_id, "--data", path(&hub.data)];
    for a in addresses {
        args.extend(["--hub-address", a]);
    }
    args.extend(["--out", path(&out)]);
    run_ok("hub", &args);
    out
}

fn bundle_addresses(bundle: &Path) -> Vec<String> {
    let table: toml::Table = std::fs::read_to_string(bundle)
        .expect("bundle")
        .parse()
        .expect("TOML");
    table["hub_addresses"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

async fn connected_to(agent: &Agent, addr: &str) -> anyhow::Result<()> {
    eventually(Duration::from_secs(30), async || {
        let s = agent.status();
        (s["connected"] == true && s["hub_address"] == addr).then_some(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_first_address_hands_the_desk_to_the_live_hub() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    // Nobody listens there: the port was free a moment ago.
    let dead = free_addr();
    hub.configure(&[(
        "desk_addresses",
        toml::Value::Array(vec![
            toml::Value::String(dead.clone()),
            toml::Value::String(hub.federation.clone()),
        ]),
    )])?;
    hub.start().await?;
    let bundle = add_desk(&hub, root.path(), "desk-dead-first", &[]);
    assert_eq!(
        bundle_addresses(&bundle),
        [dead.clone(), hub.federation.clone()]
    );

    let mut agent = Agent::enroll(root.path(), "desk-dead-first", &bundle);
    let toml = std::fs::read_to_string(agent.data.join("agent.toml"))?;
    assert!(toml.contains("hub_addresses"), "{toml}");
    agent.start().await?;
    // The dead address costs one refused connection, then the live one is
    // tried at once (the backoff waits only after every address failed;
    // the rotation's unit test counts the rounds).
    eventually(Duration::from_secs(10), async || {
        (agent.status()["connected"] == true).then_some(())
    })
    .await?;
    assert_eq!(agent.status()["hub_address"], hub.federation.as_str());
    agent.record_visits(30, 19).await?;
    hub.settle(&agent, 30).await?;
    let log = std::fs::read_to_string(root.path().join("desk-dead-first-1.log"))?;
    assert!(
        log.contains(&format!("cannot reach the hub at {dead}")),
        "the dead address was tried first:\n{log}"
    );
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_follows_its_hub_to_the_second_listed_address() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (first, second) = (free_addr(), free_addr());
    let mut hub = Hub::init_with(root.path(), first.clone());
    hub.start().await?;
    let list = format!("{first},{second}");
    let bundle = add_desk(&hub, root.path(), "desk-follows", &[&list]);
    assert_eq!(bundle_addresses(&bundle), [first.clone(), second.clone()]);
    let mut agent = Agent::enroll(root.path(), "desk-follows", &bundle);
    agent.start().await?;
    connected_to(&agent, &first).await?;
    agent.record_visits(20, 1).await?;
    hub.settle(&agent, 20).await?;

    // The hub dies and comes back at the desk's second address only.
    hub.kill();
    hub.start_with(&["--federation-addr", &second]).await?;
    agent.record_visits(20, 2).await?;
    connected_to(&agent, &second).await?;
    hub.settle(&agent, 40).await?;
    let status = run_ok("desk-agent", &["status", "--agent", &agent.url]);
    assert!(
        status.contains(&second),
        "the plain status names the hub:\n{status}"
    );
    let page = e2e::http::get(&agent.http, "/stato")?;
    assert!(
        page.body
            .contains(&format!("<span id=\"hub-address\">{second}</span>")),
        "the operator page names the hub:\n{}",
        page.body
    );
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_serves_without_the_ca_key_and_refuses_to_enrol() -> anyhow::Result<()> {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let root = tempfile::tempdir()?;
    let hub = Hub::init(root.path());
    // Enrolled by the original, on its stopped store: the replica's
    // federation port must accept this desk's certificate.
    let bundle = hub.add_desk("desk-r");
    let replica_dir = root.path().join("replica");
    let (fed, coord) = (free_addr(), free_addr());
    let out = run_ok(
        "hub",
        &[
            "replica",
            "add",
            "--data",
            path(&hub.data),
            "--out",
            path(&replica_dir),
            "--federation-addr",
            &fed,
            "--coordinator-addr",
            &coord,
        ],
    );
    assert!(out.starts_with("replica pronta in"), "{out}");
    assert!(out.contains("Next steps"), "{out}");
    assert!(
        !replica_dir.join("ca.key").exists(),
        "the CA key stays home"
    );
    assert!(hub.data.join("ca.key").exists());

    // A bad address: refused with exit code 2, Italian first.
    let bad = run(
        "hub",
        &[
            "replica",
            "add",
            "--data",
            path(&hub.data),
            "--out",
            path(&root.path().join("r2")),
            "--federation-addr",
            "nowhere",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("indirizzo dell'hub non valido `nowhere`"),
        "{stderr}"
    );

    let mut replica = Hub::at(replica_dir.clone(), fed.clone(), coord.clone());
    replica.start().await?;
    let ca = std::fs::read_to_string(hub.data.join("ca.crt"))?;
    // The handshake verifies the replica's certificate against the CA
    // under the hub's name.
    let coordinator = Endpoint::from_shared(format!("https://{coord}"))?
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&ca))
                .domain_name(runtime::HUB_SERVER_NAME),
        )?
        .connect()
        .await?;
    let federation = e2e::desk_channel(&replica, &bundle).await?;
    for (ch, service) in [
        (coordinator.clone(), "rete.v1.Coordinator"),
        (federation, "rete.v1.Federation"),
    ] {
        let health = HealthClient::new(ch)
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await?;
        assert_eq!(health.into_inner().status, 1, "{service} SERVING");
    }

    // Enrolment through the running replica: FAILED_PRECONDITION, saying
    // where to enrol.
    let token = std::fs::read_to_string(replica_dir.join("coordinator.token"))?;
    let mut request = tonic::Request::new(proto::AddDeskRequest {
        desk_id: "desk-x".into(),
        hub_address: fed.clone(),
        hub_addresses: Vec::new(),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {}", token.trim()).parse()?);
    let refused = proto::coordinator_client::CoordinatorClient::new(coordinator)
        .add_desk(request)
        .await
        .expect_err("a replica enrols no desk");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused
            .message()
            .starts_with("questa replica non custodisce la chiave della CA"),
        "{refused:?}"
    );
    let cli = run(
        "hub",
        &[
            "desk",
            "add",
            "desk-y",
            "--data",
            path(&replica_dir),
            "--hub-address",
            &fed,
            "--out",
            path(&root.path().join("y.bundle")),
        ],
    );
    assert_eq!(cli.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(stderr.contains("hub desk add --data"), "{stderr}");
    assert!(!root.path().join("y.bundle").exists());
    replica.terminate()?;
    Ok(())
}
