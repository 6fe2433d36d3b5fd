//! A desk whose disk fills up (a small tmpfs, mounted here; the tests run as
//! root): intake is refused with a plain message before the disk is truly
//! full, everything recorded before still reaches the hub while the disk is
//! full, and once the disk grows the desk records again without a restart.

use e2e::tmpfs::Tmpfs;
use e2e::{eventually, Agent, Hub};
use std::time::Duration;

fn visit(minutes: u32) -> proto::RecordVisitRequest {
    proto::RecordVisitRequest {
        visit: Some(proto::Visit {
            procedure: "cittadinanza.residenza".into(),
            channel: "walk_in".into(),
            language: "it".into(),
            outcome: "answered".into(),
            minutes,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_desk_disk_refuses_visits_keeps_shipping_and_recovers_alone() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-f");
    let disk = Tmpfs::mount(&root.path().join("desk-disk"), "48m");
    let mut agent = Agent::enroll(disk.path(), "desk-f", &bundle);
    let config = agent.data.join("agent.toml");
    let text = std::fs::read_to_string(&config)?;
    assert!(text.contains("disk_reserve_mib = 64"), "{text}");
    std::fs::write(
        &config,
        text.replace("disk_reserve_mib = 64", "disk_reserve_mib = 8"),
    )?;
    agent.start().await?;
    let mut client = agent.client().await?;
    for i in 0..50 {
        client.record_visit(visit(i)).await?;
    }
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-f") == Some(50)).then_some(())
    })
    .await?;

    // The hub goes away; 30 visits wait in the outbox. Then the disk fills.
    hub.terminate()?;
    for i in 0..30 {
        client.record_visit(visit(i)).await?;
    }
    disk.fill_to(4 << 20)?;
    assert!(disk.free() < 8 << 20, "free {}", disk.free());
    let refused = client
        .record_visit(visit(9))
        .await
        .expect_err("a visit on a full disk");
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    assert!(
        refused.message().contains("quasi pieno") && refused.message().contains("almost full"),
        "{refused:?}"
    );
    assert!(
        !refused.message().contains("Os {"),
        "no raw error: {refused:?}"
    );

    // Shipping goes on while the disk is full: the hub gets all 80.
    hub.start().await?;
    eventually(Duration::from_secs(60), async || {
        (hub.records_of("desk-f") == Some(80)).then_some(())
    })
    .await?;
    let status = eventually(Duration::from_secs(30), async || {
        let s = agent.status();
        (s["pending"] == 0).then_some(s)
    })
    .await?;
    assert_eq!(status["sent"], 80, "{status}");

    // The disk grows: visits are recorded again, with no restart.
    disk.resize("128m");
    let again = client.record_visit(visit(11)).await?.into_inner();
    assert_eq!(again.seq, 81);
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-f") == Some(81)).then_some(())
    })
    .await?;
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hub_disk_stores_nothing_it_cannot_and_resumes_alone() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let disk = Tmpfs::mount(&root.path().join("hub-disk"), "64m");
    let mut hub = Hub::init(disk.path());
    let config = hub.data.join("hub.toml");
    let text = std::fs::read_to_string(&config)?;
    assert!(text.contains("disk_reserve_mib = 256"), "{text}");
    std::fs::write(
        &config,
        text.replace("disk_reserve_mib = 256", "disk_reserve_mib = 8"),
    )?;
    hub.start().await?;
    let bundle = hub.add_desk("desk-h");
    let mut agent = Agent::enroll(root.path(), "desk-h", &bundle);
    agent.start().await?;
    let mut client = agent.client().await?;
    for i in 0..20 {
        client.record_visit(visit(i)).await?;
    }
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-h") == Some(20)).then_some(())
    })
    .await?;

    // The hub's disk fills: the desk still records, the hub stores nothing
    // more and acknowledges nothing more.
    disk.fill_to(4 << 20)?;
    for i in 0..20 {
        client.record_visit(visit(i)).await?;
    }
    let refused = |status: &serde_json::Value| {
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("almost full"))
    };
    eventually(Duration::from_secs(30), async || {
        refused(&agent.status()).then_some(())
    })
    .await?;
    // The desk connects again and again and is refused each time: the
    // operator keeps seeing why, not an empty error between two tries.
    for _ in 0..30 {
        let status = agent.status();
        assert!(refused(&status), "{status}");
        assert_eq!(status["pending"], 20, "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hub.records_of("desk-h"), Some(20));

    // Space comes back: the desk's records arrive with no restart.
    disk.empty()?;
    eventually(Duration::from_secs(60), async || {
        (hub.records_of("desk-h") == Some(40)).then_some(())
    })
    .await?;
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}
