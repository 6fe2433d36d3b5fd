//! Three desks record 10,000 visits each while the hub is SIGKILLed twice and
//! one agent once: the hub ends with exactly 30,000 records, each sequence
//! once, counts equal to a recount, and no personal data on any disk or log.

use e2e::{eventually, files_containing, path, run_ok, Agent, Hub};
use futures::stream::{self, StreamExt};
use std::time::Duration;

const PER_DESK: usize = 10_000;
const CONCURRENCY: usize = 16;

/// A visit whose personal fields carry markers we can search for later.
fn visit(desk: usize, i: usize) -> proto::Visit {
    let mut v = desk_agent_free_visit(i);
    v.name = format!("Nomeprova{desk}x{i}");
    v.surname = format!("Cognomeprova{desk}x{i}");
    v.email = format!("visitatore{desk}x{i}@posta-esempio.it");
    v.phone = format!("+39 333 {desk}{i:06}");
    v.codice_fiscale = "RSSMRA85T10A562S".into();
    v.document_number = format!("YA{desk}{i:06}");
    v.address = format!("Via Prova {i}, 25121 Brescia");
    v
}

fn desk_agent_free_visit(i: usize) -> proto::Visit {
    let procedures = [
        "permesso.rinnovo.lavoro",
        "ricongiungimento.nulla_osta",
        "cittadinanza.residenza",
    ];
    let outcomes = [
        "answered",
        "referred",
        "appointment_booked",
        "documents_checked",
    ];
    proto::Visit {
        birth_date: format!("19{:02}-0{}-1{}", 60 + i % 40, 1 + i % 9, i % 10),
        sex: if i.is_multiple_of(2) { "F" } else { "M" }.into(),
        nationality: ["MA", "UA", "PK", "CN", "AL"][i % 5].into(),
        procedure: procedures[i % 3].into(),
        channel: ["walk_in", "phone", "email", "online"][i % 4].into(),
        language: ["it", "ar", "ur", "zh"][i % 4].into(),
        outcome: outcomes[i % 4].into(),
        referral: if i % 4 == 1 {
            "questura".into()
        } else {
            String::new()
        },
        minutes: (i % 80) as u32,
        ..Default::default()
    }
}

/// Records visits `range` at one agent, several in flight at once; every
/// call must be acknowledged.
async fn record(
    agent_url: String,
    desk: usize,
    range: std::ops::Range<usize>,
) -> anyhow::Result<()> {
    let client = proto::desk_client::DeskClient::connect(agent_url).await?;
    let results: Vec<_> = stream::iter(range)
        .map(|i| {
            let mut c = client.clone();
            async move {
                c.record_visit(proto::RecordVisitRequest {
                    visit: Some(visit(desk, i)),
                    ..Default::default()
                })
                .await
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for r in results {
        r.map_err(|s| anyhow::anyhow!("RecordVisit failed: {}", s.message()))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_visit_reaches_the_hub_exactly_once_across_kills() -> anyhow::Result<()>
{
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let mut agents = Vec::new();
    for d in 0..3 {
        let id = format!("desk-{d}");
        let bundle = hub.add_desk(&id);
        let mut a = Agent::enroll(root.path(), &id, &bundle);
        a.start().await?;
        agents.push(a);
    }

    // Desks 1 and 2 record all their visits while the hub is killed twice.
    let steady: Vec<_> = (1..3)
        .map(|d| tokio::spawn(record(agents[d].url.clone(), d, 0..PER_DESK)))
        .collect();
    // Desk 0 records half, is killed with records still in its outbox and
    // on the wire, restarts and records the rest.
    record(agents[0].url.clone(), 0, 0..PER_DESK / 2).await?;
    agents[0].kill();
    hub.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    hub.start().await?;
    agents[0].start().await?;
    let second_half = tokio::spawn(record(agents[0].url.clone(), 0, PER_DESK / 2..PER_DESK));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    hub.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    hub.start().await?;
    for t in steady {
        t.await??;
    }
    second_half.await??;

    for a in &agents {
        let id = a.desk_id.clone();
        eventually(Duration::from_secs(120), async || {
            (hub.records_of(&id) == Some(PER_DESK as u64)).then_some(())
        })
        .await?;
        // A desk that had sent everything before the last kill may still be
        // in its reconnect backoff (full jitter, up to backoff_max) here.
        let status = eventually(Duration::from_secs(60), async || {
            let s = a.status();
            (s["pending"] == 0 && s["connected"] == true).then_some(s)
        })
        .await?;
        assert_eq!(status["sent"], PER_DESK as u64, "{status}");
        assert_eq!(status["quarantined"], 0, "{status}");
        assert_eq!(status["connected"], true, "{status}");
    }
    let desks = hub.desks();
    for d in desks.as_array().expect("array") {
        assert_eq!(d["last_seq"], PER_DESK as u64, "{d}");
        assert_eq!(d["connected"], true, "{d}");
    }

    // A clean stop drains and flushes; then check the store offline.
    for a in agents.iter_mut() {
        a.terminate()?;
    }
    hub.terminate()?;
    let verify: serde_json::Value = serde_json::from_str(&run_ok(
        "hub",
        &["verify", "--data", path(&hub.data), "--json"],
    ))?;
    assert_eq!(verify["records"], 30_000, "{verify}");
    assert_eq!(verify["counted"], 30_000, "{verify}");
    assert_eq!(verify["ids"], 30_000, "{verify}");
    assert_eq!(verify["problems"], serde_json::json!([]), "{verify}");
    for d in 0..3 {
        assert_eq!(
            verify["per_desk"][format!("desk-{d}")],
            PER_DESK as u64,
            "{verify}"
        );
    }

    // Personal data never reached a disk or a log, on either side.
    let sample = [0usize, 1, 4_999, 5_000, 9_999];
    for d in 0..3 {
        for &i in &sample {
            let v = visit(d, i);
            for needle in [
                &v.name,
                &v.surname,
                &v.email,
                &v.phone,
                &v.document_number,
                &v.address,
                &v.birth_date,
            ] {
                let hits = files_containing(root.path(), needle.as_bytes());
                assert!(hits.is_empty(), "{needle:?} found in {hits:?}");
            }
        }
    }
    let hits = files_containing(root.path(), b"RSSMRA85T10A562S");
    assert!(hits.is_empty(), "codice fiscale found in {hits:?}");
    Ok(())
}
