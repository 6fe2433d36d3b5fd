//! `hub migrate --from-sled` (issue 19): a sled hub's whole state moves to
//! PostgreSQL; `hub verify` agrees on both sides, the same data folder then
//! serves from the database, and the desks carry on without a record lost
//! or held twice.

use e2e::{network, path, run};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_sled_hub_moves_to_postgres_without_losing_a_record() -> anyhow::Result<()> {
    if e2e::on_postgres() {
        // The move starts from sled; on PostgreSQL already, nothing to show.
        return Ok(());
    }
    let root = tempfile::tempdir()?;
    let (mut hub, mut agents) = network(root.path(), &["desk-a", "desk-b"]).await?;
    for (i, agent) in agents.iter().enumerate() {
        agent.record_visits(120, i as u64).await?;
    }
    for agent in &agents {
        hub.settle(agent, 120).await?;
    }
    let guidance = hub.publish_guidance(root.path(), "prima-del-trasloco");
    hub.terminate()?;
    let before = hub.verify();

    let database = pgtest::Database::new()?;
    let password = root.path().join("pg-password");
    runtime::secret::write_secret(&password, pgtest::PASSWORD.as_bytes())?;
    // A running hub holds its sled store: stopped above, so this works.
    let out = run(
        "hub",
        &[
            "migrate",
            "--from-sled",
            path(&hub.data),
            "--to",
            &database.url(),
            "--store-password-file",
            path(&password),
            "--json",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(report["moved"]["records"], 240, "{report}");
    assert_eq!(report["sled"]["records"], report["postgres"]["records"]);
    assert_eq!(report["sled"]["counted"], report["postgres"]["counted"]);
    assert_eq!(report["sled"]["per_desk"], report["postgres"]["per_desk"]);
    assert_eq!(report["postgres"]["problems"], serde_json::json!([]));
    // The password never reaches the output.
    assert!(!stdout.contains(pgtest::PASSWORD));
    let config = std::fs::read_to_string(hub.data.join("hub.toml"))?;
    assert!(config.contains(&database.url()), "{config}");
    assert!(!config.contains(pgtest::PASSWORD));

    // A second run refuses: the database is no longer empty.
    let again = run(
        "hub",
        &[
            "migrate",
            "--from-sled",
            path(&hub.data),
            "--to",
            &database.url(),
        ],
    );
    assert!(!again.status.success());

    // The same folder now serves from PostgreSQL; the desks go on.
    hub.start().await?;
    let after = hub.verify();
    assert_eq!(after["records"], before["records"], "{after}");
    for (i, agent) in agents.iter().enumerate() {
        agent.record_visits(30, 100 + i as u64).await?;
    }
    for agent in &agents {
        hub.settle(agent, 150).await?;
    }
    let v = hub.verify();
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!(v["records"], 300, "{v}");
    // The guidance log kept its versions: the next one follows on.
    let next = hub.publish_guidance(root.path(), "dopo-il-trasloco");
    assert_eq!(next, guidance + 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for agent in &mut agents {
        agent.terminate()?;
    }
    hub.terminate()?;
    Ok(())
}
