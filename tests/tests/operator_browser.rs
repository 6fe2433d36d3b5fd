//! The operator page in a real headless Chromium: a visit recorded with the
//! mouse and one with the keyboard alone, each showing the anonymised
//! record; guidance published at the hub appearing within 2 s without a
//! reload; an Arabic answer laid out right-to-left; axe-core on every page
//! (no serious or critical violation); screenshots of each page at both
//! sizes in docs/screenshots/.

use e2e::browser::{Browser, WAIT};
use e2e::{eventually, path, run_ok, Agent, Hub};
use fantoccini::key::Key;
use std::time::{Duration, Instant};

const KEY: &str = "permesso.rinnovo.lavoro/documenti";

async fn desk_with_content(root: &std::path::Path) -> anyhow::Result<(Hub, Agent)> {
    let mut hub = Hub::init(root);
    hub.start().await?;
    let bundle = hub.add_desk("sportello-centro");
    let mut agent = Agent::enroll(root, "sportello-centro", &bundle);
    agent.start().await?;
    hub.publish_guidance_toml(root, "orari", "id = \"questura-orari\"\ntitle = \"Questura: nuovi orari per i rinnovi\"\nbody = \"Da lunedì lo sportello rinnovi apre alle 8:30. Portare la ricevuta delle Poste.\"\nseverity = \"important\"\nprocedures = [\"permesso.rinnovo.lavoro\"]\n");
    for (lang, body) in [
        (
            "it",
            "Gentile {{nome}}, per il rinnovo porti {{documento}} e la ricevuta delle Poste.",
        ),
        (
            "ar",
            "عزيزي {{nome}}، للتجديد أحضر {{documento}} وإيصال البريد.",
        ),
    ] {
        let file = root.join(format!("{lang}.txt"));
        std::fs::write(&file, body)?;
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
    eventually(Duration::from_secs(20), async || {
        let v = &agent.status()["versions"];
        (v["guidance"].as_u64() >= Some(1) && v["template"].as_u64() >= Some(2)).then_some(())
    })
    .await?;
    Ok((hub, agent))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_a_visit_by_mouse_and_by_keyboard_alone() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (_hub, agent) = desk_with_content(root.path()).await?;
    let b = Browser::start().await?;

    b.goto(&agent.page("/")).await?;
    b.axe("the record page").await?;
    b.screenshots("operator-record").await?;

    // A refusal keeps what was typed and says what to fix, next to it.
    b.fill(
        "Procedura",
        "Rinnovo permesso per lavoro (permesso.rinnovo.lavoro)",
    )
    .await?;
    b.fill("Durata (minuti)", "venti").await?;
    b.fill("Cittadinanza", "Marocco").await?;
    b.click("#save").await?;
    b.wait_for_text("un numero intero di minuti", WAIT).await?;
    assert_eq!(
        b.field("nationality")
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("Marocco")
    );
    b.axe("the record page with errors").await?;
    b.screenshots("operator-record-errors").await?;

    b.fill("Durata (minuti)", "25").await?;
    b.choose("language", "ar").await?;
    b.fill("Età (anni)", "29").await?;
    b.click("#save").await?;
    b.wait_for_text("Visita registrata", WAIT).await?;
    let json = b.text("#saved-json").await?;
    let record: serde_json::Value = serde_json::from_str(&json)?;
    assert_eq!(record["procedure"], "permesso.rinnovo.lavoro");
    assert_eq!(record["age_band"], "25-34");
    assert_eq!(record["nationality"], "MA");
    assert_eq!(record["language"], "ar");
    assert_eq!(record["desk_id"], "sportello-centro");
    b.axe("the record page after saving").await?;
    b.screenshots("operator-record-saved").await?;

    // The keyboard alone: Tab from the top of the page, type, Enter.
    b.goto(&agent.page("/")).await?;
    b.tab_to("procedure", 12).await?;
    b.press_text("rinnovo lavoro").await?;
    b.tab_to("outcome", 4).await?;
    b.press_text("Inviato").await?;
    b.tab_to("referral", 2).await?;
    b.press_text("Questura").await?;
    b.tab_to("minutes", 2).await?;
    b.press_text("12").await?;
    b.tab_to("age", 2).await?;
    b.press_text("41").await?;
    b.tab_to("Salva la visita", 8).await?;
    b.press(Key::Enter).await?;
    b.wait_for_text("Visita registrata", WAIT).await?;
    let record: serde_json::Value = serde_json::from_str(&b.text("#saved-json").await?)?;
    assert_eq!(record["outcome"], "referred");
    assert_eq!(record["referral"], "questura");
    assert_eq!(record["age_band"], "35-44");
    assert_eq!(record["duration_band"], "<15");
    assert_eq!(agent.status()["last_seq"], 2);

    b.click_text("English").await?;
    b.wait_for_text("Record a visit", WAIT).await?;
    b.axe("the record page in English").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_guidance_arabic_answer_and_status() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (hub, agent) = desk_with_content(root.path()).await?;
    let b = Browser::start().await?;

    b.goto(&agent.page("/indicazioni")).await?;
    b.wait_for_text("Questura: nuovi orari per i rinnovi", WAIT)
        .await?;
    b.axe("the guidance page").await?;
    b.screenshots("operator-guidance").await?;
    // A mark that a reload would wipe.
    b.client()
        .execute("window.__sameDocument = true;", vec![])
        .await?;
    // A report being written under the item, which the list drawn again
    // must not wipe.
    let draft = "orario sbagliato: apre alle 9";
    b.client()
        .execute(
            "var d = document.querySelector('#guidance-live details.report'); d.open = true; \
             var f = d.querySelector('form'); f.querySelector('input[value=outdated]').checked = true; \
             f.elements.comment.value = arguments[0]; f.elements.comment.focus();",
            vec![serde_json::json!(draft)],
        )
        .await?;

    hub.publish_guidance_toml(root.path(), "urgente", "id = \"sciopero\"\ntitle = \"Sciopero: Questura chiusa venerdì\"\nbody = \"Rimandare gli appuntamenti di venerdì.\"\nseverity = \"urgent\"\nprocedures = [\"permesso.rinnovo.lavoro\"]\n");
    let published = Instant::now();
    b.wait_for_text("Sciopero: Questura chiusa venerdì", Duration::from_secs(2))
        .await?;
    let took = published.elapsed();
    let same = b
        .client()
        .execute("return window.__sameDocument === true;", vec![])
        .await?;
    assert_eq!(same, serde_json::Value::Bool(true), "the page reloaded");
    let kept = b
        .client()
        .execute(
            "var f = Array.from(document.querySelectorAll('#guidance-live details.report form')) \
               .find(function (f) { return f.elements.item_id.value === 'questura-orari'; }); \
             return [f.closest('details').open, f.elements.comment.value, \
               f.querySelector('input[name=reason]:checked').value];",
            vec![],
        )
        .await?;
    assert_eq!(
        kept,
        serde_json::json!([true, draft, "outdated"]),
        "the report being written survives the live update"
    );
    let first = b.text("#guidance-live li h3").await?;
    assert!(first.contains("Sciopero"), "urgent first: {first}");
    assert!(first.contains("Nuovo"), "a new item is marked: {first}");
    eprintln!("guidance appeared on the page {took:?} after `hub guidance publish` returned");
    b.screenshots("operator-guidance-live").await?;

    // Marked as read, the badge goes (and the button with it).
    // The list is drawn again once the mark is kept: wait for that drawing
    // (reading the old one races with its replacement).
    b.click("#guidance-live li form button").await?;
    b.wait_for_text("Questura: nuovi orari", WAIT).await?;
    let unmarked = eventually(WAIT, async || {
        b.text("#guidance-live li h3")
            .await
            .ok()
            .filter(|first| !first.contains("Nuovo"))
    })
    .await;
    assert!(unmarked.is_ok(), "read items lose the mark: {unmarked:?}");

    let answer = format!("/risposta?key={}&language=ar", e2e::http::encode(KEY));
    b.goto(&agent.page(&answer)).await?;
    b.fill("v.nome", "Amina").await?;
    b.fill("v.documento", "passaporto").await?;
    b.click_text("Mostra la risposta").await?;
    b.wait_for_text("Amina", WAIT).await?;
    // The visitor's details travel in the form's body, never in a URL the
    // browser keeps in its history.
    let url = b.client().current_url().await?;
    assert!(!url.as_str().contains("Amina"), "{url}");
    let visited = b
        .client()
        .execute(
            "return performance.getEntriesByType('navigation').map(e => e.name).concat([location.href]).join(' ');",
            vec![],
        )
        .await?;
    assert!(!visited.to_string().contains("Amina"), "{visited}");
    assert_eq!(
        b.find("#answer").await?.attr("dir").await?.as_deref(),
        Some("rtl")
    );
    let direction = b
        .client()
        .execute(
            "return getComputedStyle(document.getElementById('answer')).direction;",
            vec![],
        )
        .await?;
    assert_eq!(direction, "rtl");
    b.axe("the Arabic answer").await?;
    b.screenshots("operator-answer-ar").await?;

    let it = format!("/risposta?key={}&language=it", e2e::http::encode(KEY));
    b.goto(&agent.page(&it)).await?;
    b.fill("v.nome", "Amina").await?;
    b.click_text("Mostra la risposta").await?;
    b.wait_for_text("Compila i dati richiesti", WAIT).await?;
    b.fill("v.documento", "il passaporto").await?;
    b.click_text("Mostra la risposta").await?;
    b.wait_for_text("porti il passaporto", WAIT).await?;
    assert_eq!(
        b.find("#answer").await?.attr("dir").await?.as_deref(),
        Some("ltr")
    );
    b.fill(
        "proposal",
        "Gentile {{nome}}, porti {{documento}} e la ricevuta.",
    )
    .await?;
    b.click_text("Invia la proposta al Comune").await?;
    // The form posts and the page comes back: wait for it, not for the old one.
    eventually(WAIT, async || b.find("#propose-message").await.ok()).await?;
    assert_eq!(
        b.field("proposal").await?.prop("value").await?.as_deref(),
        Some("Gentile {{nome}}, porti {{documento}} e la ricevuta."),
        "the proposal text is kept whatever the answer"
    );
    b.axe("the Italian answer with the proposal form").await?;
    b.screenshots("operator-answer-it").await?;

    b.goto(&agent.page("/stato")).await?;
    b.wait_for_text("Collegato", WAIT).await?;
    b.axe("the status page").await?;
    b.screenshots("operator-status").await?;

    // The procedure card, Italian beside Arabic (right to left), with the
    // guidance beside it and the handout form.
    b.goto(&agent.page("/scheda?procedure=permesso.rinnovo.lavoro&language=ar"))
        .await?;
    b.wait_for_text("marca da bollo", WAIT).await?;
    b.axe("the Arabic procedure card").await?;
    b.screenshots("operator-card-ar").await?;
    Ok(())
}
