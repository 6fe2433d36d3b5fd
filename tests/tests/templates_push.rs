//! Answer templates: every save is checked against the Italian reference
//! (a refusal names the problem, exit 2), saved bodies reach the desks, and
//! the desk renders them escaped, right-to-left with isolates for Arabic,
//! refusing a missing variable; a non-minor Italian edit makes translations
//! stale, a minor one does not.

use e2e::{eventually, path, run, run_ok, Agent, Hub};
use proto::{GetTemplateRequest, RenderTemplateRequest};
use std::time::Duration;

const KEY: &str = "permesso.rinnovo.lavoro/documenti";

fn put(
    hub: &Hub,
    dir: &std::path::Path,
    lang: &str,
    body: &str,
    minor: bool,
) -> std::process::Output {
    let file = dir.join(format!("{lang}.txt"));
    std::fs::write(&file, body).expect("write body");
    let mut args = vec![
        "template",
        "put",
        KEY,
        lang,
        path(&file),
        "--data",
        path(&hub.data),
    ];
    if minor {
        args.push("--minor");
    }
    run("hub", &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_checked_pushed_and_rendered_at_the_desk() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);
    agent.start().await?;

    // A translation before its reference, and a broken reference, are refused.
    let out = put(&hub, root.path(), "en", "Bring {{documento}}.", false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Italian"));
    let out = put(
        &hub,
        root.path(),
        "it",
        "Porti {{documento e la ricevuta.",
        false,
    );
    assert_eq!(out.status.code(), Some(2));

    let it = "Gentile {{nome}}, porti {{documento}} e la ricevuta di € {{importo}}.";
    assert!(put(&hub, root.path(), "it", it, false).status.success());
    // A translation that drops a field or invents one is refused by name.
    let out = put(
        &hub,
        root.path(),
        "en",
        "Dear {{name}}, bring {{documento}}.",
        false,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nome") && err.contains("importo") && err.contains("name"),
        "{err}"
    );
    let ar = "السيد {{nome}}، أحضر {{documento}} وإيصال {{importo}} يورو.";
    let out = put(&hub, root.path(), "ar", ar, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v_ar: u64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;

    let mut client = agent.client().await?;
    let got = eventually(Duration::from_secs(10), async || {
        let mut c = client.clone();
        c.get_template(GetTemplateRequest {
            key: KEY.into(),
            language: "ar".into(),
        })
        .await
        .ok()
        .map(|r| r.into_inner())
    })
    .await?;
    assert_eq!(got.version, v_ar);
    assert!(!got.stale);

    let vars = |name: &str| {
        [
            ("nome", name),
            ("documento", "passaporto <b>"),
            ("importo", "70,46"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let rendered = client
        .render_template(RenderTemplateRequest {
            key: KEY.into(),
            language: "ar".into(),
            variables: vars("John Smith"),
        })
        .await?
        .into_inner();
    assert_eq!(rendered.direction, "rtl");
    assert!(
        rendered.html.contains("<bdi>John Smith</bdi>"),
        "{}",
        rendered.html
    );
    assert!(
        rendered.html.contains("passaporto &lt;b&gt;") && !rendered.html.contains("<b>"),
        "{}",
        rendered.html
    );
    let mut missing = vars("Ana");
    missing.remove("importo");
    let refused = client
        .render_template(RenderTemplateRequest {
            key: KEY.into(),
            language: "it".into(),
            variables: missing,
        })
        .await
        .expect_err("a missing variable must be refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("importo"),
        "{}",
        refused.message()
    );
    // The same from the CLI, as scripts call it: HTML out, exit code 2 and
    // the missing field named otherwise.
    let cli = e2e::run_ok(
        "desk-agent",
        &[
            "render",
            KEY,
            "ar",
            "--agent",
            &agent.url,
            "--var",
            "nome=John Smith",
            "--var",
            "documento=passaporto <b>",
            "--var",
            "importo=70,46",
        ],
    );
    assert!(
        cli.starts_with("<div lang=\"ar\" dir=\"rtl\">") && cli.contains("<bdi>John Smith</bdi>"),
        "{cli}"
    );
    assert!(!cli.contains("<b>"), "{cli}");
    let out = e2e::run(
        "desk-agent",
        &[
            "render", KEY, "it", "--agent", &agent.url, "--var", "nome=Ana",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("importo"), "{err}");
    let out = e2e::run(
        "desk-agent",
        &["render", KEY, "it", "--agent", &agent.url, "--var", "nome"],
    );
    assert_eq!(out.status.code(), Some(2), "a --var without `=`");

    let absent = client
        .get_template(GetTemplateRequest {
            key: KEY.into(),
            language: "ur".into(),
        })
        .await
        .expect_err("no Urdu text yet");
    assert_eq!(absent.code(), tonic::Code::NotFound);
    assert!(
        absent.message().contains("ar") && absent.message().contains("it"),
        "{}",
        absent.message()
    );

    // A minor Italian edit keeps the Arabic current; a real one makes it stale.
    let minor = "Gentile {{nome}}, porti {{documento}} e la ricevuta di € {{importo}}!";
    assert!(put(&hub, root.path(), "it", minor, true).status.success());
    let major = "Gentile {{nome}}, porti {{documento}} originale e la ricevuta di € {{importo}}.";
    let v_major: u64 = String::from_utf8_lossy(&put(&hub, root.path(), "it", major, false).stdout)
        .trim()
        .parse()?;
    let stale_after = eventually(Duration::from_secs(10), async || {
        let s = agent.status();
        (s["versions"]["template"] == v_major).then_some(())
    })
    .await;
    assert!(stale_after.is_ok(), "{}", agent.status());
    let got = client
        .get_template(GetTemplateRequest {
            key: KEY.into(),
            language: "ar".into(),
        })
        .await?
        .into_inner();
    assert!(
        got.stale,
        "a non-minor edit of the reference makes the translation stale"
    );

    let rollout: serde_json::Value = serde_json::from_str(&run_ok(
        "hub",
        &["rollout", "--data", path(&hub.data), "--json"],
    ))?;
    assert_eq!(rollout["template_version"], v_major, "{rollout}");
    eventually(Duration::from_secs(10), async || {
        let r: serde_json::Value = serde_json::from_str(&run_ok(
            "hub",
            &["rollout", "--data", path(&hub.data), "--json"],
        ))
        .ok()?;
        (r["desks"][0]["template_version"] == v_major).then_some(())
    })
    .await?;

    // The harmonisation listing: Arabic stale with the reference's diff
    // since the text it was made from, a key lacking Arabic lists it as
    // missing, the minor edit is kept as a durable entry, and the desk runs
    // the current version of the key.
    let other = root.path().join("other.txt");
    std::fs::write(&other, "Porti la ricevuta.")?;
    run_ok(
        "hub",
        &[
            "template",
            "put",
            "permesso.rilascio.studio/ricevuta",
            "it",
            path(&other),
            "--data",
            path(&hub.data),
        ],
    );
    let listing: serde_json::Value = serde_json::from_str(&run_ok(
        "hub",
        &["templates", "--data", path(&hub.data), "--json"],
    ))?;
    let templates = listing["templates"].as_array().cloned().unwrap_or_default();
    let main = templates
        .iter()
        .find(|t| t["key"] == KEY)
        .cloned()
        .unwrap_or_default();
    let ar = main["languages"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["language"] == "ar"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(ar["state"], "stale", "{listing}");
    assert_eq!(ar["made_from"], v_ar - 1, "{listing}");
    let diff = ar["reference_diff"].as_str().unwrap_or_default();
    assert!(diff.contains("{+originale+}"), "{diff}");
    let second = templates
        .iter()
        .find(|t| t["key"] == "permesso.rilascio.studio/ricevuta")
        .cloned()
        .unwrap_or_default();
    assert_eq!(second["missing"], serde_json::json!(["ar"]), "{listing}");
    let minor_edits = listing["minor_edits"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(minor_edits.len(), 1, "{listing}");
    assert_eq!(minor_edits[0]["key"], KEY);
    assert_eq!(minor_edits[0]["kept_reference_version"], v_ar - 1);
    assert_eq!(
        main["rollout"]["current"],
        serde_json::json!(["desk-a"]),
        "{listing}"
    );

    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}

/// A template body's limit in characters (`domain::template::MAX_BODY_CHARS`).
const BODY_LIMIT: usize = 20_000;

/// A hundred Chinese translations at the body limit are 5.7 MB, more than a
/// gRPC message may carry: a desk enrolled afterwards still gets them all,
/// in several updates, and its records still flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_larger_than_a_message_reaches_a_new_desk_in_pieces() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    assert!(put(
        &hub,
        root.path(),
        "it",
        "Gentile {{nome}}, porti il passaporto.",
        false
    )
    .status
    .success());
    let mut version = 0;
    for n in 0..100 {
        // Each one differs, so that each is a new log entry.
        let body = format!("{{{{nome}}}} {n} {}", "请".repeat(BODY_LIMIT - 20));
        let out = put(&hub, root.path(), "zh", &body, false);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        version = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    }
    let bundle = hub.add_desk("desk-late");
    let mut agent = Agent::enroll(root.path(), "desk-late", &bundle);
    agent.start().await?;
    eventually(Duration::from_secs(60), async || {
        (agent.status()["versions"]["template"] == version).then_some(())
    })
    .await?;
    let mut client = agent.client().await?;
    let t = client
        .get_template(GetTemplateRequest {
            key: KEY.into(),
            language: "zh".into(),
        })
        .await?
        .into_inner();
    assert!(
        t.body.starts_with("{{nome}} 99 "),
        "the newest translation is held"
    );
    assert_eq!(
        t.body.chars().count(),
        BODY_LIMIT - 20 + "{{nome}} 99 ".len()
    );
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}
