//! `hub backup` while desks record, `hub restore` after the hub's folder is
//! lost: the desks send again what the backup lacks, forget the pushed logs
//! of the hub's lost history and take its new ones, and nothing is lost or
//! counted twice. A file that is damaged, cut or foreign, or a hub that is
//! still running, is refused in plain words and changes nothing. What a
//! restore older than the desks' window loses is counted and shown.

use e2e::{eventually, free_addr, path, run, run_ok, Agent, Hub};
use proto::federation_client::FederationClient;
use proto::{desk_message, hub_message, DeskMessage, Hello, HubMessage};
use std::path::Path;
use std::time::Duration;
use tokio_stream::wrappers::ReceiverStream;

/// The guidance the desk serves, as (id, title), sorted by id.
fn guidance(agent: &Agent) -> Vec<(String, String)> {
    let out = run_ok("desk-agent", &["guidance", "--agent", &agent.url, "--json"]);
    let items: serde_json::Value = serde_json::from_str(&out).expect("guidance --json prints JSON");
    let mut list: Vec<(String, String)> = items
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    let s = |k: &str| i[k].as_str().unwrap_or_default().to_owned();
                    (s("id"), s("title"))
                })
                .collect()
        })
        .unwrap_or_default();
    list.sort();
    list
}

fn notices(ids: &[&str]) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = ids
        .iter()
        .map(|id| (id.to_string(), format!("Avviso {id}")))
        .collect();
    list.sort();
    list
}

async fn serves(agents: &[&Agent], ids: &[&str]) -> anyhow::Result<()> {
    let want = notices(ids);
    for agent in agents {
        eventually(Duration::from_secs(30), async || {
            (guidance(agent) == want).then_some(())
        })
        .await?;
    }
    Ok(())
}

fn backup(hub: &Hub, out: &Path) -> String {
    run_ok(
        "hub",
        &["backup", "--data", path(&hub.data), "--out", path(out)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_backed_up_under_load_and_restored_loses_nothing_and_desks_converge(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, mut agents) = e2e::network(root.path(), &["desk-a", "desk-b"]).await?;
    let (a, b) = (&agents[0], &agents[1]);
    hub.publish_guidance(root.path(), "avviso-prima");
    serves(&[a, b], &["avviso-prima"]).await?;

    // Both desks record at full speed while the backup is taken through the
    // running hub.
    let file = root.path().join("rete.backup");
    let during = 400;
    let (out, ra, rb) = tokio::join!(
        async {
            eventually(Duration::from_secs(60), async || {
                let held =
                    hub.records_of("desk-a").unwrap_or(0) + hub.records_of("desk-b").unwrap_or(0);
                (held >= 50).then_some(())
            })
            .await?;
            let (data, out) = (hub.data.clone(), file.clone());
            tokio::task::spawn_blocking(move || {
                run(
                    "hub",
                    &["backup", "--data", path(&data), "--out", path(&out)],
                )
            })
            .await
            .map_err(anyhow::Error::from)
        },
        a.record_visits(during, 1),
        b.record_visits(during, 2),
    );
    let (out, ()) = (out?, ra.and(rb)?);
    assert!(
        out.status.success(),
        "hub backup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("CA private key") && said.contains("0600"),
        "{said}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file)?.permissions().mode() & 0o777,
        0o600
    );
    let leftovers: Vec<_> = std::fs::read_dir(&hub.data)?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("backup"))
        .collect();
    assert!(leftovers.is_empty(), "the hub keeps no copy: {leftovers:?}");

    // After the backup: more visits and a notice the backup does not hold.
    a.record_visits(100, 3).await?;
    b.record_visits(100, 4).await?;
    let lost_version = hub.publish_guidance(root.path(), "avviso-dopo");
    serves(&[a, b], &["avviso-dopo", "avviso-prima"]).await?;
    let each = (during + 100) as u64;
    hub.settle(a, each).await?;
    hub.settle(b, each).await?;

    // The hub's folder is lost; it comes back from the backup.
    hub.terminate()?;
    std::fs::remove_dir_all(&hub.data)?;
    let said = run_ok("hub", &["restore", path(&file), "--data", path(&hub.data)]);
    let restored: u64 = said
        .split_whitespace()
        .skip_while(|w| !w.ends_with(':'))
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("restore says how many records: {said}"));
    assert!(
        restored >= 50 && restored < 2 * each,
        "the backup was taken mid-load: {said}"
    );
    hub.start().await?;

    // The desks send again what the backup lacks, forget the notice the
    // restored hub no longer has, and take the next one under its version.
    hub.settle(a, each).await?;
    hub.settle(b, each).await?;
    serves(&[a, b], &["avviso-prima"]).await?;
    assert_eq!(
        hub.publish_guidance(root.path(), "avviso-nuovo"),
        lost_version,
        "the restored hub gives the lost notice's version again"
    );
    serves(&[a, b], &["avviso-nuovo", "avviso-prima"]).await?;
    for id in ["desk-a", "desk-b"] {
        let d = hub.desk(id);
        assert_eq!(
            d["incarnations"], 1,
            "nothing lost, no new incarnation: {d}"
        );
        assert_eq!(d["records_lost"], 0, "{d}");
        assert_eq!(d["last_seq"], each, "{d}");
    }
    for agent in agents.iter_mut() {
        agent.terminate()?;
    }
    hub.terminate()?;
    let v = hub.verify();
    assert_eq!(v["records"], 2 * each, "{v}");
    assert_eq!(v["ids"], 2 * each, "{v}");
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    Ok(())
}

