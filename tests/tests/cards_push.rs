//! Procedure cards, end to end with the real binaries: every seed card file
//! goes in with `hub card put`, is pushed, and `desk-agent card` shows it
//! at the desk; an Italian edit makes exactly the translated fields it
//! touched stale, with the Italian diff at the hub; a bad card is refused
//! (exit 2) naming its fields; guidance on a card's law makes it due, and
//! "still correct" stamps it, audited.

use e2e::{eventually, path, run, run_ok, Agent, Hub};
use std::path::{Path, PathBuf};
use std::time::Duration;

const CODE: &str = "permesso.rinnovo.lavoro";

fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../hub/seed/cards")
}

/// (code, language, file) of every seed card, Italian first.
fn seed_files() -> Vec<(String, String, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(seed_dir())
        .expect("hub/seed/cards")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let stem = p.file_name()?.to_str()?.strip_suffix(".toml")?.to_string();
            let (code, lang) = stem.rsplit_once('.')?;
            Some((code.to_string(), lang.to_string(), p))
        })
        .collect();
    out.sort_by_key(|(code, lang, _)| (lang != "it", code.clone(), lang.clone()));
    out
}

fn desk_card(agent: &Agent, code: &str, lang: &str) -> Option<serde_json::Value> {
    let out = run(
        "desk-agent",
        &["card", code, lang, "--agent", &agent.url, "--json"],
    );
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).expect("card --json prints JSON"))
}

fn hub_cards(hub: &Hub) -> serde_json::Value {
    serde_json::from_str(&run_ok(
        "hub",
        &["cards", "--data", path(&hub.data), "--json"],
    ))
    .expect("cards --json prints JSON")
}

