//! A desk that comes back with a large backlog while the hub has a large push
//! for it: both flow at once. Each side writes to the stream only beside its
//! read of the other's messages, so neither can wait on a full send while
//! the other waits on it.

use e2e::{eventually, path, run_ok, Agent, Hub};
use futures::stream::{self, StreamExt};
use std::time::Duration;

const BACKLOG: usize = 10_000;
const PUSHED: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_and_a_large_push_both_arrive() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let bundle = hub.add_desk("desk-big");
    // About 900 KiB of guidance, more than both directions' HTTP/2 windows.
    let body = "Orari e documenti aggiornati per lo sportello. ".repeat(160);
    for i in 0..PUSHED {
        let file = root.path().join(format!("g{i}.toml"));
        std::fs::write(
            &file,
            format!("id = \"avviso-{i}\"\ntitle = \"Avviso {i}\"\nbody = \"{body}\"\n"),
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
    }

    // The desk records its backlog while the hub is away.
    let mut agent = Agent::enroll(root.path(), "desk-big", &bundle);
    agent.start().await?;
    let client = agent.client().await?;
    let results: Vec<_> = stream::iter(0..BACKLOG)
        .map(|i| {
            let mut c = client.clone();
            async move {
                c.record_visit(proto::RecordVisitRequest {
                    visit: Some(proto::Visit {
                        procedure: "permesso.rinnovo.lavoro".into(),
                        channel: "walk_in".into(),
                        language: "it".into(),
                        outcome: "answered".into(),
                        minutes: (i % 90) as u32,
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        r?;
    }

    hub.start().await?;
    eventually(Duration::from_secs(120), async || {
        (hub.records_of("desk-big") == Some(BACKLOG as u64)).then_some(())
    })
    .await?;
    let held = eventually(Duration::from_secs(60), async || {
        let out = run_ok("desk-agent", &["guidance", "--agent", &agent.url, "--json"]);
        let items: serde_json::Value = serde_json::from_str(&out).ok()?;
        let n = items.as_array()?.len();
        (n == PUSHED).then_some(n)
    })
    .await?;
    assert_eq!(held, PUSHED);
    let status = agent.status();
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(status["sent"], BACKLOG as u64, "{status}");
    Ok(())
}
