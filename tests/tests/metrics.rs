//! Both sides' `/metrics`, scraped while desks record: the values move as
//! the visits do, Prometheus's own checker accepts the expositions and the
//! alert rules in `deploy/`, and no series names a desk.

use e2e::{eventually, free_addr, Agent, Hub};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const PROMTOOL: &str = "/usr/bin/promtool";

async fn scrape(addr: &str) -> anyhow::Result<String> {
    let reply = e2e::http::get(addr, "/metrics")?;
    anyhow::ensure!(reply.status == 200, "GET /metrics: {}", reply.status);
    Ok(reply.body)
}

/// The value of one sample (`name` with its labels, as exposed).
fn value(exposition: &str, sample: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        let (name, v) = l.rsplit_once(' ')?;
        (name == sample).then(|| v.parse().ok()).flatten()
    })
}

fn promtool(args: &[&str], stdin: &str) -> std::process::Output {
    assert!(
        std::path::Path::new(PROMTOOL).exists(),
        "promtool is missing: run the tests with `cargo xtask test`, which installs it"
    );
    let mut child = Command::new(PROMTOOL)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write to promtool");
    child.wait_with_output().expect("promtool runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scraped_values_follow_the_visits_and_promtool_accepts_them() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let hub_metrics = free_addr();
    hub.start_with(&["--metrics-addr", &hub_metrics]).await?;
    let bundle = hub.add_desk("desk-m");
    let mut agent = Agent::enroll(root.path(), "desk-m", &bundle);
    let desk_metrics = free_addr();
    agent.start_with(&["--metrics-addr", &desk_metrics]).await?;

    let mut client = agent.client().await?;
    let visit = |minutes| proto::Visit {
        procedure: "permesso.rinnovo.lavoro".into(),
        channel: "walk_in".into(),
        language: "it".into(),
        outcome: "answered".into(),
        minutes,
        ..Default::default()
    };
    for i in 0..20 {
        client
            .record_visit(proto::RecordVisitRequest {
                visit: Some(visit(i)),
                request_id: format!("m-{i}"),
            })
            .await?;
    }
    // A retry of the last one, and a visit the intake refuses.
    client
        .record_visit(proto::RecordVisitRequest {
            visit: Some(visit(19)),
            request_id: "m-19".into(),
        })
        .await?;
    let bad = proto::Visit {
        procedure: "no.such.code".into(),
        ..visit(5)
    };
    assert!(client
        .record_visit(proto::RecordVisitRequest {
            visit: Some(bad),
            ..Default::default()
        })
        .await
        .is_err());

    let desk = eventually(Duration::from_secs(30), async || {
        let m = scrape(&desk_metrics).await.ok()?;
        (value(&m, "rete_desk_records_acked_total") == Some(20.0)
            && value(&m, "rete_desk_connected") == Some(1.0))
        .then_some(m)
    })
    .await?;
    assert_eq!(
        value(&desk, r#"rete_desk_intakes_total{outcome="recorded"}"#),
        Some(20.0),
        "{desk}"
    );
    assert_eq!(
        value(&desk, r#"rete_desk_intakes_total{outcome="repeat"}"#),
        Some(1.0),
        "{desk}"
    );
    assert_eq!(
        value(&desk, r#"rete_desk_intakes_total{outcome="refused"}"#),
        Some(1.0),
        "{desk}"
    );
    assert_eq!(value(&desk, "rete_desk_outbox_depth"), Some(0.0), "{desk}");
    assert_eq!(
        value(&desk, "rete_desk_outbox_oldest_unacked_seconds"),
        Some(0.0),
        "{desk}"
    );

    let hub_m = eventually(Duration::from_secs(30), async || {
        let m = scrape(&hub_metrics).await.ok()?;
        (value(&m, "rete_hub_records_stored_total") == Some(20.0)
            && value(&m, "rete_hub_connected_desks") == Some(1.0))
        .then_some(m)
    })
    .await?;
    assert_eq!(
        value(&hub_m, "rete_hub_records_refused_total"),
        Some(0.0),
        "{hub_m}"
    );
    assert!(
        value(&hub_m, "rete_hub_group_commit_seconds_count").is_some_and(|n| n >= 1.0),
        "{hub_m}"
    );
    assert_eq!(
        value(&hub_m, r#"rete_hub_desks_behind{kind="catalogue"}"#),
        Some(0.0),
        "{hub_m}"
    );

    // With the hub away, the desk's waiting visit shows in depth and age.
    hub.terminate()?;
    client
        .record_visit(proto::RecordVisitRequest {
            visit: Some(visit(7)),
            ..Default::default()
        })
        .await?;
    let waiting = eventually(Duration::from_secs(30), async || {
        let m = scrape(&desk_metrics).await.ok()?;
        (value(&m, "rete_desk_outbox_depth") == Some(1.0)
            && value(&m, "rete_desk_outbox_oldest_unacked_seconds").is_some_and(|s| s >= 1.0))
        .then_some(m)
    })
    .await?;
    assert_eq!(
        value(&waiting, "rete_desk_connected"),
        Some(0.0),
        "{waiting}"
    );

    for (side, exposition) in [("desk", &desk), ("hub", &hub_m)] {
        assert!(
            !exposition.contains("desk-m"),
            "{side} names a desk: {exposition}"
        );
        let out = promtool(&["check", "metrics"], exposition);
        assert!(
            out.status.success(),
            "promtool check metrics ({side}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/alerts.yml");
    let out = promtool(&["check", "rules", rules], "");
    assert!(
        out.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // A metrics address off loopback is refused unless asked for.
    agent.terminate()?;
    let refused = e2e::run(
        "desk-agent",
        &[
            "serve",
            "--data",
            e2e::path(&agent.data),
            "--metrics-addr",
            "0.0.0.0:0",
        ],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--metrics-public"), "{stderr}");
    Ok(())
}