fn refused(args: &[&str], why: &str) {
    let out = run("hub", args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(why), "{args:?} should say `{why}`: {err}");
    assert!(!err.contains("Os {"), "no raw Rust error: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_backup_or_a_running_hub_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, mut agents) = e2e::network(root.path(), &["desk-r"]).await?;
    let mut agent = agents.remove(0);
    agent.record_visits(30, 9).await?;
    hub.settle(&agent, 30).await?;
    let file = root.path().join("rete.backup");
    backup(&hub, &file);
    let data = path(&hub.data).to_owned();

    refused(
        &["restore", path(&file), "--data", &data],
        "stop it before restoring",
    );
    agent.terminate()?;
    hub.terminate()?;

    let good = std::fs::read(&file)?;
    let mut flipped = good.clone();
    let at = flipped.len() / 3;
    flipped[at] ^= 1;
    for (name, bytes, why) in [
        ("flipped", flipped, "is damaged or incomplete"),
        (
            "cut",
            good[..good.len() / 2].to_vec(),
            "is damaged or incomplete",
        ),
        (
            "foreign",
            b"[desk]\nid = 1\n".to_vec(),
            "is not a hub backup",
        ),
    ] {
        let bad = root.path().join(name);
        std::fs::write(&bad, bytes)?;
        refused(&["restore", path(&bad), "--data", &data], why);
    }
    refused(
        &[
            "restore",
            path(&root.path().join("missing")),
            "--data",
            &data,
        ],
        "cannot read",
    );
    let v = hub.verify();
    assert_eq!(v["records"], 30, "the folder is as it was: {v}");
    assert!(
        !std::fs::read_dir(&hub.data)?.flatten().any(|e| e
            .file_name()
            .to_string_lossy()
            .starts_with("before-restore")),
        "nothing was moved"
    );

    // The good file restores onto a new machine's empty folder.
    let elsewhere = root.path().join("new-hub");
    let said = run_ok("hub", &["restore", path(&file), "--data", path(&elsewhere)]);
    assert!(said.contains("30 records from 1 desk(s)"), "{said}");
    let out = run_ok("hub", &["verify", "--data", path(&elsewhere), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["records"], 30, "{v}");
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    Ok(())
}

/// Plays a desk: a Hello for `incarnation`, telling `records_lost`; waits
/// for the Welcome.
async fn hello(
    hub: &Hub,
    bundle: &Path,
    incarnation: &str,
    records_lost: u64,
) -> anyhow::Result<()> {
    let ch = e2e::desk_channel(hub, bundle).await?;
    let mut client = FederationClient::new(ch);
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Hello(Hello {
            desk_id: "desk-l".into(),
            incarnation: incarnation.into(),
            records_lost,
            ..Default::default()
        })),
    })
    .await?;
    let mut inbound = client.sync(ReceiverStream::new(rx)).await?.into_inner();
    match inbound.message().await? {
        Some(HubMessage {
            body: Some(hub_message::Body::Welcome(w)),
        }) => {
            anyhow::ensure!(!w.logs_epoch.is_empty(), "the Welcome names the logs epoch");
            Ok(())
        }
        other => anyhow::bail!("expected Welcome, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_lost_beyond_the_desks_window_are_shown_never_hidden() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let metrics = free_addr();
    hub.start_with(&["--metrics-addr", &metrics]).await?;
    let bundle = hub.add_desk("desk-l");
    hello(&hub, &bundle, "0190a000-0000-7000-8000-000000000001", 0).await?;
    // The desk found the hub holding fewer of its records than it had
    // acknowledged, with 7 of them no longer in its outbox.
    hello(&hub, &bundle, "0190a000-0000-7000-8000-000000000002", 7).await?;
    hello(&hub, &bundle, "0190a000-0000-7000-8000-000000000002", 7).await?;
    let d = hub.desk("desk-l");
    assert_eq!(d["records_lost"], 7, "counted once: {d}");
    assert_eq!(d["incarnations"], 2, "{d}");
    let table = run_ok("hub", &["desks", "--data", path(&hub.data)]);
    assert!(table.contains("7 acknowledged visits lost"), "{table}");
    let body = e2e::http::get(&metrics, "/metrics")?.body;
    assert!(
        body.lines().any(|l| l == "rete_hub_records_lost_total 7"),
        "{body}"
    );
    hub.terminate()?;
    Ok(())
}
