//! Retention on the real hub: records of weeks older than `[retention]
//! records_years` are deleted at start, the published figures stay as they
//! were, `hub verify` holds with the pruned records accounted for, and the
//! dashboard's audit log names `retention` as the actor.

use e2e::web::{add_user, enable_dashboard, Web};
use e2e::{eventually, path, run_ok, Agent, Hub};
use std::time::Duration;

const USER: &str = "coordinatore";
const PASSWORD: &str = "una password lunga e sicura";
/// Old enough for a two-year window at any date this test runs.
const OLD_VISIT: &str = "2021-03-10T10:00:00+01:00";

fn set_records_years(hub: &Hub, years: u32) -> anyhow::Result<()> {
    let file = hub.data.join("hub.toml");
    let text = std::fs::read_to_string(&file)?;
    let line = text
        .lines()
        .find(|l| l.starts_with("records_years = "))
        .ok_or_else(|| anyhow::anyhow!("hub.toml has no records_years: {text}"))?
        .to_owned();
    std::fs::write(
        &file,
        text.replace(&line, &format!("records_years = {years}")),
    )?;
    Ok(())
}

/// The outcome table of the year of the old visits and of the current year
/// (no period), side by side.
fn stats(hub: &Hub) -> anyhow::Result<serde_json::Value> {
    let mut both = Vec::new();
    for period in [&["--period", "2021"][..], &[]] {
        let mut args = vec![
            "stats",
            "--data",
            path(&hub.data),
            "--by",
            "outcome",
            "--json",
        ];
        args.extend_from_slice(period);
        both.push(serde_json::from_str::<serde_json::Value>(&run_ok(
            "hub", &args,
        ))?);
    }
    Ok(serde_json::Value::Array(both))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_records_are_pruned_and_the_figures_and_verify_hold() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let dashboard = enable_dashboard(&hub.data)?;
    let out = add_user(&hub.data, USER, PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Kept forever at first, so that the old visits reach the hub.
    set_records_years(&hub, 0)?;
    hub.start().await?;
    let bundle = hub.add_desk("desk-r");
    let mut agent = Agent::enroll(root.path(), "desk-r", &bundle);
    agent.start().await?;

    let mut client = agent.client().await?;
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(14);
    for _ in 0..8 {
        let mut visit = synthetic::visit(&mut rng);
        visit.visited_at = OLD_VISIT.into();
        client
            .record_visit(proto::RecordVisitRequest {
                visit: Some(visit),
                ..Default::default()
            })
            .await
            .map_err(|s| anyhow::anyhow!("RecordVisit failed: {}", s.message()))?;
    }
    agent.record_visits(8, 15).await?;
    hub.settle(&agent, 16).await?;
    let before = stats(&hub)?;
    assert_eq!(before[0]["totals"]["all"], 8, "{before}");
    assert_eq!(before[1]["totals"]["all"], 8, "{before}");
    agent.terminate()?;
    hub.terminate()?;

    // Two years: the first run, at start, deletes the old visits.
    set_records_years(&hub, 2)?;
    hub.start().await?;
    let a = dashboard.clone();
    eventually(Duration::from_secs(20), async || {
        tokio::net::TcpStream::connect(&a).await.ok()
    })
    .await?;
    let mut web = Web::new(&hub.data, &dashboard)?;
    web.login(USER, PASSWORD).await?;
    let audit = eventually(Duration::from_secs(30), async || {
        let page = web.get("/audit").await.ok()?.text();
        page.contains("<td>retention</td><td><code>retention.records</code></td>")
            .then_some(page)
    })
    .await?;
    assert!(audit.contains("8 records of weeks before"), "{audit}");

    assert_eq!(stats(&hub)?, before, "published figures do not change");
    assert_eq!(
        hub.records_of("desk-r"),
        Some(16),
        "the desk's progress still counts what it sent"
    );
    hub.terminate()?;

    let v = hub.verify();
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!((&v["records"], &v["pruned"]), (&8.into(), &8.into()), "{v}");
    assert_eq!(v["counted"], 16, "records + pruned == counted: {v}");
    assert!(
        v["pruned_before"].as_str().is_some_and(|w| w > "2021-W10"),
        "{v}"
    );
    Ok(())
}
