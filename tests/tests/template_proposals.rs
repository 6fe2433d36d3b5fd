//! A desk proposes its own wording: the proposal waits in the desk's queue
//! while the hub is away, reaches the hub once, is listed with a similarity
//! and a word diff (invisible direction controls written out), and the
//! coordinator accepts it (a new canonical version that reaches every desk
//! and makes translations stale) or declines it.

use e2e::{eventually, path, run, run_ok, Agent, Hub};
use proto::GetTemplateRequest;
use std::time::Duration;

const KEY: &str = "ricongiungimento.nulla_osta/documenti";
const IT: &str = "Per il nulla osta servono il passaporto, il certificato di idoneità alloggiativa e {{reddito}} di reddito.";
const EN: &str =
    "For the clearance you need the passport, the housing certificate and {{reddito}} of income.";
const PROPOSED: &str = "Per il nulla osta servono il passaporto valido, il certificato di idoneità alloggiativa del Comune e {{reddito}} di reddito.";

fn put(hub: &Hub, root: &std::path::Path, lang: &str, body: &str) {
    let file = root.join(format!("{lang}.txt"));
    std::fs::write(&file, body).expect("write body");
    run_ok(
        "hub",
        &[
            "template",
            "put",
            KEY,
            lang,
            path(&file),
            "--data",
            path(&hub.data),
        ],
    );
}

fn propose(agent: &Agent, root: &std::path::Path, name: &str, body: &str) -> String {
    let file = root.join(name);
    std::fs::write(&file, body).expect("write proposal");
    run_ok(
        "desk-agent",
        &["propose", KEY, "it", path(&file), "--agent", &agent.url],
    )
    .trim()
    .to_string()
}

fn proposals(hub: &Hub) -> Vec<serde_json::Value> {
    let out = run_ok("hub", &["proposals", "--data", path(&hub.data), "--json"]);
    serde_json::from_str::<serde_json::Value>(&out)
        .expect("proposals JSON")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn find(hub: &Hub, id: &str) -> Option<serde_json::Value> {
    proposals(hub).into_iter().find(|p| p["id"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_proposal_is_scored_diffed_and_accepting_it_reaches_every_desk() -> anyhow::Result<()>
{
    let root = tempfile::tempdir()?;
    let (mut hub, mut agents) = e2e::network(root.path(), &["desk-a", "desk-b"]).await?;
    put(&hub, root.path(), "it", IT);
    put(&hub, root.path(), "en", EN);
    for a in &agents {
        let client = a.client().await?;
        eventually(Duration::from_secs(10), async || {
            let mut c = client.clone();
            c.get_template(GetTemplateRequest {
                key: KEY.into(),
                language: "en".into(),
            })
            .await
            .ok()
        })
        .await?;
    }

    // Desk A proposes a better Italian text: stored once, with a score and a diff.
    let id = propose(&agents[0], root.path(), "a.txt", PROPOSED);
    let p = eventually(Duration::from_secs(10), async || find(&hub, &id)).await?;
    assert_eq!(p["desk_id"], "desk-a", "{p}");
    assert_eq!(p["state"], "open");
    assert_eq!(p["language"], "it");
    let similarity = p["similarity"].as_f64().unwrap_or_default();
    assert!(similarity > 0.7 && similarity < 1.0, "{p}");
    let diff = p["diff"].as_str().unwrap_or_default();
    assert!(
        diff.contains("[-passaporto,-] {+passaporto valido,+}") && diff.contains("{+del Comune+}"),
        "{diff}"
    );
    // The queue at the desk is emptied by the hub's ack: a restart of the
    // desk sends nothing again.
    agents[0].terminate()?;
    agents[0].start().await?;
    eventually(Duration::from_secs(10), async || {
        (agents[0].status()["connected"] == true).then_some(())
    })
    .await?;
    assert_eq!(
        proposals(&hub).iter().filter(|p| p["id"] == id).count(),
        1,
        "a proposal is stored once"
    );

    // A proposal made while the hub is down waits in the desk's queue, across
    // a restart of the desk, and arrives when the hub is back.
    hub.terminate()?;
    let hostile = "Servono il passaporto e \u{202E}{{reddito}} di reddito.";
    let queued = propose(&agents[1], root.path(), "b.txt", hostile);
    agents[1].terminate()?;
    agents[1].start().await?;
    hub.start().await?;
    let q = eventually(Duration::from_secs(15), async || find(&hub, &queued)).await?;
    assert_eq!(q["desk_id"], "desk-b");
    let shown = q["body"].as_str().unwrap_or_default();
    assert!(
        shown.contains("<U+202E>") && !shown.contains('\u{202E}'),
        "direction controls are shown, not obeyed: {shown}"
    );
    let out = run(
        "hub",
        &["proposal", "accept", &queued, "--data", path(&hub.data)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("U+202E"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let declined = run_ok(
        "hub",
        &["proposal", "decline", &queued, "--data", path(&hub.data)],
    );
    assert!(declined.contains("declined"), "{declined}");
    assert_eq!(find(&hub, &queued).unwrap_or_default()["state"], "declined");

    // Accepting desk A's proposal makes it canonical and pushes it everywhere.
    let v: u64 = run_ok(
        "hub",
        &["proposal", "accept", &id, "--data", path(&hub.data)],
    )
    .trim()
    .parse()?;
    for a in &agents {
        let client = a.client().await?;
        let got = eventually(Duration::from_secs(15), async || {
            let mut c = client.clone();
            let t = c
                .get_template(GetTemplateRequest {
                    key: KEY.into(),
                    language: "it".into(),
                })
                .await
                .ok()?
                .into_inner();
            (t.version == v).then_some(t)
        })
        .await?;
        assert_eq!(got.body, PROPOSED);
    }
    let accepted = find(&hub, &id).unwrap_or_default();
    assert_eq!(accepted["state"], "accepted", "{accepted}");
    assert_eq!(accepted["template_version"], v);
    let again = run(
        "hub",
        &["proposal", "accept", &id, "--data", path(&hub.data)],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already accepted"));

    // The English text is now stale, with the reference's diff to show.
    let listing: serde_json::Value = serde_json::from_str(&run_ok(
        "hub",
        &["templates", "--data", path(&hub.data), "--json"],
    ))?;
    let en = listing["templates"][0]["languages"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["language"] == "en"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(en["state"], "stale", "{listing}");
    assert!(
        en["reference_diff"]
            .as_str()
            .unwrap_or_default()
            .contains("{+del Comune+}"),
        "{listing}"
    );
    // Rollout per template: both desks run the accepted version.
    eventually(Duration::from_secs(10), async || {
        let l: serde_json::Value = serde_json::from_str(&run_ok(
            "hub",
            &["templates", "--data", path(&hub.data), "--json"],
        ))
        .ok()?;
        (l["templates"][0]["rollout"]["current"] == serde_json::json!(["desk-a", "desk-b"]))
            .then_some(())
    })
    .await?;
    for a in &mut agents {
        a.terminate()?;
    }
    hub.terminate()?;
    Ok(())
}
