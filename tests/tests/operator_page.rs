//! The operator page over plain HTTP against the real `desk-agent`: a visit
//! recorded through the form is the anonymised record `RecordVisit` makes
//! and reaches the hub; a bad field comes back (422) beside the other
//! values as typed, naming the field, with nothing stored; guidance and
//! template text holding `<script>` shows as text; the page refuses a
//! non-loopback address without the explicit flag, a foreign `Host` and a
//! form posted from another site.

use e2e::http::{self, post_form};
use e2e::{eventually, free_addr, path, run, run_ok, Agent, Hub};
use std::time::Duration;

const KEY: &str = "permesso.rinnovo.lavoro/documenti";

/// The text a browser shows for escaped HTML (askama writes `&#60;`, the
/// domain's renderer `&lt;`: both are text, never markup).
fn shown(html: &str) -> String {
    html.replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The anonymised record the page shows after a save.
fn saved_record(html: &str) -> serde_json::Value {
    let start = html.find(r#"<pre id="saved-json">"#).map(|i| i + 21);
    let json = start
        .and_then(|s| html[s..].find("</pre>").map(|e| &html[s..s + e]))
        .unwrap_or("");
    serde_json::from_str(&shown(json)).unwrap_or_default()
}

fn visit<'a>(minutes: &'a str, nationality: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("procedure", "rinnovo lavoro"),
        ("channel", "walk_in"),
        ("language", "ar"),
        ("outcome", "referred"),
        ("referral", "questura"),
        ("minutes", minutes),
        ("age", "38"),
        ("birth_date", ""),
        ("sex", "F"),
        ("nationality", nationality),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_recorded_on_the_page_is_anonymised_stored_and_sent() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-p");
    let mut agent = Agent::enroll(root.path(), "desk-p", &bundle);
    agent.start().await?;

    let home = http::get(&agent.http, "/")?;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Registra una visita"));
    assert!(
        home.body.contains("(permesso.rinnovo.lavoro)"),
        "procedure picker"
    );
    assert!(home.body.contains("Marocco (MA)"), "nationality picker");

    let saved = post_form(&agent.http, "/", &visit("18", "Marocco"))?;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Visita registrata"));
    let record = saved_record(&saved.body);
    assert_eq!(
        record["procedure"], "permesso.rinnovo.lavoro",
        "{}",
        saved.body
    );
    assert_eq!(record["age_band"], "35-44");
    assert_eq!(record["duration_band"], "15-30");
    assert_eq!(record["nationality"], "MA");
    assert_eq!(record["referral"], "questura");
    assert_eq!(record["desk_id"], "desk-p");
    assert_eq!(record["sex"], "F");
    // What the page showed is what the outbox holds and the hub receives.
    assert_eq!(agent.status()["last_seq"], 1);
    eventually(Duration::from_secs(20), async || {
        (hub.records_of("desk-p") == Some(1)).then_some(())
    })
    .await?;
    let status = http::get(&agent.http, "/stato")?;
    assert_eq!(status.status, 200);
    assert!(status.body.contains("Collegato"), "{}", status.body);
    assert!(
        status.body.contains(r#"<dd id="sent">1</dd>"#),
        "{}",
        status.body
    );

    // English on request, kept in a cookie.
    let switch = http::get(&agent.http, "/lingua?to=en&back=/stato")?;
    assert_eq!(switch.status, 303);
    assert!(switch
        .header("set-cookie")
        .unwrap_or("")
        .contains("lang=en"));
    let en = http::request(&agent.http, "GET", "/", &[("Cookie", "lang=en")], None)?;
    assert!(en.body.contains("Record a visit") && en.body.contains("Morocco (MA)"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_field_keeps_every_value_and_names_the_field() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let hub = Hub::init(root.path());
    let bundle = hub.add_desk("desk-q");
    let mut agent = Agent::enroll(root.path(), "desk-q", &bundle);
    agent.start().await?;

    let refused = post_form(&agent.http, "/", &visit("dieci", "Marocco"))?;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains(r#"id="minutes-error">un numero intero di minuti"#),
        "{}",
        refused.body
    );
    assert!(refused
        .body
        .contains(r#"id="minutes" name="minutes" inputmode="numeric" value="dieci""#));
    assert!(
        refused.body.contains(r#"value="Marocco""#),
        "nationality kept"
    );
    assert!(
        refused.body.contains(r#"value="rinnovo lavoro""#),
        "procedure kept"
    );
    assert!(
        refused
            .body
            .contains(r#"<option value="questura" selected>"#),
        "referral kept"
    );
    assert!(refused.body.contains(r#"value="38""#), "age kept");

    // A refusal by intake itself lands beside its field too.
    let mut bad_language = visit("10", "");
    bad_language[2] = ("language", "not a language!");
    let refused = post_form(&agent.http, "/", &bad_language)?;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains(r#"id="language-error""#),
        "{}",
        refused.body
    );

    // Too long a value is refused by name, never echoed.
    let long = "x".repeat(500);
    let refused = post_form(&agent.http, "/", &visit("10", &long))?;
    assert_eq!(refused.status, 422);
    assert!(refused
        .body
        .contains(r#"id="nationality-error">al massimo 200 caratteri"#));

    // An ambiguous procedure lists the candidates.
    let mut vague = visit("10", "");
    vague[0] = ("procedure", "permesso");
    let refused = post_form(&agent.http, "/", &vague)?;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("corrispondono"), "{}", refused.body);

    assert_eq!(agent.status()["last_seq"], 0, "nothing refused was stored");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_in_guidance_and_templates_shows_as_text() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-s");
    let mut agent = Agent::enroll(root.path(), "desk-s", &bundle);
    agent.start().await?;

    hub.publish_guidance_toml(root.path(), "g", "id = \"xss\"\ntitle = \"<script>alert('t')</script> Orari\"\nbody = \"<img src=x onerror=alert(1)> Questura chiusa\"\nseverity = \"urgent\"\nprocedures = [\"permesso.rinnovo.lavoro\"]\n");
    let it = root.path().join("it.txt");
    std::fs::write(&it, "Porti <script>x()</script> e {{documento}}.")?;
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
    eventually(Duration::from_secs(20), async || {
        let v = &agent.status()["versions"];
        (v["guidance"].as_u64() >= Some(1) && v["template"].as_u64() >= Some(1)).then_some(())
    })
    .await?;

    let page = http::get(&agent.http, "/?procedure=permesso.rinnovo.lavoro")?;
    let text = shown(&page.body);
    assert!(
        text.contains("<script>alert('t')</script> Orari"),
        "{}",
        page.body
    );
    assert!(text.contains("<img src=x onerror=alert(1)> Questura chiusa"));
    assert!(!page.body.contains("<script>alert") && !page.body.contains("<img src=x"));

    let answer = http::post_form(
        &agent.http,
        "/risposta",
        &[
            ("key", KEY),
            ("language", "it"),
            ("v.documento", "<b>passaporto</b>"),
        ],
    )?;
    assert_eq!(answer.status, 200);
    // A page with a visitor's details is never cached, framed or referred.
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.header("x-frame-options"), Some("DENY"));
    assert_eq!(answer.header("referrer-policy"), Some("same-origin"));
    assert!(answer
        .header("content-security-policy")
        .is_some_and(|c| c.contains("frame-ancestors 'none'")));
    // Details in a URL are not taken: they would stay in the history.
    let path = format!(
        "/risposta?key={}&language=it&v.documento=passaporto-in-url",
        http::encode(KEY)
    );
    let from_url = http::get(&agent.http, &path)?;
    assert_eq!(from_url.status, 200);
    assert!(
        !from_url.body.contains("passaporto-in-url"),
        "{}",
        from_url.body
    );
    let text = shown(&answer.body);
    assert!(
        text.contains("Porti <script>x()</script> e "),
        "{}",
        answer.body
    );
    assert!(text.contains("<b>passaporto</b>"));
    assert!(!answer.body.contains("<script>x()") && !answer.body.contains("<b>passaporto"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_stays_on_loopback_unless_told_and_refuses_other_sites() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let hub = Hub::init(root.path());
    let bundle = hub.add_desk("desk-l");
    let mut agent = Agent::enroll(root.path(), "desk-l", &bundle);
    let data = path(&agent.data).to_string();

    let port = free_addr().rsplit(':').next().unwrap_or("0").to_string();
    let open = format!("0.0.0.0:{port}");
    let out = run(
        "desk-agent",
        &["serve", "--data", &data, "--http-addr", &open],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("--http-public"),
        "{err}"
    );

    // The same through agent.toml's key and its environment override.
    let out = std::process::Command::new(e2e::bin("desk-agent"))
        .args(["serve", "--data", &data])
        .env("RETE_AGENT_HTTP_ADDR", &open)
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--http-public"));

    agent.start().await?;
    let foreign_host = http::request(
        &agent.http,
        "GET",
        "/",
        &[("Host", "rebound.example:80")],
        None,
    )?;
    assert_eq!(foreign_host.status, 403);
    assert!(foreign_host.body.contains("loopback"));
    let body = http::form(&visit("10", ""));
    let cross_site = http::request(
        &agent.http,
        "POST",
        "/",
        &[("Origin", "http://evil.example")],
        Some(&body),
    )?;
    assert_eq!(cross_site.status, 403);
    assert!(cross_site.body.contains("another site"));
    let same_site_origin = format!("http://{}", agent.http);
    let ok = http::request(
        &agent.http,
        "POST",
        "/",
        &[("Origin", &same_site_origin)],
        Some(&body),
    )?;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        agent.status()["last_seq"],
        1,
        "only the same-site form was stored"
    );
    Ok(())
}

/// The local API takes the visitor's personal data in the clear: it stays on
/// loopback unless the desk opens it on purpose, and then every call must
/// carry the token the agent keeps in its folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_api_stays_on_loopback_unless_told_and_then_asks_for_its_token(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let hub = Hub::init(root.path());
    let bundle = hub.add_desk("desk-t");
    let mut agent = Agent::enroll(root.path(), "desk-t", &bundle);
    let data = path(&agent.data).to_string();
    let open = format!("0.0.0.0:{}", free_addr().rsplit(':').next().unwrap_or("0"));
    let out = run("desk-agent", &["serve", "--data", &data, "--listen", &open]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("local API") && err.contains("--listen-public"),
        "{err}"
    );

    // Opened on purpose (still on loopback here, so the test reaches it):
    // calls without the token are refused.
    agent.start_with(&["--listen-public"]).await?;
    let out = run("desk-agent", &["status", "--agent", &agent.url]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("api.token"), "{err}");
    let token = agent.data.join("api.token");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&token)?.permissions().mode() & 0o777,
        0o600
    );
    let status = run_ok(
        "desk-agent",
        &[
            "status",
            "--agent",
            &agent.url,
            "--token-file",
            path(&token),
            "--json",
        ],
    );
    assert!(status.contains("\"desk_id\""), "{status}");
    // The operator page, in process, is unaffected.
    assert_eq!(http::get(&agent.http, "/")?.status, 200);
    agent.terminate()?;
    Ok(())
}
