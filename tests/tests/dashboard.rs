//! The coordinators' dashboard over real HTTPS with the hub's own
//! certificate: sign-in with an Argon2 account, strict cookies, CSRF on
//! every POST, throttled sign-in, escaped untrusted text, protected
//! downloads, and an audit log that names who did what from CLI and web.

use e2e::web::{add_user, enable_dashboard, Web};
use e2e::{eventually, path, run, run_ok, Agent, Hub};
use std::io::Read;
use std::time::Duration;

const USER: &str = "coordinatore";
const PASSWORD: &str = "una password lunga e sicura";

async fn hub_with_dashboard(root: &std::path::Path) -> anyhow::Result<(Hub, String)> {
    let mut hub = Hub::init(root);
    let addr = enable_dashboard(&hub.data)?;
    let out = add_user(&hub.data, USER, PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    hub.start().await?;
    let a = addr.clone();
    eventually(Duration::from_secs(20), async || {
        tokio::net::TcpStream::connect(&a).await.ok()
    })
    .await?;
    Ok((hub, addr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_strict_cookies_csrf_and_a_rate_limit() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (hub, addr) = hub_with_dashboard(root.path()).await?;
    let mut web = Web::new(&hub.data, &addr)?;

    // The account is in the store (as an Argon2 hash, `hub::users`' own
    // tests), so that every replica of a shared store signs it in: no
    // users file is written beside it.
    assert!(!hub.data.join("users.json").exists());
    let refused = add_user(&hub.data, "Bad Name", PASSWORD);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "an invalid name is refused with exit code 2"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid user name"));

    // Signed out, pages send you to the sign-in page.
    let desks = web.get("/desks").await?;
    assert_eq!(desks.status, 303);
    assert_eq!(desks.header("location"), Some("/login"));

    // The sign-in form comes with a signed form cookie, and no session.
    let login = web.get("/login").await?;
    assert_eq!(login.status, 200);
    assert!(
        !login
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("rete_session=")),
        "no session before sign-in"
    );
    let cookie = login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-rete_login="))
        .expect("a sign-in form cookie")
        .to_string();
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie}");
    }
    let token = login.csrf().expect("the sign-in form carries a token");
    assert!(
        login.text().contains(r#"name="username""#) && login.text().contains(r#"name="password""#)
    );

    // POSTs without the session's token are refused, and say why.
    let no_token = web
        .post_form("/login", &[("username", USER), ("password", PASSWORD)])
        .await?;
    assert_eq!(no_token.status, 403);
    assert!(
        no_token.text().contains("csrf_token"),
        "{}",
        no_token.text()
    );
    let wrong = web
        .post_form(
            "/login",
            &[
                ("username", USER),
                ("password", PASSWORD),
                ("csrf_token", "0123"),
            ],
        )
        .await?;
    assert_eq!(wrong.status, 403);
    assert!(wrong.text().contains("csrf_token"), "{}", wrong.text());

    let bad = web
        .post_form(
            "/login",
            &[
                ("username", USER),
                ("password", "sbagliata!!"),
                ("csrf_token", &token),
            ],
        )
        .await?;
    assert_eq!(bad.status, 401);
    assert!(bad.text().contains("non corretti"), "{}", bad.text());

    // A session id planted before sign-in is not the one signed in.
    web.jar.insert("rete_session".into(), "ab".repeat(32));
    let pre_session = web.jar.get("rete_session").cloned();
    let good = web
        .post_form(
            "/login",
            &[
                ("username", USER),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await?;
    assert_eq!(good.status, 303, "{}", good.text());
    let signed = good
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("rete_session="))
        .expect("a new session cookie at sign-in")
        .to_string();
    for attr in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(signed.contains(attr), "{attr} missing in {signed}");
    }
    assert_ne!(
        web.jar.get("rete_session"),
        pre_session.as_ref(),
        "sign-in rotates the session id"
    );

    let desks = web.get("/desks").await?;
    assert_eq!(desks.status, 200);
    assert!(desks.text().contains("<h1>Sportelli</h1>"));
    let english = web.get("/desks?lang=en").await?;
    assert!(english.text().contains("<h1>Desks</h1>"));
    assert!(english
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("rete_lang=en")));

    // Signed in, every POST still needs the token.
    let action_paths = [
        "/guidance",
        "/desks",
        "/templates",
        "/guidance/orari/retire",
        "/desks/sportello-x/revoke",
        "/proposals/00000000-0000-4000-8000-000000000000/accept",
        "/proposals/00000000-0000-4000-8000-000000000000/decline",
    ];
    for path in action_paths {
        for token in [None, Some("not-the-token")] {
            let mut fields = vec![("title", "t"), ("body", "b")];
            if let Some(t) = token {
                fields.push(("csrf_token", t));
            }
            let resp = web.post_form(path, &fields).await?;
            assert_eq!(resp.status, 403, "{path} with token {token:?}");
            assert!(resp.text().contains("CSRF") || resp.text().contains("csrf_token"));
        }
    }

    // Sign-out ends the session on the hub, not only in the browser.
    let session = web.jar.get("rete_session").cloned().unwrap_or_default();
    let page = web.get("/desks").await?;
    let token = page.csrf().expect("token");
    assert_eq!(
        web.post_form("/logout", &[("csrf_token", &token)])
            .await?
            .status,
        303
    );
    web.jar.insert("rete_session".into(), session);
    assert_eq!(web.get("/desks").await?.status, 303);

    // Wrong passwords are throttled; past the limit even the right one waits.
    let mut attacker = Web::new(&hub.data, &addr)?;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(attacker.login(USER, "tentativo-errato").await?.status);
    }
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[5], 429, "{statuses:?}");
    let blocked = attacker.login(USER, PASSWORD).await?;
    assert_eq!(blocked.status, 429);
    assert!(blocked.header("retry-after").is_some());
    assert!(blocked.text().contains("Troppi tentativi") && blocked.text().contains("Too many"));

    // The rightful coordinator, at another address, still signs in: an
    // account is slowed down by failures, never locked by them.
    let mut rightful = Web::new(&hub.data, &addr)?.from_source([127, 0, 0, 2].into());
    assert_eq!(rightful.login(USER, PASSWORD).await?.status, 303);
    // A name that is no account is audited only as a hash: it may be a
    // password typed in the wrong box.
    let mut typo = Web::new(&hub.data, &addr)?.from_source([127, 0, 0, 3].into());
    assert_eq!(typo.login("Segreta-Password-42", "x").await?.status, 401);
    let audit = rightful.get("/audit").await?;
    assert!(audit.text().contains("unknown#"), "{}", audit.text());
    assert!(!audit.text().contains("Segreta-Password-42"));
    Ok(())
}

