//! Offline search at the desk, end to end with the real binaries: the seed
//! cards pushed by the hub are found by `desk-agent search` in the words
//! people type ("pds rinnovo"), `--json` prints exactly the hit array, a
//! query that matches nothing suggests the desk's own words on stderr, an
//! over-long query is refused, a guidance push is found by the next search
//! (the index rebuilt), the operator page searches as one types, and a
//! query holding personal data is in no log.

use e2e::{eventually, files_containing, path, run, run_ok, Agent};
use std::time::Duration;

const CODE: &str = "permesso.rinnovo.lavoro";

fn search(agent: &Agent, query: &str, lang: &str) -> Vec<serde_json::Value> {
    let out = run_ok(
        "desk-agent",
        &[
            "search", query, "--agent", &agent.url, "--lang", lang, "--json",
        ],
    );
    serde_json::from_str::<Vec<serde_json::Value>>(&out).expect("search --json prints an array")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_finds_what_people_type_offline_and_logs_no_query() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, mut agent) = e2e::desk_with_cards(root.path()).await?;

    // The words a desk uses, a typo, and English while the page is Italian.
    for (query, lang) in [
        ("pds rinnovo", "it"),
        ("rinovo permeso di sogiorno", "it"),
        ("work permit renewal", "it"),
        ("come rinnovo il permesso?", "en"),
    ] {
        let hits = search(&agent, query, lang);
        assert!(
            hits.iter().take(3).any(|h| h["code"] == CODE),
            "{query}: {hits:?}"
        );
        for h in &hits {
            let mut keys: Vec<&str> = h
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            assert_eq!(keys, ["code", "id", "kind", "language", "score", "title"]);
        }
    }
    // The card itself is a hit, in the page's language, with id = the code.
    let hits = search(&agent, "pds rinnovo", "en");
    let card = hits
        .iter()
        .find(|h| h["kind"] == "card")
        .expect("a card hit");
    assert_eq!(card["id"], card["code"]);
    assert_eq!(card["language"], "en");

    // Nothing matches: an empty array on stdout, suggestions on stderr.
    let out = run(
        "desk-agent",
        &["search", "pemrseso", "--agent", &agent.url, "--json"],
    );
    assert!(out.status.success());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout)?,
        serde_json::json!([])
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("did you mean") && stderr.contains("permess"),
        "{stderr}"
    );

    // Past the bounds: refused, the query not repeated.
    let long = format!("{} 3391234567", "permesso ".repeat(30));
    let out = run("desk-agent", &["search", &long, "--agent", &agent.url]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("200") && !stderr.contains("3391234567"),
        "{stderr}"
    );

    // A guidance push is found by the next search: the index was rebuilt.
    hub.publish_guidance_toml(root.path(), "guidance", "id = \"sciopero-poste\"\ntitle = \"Sciopero delle Poste il 12 dicembre\"\nbody = \"Gli uffici con Sportello Amico restano chiusi.\"\nseverity = \"urgent\"\neffective_from = \"2026-01-01\"\n");
    let found = eventually(Duration::from_secs(20), async || {
        search(&agent, "sciopero poste", "it")
            .into_iter()
            .find(|h| h["kind"] == "guidance")
    })
    .await?;
    assert_eq!(found["id"], "sciopero-poste");
    assert_eq!(found["code"], "");

    // The operator page: the box sends as one types, the results link to
    // the card; without script the form posts the same search.
    let page = e2e::http::get(&agent.http, "/cerca")?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("hx-post=\"/cerca/risultati\""),
        "{}",
        page.body
    );
    let reply = e2e::http::post_form(&agent.http, "/cerca/risultati", &[("q", "rinovo pds")])?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains(&format!("/scheda?procedure={CODE}")),
        "{}",
        reply.body
    );
    let reply = e2e::http::post_form(&agent.http, "/cerca", &[("q", "pemrseso")])?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains("Forse cercavi") && reply.body.contains("permess"),
        "{}",
        reply.body
    );

    // A name and a phone number typed into the search box by mistake.
    let personal = "Adebayo Okonkwo 3471234567 rinnovo";
    search(&agent, personal, "it");
    e2e::http::post_form(&agent.http, "/cerca/risultati", &[("q", personal)])?;
    agent.terminate()?;
    hub.terminate()?;
    for needle in ["Okonkwo", "3471234567"] {
        let logs: Vec<_> = files_containing(root.path(), needle.as_bytes())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        assert!(logs.is_empty(), "{needle} logged in {logs:?}");
    }
    Ok(())
}

/// The coordinator adds a synonym: `hub glossary put` checks the file,
/// pushes it with the catalogue, and the desk's next search knows it, also
/// after a restart (the glossary is kept with the local copy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glossary_put_at_the_hub_reaches_the_desks_search() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, mut agent) = e2e::desk_with_cards(root.path()).await?;
    let finds = |agent: &Agent| {
        search(agent, "numer podatkowy", "it")
            .iter()
            .take(3)
            .any(|h| h["code"] == "fisco.codice_fiscale")
    };
    assert!(
        !finds(&agent),
        "not a known word before the glossary says so"
    );

    // A group of one term is refused, naming the group; nothing is pushed.
    let bad = root.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[group]]\nterms = [\"pds\", \"permesso di soggiorno\"]\n\n[[group]]\nterms = [\"solo\"]\n",
    )?;
    let out = run(
        "hub",
        &["glossary", "put", path(&bad), "--data", path(&hub.data)],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("gruppo 2"), "{stderr}");

    let mut text = domain::glossary::DEFAULT_GLOSSARY.to_string();
    text.push_str(
        "\n[[group]]\nterms = [\"numer podatkowy\", \"codice fiscale\"]\nnote = \"Polish\"\n",
    );
    let file = root.path().join("glossary.toml");
    std::fs::write(&file, &text)?;
    let version = run_ok(
        "hub",
        &["glossary", "put", path(&file), "--data", path(&hub.data)],
    );
    assert!(version.trim().parse::<u64>()? > 1, "{version}");
    eventually(Duration::from_secs(20), async || {
        finds(&agent).then_some(())
    })
    .await?;

    agent.terminate()?;
    agent.start().await?;
    assert!(
        finds(&agent),
        "the pushed glossary is kept across a restart"
    );
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}
