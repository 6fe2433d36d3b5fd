//! The dashboard in a real headless Chromium: keyboard-only sign-in,
//! publishing guidance from the form, a `<script>` title shown as text,
//! the template editor checking as one types, axe-core on every page, and
//! screenshots of each page at both sizes for the README.

use e2e::browser::{Browser, WAIT};
use e2e::web::{add_user, enable_dashboard};
use e2e::{eventually, path, run_ok, Agent, Hub};
use fantoccini::key::Key;
use std::time::Duration;

const USER: &str = "coordinatore";
const PASSWORD: &str = "una password lunga e sicura";
const SCRIPT_TITLE: &str = "<script>alert('x')</script> Questura: nuovi orari";

/// Visits of this week (the overview) and, from the 30th on, of November
/// 2026, a closed month (tables with nationality count closed weeks only).
fn visit(i: usize) -> String {
    let nationality = ["MA", "AL", "UA", "PE", "SN"][i % 5];
    let visited_at = if i >= 30 {
        serde_json::json!(format!("2026-11-{:02}T10:00:00+01:00", 2 + i % 27))
    } else {
        serde_json::Value::Null
    };
    let outcome = ["answered", "referred", "appointment_booked"][i % 3];
    let channel = ["walk_in", "phone", "email"][i % 3];
    let language = ["it", "ar", "en"][i % 3];
    serde_json::json!({
        "name": "Amina", "surname": "El Idrissi", "birth_date": "1990-04-03", "sex": "F",
        "nationality": nationality, "procedure": "permesso.rinnovo.lavoro", "channel": channel,
        "language": language, "outcome": outcome, "minutes": 18,
        "referral": if outcome == "referred" { "questura" } else { "" },
        "visited_at": visited_at,
    })
    .to_string()
}

/// Types into whatever has focus, as a keyboard does.
async fn type_here(b: &Browser, text: &str) -> anyhow::Result<()> {
    b.client().active_element().await?.send_keys(text).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_uses_the_dashboard_in_a_browser() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let addr = enable_dashboard(&hub.data)?;
    let out = add_user(&hub.data, USER, PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Something to show: templates with a stale translation, visits from a desk.
    let it = root.path().join("it.txt");
    let en = root.path().join("en.txt");
    std::fs::write(&it, "Porti il passaporto e {{ricevuta}}.")?;
    std::fs::write(&en, "Bring your passport and {{ricevuta}}.")?;
    let data = path(&hub.data).to_string();
    let key = "permesso.rinnovo.lavoro/documenti";
    run_ok(
        "hub",
        &["template", "put", key, "it", path(&it), "--data", &data],
    );
    run_ok(
        "hub",
        &["template", "put", key, "en", path(&en), "--data", &data],
    );
    std::fs::write(&it, "Porti il passaporto, la foto e {{ricevuta}}.")?;
    run_ok(
        "hub",
        &["template", "put", key, "it", path(&it), "--data", &data],
    );
    hub.start().await?;
    let bundle = hub.add_desk("sportello-centro");
    let mut agent = Agent::enroll(root.path(), "sportello-centro", &bundle);
    agent.start().await?;
    hub.add_desk("sportello-nord");
    let visits: String = (0..150).map(|i| visit(i) + "\n").collect();
    let file = root.path().join("visits.jsonl");
    std::fs::write(&file, visits)?;
    run_ok(
        "desk-agent",
        &["record", "--agent", &agent.url, "--file", path(&file)],
    );
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("sportello-centro") == Some(150)).then_some(())
    })
    .await?;

    let base = format!("https://{addr}");
    let b = Browser::start().await?;
    b.goto(&format!("{base}/login")).await?;
    b.axe("sign-in").await?;
    b.screenshots("dashboard-login").await?;

    // Keyboard only: the name field has focus on arrival, Tab to the password, Enter.
    if !b.focused().await?.matches("username") {
        b.tab_to("username", 4).await?;
    }
    type_here(&b, USER).await?;
    b.tab_to("password", 2).await?;
    type_here(&b, PASSWORD).await?;
    b.press(Key::Enter).await?;
    b.wait_for_text("Panoramica", WAIT).await?;
    b.wait_for_text("visite registrate", WAIT).await?;

    // Publish a guidance item from the form, with markup in its title.
    b.goto(&format!("{base}/guidance")).await?;
    b.fill("g-title", SCRIPT_TITLE).await?;
    b.fill(
        "g-body",
        "Da lunedì gli sportelli della Questura aprono alle 8:30.\nPortare la ricevuta.",
    )
    .await?;
    b.choose("g-severity", "urgent").await?;
    b.choose("g-procedures", "permesso.rinnovo.lavoro").await?;
    b.click_text("Pubblica").await?;
    b.wait_for_text("Indicazione pubblicata.", WAIT).await?;
    let shown = b.text(".item-title").await?;
    assert_eq!(shown, SCRIPT_TITLE, "the title is shown as text");
    let scripts = b
        .client()
        .execute(
            "return document.querySelectorAll('main script').length",
            vec![],
        )
        .await?;
    assert_eq!(
        scripts,
        serde_json::json!(0),
        "no script element was created"
    );
    // The desk applies it; the page shows the rollout.
    eventually(Duration::from_secs(10), async || {
        let out = run_ok("desk-agent", &["guidance", "--agent", &agent.url, "--json"]);
        out.contains("nuovi orari").then_some(())
    })
    .await?;
    b.goto(&format!("{base}/guidance")).await?;
    b.wait_for_text("Applicata da: 1/2", WAIT).await?;

    // The editor checks the text as it is typed (htmx, no reload).
    b.goto(&format!("{base}/templates/edit?key={key}&language=en"))
        .await?;
    b.wait_for_text("coerente con il riferimento", WAIT).await?;
    b.fill("t-body", "Bring your passport and {{ricevuta")
        .await?;
    b.wait_for_text("never closed", WAIT).await?;
    b.fill("t-body", "Bring your passport, a photo and {{ricevuta}}.")
        .await?;
    b.wait_for_text("coerente con il riferimento", WAIT).await?;
    b.axe("template editor").await?;
    b.screenshots("dashboard-template-editor").await?;

    for (page, name) in [
        ("/", "dashboard-overview"),
        ("/desks", "dashboard-desks"),
        ("/guidance", "dashboard-guidance"),
        ("/templates", "dashboard-templates"),
        (
            "/stats?by=nationality&by2=outcome&period=2026-11",
            "dashboard-stats",
        ),
        ("/audit", "dashboard-audit"),
        ("/cards", "dashboard-cards"),
        (
            "/cards/edit?code=permesso.rinnovo.lavoro&language=it",
            "dashboard-card-editor",
        ),
        ("/glossary", "dashboard-glossary"),
        ("/gaps", "dashboard-gaps"),
        ("/desks?lang=en", "dashboard-desks-en"),
    ] {
        b.goto(&format!("{base}{page}")).await?;
        b.axe(page).await?;
        b.screenshots(name).await?;
    }
    // Back to Italian (the English page above set the language cookie).
    b.goto(&format!("{base}/desks?lang=it")).await?;
    b.wait_for_text("sportello-nord", WAIT).await?;
    b.wait_for_text("in ritardo", WAIT).await?;
    Ok(())
}
