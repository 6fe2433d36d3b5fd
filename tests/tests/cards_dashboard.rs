//! The dashboard's procedure cards over real HTTPS: a card due for review
//! is listed with its owner; "still correct" stamps verified-on and the
//! coordinator's name, audited; the editor's live check names a bad amount
//! and a bad date before anything is saved, and a good save is pushed.

use e2e::web::{add_user, enable_dashboard, Web};
use e2e::{eventually, path, run_ok, Hub};
use std::time::Duration;

const USER: &str = "coordinatrice";
const PASSWORD: &str = "una password lunga e sicura";
const CODE: &str = "fisco.codice_fiscale";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_card_is_listed_with_its_owner_and_confirmed_in_one_action() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    let addr = enable_dashboard(&hub.data)?;
    assert!(add_user(&hub.data, USER, PASSWORD).status.success());
    // A card whose review date has passed.
    let seed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../hub/seed/cards/{CODE}.it.toml")),
    )?;
    let old = seed
        .replace(
            "verified_on = \"2026-12-06\"",
            "verified_on = \"2024-01-10\"",
        )
        .replace("review_by = \"2027-06-30\"", "review_by = \"2024-07-10\"")
        .replace(
            "owner = \"Coordinamento sportelli stranieri\"",
            "owner = \"Ufficio Fisco Sportello Nord\"",
        );
    let file = root.path().join("old.toml");
    std::fs::write(&file, &old)?;
    run_ok(
        "hub",
        &[
            "card",
            "put",
            CODE,
            "it",
            path(&file),
            "--data",
            path(&hub.data),
        ],
    );
    hub.start().await?;
    let a = addr.clone();
    eventually(Duration::from_secs(20), async || {
        tokio::net::TcpStream::connect(&a).await.ok()
    })
    .await?;
    let mut web = Web::new(&hub.data, &addr)?;
    assert_eq!(web.login(USER, PASSWORD).await?.status, 303);

    let page = web.get("/cards").await?;
    assert_eq!(page.status, 200);
    let html = page.text();
    let due = html
        .split("id=\"all-h\"")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(due.contains(CODE), "{due}");
    assert!(due.contains("Ufficio Fisco Sportello Nord"), "{due}");
    assert!(
        due.contains("2024-07-10"),
        "the reason names the date: {due}"
    );
    let token = page.csrf().expect("forms carry the token");

    // The live check names each problem, and saves nothing.
    let bad = old
        .replace("review_by = \"2024-07-10\"", "review_by = \"30/06/2027\"")
        .replace("owner = \"Ufficio Fisco Sportello Nord\"", "owner = \"\"");
    let check = web
        .post_form(
            "/cards/check",
            &[
                ("code", CODE),
                ("language", "it"),
                ("body", &bad),
                ("csrf_token", &token),
            ],
        )
        .await?;
    assert_eq!(check.status, 200);
    let said = check.text();
    assert!(
        said.contains("review_by") && said.contains("owner"),
        "{said}"
    );
    let listed = run_ok("hub", &["cards", "--data", path(&hub.data), "--json"]);
    assert!(listed.contains("Ufficio Fisco Sportello Nord"));

    // "Still correct": one POST, the date and the reviewer stamped, audited.
    let done = web
        .post_form(&format!("/cards/{CODE}/confirm"), &[("csrf_token", &token)])
        .await?;
    assert_eq!(done.status, 303, "{}", done.text());
    let rows: serde_json::Value = serde_json::from_str(&run_ok(
        "hub",
        &["cards", "--data", path(&hub.data), "--json"],
    ))?;
    let row = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["code"] == CODE))
        .cloned()
        .expect("listed");
    assert_eq!(row["verified_by"], USER);
    assert!(row["verified_on"].as_str().unwrap_or_default() > "2026-12-05");
    assert!(row["due"].is_null(), "{row}");
    let audit = web.get("/audit").await?.text();
    assert!(
        audit.contains("card.confirm") && audit.contains(USER),
        "{audit}"
    );
    let page = web.get("/cards").await?.text();
    let due = page.split("id=\"all-h\"").next().unwrap_or_default();
    assert!(!due.contains("Ufficio Fisco Sportello Nord"), "{due}");

    // The search glossary, linked from the cards: the file in force in an
    // editor; a bad group is named and the text kept, a good one saved.
    assert!(page.contains("href=\"/glossary\""), "{page}");
    let glossary = web.get("/glossary").await?;
    assert_eq!(glossary.status, 200);
    let html = glossary.text();
    assert!(html.contains("permesso di soggiorno"), "{html}");
    let token = glossary.csrf().expect("the form carries the token");
    let bad = "[[group]]\nterms = [\"numer podatkowy\"]\n";
    let refused = web
        .post_form("/glossary", &[("body", bad), ("csrf_token", &token)])
        .await?;
    assert_eq!(refused.status, 200);
    let said = refused.text();
    assert!(
        said.contains("gruppo 1") && said.contains("numer podatkowy"),
        "{said}"
    );
    let good = format!(
        "{}\n[[group]]\nterms = [\"numer podatkowy\", \"codice fiscale\"]\n",
        domain::glossary::DEFAULT_GLOSSARY
    );
    let saved = web
        .post_form("/glossary", &[("body", &good), ("csrf_token", &token)])
        .await?;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert!(web
        .get("/glossary")
        .await?
        .text()
        .contains("numer podatkowy"));
    assert!(web.get("/audit").await?.text().contains("glossary.put"));
    hub.terminate()?;
    Ok(())
}
