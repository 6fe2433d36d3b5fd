//! The federation port's bounds, against the real hub: a desk that ignores
//! its window is refused with a retry delay while a normal desk beside it
//! goes on; a desk past its rate is slowed (acks held back), never refused,
//! and loses nothing; a connection flood meets the caps while enrolled desks
//! still sync, and the same caps hold on the dashboard's port.

use e2e::{eventually, free_addr, Agent, Hub};
use proto::federation_client::FederationClient;
use proto::{desk_message, hub_message, DeskMessage, Hello, HubMessage, RecordBatch, Welcome};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Streaming};

/// Opens `Sync` as desk `desk` with its own bundle: the sender (room for
/// `room` messages, so that a flood is not held back on this side) and the
/// hub's stream after its Welcome.
async fn open(
    hub: &Hub,
    bundle: &Path,
    desk: &str,
    room: usize,
) -> anyhow::Result<(mpsc::Sender<DeskMessage>, Streaming<HubMessage>, Welcome)> {
    let ch = e2e::desk_channel(hub, bundle).await?;
    let mut client = FederationClient::new(ch);
    let (tx, rx) = mpsc::channel(room);
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Hello(Hello {
            desk_id: desk.into(),
            ..Default::default()
        })),
    })
    .await?;
    let mut inbound = client.sync(ReceiverStream::new(rx)).await?.into_inner();
    match inbound.message().await? {
        Some(HubMessage {
            body: Some(hub_message::Body::Welcome(w)),
        }) => Ok((tx, inbound, w)),
        other => anyhow::bail!("expected Welcome, got {other:?}"),
    }
}

/// The status that ends a stream, and the highest sequence acknowledged
/// before it.
async fn end_status(inbound: &mut Streaming<HubMessage>) -> anyhow::Result<(tonic::Status, u64)> {
    let mut acked = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), inbound.message()).await? {
            Err(s) => return Ok((s, acked)),
            Ok(Some(HubMessage {
                body: Some(hub_message::Body::Ack(ack)),
            })) => acked = acked.max(ack.up_to_seq),
            Ok(Some(_)) => continue,
            Ok(None) => anyhow::bail!("stream ended without a status"),
        }
    }
}

async fn scrape(addr: &str) -> anyhow::Result<String> {
    let reply = e2e::http::get(addr, "/metrics")?;
    anyhow::ensure!(reply.status == 200, "GET /metrics: {}", reply.status);
    Ok(reply.body)
}

