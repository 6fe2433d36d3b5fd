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
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let mut agents = Vec::new();
    for id in ["desk-a", "desk-b"] {
        let bundle = hub.add_desk(id);
        let mut a = Agent::enroll(root.path(), id, &bundle);
        a.start().await?;
        agents.push(a);
    }

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