/// The sign-in page costs the hub no state, so a flood of anonymous visits
/// cannot push a signed-in coordinator out; and sessions are stored, so a
/// hub killed and started again keeps them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_visits_sign_no_one_out_and_sessions_outlive_a_restart() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, addr) = hub_with_dashboard(root.path()).await?;
    let mut coordinator = Web::new(&hub.data, &addr)?;
    assert_eq!(coordinator.login(USER, PASSWORD).await?.status, 303);
    let session = coordinator.jar.get("rete_session").cloned();
    assert!(session.is_some(), "signed in");

    const VISITS: usize = 10_000;
    const CLIENTS: usize = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let web = coordinator.clone();
        tasks.spawn(async move { web.anonymous_gets("/login", VISITS / CLIENTS).await });
    }
    let (mut visits, mut handed_out) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        for page in done?? {
            assert_eq!(page.status, 200, "GET /login: {}", page.text());
            visits += 1;
            handed_out += page
                .set_cookies()
                .iter()
                .filter(|c| c.starts_with("rete_session="))
                .count();
        }
    }
    assert_eq!(visits, VISITS);
    assert_eq!(handed_out, 0, "an anonymous visit got a session");
    assert_eq!(
        coordinator.get("/desks").await?.status,
        200,
        "still signed in"
    );

    hub.kill();
    hub.start().await?;
    let a = addr.clone();
    eventually(Duration::from_secs(20), async || {
        tokio::net::TcpStream::connect(&a).await.ok()
    })
    .await?;
    let after = coordinator.get("/desks").await?;
    assert_eq!(after.status, 200, "the restart signed the coordinator out");
    assert!(after.text().contains("<h1>Sportelli</h1>"));
    assert_eq!(coordinator.jar.get("rete_session").cloned(), session);
    // The store holds only the hash of the cookie value.
    let value = session.unwrap_or_default();
    let found = e2e::files_containing(&hub.data, value.as_bytes());
    assert!(found.is_empty(), "the session id is on disk: {found:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_text_is_escaped_and_every_action_is_audited() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (hub, addr) = hub_with_dashboard(root.path()).await?;
    let mut web = Web::new(&hub.data, &addr)?;
    assert_eq!(web.login(USER, PASSWORD).await?.status, 303);

    // Publish from the dashboard, with markup in the title and the body.
    let page = web.get("/guidance").await?;
    let token = page.csrf().expect("token");
    let published = web
        .post_form(
            "/guidance",
            &[
                ("csrf_token", &token),
                ("id", "prova-script"),
                ("title", "<script>alert('titolo')</script>"),
                ("body", "Testo <script>alert(1)</script> <b>grassetto</b>"),
                ("severity", "urgent"),
                ("procedures", "permesso.rinnovo.lavoro"),
            ],
        )
        .await?;
    assert_eq!(published.status, 303, "{}", published.text());
    let list = web.get("/guidance").await?.text();
    assert!(
        !list.contains("<script>alert"),
        "markup must not reach the page"
    );
    let list = entities(&list);
    assert!(
        list.contains("&lt;script&gt;alert(&#39;titolo&#39;)&lt;/script&gt;"),
        "{list}"
    );
    assert!(list.contains("&lt;b&gt;grassetto&lt;/b&gt;"), "{list}");
    assert!(
        !list.contains("<script>alert"),
        "markup must not reach the page"
    );
    assert!(
        !list.contains("<b>grassetto"),
        "markup must not reach the page"
    );

    // A refused form comes back with the reason and what was typed.
    let token = web.get("/guidance").await?.csrf().expect("token");
    let refused = web
        .post_form(
            "/guidance",
            &[
                ("csrf_token", &token),
                ("title", "Senza testo"),
                ("body", " "),
            ],
        )
        .await?;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("field `body`") && refused.text().contains("Senza testo"));

    // The CLI, through the running hub, and the web both land in the audit log.
    hub.publish_guidance_toml(
        root.path(),
        "orari",
        "id = \"orari\"\ntitle = \"Orari\"\nbody = \"Lunedì chiuso\"\n",
    );
    hub.add_desk("desk-cli");
    let token = web.get("/desks").await?.csrf().expect("token");
    let bundle = web
        .post_form(
            "/desks",
            &[
                ("csrf_token", &token),
                ("desk_id", "desk-web"),
                ("hub_address", &hub.federation),
            ],
        )
        .await?;
    assert_eq!(bundle.status, 200, "{}", bundle.text());
    assert!(bundle
        .header("content-disposition")
        .is_some_and(|d| d.contains("desk-web.bundle")));
    assert!(bundle.text().contains("desk_id") && bundle.text().contains("BEGIN"));
    // The bundle works: the desk enrols and connects.
    let bundle_path = root.path().join("desk-web.bundle");
    std::fs::write(&bundle_path, &bundle.body)?;
    let mut agent = Agent::enroll(root.path(), "desk-web", &bundle_path);
    agent.start().await?;
    eventually(Duration::from_secs(20), async || {
        let page = web.get("/desks").await.ok()?.text();
        page.contains("● collegato").then_some(())
    })
    .await?;
    let token = web.get("/desks").await?.csrf().expect("token");
    let revoked = web
        .post_form("/desks/desk-cli/revoke", &[("csrf_token", &token)])
        .await?;
    assert_eq!(revoked.status, 303);
    let duplicate = web
        .post_form(
            "/desks",
            &[
                ("csrf_token", &token),
                ("desk_id", "desk-web"),
                ("hub_address", &hub.federation),
            ],
        )
        .await?;
    assert_eq!(duplicate.status, 422);
    assert!(duplicate.text().contains("already enrolled"));

    let audit = web.get("/audit").await?.text();
    for (actor, action, target) in [
        ("cli", "user.add", USER),
        (USER, "guidance.publish", "prova-script"),
        ("cli", "guidance.publish", "orari"),
        ("cli", "desk.add", "desk-cli"),
        (USER, "desk.add", "desk-web"),
        (USER, "desk.revoke", "desk-cli"),
    ] {
        let row = format!("<td>{actor}</td><td><code>{action}</code></td><td>{target}</td>");
        assert!(audit.contains(&row), "no audit row {row} in {audit}");
    }
    // Amending is audited as such, with the same escaping in the log.
    let token = web
        .get("/guidance?edit=orari")
        .await?
        .csrf()
        .expect("token");
    let amended = web
        .post_form(
            "/guidance",
            &[
                ("csrf_token", &token),
                ("id", "orari"),
                ("title", "Orari <i>nuovi</i>"),
                ("body", "Martedì chiuso"),
            ],
        )
        .await?;
    assert_eq!(amended.status, 303);
    let audit = web.get("/audit").await?.text();
    assert!(!audit.contains("<i>nuovi"));
    let audit = entities(&audit);
    assert!(audit.contains(&format!(
        "<td>{USER}</td><td><code>guidance.amend</code></td><td>orari</td>"
    )));
    assert!(audit.contains("Orari &lt;i&gt;nuovi&lt;/i&gt;"), "{audit}");
    let _ = run("hub", &["desks", "--data", path(&hub.data)]);
    Ok(())
}

