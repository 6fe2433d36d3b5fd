//! A desk whose data folder is wiped and enrolled again, or restored from an
//! older copy, keeps every visit it was told was recorded, and none twice:
//! the desk starts a new incarnation of its outbox, the hub keeps each
//! incarnation's sequences apart, and `hub desks` shows what happened.

use e2e::{eventually, Agent, Hub};
use std::time::Duration;

fn verify_clean(hub: &Hub, records: u64) {
    let verify = hub.verify();
    assert_eq!(verify["records"], records, "{verify}");
    assert_eq!(verify["ids"], records, "{verify}");
    assert_eq!(verify["problems"], serde_json::json!([]), "{verify}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reinstalled_desk_sends_what_it_recorded_offline() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;
    agent.record_visits(300, 1).await?;
    hub.settle(&agent, 300).await?;
    let first = agent.status()["incarnation"].clone();

    // The PC is reinstalled: a new folder, the same bundle, and no hub in
    // sight while the desk works.
    agent.terminate()?;
    hub.terminate()?;
    std::fs::remove_dir_all(&agent.data)?;
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;
    agent.record_visits(200, 2).await?;
    let second = agent.status()["incarnation"].clone();
    assert_ne!(first, second, "a new outbox has a new incarnation");
    hub.start().await?;
    hub.settle(&agent, 500).await?;

    let d = hub.desk("desk-a");
    assert_eq!(d["incarnations"], 2, "{d}");
    assert_eq!(d["incarnation"], second, "{d}");
    assert_eq!(d["last_seq"], 200, "{d}");
    assert_eq!(d["older_state"], serde_json::Value::Null, "{d}");
    let status = agent.status();
    assert_eq!(status["sent"], 200, "{status}");
    assert_eq!(status["quarantined"], 0, "{status}");
    agent.terminate()?;
    hub.terminate()?;
    verify_clean(&hub, 500);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_restored_from_an_older_copy_loses_and_doubles_nothing() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-b");
    let mut agent = Agent::enroll(root.path(), "desk-b", &bundle);
    agent.start().await?;
    agent.record_visits(100, 3).await?;
    hub.settle(&agent, 100).await?;

    // A copy of the folder, taken while the desk is stopped, with 20 visits
    // not yet sent: the hub is away.
    hub.terminate()?;
    agent.record_visits(20, 4).await?;
    agent.terminate()?;
    let backup = root.path().join("desk-b.backup");
    copy_dir(&agent.data, &backup);
    let first = {
        agent.start().await?;
        hub.start().await?;
        agent.record_visits(80, 5).await?;
        hub.settle(&agent, 200).await?;
        agent.status()["incarnation"].clone()
    };

    // The disk dies; the folder comes back from the copy, which holds up to
    // 120 with 100 acknowledged, and the desk records on before it connects.
    agent.terminate()?;
    hub.terminate()?;
    std::fs::remove_dir_all(&agent.data)?;
    copy_dir(&backup, &agent.data);
    agent.start().await?;
    agent.record_visits(30, 6).await?;
    hub.start().await?;
    hub.settle(&agent, 230).await?;

    let d = hub.desk("desk-b");
    assert_eq!(d["incarnations"], 2, "{d}");
    assert_ne!(d["incarnation"], first, "{d}");
    assert_eq!(d["older_state"]["hub_held"], 200, "{d}");
    assert_eq!(d["older_state"]["desk_held"], 150, "{d}");
    let status = agent.status();
    assert_eq!(status["quarantined"], 0, "{status}");
    agent.terminate()?;
    hub.terminate()?;
    verify_clean(&hub, 230);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restored_from_an_older_copy_gets_every_record_back() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-c");
    let mut agent = Agent::enroll(root.path(), "desk-c", &bundle);
    agent.start().await?;
    agent.record_visits(100, 7).await?;
    hub.settle(&agent, 100).await?;

    hub.terminate()?;
    let backup = root.path().join("hub.backup");
    copy_dir(&hub.data, &backup);
    hub.start().await?;
    agent.record_visits(100, 8).await?;
    hub.settle(&agent, 200).await?;
    // A notice published after the copy, which the restored hub will not have.
    let lost = publish(&hub, root.path(), "avviso-perso");
    eventually(Duration::from_secs(30), async || {
        (guidance_ids(&agent) == ["avviso-perso"]).then_some(())
    })
    .await?;

    // The hub's disk dies and its folder comes back from the copy: the desk
    // still holds what the hub acknowledged since, and sends it again.
    hub.terminate()?;
    std::fs::remove_dir_all(&hub.data)?;
    copy_dir(&backup, &hub.data);
    hub.start().await?;
    hub.settle(&agent, 200).await?;
    // The desk forgets what the restored hub no longer has, and takes the
    // hub's next notice under the version the lost one had.
    eventually(Duration::from_secs(30), async || {
        guidance_ids(&agent).is_empty().then_some(())
    })
    .await?;
    assert_eq!(publish(&hub, root.path(), "avviso-nuovo"), lost);
    eventually(Duration::from_secs(30), async || {
        (guidance_ids(&agent) == ["avviso-nuovo"]).then_some(())
    })
    .await?;
    let d = hub.desk("desk-c");
    assert_eq!(
        d["incarnations"], 1,
        "nothing was lost, so no new incarnation: {d}"
    );
    assert_eq!(d["last_seq"], 200, "{d}");
    agent.terminate()?;
    hub.terminate()?;
    verify_clean(&hub, 200);
    Ok(())
}

fn publish(hub: &Hub, root: &std::path::Path, id: &str) -> u64 {
    hub.publish_guidance(root, id)
}

fn guidance_ids(agent: &Agent) -> Vec<String> {
    let out = e2e::run_ok("desk-agent", &["guidance", "--agent", &agent.url, "--json"]);
    let items: serde_json::Value = serde_json::from_str(&out).expect("guidance --json prints JSON");
    items
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
