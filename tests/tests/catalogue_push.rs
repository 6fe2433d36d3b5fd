//! The procedure catalogue is a versioned log at the hub: the seed is
//! version 1 on the first start and reaches every desk; a coordinator's
//! change (a procedure added, one retired) is a new version, pushed, and
//! used at intake by the desk (and at the hub's re-check); a bad change is
//! refused with the reason. `hub rollout --json` has exactly the issue's keys.

use e2e::{eventually, path, run, run_ok, Agent, Hub};
use proto::{ListProceduresRequest, RecordVisitRequest, Visit};
use std::collections::BTreeSet;
use std::time::Duration;

const NEW_CODE: &str = "permesso.rinnovo.studio";
const RETIRED_CODE: &str = "casa.incentivi_affitto";

fn visit(procedure: &str) -> RecordVisitRequest {
    RecordVisitRequest {
        visit: Some(Visit {
            name: "Amina".into(),
            surname: "Diallo".into(),
            birth_date: "1998-03-02".into(),
            sex: "F".into(),
            nationality: "SN".into(),
            procedure: procedure.into(),
            channel: "walk_in".into(),
            language: "fr".into(),
            outcome: "answered".into(),
            minutes: 12,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_change_reaches_the_desk_and_is_used_at_intake() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;
    let mut client = agent.client().await?;

    // The seed is version 1 and reaches the desk.
    let seeded = eventually(Duration::from_secs(10), async || {
        let mut c = client.clone();
        let r = c
            .list_procedures(ListProceduresRequest::default())
            .await
            .ok()?
            .into_inner();
        (r.version == 1).then_some(r)
    })
    .await?;
    assert!(seeded.procedures.len() >= 30, "{}", seeded.procedures.len());
    assert!(!seeded.procedures.iter().any(|p| p.code == NEW_CODE));
    let refused = client
        .record_visit(visit(NEW_CODE))
        .await
        .expect_err("not in the catalogue yet");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    let change = root.path().join("catalogue.toml");
    std::fs::write(
        &change,
        format!(
            r#"
[[procedure]]
code = "{NEW_CODE}"
name_it = "Rinnovo permesso per studio"
name_en = "Study permit renewal"
office = "Poste (kit) → Questura"

[[procedure]]
code = "{RETIRED_CODE}"
retired = true
"#
        ),
    )?;
    let v: u64 = run_ok(
        "hub",
        &["catalogue", "put", path(&change), "--data", path(&hub.data)],
    )
    .trim()
    .parse()?;
    assert_eq!(v, 2);

    let pushed = eventually(Duration::from_secs(10), async || {
        let mut c = client.clone();
        let r = c
            .list_procedures(ListProceduresRequest::default())
            .await
            .ok()?
            .into_inner();
        (r.version == 2).then_some(r)
    })
    .await?;
    let codes: BTreeSet<&str> = pushed.procedures.iter().map(|p| p.code.as_str()).collect();
    assert!(codes.contains(NEW_CODE));
    assert!(
        !codes.contains(RETIRED_CODE),
        "a retired code is not offered"
    );
    assert_eq!(codes.len(), seeded.procedures.len());

    // Intake now takes the new code and refuses the retired one; the hub's
    // re-check accepts the new code too.
    let rec = client.record_visit(visit(NEW_CODE)).await?.into_inner();
    assert_eq!(rec.record.unwrap_or_default().procedure, NEW_CODE);
    let refused = client
        .record_visit(visit(RETIRED_CODE))
        .await
        .expect_err("retired");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    eventually(Duration::from_secs(10), async || {
        (hub.records_of("desk-a") == Some(1)).then_some(())
    })
    .await?;
    assert_eq!(agent.status()["quarantined"], 0, "{}", agent.status());

    // Rollout: exactly the issue's keys, the desk on catalogue version 2.
    let rollout = eventually(Duration::from_secs(10), async || {
        let r: serde_json::Value = serde_json::from_str(&run_ok(
            "hub",
            &["rollout", "--data", path(&hub.data), "--json"],
        ))
        .ok()?;
        (r["desks"][0]["catalogue_version"] == 2).then_some(r)
    })
    .await?;
    let top: BTreeSet<String> = [
        "guidance_version",
        "template_version",
        "catalogue_version",
        "desks",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&rollout), top, "{rollout}");
    let desk: BTreeSet<String> = [
        "desk_id",
        "connected",
        "guidance_version",
        "template_version",
        "catalogue_version",
        "last_rejection",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&rollout["desks"][0]), desk, "{rollout}");
    assert_eq!(rollout["catalogue_version"], 2);
    assert_eq!(rollout["desks"][0]["connected"], true);

    // A bad change is refused with the reason, and nothing moves.
    let bad = root.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[procedure]]\ncode = \"Permesso Nuovo\"\nname_it = \"x\"\nname_en = \"x\"\noffice = \"x\"\n",
    )?;
    let out = run(
        "hub",
        &["catalogue", "put", path(&bad), "--data", path(&hub.data)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("code"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = root.path().join("again.toml");
    std::fs::write(
        &again,
        format!("[[procedure]]\ncode = \"{RETIRED_CODE}\"\nretired = true\n"),
    )?;
    let out = run(
        "hub",
        &["catalogue", "put", path(&again), "--data", path(&hub.data)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already retired"));

    // Offline, the desk keeps the pushed catalogue across a restart.
    hub.terminate()?;
    agent.terminate()?;
    agent.start().await?;
    let mut client = agent.client().await?;
    let offline = client
        .list_procedures(ListProceduresRequest {
            query: "rinnovo studio".into(),
        })
        .await?
        .into_inner();
    assert_eq!(offline.version, 2);
    assert_eq!(offline.procedures.len(), 1);
    assert_eq!(offline.procedures[0].code, NEW_CODE);
    agent.terminate()?;
    Ok(())
}