/// The value of one sample (`name` with its labels, as exposed); 0 when the
/// series does not exist yet.
fn value(exposition: &str, sample: &str) -> f64 {
    exposition
        .lines()
        .find_map(|l| {
            let (name, v) = l.rsplit_once(' ')?;
            (name == sample).then(|| v.parse().ok()).flatten()
        })
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_desk_that_ignores_its_window_is_refused_with_a_delay_while_a_normal_desk_carries_on(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    // A low rate holds the flood's acks back, so that its unacked batches
    // pile up whatever the speed of the machine.
    hub.configure(&[("desk_records_per_sec", 50.into())])?;
    let metrics = free_addr();
    hub.start_with(&["--metrics-addr", &metrics]).await?;
    let hostile = hub.add_desk("hostile");
    let good_bundle = hub.add_desk("good");
    let mut good = Agent::enroll(root.path(), "good", &good_bundle);
    good.start().await?;
    good.record_visits(40, 1).await?;
    hub.settle(&good, 40).await?;

    // A real desk certificate, a client that never waits for an ack.
    let (tx, mut inbound, welcome) = open(&hub, &hostile, "hostile", 64).await?;
    assert_eq!(welcome.max_unacked_batches, 8, "the hub says its window");
    for i in 0..40u64 {
        let batch = RecordBatch {
            first_seq: 1 + i * 20,
            records: (0..20).map(|_| e2e::wire_record("hostile")).collect(),
            ..Default::default()
        };
        if tx
            .send(DeskMessage {
                body: Some(desk_message::Body::Batch(batch)),
            })
            .await
            .is_err()
        {
            break;
        }
    }
    let (refused, acked) = end_status(&mut inbound).await?;
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert_eq!(
        runtime::retry::retry_delay(&refused),
        Some(Duration::from_secs(30)),
        "a google.rpc.RetryInfo in the details: {refused:?}"
    );
    assert!(
        refused.message().contains("17 batches") && refused.message().contains("allows 8"),
        "{}",
        refused.message()
    );

    // The normal desk's records are still acknowledged.
    good.record_visits(40, 2).await?;
    hub.settle(&good, 80).await?;
    assert_eq!(good.status()["last_error"], "", "{}", good.status());
    let exposition = scrape(&metrics).await?;
    assert_eq!(value(&exposition, "rete_hub_floods_refused_total"), 1.0);
    // What the hub took in before refusing is stored and was acknowledged
    // before the refusal, so the desk can resume after it; the rest was not.
    let held = hub.records_of("hostile").unwrap_or(0);
    assert!(held > 0 && held < 40 * 20, "{held}");
    assert_eq!(held, acked, "stored {held}, acknowledged up to {acked}");
    good.terminate()?;
    hub.terminate()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_desk_past_its_rate_is_slowed_not_refused_and_loses_nothing() -> anyhow::Result<()> {
    const BACKLOG: usize = 1_000;
    const RATE: u64 = 100;
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.configure(&[("desk_records_per_sec", (RATE as i64).into())])?;
    let fast_bundle = hub.add_desk("fast");
    let calm_bundle = hub.add_desk("calm");
    // The backlog is recorded while the hub is away, then sent as fast as
    // the desk can: ten times its rate and more.
    let mut fast = Agent::enroll(root.path(), "fast", &fast_bundle);
    fast.start().await?;
    fast.record_visits(BACKLOG, 3).await?;
    let mut calm = Agent::enroll(root.path(), "calm", &calm_bundle);
    calm.start().await?;

    let metrics = free_addr();
    let started = Instant::now();
    hub.start_with(&["--metrics-addr", &metrics]).await?;
    // Another desk is not held back by the fast one's rate.
    eventually(Duration::from_secs(30), async || {
        (fast.status()["connected"] == true && calm.status()["connected"] == true).then_some(())
    })
    .await?;
    calm.record_visits(20, 4).await?;
    let calm_at = Instant::now();
    hub.settle(&calm, 20).await?;
    let calm_took = calm_at.elapsed();

    hub.settle(&fast, BACKLOG as u64).await?;
    let took = started.elapsed();
    // One second of burst, then 100 records a second: at least 9 s for the
    // rest, where without a limit it takes well under one.
    let floor = Duration::from_secs((BACKLOG as u64 - RATE) / RATE - 2);
    assert!(took >= floor, "the backlog took {took:?}, under {floor:?}");
    assert!(
        calm_took < took / 2,
        "the calm desk waited {calm_took:?} while the fast one took {took:?}"
    );
    let status = fast.status();
    assert_eq!(status["last_error"], "", "never refused: {status}");
    assert_eq!(status["sent"], BACKLOG as u64, "{status}");
    let exposition = scrape(&metrics).await?;
    assert!(value(&exposition, "rete_hub_acks_delayed_total") > 0.0);
    assert_eq!(value(&exposition, "rete_hub_floods_refused_total"), 0.0);
    fast.terminate()?;
    calm.terminate()?;
    hub.terminate()?;
    let verify = hub.verify();
    assert_eq!(verify["records"], BACKLOG as u64 + 20, "{verify}");
    assert_eq!(verify["counted"], BACKLOG as u64 + 20, "{verify}");
    Ok(())
}

/// Whether the hub has closed a raw connection (EOF or reset), without
/// waiting.
fn closed(stream: &tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 16];
    match stream.try_read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// Opens `flood` silent connections to `addr` from 127.0.0.1 and checks
/// that exactly those past `per_source` are closed at once and counted under
/// `port` on the metrics at `metrics`. Returns the connections, so that the
/// caller holds the ones the cap let in.
async fn flood_to_the_cap(
    addr: &str,
    metrics: &str,
    port: &str,
    flood: usize,
    per_source: usize,
) -> anyhow::Result<Vec<tokio::net::TcpStream>> {
    let mut held = Vec::with_capacity(flood);
    for _ in 0..flood {
        held.push(tokio::net::TcpStream::connect(addr).await?);
    }
    let refused = eventually(Duration::from_secs(10), async || {
        let n = held.iter().filter(|s| closed(s)).count();
        (n >= flood - per_source).then_some(n)
    })
    .await?;
    assert_eq!(
        refused,
        flood - per_source,
        "the cap holds, no more, no less"
    );
    let exposition = scrape(metrics).await?;
    let sample = format!(
        "rete_hub_connections_refused_total{{cap=\"max_connections_per_source\",port=\"{port}\"}}"
    );
    assert!(
        value(&exposition, &sample) >= (flood - per_source) as f64,
        "{exposition}"
    );
    Ok(held)
}

/// The flood and the desks share 127.0.0.1, as desks behind one NAT share
/// an address with whatever else is behind it. The per-source cap counts
/// only connections that have not finished a handshake: the established
/// desk is never touched, and a desk that connects during the flood gets in
/// once the flood's silent connections meet the handshake timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_flood_meets_the_caps_and_enrolled_desks_still_sync() -> anyhow::Result<()> {
    const FLOOD: usize = 200;
    const PER_SOURCE: usize = 20;
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.configure(&[
        ("max_connections_per_source", (PER_SOURCE as i64).into()),
        ("handshake_timeout_secs", 3.into()),
    ])?;
    let metrics = free_addr();
    hub.start_with(&["--metrics-addr", &metrics]).await?;
    let steady_bundle = hub.add_desk("steady");
    let late_bundle = hub.add_desk("late");
    let mut steady = Agent::enroll(root.path(), "steady", &steady_bundle);
    steady.start().await?;
    steady.record_visits(10, 5).await?;
    hub.settle(&steady, 10).await?;

    let flood =
        flood_to_the_cap(&hub.federation, &metrics, "federation", FLOOD, PER_SOURCE).await?;

    // While the flood holds its connections: the connected desk syncs, and
    // a desk that connects now gets in.
    let mut late = Agent::enroll(root.path(), "late", &late_bundle);
    late.start().await?;
    steady.record_visits(10, 6).await?;
    hub.settle(&steady, 20).await?;
    late.record_visits(10, 7).await?;
    hub.settle(&late, 10).await?;
    // The connections that never began a handshake did not outlive its
    // timeout.
    eventually(Duration::from_secs(10), async || {
        flood.iter().all(closed).then_some(())
    })
    .await?;
    drop(flood);
    steady.terminate()?;
    late.terminate()?;
    hub.terminate()?;
    Ok(())
}

/// The dashboard is capped as the desks' port is: a flood of silent
/// connections from one address meets the per-source cap, and a coordinator
/// from another address still signs in meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_on_the_dashboard_meets_the_caps_and_a_coordinator_still_signs_in(
) -> anyhow::Result<()> {
    use e2e::web::{add_user, enable_dashboard, Web};
    const FLOOD: usize = 60;
    const PER_SOURCE: usize = 10;
    const PASSWORD: &str = "una-password-lunga";
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let addr = enable_dashboard(&hub.data)?;
    assert!(add_user(&hub.data, "coordinatore", PASSWORD)
        .status
        .success());
    hub.configure(&[
        ("max_connections_per_source", (PER_SOURCE as i64).into()),
        ("handshake_timeout_secs", 3.into()),
    ])?;
    let metrics = free_addr();
    hub.start_with(&["--metrics-addr", &metrics]).await?;
    let a = addr.clone();
    eventually(Duration::from_secs(20), async || {
        tokio::net::TcpStream::connect(&a).await.ok()
    })
    .await?;

    let flood = flood_to_the_cap(&addr, &metrics, "dashboard", FLOOD, PER_SOURCE).await?;

    let mut coordinator =
        Web::new(&hub.data, &addr)?.from_source(std::net::IpAddr::from([127, 0, 0, 2]));
    let signed_in = coordinator.login("coordinatore", PASSWORD).await?;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text());
    assert_eq!(coordinator.get("/desks").await?.status, 200);
    eventually(Duration::from_secs(10), async || {
        flood.iter().all(closed).then_some(())
    })
    .await?;
    hub.terminate()?;
    Ok(())
}
