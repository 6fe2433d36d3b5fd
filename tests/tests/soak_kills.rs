//! A soak: 100 random SIGKILLs of the hub and of three desk agents while the
//! desks record, each visit retried under its `request_id` until the desk
//! says it is recorded, as desk software would. Then every acknowledged
//! visit is at the hub exactly once, sequences are dense, and `hub verify`
//! is clean. Seeded: the seed is printed, and `SOAK_SEED=n` replays a run.

use e2e::{eventually, Agent, Hub};
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const DESKS: usize = 3;
const KILLS: usize = 100;

/// Records visits until `stop`, each retried under its key until recorded;
/// how many the desk acknowledged.
async fn record_until(url: String, desk: usize, stop: Arc<AtomicBool>) -> u64 {
    let mut recorded = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("soak-{desk}-{recorded}");
        loop {
            let answer = async {
                let mut c = proto::desk_client::DeskClient::connect(url.clone()).await?;
                c.record_visit(proto::RecordVisitRequest {
                    visit: Some(proto::Visit {
                        procedure: "permesso.rinnovo.lavoro".into(),
                        channel: "walk_in".into(),
                        language: "it".into(),
                        outcome: "answered".into(),
                        minutes: (recorded % 90) as u32,
                        ..Default::default()
                    }),
                    request_id: key.clone(),
                })
                .await?;
                anyhow::Ok(())
            };
            match tokio::time::timeout(Duration::from_secs(5), answer).await {
                Ok(Ok(())) => break,
                // The agent is down or was killed mid-call: ask again.
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        recorded += 1;
    }
    recorded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_visit_is_held_once_after_a_hundred_kills() -> anyhow::Result<()> {
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("soak seed: {seed} (replay with SOAK_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let mut agents = Vec::new();
    for d in 0..DESKS {
        let id = format!("soak-{d}");
        let bundle = hub.add_desk(&id);
        let mut a = Agent::enroll(root.path(), &id, &bundle);
        a.start().await?;
        agents.push(a);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let recorders: Vec<_> = agents
        .iter()
        .enumerate()
        .map(|(d, a)| tokio::spawn(record_until(a.url.clone(), d, Arc::clone(&stop))))
        .collect();

    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..250))).await;
        match rng.random_range(0..=DESKS) {
            0 => {
                hub.kill();
                hub.start().await?;
            }
            d => {
                agents[d - 1].kill();
                agents[d - 1].start().await?;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for r in recorders {
        acknowledged.push(r.await?);
    }
    eprintln!("acknowledged per desk: {acknowledged:?}");

    for (d, a) in agents.iter().enumerate() {
        let id = a.desk_id.clone();
        let want = acknowledged[d];
        assert!(want > 0, "desk {d} recorded nothing (seed {seed})");
        eventually(Duration::from_secs(120), async || {
            (hub.records_of(&id) == Some(want)).then_some(())
        })
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{id}: {e}; hub holds {:?}, want {want} (seed {seed})",
                hub.records_of(&id)
            )
        })?;
    }
    let desks = hub.desks();
    for (d, row) in desks.as_array().expect("desks").iter().enumerate() {
        // Dense: one incarnation, numbered 1..=n with nothing skipped.
        assert_eq!(row["incarnations"], 1, "{row} (seed {seed})");
        assert_eq!(row["last_seq"], row["records"], "{row} (seed {seed})");
        let _ = d;
    }
    for a in agents.iter_mut() {
        a.terminate()?;
    }
    hub.terminate()?;
    let verify = hub.verify();
    let total: u64 = acknowledged.iter().sum();
    assert_eq!(verify["records"], total, "{verify} (seed {seed})");
    assert_eq!(verify["ids"], total, "{verify} (seed {seed})");
    assert_eq!(
        verify["problems"],
        serde_json::json!([]),
        "{verify} (seed {seed})"
    );
    Ok(())
}