fn row<'a>(cards: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    cards
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["code"] == code))
        .unwrap_or_else(|| panic!("{code} listed in {cards}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_round_trip_go_stale_field_by_field_and_come_due() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;

    // Every seed card, put again through the running hub.
    let files = seed_files();
    assert!(files.len() >= 24, "{} seed files", files.len());
    let mut last = 0;
    for (code, lang, file) in &files {
        let v: u64 = run_ok(
            "hub",
            &[
                "card",
                "put",
                code,
                lang,
                path(file),
                "--data",
                path(&hub.data),
            ],
        )
        .trim()
        .parse()?;
        assert!(v > last, "versions grow");
        last = v;
    }
    // Each reaches the desk as written.
    for (code, lang, file) in &files {
        let text = std::fs::read_to_string(file)?;
        let table: toml::Table = toml::from_str(&text)?;
        let summary = table["summary"].as_str().unwrap_or_default();
        let shown = eventually(Duration::from_secs(20), async || {
            let c = desk_card(&agent, code, lang)?;
            let side = if lang == "it" {
                "reference"
            } else {
                "translation"
            };
            (c[side]["summary"] == summary).then_some(c)
        })
        .await?;
        assert!(
            shown["stale_fields"].as_array().is_some_and(Vec::is_empty),
            "{code} {lang}: {shown}"
        );
        if lang == "it" {
            assert!(!shown["reference"]["owner"]
                .as_str()
                .unwrap_or_default()
                .is_empty());
        }
    }
    let status = agent.status();
    assert_eq!(status["connected"], true);
    // The hub knows the desk applied them.
    eventually(Duration::from_secs(20), async || {
        let listed = hub_cards(&hub);
        let rollout = &row(&listed, CODE)["rollout"];
        (rollout["current"][0] == "desk-a" && rollout["behind"].as_array()?.is_empty())
            .then_some(())
    })
    .await?;

    // Amounts reach the desk as euro, from the Italian, in every language.
    let ar = desk_card(&agent, CODE, "ar").expect("Arabic card");
    let costs = ar["translation"]["costs"].as_array().expect("costs");
    assert!(costs.iter().any(|c| c["amount"] == "€ 16,00"), "{ar}");

    // One Italian step changes: the English goes stale in that step only.
    let it_file = seed_dir().join(format!("{CODE}.it.toml"));
    let it_text = std::fs::read_to_string(&it_file)?;
    let mut it: toml::Table = toml::from_str(&it_text)?;
    let steps = it
        .get_mut("step")
        .and_then(|s| s.as_array_mut())
        .expect("steps");
    let first = steps[0].as_table_mut().expect("a step");
    let step_id = first["id"].as_str().unwrap_or_default().to_string();
    first.insert(
        "text".into(),
        toml::Value::String("Chiedere allo sportello il kit postale giusto".into()),
    );
    let edited = root.path().join("edited.it.toml");
    std::fs::write(&edited, toml::to_string(&it)?)?;
    run_ok(
        "hub",
        &[
            "card",
            "put",
            CODE,
            "it",
            path(&edited),
            "--data",
            path(&hub.data),
        ],
    );
    let stale = format!("steps.{step_id}");
    let en = eventually(Duration::from_secs(20), async || {
        let c = desk_card(&agent, CODE, "en")?;
        (c["stale_fields"].as_array()?.len() == 1).then_some(c)
    })
    .await?;
    assert_eq!(en["stale_fields"][0], stale.as_str());
    let listed = hub_cards(&hub);
    let english = row(&listed, CODE)["languages"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["language"] == "en"))
        .cloned()
        .expect("English listed");
    assert_eq!(english["stale"][0]["field"], stale.as_str());
    let diff = english["stale"][0]["diff"].as_str().unwrap_or_default();
    assert!(diff.contains("{+") && diff.contains("giusto"), "{diff}");

    // A bad card: refused with exit 2, every problem named, nothing pushed.
    let bad = root.path().join("bad.toml");
    std::fs::write(
        &bad,
        it_text
            .replace("review_by = \"", "review_by = \"giugno ")
            .replace("\"16,00\"", "\"sedici euro\""),
    )?;
    let out = run(
        "hub",
        &[
            "card",
            "put",
            CODE,
            "it",
            path(&bad),
            "--data",
            path(&hub.data),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("amount"), "{said}");
    let out = run(
        "hub",
        &[
            "card",
            "put",
            "non.esiste",
            "it",
            path(&it_file),
            "--data",
            path(&hub.data),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("catalogo"));

    // Guidance on the card's law, newer than its verification: due, with
    // its owner; "still correct" stamps it and the audit log says who.
    let old = root.path().join("old.it.toml");
    std::fs::write(
        &old,
        it_text
            .replace(
                "verified_on = \"2026-12-06\"",
                "verified_on = \"2020-01-01\"",
            )
            .replace("review_by = \"2027-06-30\"", "review_by = \"2099-12-31\""),
    )?;
    run_ok(
        "hub",
        &[
            "card",
            "put",
            CODE,
            "it",
            path(&old),
            "--data",
            path(&hub.data),
        ],
    );
    assert!(row(&hub_cards(&hub), CODE)["due"].is_null());
    hub.publish_guidance_toml(root.path(), "g", "id = \"rinnovi-2026\"\ntitle = \"Rinnovi: nuove regole\"\nbody = \"Dal 1° gennaio cambia la procedura.\"\nlegal_basis = [\"art. 5 D.Lgs. 286/1998\"]\n");
    let listed = hub_cards(&hub);
    let due = row(&listed, CODE)["due"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(due.contains("Rinnovi: nuove regole"), "{listed}");
    assert!(!row(&listed, CODE)["owner"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    run_ok("hub", &["card", "confirm", CODE, "--data", path(&hub.data)]);
    let listed = hub_cards(&hub);
    let stamped = row(&listed, CODE)["verified_on"]
        .as_str()
        .unwrap_or_default();
    assert!(stamped > "2026-12-05" && stamped.len() == 10, "{listed}");
    assert_eq!(row(&listed, CODE)["verified_by"], "cli");
    assert!(row(&listed, CODE)["due"].is_null(), "{listed}");
    hub.terminate()?;
    agent.terminate()?;
    Ok(())
}
