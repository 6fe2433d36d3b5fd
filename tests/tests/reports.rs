//! "This is wrong or outdated": an operator's report from the operator
//! page reaches the hub scrubbed (`hub reports --json`, the dashboard's
//! inbox), is closed as fixed or declined, and the desk shows where it
//! stands; a report queued while the hub is away survives a restart of the
//! desk and is stored once; bad input is refused with the field named.

use e2e::web::{add_user, enable_dashboard, Web};
use e2e::{eventually, files_containing, http, path, run, run_ok, Agent, Hub};
use proto::{ListReportsRequest, ReportItemRequest};
use std::time::Duration;

const USER: &str = "coordinatore";
const PASSWORD: &str = "una password lunga e sicura";
const CODE: &str = "permesso.rinnovo.lavoro";
const PHONE: &str = "333 123 4567";
const COMMENT: &str =
    "La sig.ra Amina Diallo dice che il numero 333 123 4567 dell'ufficio non risponde più";

fn reports(hub: &Hub) -> Vec<serde_json::Value> {
    let out = run_ok("hub", &["reports", "--data", path(&hub.data), "--json"]);
    serde_json::from_str::<serde_json::Value>(&out)
        .expect("reports JSON")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn find(hub: &Hub, id: &str) -> Option<serde_json::Value> {
    reports(hub).into_iter().find(|r| r["id"] == id)
}

/// A hub with its dashboard and one account, and one desk holding the seed
/// cards.
async fn network(root: &std::path::Path) -> anyhow::Result<(Hub, Agent, String)> {
    let mut hub = Hub::init(root);
    let addr = enable_dashboard(&hub.data)?;
    let out = add_user(&hub.data, USER, PASSWORD);
    anyhow::ensure!(out.status.success(), "user add failed");
    hub.start().await?;
    let bundle = hub.add_desk("sportello-centro");
    let mut agent = Agent::enroll(root, "sportello-centro", &bundle);
    agent.start().await?;
    eventually(Duration::from_secs(20), async || {
        let out = run(
            "desk-agent",
            &["card", CODE, "it", "--agent", &agent.url, "--json"],
        );
        out.status.success().then_some(())
    })
    .await?;
    let a = addr.clone();
    eventually(Duration::from_secs(20), async || {
        tokio::net::TcpStream::connect(&a).await.ok()
    })
    .await?;
    Ok((hub, agent, addr))
}

/// The desk's own view of one report (`Desk.ListReports`).
async fn desk_state(agent: &Agent, id: &str) -> anyhow::Result<Option<proto::DeskReportState>> {
    let mut c = agent.client().await?;
    let list = c.list_reports(ListReportsRequest {}).await?.into_inner();
    Ok(list
        .reports
        .into_iter()
        .find(|s| s.report.as_ref().is_some_and(|r| r.report_id == id)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_from_the_operator_page_arrives_scrubbed_is_fixed_and_the_desk_sees_it(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, mut agent, addr) = network(root.path()).await?;

    // The card page offers the form; it posts, so the comment is in no URL.
    let card = http::get(&agent.http, &format!("/scheda?procedure={CODE}"))?;
    assert_eq!(card.status, 200);
    assert!(
        card.body.contains("Segnala un problema") && card.body.contains(r#"action="/segnala""#),
        "the card page offers the report form"
    );
    let back = format!("/scheda?procedure={CODE}");
    let sent = http::post_form(
        &agent.http,
        "/segnala",
        &[
            ("kind", "card"),
            ("item_id", CODE),
            ("language", "it"),
            ("reason", "outdated"),
            ("comment", COMMENT),
            ("back", &back),
        ],
    )?;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(
        sent.body.contains("ripulito dai dati personali"),
        "{}",
        sent.body
    );
    assert!(sent.body.contains("[TELEFONO]") && sent.body.contains("[NOME]"));
    assert!(!sent.body.contains(PHONE) && !sent.body.contains("Diallo"));

    // At the hub, once, scrubbed, routed to the card's owner.
    let r = eventually(Duration::from_secs(15), async || {
        reports(&hub).into_iter().next()
    })
    .await?;
    let id = r["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(r["desk_id"], "sportello-centro", "{r}");
    assert_eq!(r["kind"], "card");
    assert_eq!(r["item_id"], CODE);
    assert_eq!(r["code"], CODE);
    assert_eq!(r["reason"], "outdated");
    assert_eq!(r["state"], "open");
    assert!(r["item_version"].as_u64().unwrap_or_default() > 0, "{r}");
    let owner = r["owner"].as_str().unwrap_or_default();
    assert!(!owner.is_empty(), "{r}");
    let comment = r["comment"].as_str().unwrap_or_default();
    assert!(
        comment.contains("[TELEFONO]")
            && comment.contains("[NOME]")
            && !comment.contains("4567")
            && !comment.contains("Diallo")
            && !comment.contains("Amina"),
        "{comment}"
    );

    // The dashboard's inbox shows it under its owner, with the version.
    let mut web = Web::new(&hub.data, &addr)?;
    assert_eq!(web.login(USER, PASSWORD).await?.status, 303);
    let inbox = web.get("/reports").await?;
    assert_eq!(inbox.status, 200);
    let text = inbox.text();
    assert!(text.contains("Segnalazioni"), "{text}");
    assert!(text.contains(owner) && text.contains(&format!("/reports/{id}/fix")));
    assert!(text.contains(&format!("v{}", r["item_version"])));
    assert!(text.contains("[TELEFONO]") && !text.contains(PHONE));
    assert!(
        text.contains(r#"href="/reports""#),
        "linked from the navigation"
    );

    // Closed from the CLI as fixed; the errors are plain and exit with 2.
    let bad = run(
        "hub",
        &[
            "report",
            "fix",
            &id,
            "--version",
            "0",
            "--data",
            path(&hub.data),
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    let unknown = run(
        "hub",
        &[
            "report",
            "fix",
            "0190e0b2-0000-7000-8000-000000000000",
            "--version",
            "3",
            "--data",
            path(&hub.data),
        ],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no report"));
    let no_note = run(
        "hub",
        &["report", "decline", &id, "--data", path(&hub.data)],
    );
    assert_eq!(no_note.status.code(), Some(2), "decline needs --note");
    let empty_note = run(
        "hub",
        &[
            "report",
            "decline",
            &id,
            "--note",
            " ",
            "--data",
            path(&hub.data),
        ],
    );
    assert_eq!(empty_note.status.code(), Some(2));
    let fixed = run_ok(
        "hub",
        &[
            "report",
            "fix",
            &id,
            "--version",
            "99",
            "--note",
            "orari aggiornati",
            "--data",
            path(&hub.data),
        ],
    );
    assert!(fixed.contains("fixed"), "{fixed}");
    let again = run(
        "hub",
        &[
            "report",
            "fix",
            &id,
            "--version",
            "100",
            "--data",
            path(&hub.data),
        ],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already fixed"));
    let held = find(&hub, &id).unwrap_or_default();
    assert_eq!(
        (held["state"].as_str(), held["fixed_version"].as_u64()),
        (Some("fixed"), Some(99))
    );

    // The desk hears of it on its stream: the API and the page say so.
    let state = eventually(Duration::from_secs(15), async || {
        desk_state(&agent, &id)
            .await
            .ok()
            .flatten()
            .filter(|s| s.status.as_ref().is_some_and(|st| st.state == "fixed"))
    })
    .await?;
    assert!(state.sent);
    assert_eq!(state.status.map(|s| s.fixed_version), Some(99));
    let page = http::get(&agent.http, "/segnalazioni")?;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("corretta nella versione 99"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"href="/segnalazioni""#));

    // A second report, declined on the dashboard: a reason is required.
    let mut c = agent.client().await?;
    let second = c
        .report_item(ReportItemRequest {
            kind: "procedure".into(),
            item_id: CODE.into(),
            language: "it".into(),
            reason: "unclear".into(),
            comment: "Il nome della procedura non si capisce".into(),
        })
        .await?
        .into_inner()
        .report
        .unwrap_or_default();
    eventually(Duration::from_secs(15), async || {
        find(&hub, &second.report_id)
    })
    .await?;
    let inbox = web.get("/reports").await?;
    let token = inbox.csrf().unwrap_or_default();
    let decline = format!("/reports/{}/decline", second.report_id);
    let refused = web
        .post_form(&decline, &[("csrf_token", &token), ("note", "")])
        .await?;
    assert_eq!(refused.status, 400, "{}", refused.text());
    let no_token = web.post_form(&decline, &[("note", "è già chiaro")]).await?;
    assert_eq!(no_token.status, 403);
    let declined = web
        .post_form(
            &decline,
            &[("csrf_token", &token), ("note", "è già chiaro")],
        )
        .await?;
    assert_eq!(declined.status, 303, "{}", declined.text());
    eventually(Duration::from_secs(15), async || {
        let page = http::get(&agent.http, "/segnalazioni").ok()?;
        page.body.contains("respinta: è già chiaro").then_some(())
    })
    .await?;

    // The raw phone number is nowhere on either side's disk.
    agent.terminate()?;
    hub.terminate()?;
    for dir in [&hub.data, &agent.data] {
        let hits = files_containing(dir, PHONE.as_bytes());
        assert!(hits.is_empty(), "raw phone number in {hits:?}");
        let hits = files_containing(dir, b"Diallo");
        assert!(hits.is_empty(), "raw name in {hits:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_queued_while_the_hub_is_away_is_stored_once_and_bad_input_is_refused(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, mut agent, _addr) = network(root.path()).await?;
    let mut c = agent.client().await?;
    let ask = |kind: &str, reason: &str| ReportItemRequest {
        kind: kind.into(),
        item_id: CODE.into(),
        language: "it".into(),
        reason: reason.into(),
        comment: "Manca il nuovo modulo".into(),
    };

    // Refusals name the field, in words.
    let e = c
        .report_item(ask("poster", "wrong"))
        .await
        .expect_err("kind");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("`kind`"), "{}", e.message());
    let e = c
        .report_item(ask("card", "ugly"))
        .await
        .expect_err("reason");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("`reason`"), "{}", e.message());
    let mut missing = ask("card", "wrong");
    missing.item_id = "no.such.procedure".into();
    let e = c.report_item(missing).await.expect_err("not held");
    assert_eq!(e.code(), tonic::Code::NotFound);
    // The page keeps what the operator typed when a field is wrong.
    let page = http::post_form(
        &agent.http,
        "/segnala",
        &[
            ("kind", "card"),
            ("item_id", CODE),
            ("language", "it"),
            ("reason", ""),
            ("comment", "Testo da non perdere"),
            ("back", "/scheda"),
        ],
    )?;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("Testo da non perdere"), "{}", page.body);

    // Queued while the hub is away, across a restart of the desk.
    hub.terminate()?;
    let queued = c
        .report_item(ask("card", "wrong"))
        .await?
        .into_inner()
        .report
        .unwrap_or_default();
    let id = queued.report_id.clone();
    let waiting = desk_state(&agent, &id).await?.expect("held at the desk");
    assert!(!waiting.sent);
    agent.terminate()?;
    agent.start().await?;
    hub.start().await?;
    eventually(Duration::from_secs(20), async || find(&hub, &id)).await?;
    eventually(Duration::from_secs(15), async || {
        desk_state(&agent, &id)
            .await
            .ok()
            .flatten()
            .filter(|s| s.sent)
    })
    .await?;
    // Another restart sends nothing new; the hub holds it once.
    agent.terminate()?;
    agent.start().await?;
    eventually(Duration::from_secs(15), async || {
        (agent.status()["connected"] == true).then_some(())
    })
    .await?;
    let held: Vec<_> = reports(&hub)
        .into_iter()
        .filter(|r| r["id"] == id.as_str())
        .collect();
    assert_eq!(held.len(), 1, "a report is stored once");
    assert_eq!(reports(&hub).len(), 1);

    // Decided on the stopped hub's store: the desk learns it after Welcome.
    hub.terminate()?;
    let declined = run_ok(
        "hub",
        &[
            "report",
            "decline",
            &id,
            "--note",
            "il modulo è già nella scheda",
            "--data",
            path(&hub.data),
        ],
    );
    assert!(declined.contains("declined"), "{declined}");
    assert_eq!(
        find(&hub, &id).unwrap_or_default()["state"],
        "declined",
        "listed from the stopped store too"
    );
    hub.start().await?;
    eventually(Duration::from_secs(20), async || {
        let page = http::get(&agent.http, "/segnalazioni").ok()?;
        page.body
            .contains("respinta: il modulo è già nella scheda")
            .then_some(())
    })
    .await?;
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}
