//! Operators' reports in a real headless Chromium: the "Segnala un
//! problema" form opened under a card and sent, the confirmation, the
//! desk's `/segnalazioni` list, the dashboard's inbox and its fix form;
//! axe-core on each (no serious or critical violation) and screenshots at
//! both sizes in docs/screenshots/.

use e2e::browser::{Browser, WAIT};
use e2e::web::{add_user, enable_dashboard};
use e2e::{eventually, path, run, run_ok, Agent, Hub};
use fantoccini::key::Key;
use std::time::Duration;

const USER: &str = "coordinatore";
const PASSWORD: &str = "una password lunga e sicura";
const CODE: &str = "permesso.rinnovo.lavoro";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_sent_listed_and_fixed_in_a_browser() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let addr = enable_dashboard(&hub.data)?;
    anyhow::ensure!(add_user(&hub.data, USER, PASSWORD).status.success());
    hub.start().await?;
    let bundle = hub.add_desk("sportello-centro");
    let mut agent = Agent::enroll(root.path(), "sportello-centro", &bundle);
    agent.start().await?;
    hub.publish_guidance_toml(root.path(), "orari", "id = \"questura-orari\"\ntitle = \"Questura: nuovi orari\"\nbody = \"Da lunedì apre alle 8:30.\"\nprocedures = [\"permesso.rinnovo.lavoro\"]\n");
    eventually(Duration::from_secs(20), async || {
        let card = run(
            "desk-agent",
            &["card", CODE, "it", "--agent", &agent.url, "--json"],
        );
        (card.status.success() && agent.status()["versions"]["guidance"].as_u64() >= Some(1))
            .then_some(())
    })
    .await?;

    let b = Browser::start().await?;
    // Guidance items carry the form too (folded away).
    b.goto(&agent.page("/indicazioni")).await?;
    b.wait_for_text("Questura: nuovi orari", WAIT).await?;
    b.axe("guidance with its report forms").await?;

    b.goto(&agent.page(&format!("/scheda?procedure={CODE}")))
        .await?;
    b.click_text("Segnala un problema").await?;
    b.click("details.report[open] input[value=outdated]")
        .await?;
    b.fill(
        "rc-comment",
        "Il sig. Rossi al 333 123 4567 dice che l'orario è cambiato",
    )
    .await?;
    b.axe("the card with the report form open").await?;
    b.screenshots("operator-report-form").await?;
    b.click_text("Invia la segnalazione").await?;
    b.wait_for_text("ripulito dai dati personali", WAIT).await?;
    let page = b.page_text().await?;
    assert!(
        page.contains("[TELEFONO]") && !page.contains("4567") && !page.contains("Rossi"),
        "{page}"
    );
    b.axe("the report confirmation").await?;

    let id = eventually(Duration::from_secs(15), async || {
        let out = run_ok("hub", &["reports", "--data", path(&hub.data), "--json"]);
        let list: serde_json::Value = serde_json::from_str(&out).ok()?;
        list[0]["id"].as_str().map(str::to_string)
    })
    .await?;
    b.goto(&agent.page("/segnalazioni")).await?;
    b.wait_for_text("aperta", WAIT).await?;
    b.axe("the desk's reports").await?;
    b.screenshots("operator-reports").await?;

    // The coordinator's inbox, signed in by keyboard, then the fix form.
    let base = format!("https://{addr}");
    b.goto(&format!("{base}/login")).await?;
    b.fill("username", USER).await?;
    b.fill("password", PASSWORD).await?;
    b.press(Key::Enter).await?;
    b.wait_for_text("Panoramica", WAIT).await?;
    b.goto(&format!("{base}/reports")).await?;
    b.wait_for_text("Segnalazioni degli sportelli", WAIT)
        .await?;
    b.axe("the dashboard's reports inbox").await?;
    b.screenshots("dashboard-reports").await?;
    b.fill(&format!("v-{id}"), "v5").await?;
    b.click_text("Segna come corretta").await?;
    b.wait_for_text("Segnalazione chiusa come corretta", WAIT)
        .await?;
    b.axe("the inbox after a decision").await?;

    b.goto(&agent.page("/segnalazioni")).await?;
    eventually(Duration::from_secs(15), async || {
        b.goto(&agent.page("/segnalazioni")).await.ok()?;
        let text = b.page_text().await.ok()?;
        text.contains("corretta nella versione 5").then_some(())
    })
    .await?;
    b.screenshots("operator-reports-fixed").await?;
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}
