//! The whole network through its two pages, each in its own headless
//! Chromium: the coordinator publishes guidance on the dashboard and the
//! operator's page shows it within 2 s without a reload; the operator
//! records a visit and the dashboard's count moves; the operator proposes a
//! wording and the coordinator accepts it beside the canonical text.

use e2e::browser::{Browser, WAIT};
use e2e::web::{add_user, enable_dashboard};
use e2e::{eventually, path, run_ok, Agent, Hub};
use std::time::{Duration, Instant};

const USER: &str = "coordinatore";
const PASSWORD: &str = "una password lunga e sicura";
const KEY: &str = "permesso.rinnovo.lavoro/documenti";

async fn visits_this_week(b: &Browser, base: &str) -> anyhow::Result<u64> {
    b.goto(&format!("{base}/")).await?;
    let shown = b.text("#visits-week").await?;
    shown
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("the week's visits read `{shown}`"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_and_operator_meet_through_the_hub() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let addr = enable_dashboard(&hub.data)?;
    let out = add_user(&hub.data, USER, PASSWORD);
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let it = root.path().join("it.txt");
    std::fs::write(
        &it,
        "Gentile {{nome}}, per il rinnovo porti {{documento}} e la ricevuta delle Poste.",
    )?;
    run_ok(
        "hub",
        &[
            "template",
            "put",
            KEY,
            "it",
            path(&it),
            "--data",
            path(&hub.data),
        ],
    );
    hub.start().await?;
    let bundle = hub.add_desk("sportello-centro");
    let mut agent = Agent::enroll(root.path(), "sportello-centro", &bundle);
    agent.start().await?;
    eventually(Duration::from_secs(20), async || {
        (agent.status()["versions"]["template"].as_u64() >= Some(1)).then_some(())
    })
    .await?;

    let base = format!("https://{addr}");
    let coordinator = Browser::start().await?;
    let operator = Browser::start().await?;
    coordinator.goto(&format!("{base}/login")).await?;
    coordinator.fill("username", USER).await?;
    coordinator.fill("password", PASSWORD).await?;
    coordinator.click("button.primary").await?;
    coordinator.wait_for_text("visite registrate", WAIT).await?;

    // Guidance: dashboard form → hub → desk → operator page, no reload.
    operator.goto(&agent.page("/indicazioni")).await?;
    operator
        .client()
        .execute("window.__sameDocument = true;", vec![])
        .await?;
    coordinator.goto(&format!("{base}/guidance")).await?;
    coordinator
        .fill("g-title", "Questura: ricevuta obbligatoria")
        .await?;
    coordinator
        .fill(
            "g-body",
            "Da oggi senza la ricevuta delle Poste il rinnovo non si apre.",
        )
        .await?;
    coordinator.choose("g-severity", "urgent").await?;
    coordinator
        .choose("g-procedures", "permesso.rinnovo.lavoro")
        .await?;
    coordinator.click_text("Pubblica").await?;
    let published = Instant::now();
    coordinator
        .wait_for_text("Indicazione pubblicata.", WAIT)
        .await?;
    operator
        .wait_for_text("Questura: ricevuta obbligatoria", Duration::from_secs(2))
        .await?;
    let took = published.elapsed();
    let same = operator
        .client()
        .execute("return window.__sameDocument === true;", vec![])
        .await?;
    assert_eq!(
        same,
        serde_json::Value::Bool(true),
        "the operator page reloaded"
    );
    eprintln!("dashboard publish → operator page: {took:?}");

    // A visit: operator form → desk → hub → the dashboard's count.
    let before = visits_this_week(&coordinator, &base).await?;
    operator.goto(&agent.page("/")).await?;
    operator
        .fill(
            "Procedura",
            "Rinnovo permesso per lavoro (permesso.rinnovo.lavoro)",
        )
        .await?;
    operator.fill("Durata (minuti)", "20").await?;
    operator.fill("Cittadinanza", "Marocco").await?;
    operator.fill("Età (anni)", "33").await?;
    operator.click("#save").await?;
    operator.wait_for_text("Visita registrata", WAIT).await?;
    let moved = eventually(Duration::from_secs(20), async || {
        let now = visits_this_week(&coordinator, &base).await.ok()?;
        (now > before).then_some(now)
    })
    .await?;
    assert_eq!(moved, before + 1, "one visit recorded, one counted");

    // A proposal: operator answer page → hub → dashboard, accepted there.
    let answer = format!("/risposta?key={}&language=it", e2e::http::encode(KEY));
    operator.goto(&agent.page(&answer)).await?;
    operator.fill("v.nome", "Amina").await?;
    operator.fill("v.documento", "il passaporto").await?;
    operator.click_text("Mostra la risposta").await?;
    operator.wait_for_text("Amina", WAIT).await?;
    let wording =
        "Gentile {{nome}}, per il rinnovo porti {{documento}}, la ricevuta delle Poste e una foto.";
    operator.fill("proposal", wording).await?;
    operator.click_text("Invia la proposta al Comune").await?;
    operator.wait_for("#propose-message", WAIT).await?;
    eventually(Duration::from_secs(20), async || {
        coordinator.goto(&format!("{base}/templates")).await.ok()?;
        let text = coordinator.page_text().await.ok()?;
        text.contains("sportello-centro").then_some(())
    })
    .await?;
    coordinator.wait_for_text("Somiglianza", WAIT).await?;
    let inserted = coordinator
        .client()
        .execute(
            "return Array.from(document.querySelectorAll('.proposal ins')).map(e => e.textContent).join(' ');",
            vec![],
        )
        .await?;
    let inserted = inserted.as_str().unwrap_or_default();
    assert!(
        inserted.contains("foto") && !inserted.contains("Gentile"),
        "the diff marks the new words only: {inserted}"
    );
    coordinator
        .axe("the templates page with a proposal")
        .await?;
    coordinator.screenshots("dashboard-proposal").await?;
    coordinator.click("form[action$='/accept'] button").await?;
    coordinator
        .wait_for_text("Proposta accettata", WAIT)
        .await?;
    eventually(Duration::from_secs(20), async || {
        let html = run_ok(
            "desk-agent",
            &[
                "render",
                KEY,
                "it",
                "--agent",
                &agent.url,
                "--var",
                "nome=Amina",
                "--var",
                "documento=il passaporto",
            ],
        );
        html.contains("una foto").then_some(())
    })
    .await?;
    coordinator.goto(&format!("{base}/audit")).await?;
    coordinator.wait_for_text("proposal.accept", WAIT).await?;
    coordinator.wait_for_text("guidance.publish", WAIT).await?;
    Ok(())
}
