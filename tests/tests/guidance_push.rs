//! Guidance published at the hub reaches every connected desk at once, a
//! desk that was away catches up on reconnect, the hub knows which desk has
//! applied which version, and a bad guidance file is refused with a reason.

use e2e::{eventually, path, run, run_ok, Agent, Hub};
use std::time::Duration;

fn guidance_ids(agent: &Agent) -> Vec<String> {
    let out = run_ok("desk-agent", &["guidance", "--agent", &agent.url, "--json"]);
    let items: serde_json::Value = serde_json::from_str(&out).expect("guidance JSON");
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn rollout(hub: &Hub) -> serde_json::Value {
    let out = run_ok("hub", &["rollout", "--data", path(&hub.data), "--json"]);
    serde_json::from_str(&out).expect("rollout JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guidance_reaches_every_desk_and_the_hub_sees_who_applied_it() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, mut agents) = e2e::network(root.path(), &["desk-a", "desk-b"]).await?;

    let file = root.path().join("questura.toml");
    std::fs::write(
        &file,
        r#"
id = "questura-orari"
title = "Questura: nuovi orari per i rinnovi"
body = "Dal 1 dicembre lo sportello immigrazione riceve su appuntamento."
severity = "urgent"
procedures = ["permesso.rinnovo.lavoro"]
effective_from = "2026-01-01"
"#,
    )?;
    let v1: u64 = run_ok(
        "hub",
        &[
            "guidance",
            "publish",
            path(&file),
            "--data",
            path(&hub.data),
        ],
    )
    .trim()
    .parse()?;
    for a in &agents {
        eventually(Duration::from_secs(10), async || {
            (guidance_ids(a) == ["questura-orari"]).then_some(())
        })
        .await?;
    }
    let r = eventually(Duration::from_secs(10), async || {
        let r = rollout(&hub);
        let all = r["desks"]
            .as_array()?
            .iter()
            .all(|d| d["guidance_version"] == v1);
        all.then_some(r)
    })
    .await?;
    assert_eq!(r["guidance_version"], v1, "{r}");

    // Desk B is away while an item is amended and another retired.
    agents[1].terminate()?;
    std::fs::write(
        &file,
        r#"
id = "questura-orari"
title = "Questura: orari dei rinnovi, correzione"
body = "Lo sportello riceve anche il sabato mattina."
severity = "important"
effective_from = "2026-01-01"
"#,
    )?;
    let extra = root.path().join("modulo.toml");
    std::fs::write(
        &extra,
        "title = \"Nuovo modulo\"\nbody = \"Usare il modulo 2026.\"\n",
    )?;
    run_ok(
        "hub",
        &[
            "guidance",
            "publish",
            path(&file),
            "--data",
            path(&hub.data),
        ],
    );
    let v_extra: u64 = run_ok(
        "hub",
        &[
            "guidance",
            "publish",
            path(&extra),
            "--data",
            path(&hub.data),
        ],
    )
    .trim()
    .parse()?;
    assert!(v_extra > v1);
    let out: serde_json::Value = serde_json::from_str(&run_ok(
        "desk-agent",
        &["guidance", "--agent", &agents[0].url, "--json"],
    ))?;
    let extra_id = eventually(Duration::from_secs(10), async || {
        let out: serde_json::Value = serde_json::from_str(&run_ok(
            "desk-agent",
            &["guidance", "--agent", &agents[0].url, "--json"],
        ))
        .ok()?;
        let items = out.as_array()?;
        (items.len() == 2).then(|| {
            items
                .iter()
                .find(|i| i["title"] == "Nuovo modulo")
                .map(|i| i["id"].to_string())
        })?
    })
    .await?;
    let extra_id = extra_id.trim_matches('"').to_string();
    let v_last: u64 = run_ok(
        "hub",
        &["guidance", "retire", &extra_id, "--data", path(&hub.data)],
    )
    .trim()
    .parse()?;
    drop(out);

    let r = rollout(&hub);
    let b = r["desks"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["desk_id"] == "desk-b"))
        .cloned()
        .unwrap_or_default();
    assert_ne!(b["guidance_version"], v_last, "{r}");

    agents[1].start().await?;
    for a in &agents {
        eventually(Duration::from_secs(15), async || {
            let s = a.status();
            (s["versions"]["guidance"] == v_last).then_some(())
        })
        .await?;
        assert_eq!(
            guidance_ids(a),
            ["questura-orari"],
            "retired item must be gone"
        );
    }
    let r = eventually(Duration::from_secs(10), async || {
        let r = rollout(&hub);
        r["desks"]
            .as_array()?
            .iter()
            .all(|d| d["guidance_version"] == v_last)
            .then_some(r)
    })
    .await?;
    assert_eq!(r["guidance_version"], v_last, "{r}");
    let amended: serde_json::Value = serde_json::from_str(&run_ok(
        "desk-agent",
        &["guidance", "--agent", &agents[1].url, "--json"],
    ))?;
    assert_eq!(amended[0]["severity"], "important", "{amended}");

    // A bad file is refused with the reason and exit code 2; nothing changes.
    let bad = root.path().join("bad.toml");
    std::fs::write(
        &bad,
        "title = \"x\"\nbody = \"y\"\nprocedures = [\"permesso.inventato\"]\n",
    )?;
    let out = run(
        "hub",
        &["guidance", "publish", path(&bad), "--data", path(&hub.data)],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("procedures") && err.contains("permesso.inventato"),
        "{err}"
    );
    let out = run(
        "hub",
        &[
            "guidance",
            "retire",
            "no-such-item",
            "--data",
            path(&hub.data),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(rollout(&hub)["guidance_version"], v_last);

    // The desk keeps its copy while the hub is down.
    hub.terminate()?;
    assert_eq!(guidance_ids(&agents[0]), ["questura-orari"]);
    Ok(())
}

fn publish(hub: &Hub, root: &std::path::Path, id: &str) -> u64 {
    hub.publish_guidance(root, id)
}

/// The next item a `WatchGuidance` stream yields, within a bound.
async fn next_item(
    stream: &mut tonic::Streaming<proto::GuidanceItem>,
) -> anyhow::Result<proto::GuidanceItem> {
    match tokio::time::timeout(Duration::from_secs(15), stream.message()).await {
        Ok(Ok(Some(item))) => Ok(item),
        other => anyhow::bail!("no guidance item arrived: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_away_for_five_publishes_gets_exactly_those_in_order_once() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;
    let v0 = publish(&hub, root.path(), "prima");
    eventually(Duration::from_secs(10), async || {
        (agent.status()["versions"]["guidance"] == v0).then_some(())
    })
    .await?;

    agent.terminate()?;
    let ids = ["uno", "due", "tre", "quattro", "cinque"];
    let versions: Vec<u64> = ids
        .iter()
        .map(|id| publish(&hub, root.path(), id))
        .collect();
    // The desk comes back while the hub is away, so that its watcher is
    // open before anything is sent.
    hub.terminate()?;
    agent.start().await?;
    let mut client = agent.client().await?;
    let mut watch = client
        .watch_guidance(proto::ListGuidanceRequest::default())
        .await?
        .into_inner();
    assert_eq!(next_item(&mut watch).await?.id, "prima");
    hub.start().await?;
    let mut got = Vec::new();
    for _ in 0..ids.len() {
        let item = next_item(&mut watch).await?;
        got.push((item.id, item.version));
    }
    let want: Vec<(String, u64)> = ids
        .iter()
        .map(|s| s.to_string())
        .zip(versions.iter().copied())
        .collect();
    assert_eq!(got, want, "exactly the missing changes, in order");
    // Nothing of those comes again: the next item is the next publish.
    let v6 = publish(&hub, root.path(), "sei");
    let next = next_item(&mut watch).await?;
    assert_eq!((next.id.as_str(), next.version), ("sei", v6));
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_that_refuses_a_push_is_shown_with_its_reason_and_the_others_carry_on(
) -> anyhow::Result<()> {
    use proto::{desk_message, hub_message, DeskMessage, Hello, HubMessage};
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;

    // Desk B is played by hand over real mutual TLS: it refuses guidance.
    let refusing = hub.add_desk("desk-b");
    let channel = e2e::desk_channel(&hub, &refusing).await?;
    let mut fed = proto::federation_client::FederationClient::new(channel);
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Hello(Hello {
            desk_id: "desk-b".into(),
            ..Default::default()
        })),
    })
    .await?;
    let mut inbound = fed
        .sync(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await?
        .into_inner();
    let refuser = tokio::spawn(async move {
        while let Ok(Some(HubMessage { body: Some(body) })) = inbound.message().await {
            if let hub_message::Body::Guidance(u) = body {
                let rejected = proto::Rejected {
                    version: u.version,
                    reason: "disco pieno / disk full".into(),
                    kind: "guidance".into(),
                };
                let msg = DeskMessage {
                    body: Some(desk_message::Body::Rejected(rejected)),
                };
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
        }
    });

    let v = publish(&hub, root.path(), "orari");
    let r = eventually(Duration::from_secs(10), async || {
        let r = rollout(&hub);
        let desks = r["desks"].as_array()?.clone();
        let a = desks.iter().find(|d| d["desk_id"] == "desk-a")?;
        let b = desks.iter().find(|d| d["desk_id"] == "desk-b")?;
        (a["guidance_version"] == v && !b["last_rejection"].is_null()).then_some(r)
    })
    .await?;
    let b = r["desks"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["desk_id"] == "desk-b"))
        .cloned()
        .unwrap_or_default();
    let reason = b["last_rejection"].as_str().unwrap_or_default();
    assert!(
        reason.contains("disk full") && reason.contains(&format!("v{v}")),
        "{r}"
    );
    assert_ne!(b["guidance_version"], v, "{r}");
    // The others carry on: the next publish reaches desk A too.
    let v2 = publish(&hub, root.path(), "moduli");
    eventually(Duration::from_secs(10), async || {
        (agent.status()["versions"]["guidance"] == v2).then_some(())
    })
    .await?;
    refuser.abort();
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}
