//! Desk software that times out and asks again must not create a second
//! visit: `RecordVisit` and `desk-agent record` lines take a `request_id`.

use e2e::{eventually, path, run};
use std::time::Duration;

fn visit(minutes: u32) -> proto::Visit {
    proto::Visit {
        name: "Fatima".into(),
        procedure: "permesso.rinnovo.lavoro".into(),
        channel: "walk_in".into(),
        language: "ar".into(),
        outcome: "answered".into(),
        minutes,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_request_id_twice_gives_one_record() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (hub, mut agents) = e2e::network(root.path(), &["desk-r"]).await?;
    let mut agent = agents.remove(0);
    let mut client = agent.client().await?;
    let ask = |minutes, key: &str| proto::RecordVisitRequest {
        visit: Some(visit(minutes)),
        request_id: key.into(),
    };

    let first = client
        .record_visit(ask(12, "pc-3/0001"))
        .await?
        .into_inner();
    let again = client
        .record_visit(ask(12, "pc-3/0001"))
        .await?
        .into_inner();
    assert_eq!(
        (again.id.as_str(), again.seq),
        (first.id.as_str(), first.seq)
    );
    let other = client
        .record_visit(ask(45, "pc-3/0001"))
        .await
        .expect_err("another visit under a used key");
    assert_eq!(other.code(), tonic::Code::AlreadyExists, "{other:?}");
    assert!(other.message().contains("pc-3/0001"), "{other:?}");
    let long = client
        .record_visit(ask(12, &"k".repeat(65)))
        .await
        .expect_err("a key over 64 characters");
    assert_eq!(long.code(), tonic::Code::InvalidArgument, "{long:?}");

    // The key outlives a restart of the agent.
    agent.terminate()?;
    agent.start().await?;
    let mut client = agent.client().await?;
    let after = client
        .record_visit(ask(12, "pc-3/0001"))
        .await?
        .into_inner();
    assert_eq!(after.id, first.id);

    // The CLI takes the key from each line.
    let file = root.path().join("visits.jsonl");
    let line = r#"{"request_id":"pc-3/0002","procedure":"cittadinanza.residenza","channel":"phone","language":"it","outcome":"answered","minutes":5}"#;
    let clash = r#"{"request_id":"pc-3/0002","procedure":"cittadinanza.residenza","channel":"phone","language":"it","outcome":"referred","referral":"questura","minutes":5}"#;
    std::fs::write(&file, format!("{line}\n{line}\n{clash}\n"))?;
    let out = run(
        "desk-agent",
        &["record", "--agent", &agent.url, "--file", path(&file)],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let printed: Vec<serde_json::Value> = String::from_utf8(out.stdout)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(printed.len(), 2);
    assert_eq!(printed[0]["id"], printed[1]["id"]);
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stderr.contains("line 3") && stderr.contains("pc-3/0002"),
        "{stderr}"
    );

    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-r") == Some(2)).then_some(())
    })
    .await?;
    let status = agent.status();
    assert_eq!(status["last_seq"], 2, "{status}");
    Ok(())
}