/// The page with numeric character references spelled as named ones, so
/// that assertions do not depend on which escape the template engine picks.
fn entities(html: &str) -> String {
    html.replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#34;", "&quot;")
        .replace("&#x27;", "&#39;")
}

fn visit(nationality: &str, outcome: &str) -> String {
    serde_json::json!({
        "name": "Amina", "surname": "El Idrissi", "birth_date": "1990-04-03", "sex": "F",
        "nationality": nationality, "procedure": "permesso.rinnovo.lavoro", "channel": "walk_in",
        "language": "ar", "outcome": outcome, "minutes": 18,
    })
    .to_string()
}

/// A visit in week 47 of 2026, a closed week: tables with nationality
/// count only weeks that are over.
fn visit_in_november(nationality: &str, outcome: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&visit(nationality, outcome)).unwrap_or_default();
    v["visited_at"] = "2026-11-18T10:15:00+01:00".into();
    v.to_string()
}

/// Every figure of a published table: a number that is 0 or at least 5, or a hidden mark.
fn assert_protected(figure: &str, context: &str) {
    match figure.parse::<u64>() {
        Ok(n) => assert!(n == 0 || n >= 5, "figure {n} below k = 5 in {context}"),
        Err(_) => assert!(
            figure == "<5" || figure == "x",
            "unexpected figure {figure:?} in {context}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_page_and_downloads_hide_small_cells() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (hub, addr) = hub_with_dashboard(root.path()).await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;
    // This week's visits for the overview; November's for the statistics.
    let mut lines: Vec<String> = (0..7).map(|_| visit("MA", "answered")).collect();
    lines.extend((0..2).map(|_| visit("SN", "referred")));
    lines.push(visit("PE", "answered"));
    lines.extend((0..7).map(|_| visit_in_november("MA", "answered")));
    lines.extend((0..6).map(|_| visit_in_november("MA", "referred")));
    lines.extend((0..5).map(|_| visit_in_november("SN", "answered")));
    lines.extend((0..5).map(|_| visit_in_november("SN", "referred")));
    lines.push(visit_in_november("PE", "answered"));
    let file = root.path().join("visits.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n")?;
    run_ok(
        "desk-agent",
        &["record", "--agent", &agent.url, "--file", path(&file)],
    );
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-a") == Some(34)).then_some(())
    })
    .await?;

    let mut web = Web::new(&hub.data, &addr)?;
    assert_eq!(web.login(USER, PASSWORD).await?.status, 303);
    let overview = web.get("/").await?.text();
    assert!(
        overview.contains(r#"<strong id="visits-week">10</strong>"#),
        "{overview}"
    );
    assert!(overview.contains("<svg"), "charts are inline SVG");

    let query = "by=nationality&by2=outcome&period=2026-11";
    let page = web.get(&format!("/stats?{query}")).await?;
    assert_eq!(page.status, 200);
    let page_text = entities(&page.text());
    let csv = web.get(&format!("/stats.csv?{query}")).await?;
    assert_eq!(csv.status, 200);
    assert!(csv
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    let text = csv.text();
    let mut rows = text.lines();
    // Names for people first, the count, then the codes for machines.
    assert_eq!(
        rows.next(),
        Some("Cittadinanza,Esito,Numero,nationality,outcome")
    );
    let mut cells = 0;
    // The cross-tab's rows, from the CSV: per country code, its name and
    // its figures in column order.
    let mut crosstab: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut notes = Vec::new();
    for row in rows {
        let cols: Vec<&str> = row.split(',').collect();
        if cols[0] == "nota" {
            notes.push(row.to_string());
            continue;
        }
        let figure = cols[2];
        assert_protected(figure, &text);
        if cols[0] != "Totale" {
            match crosstab.last_mut() {
                Some((code, _, figures)) if code == cols[3] => figures.push(figure.to_string()),
                _ => crosstab.push((cols[3].into(), cols[0].into(), vec![figure.to_string()])),
            }
        }
        cells += 1;
    }
    assert!(cells > 2, "{text}");
    for (code, name, figures) in &crosstab {
        let mut html = format!("<tr><th scope=\"row\" title=\"{code}\">{name}</th>");
        for f in figures {
            html.push_str(&format!(
                "<td class=\"num\">{}</td>",
                f.replace('<', "&lt;")
            ));
        }
        assert!(
            page_text.contains(&html),
            "{html} not on the page:\n{page_text}"
        );
    }
    assert!(
        text.contains("Marocco,Inviato a un ufficio,6,MA,referred"),
        "{text}"
    );
    // A country below 5 in the whole year is merged up the M49 tree, and
    // the page and the CSV say so, with the information loss.
    assert!(text.contains("altre nazionalità"), "{text}");
    assert!(
        notes.iter().any(|n| n.contains("Celle nascoste")),
        "{notes:?}"
    );
    assert!(page_text.contains("Perdita di informazione"), "{page_text}");
    assert!(
        page_text.contains("2026-11 (2026-W45–2026-W48)"),
        "{page_text}"
    );
    // The total is published or withheld as the protection decides, never
    // computed by the page.
    assert!(
        text.lines()
            .any(|l| l.starts_with("Totale,,") && l.ends_with(",total,")),
        "{text}"
    );
    for row in text.lines().skip(1).filter(|l| !l.starts_with("nota")) {
        let figure = row.split(',').nth(2).unwrap_or_default();
        assert!(!["1", "2", "3", "4"].contains(&figure), "{row}");
    }

    let xlsx = web.get("/stats.xlsx?by=nationality&period=2026-11").await?;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.body.starts_with(b"PK"), "an XLSX is a zip file");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx.body.clone()))?;
    let mut sheet = String::new();
    archive
        .by_name("xl/worksheets/sheet1.xml")?
        .read_to_string(&mut sheet)?;
    let mut numbers = Vec::new();
    for cell in sheet.split("<c ").skip(1) {
        let numeric = !cell.contains("t=\"s\"") && !cell.contains("t=\"str\"");
        if let (true, Some(v)) = (
            numeric,
            cell.split("<v>")
                .nth(1)
                .and_then(|v| v.split("</v>").next()),
        ) {
            assert_protected(v, &sheet);
            numbers.push(v.to_string());
        }
    }
    // The spreadsheet holds the figures the CSV of the same table holds:
    // one protection, two formats; its notes are on a sheet of their own.
    let same = web
        .get("/stats.csv?by=nationality&period=2026-11")
        .await?
        .text();
    let table_lines: Vec<&str> = same
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("nota"))
        .collect();
    let mut published: Vec<String> = table_lines
        .iter()
        .filter_map(|row| row.split(',').nth(1))
        .filter(|f| f.parse::<u64>().is_ok())
        .map(String::from)
        .collect();
    published.sort();
    numbers.sort();
    assert_eq!(numbers, published, "XLSX against CSV:\n{same}");
    assert_eq!(
        sheet.matches("<row ").count(),
        table_lines.len() + 1,
        "one spreadsheet row per CSV line of the table:\n{same}"
    );
    let mut notes_sheet = String::new();
    archive
        .by_name("xl/worksheets/sheet2.xml")?
        .read_to_string(&mut notes_sheet)?;
    assert!(notes_sheet.contains("<row "), "{notes_sheet}");
    let mut strings = String::new();
    archive
        .by_name("xl/sharedStrings.xml")?
        .read_to_string(&mut strings)?;
    assert!(
        strings.contains("nationality") && strings.contains("MA") && strings.contains("Marocco"),
        "{strings}"
    );
    assert!(strings.contains("Celle nascoste"), "{strings}");

    let bad = web.get("/stats.csv?by=name").await?;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("name"), "{}", bad.text());
    Ok(())
}
