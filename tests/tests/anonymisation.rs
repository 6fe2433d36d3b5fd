//! A desk with the notes scrubber and a federation secret: the hub receives
//! scrubbed notes and pseudonyms, never the secret nor the personal data;
//! `desk-agent anonymise` gives the same record shape with no store and no
//! hub; `hub stats` publishes nothing below k.

use e2e::{eventually, files_containing, path, run, run_ok, Agent, Hub};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const NOTE: &str = "Signora Fatima Benali, tel. +39 333 765 4321, mail fatima.benali@posta.it, \
                    CF BNLFTM85T50Z330K, abita in via Milano 12, 25126 Brescia. \
                    Rinnovo per art. 5 D.Lgs. 286/1998, bollettino € 70,46.";
const PII: [&str; 5] = [
    "Benali",
    "333 765 4321",
    "fatima.benali@posta.it",
    "BNLFTM85T50Z330K",
    "via Milano 12",
];

fn visit_line(i: usize) -> String {
    serde_json::json!({
        "name": "Fatima", "surname": "Benali", "birth_date": "1985-12-10", "sex": "F",
        "nationality": "MA", "codice_fiscale": "BNLFTM85T50Z330K",
        "procedure": "permesso.rinnovo.lavoro", "channel": "walk_in", "language": "ar",
        "outcome": if i.is_multiple_of(2) { "answered" } else { "referred" },
        "referral": if i.is_multiple_of(2) { "" } else { "questura" },
        "minutes": 20, "notes": NOTE,
        // A closed week: a table with nationality counts only weeks that
        // are over.
        "visited_at": "2026-11-18T10:30:00+01:00",
    })
    .to_string()
}

fn pipe(args: &[&str], input: impl AsRef<[u8]>) -> std::process::Output {
    let mut child = Command::new(e2e::bin("desk-agent"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn desk-agent");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_ref())
        .expect("write stdin");
    child.wait_with_output().expect("desk-agent output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrubbed_notes_and_pseudonyms_reach_the_hub_and_the_secret_never_does(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);

    let secret_file = root.path().join("federation.secret");
    run_ok("desk-agent", &["secret", "generate", path(&secret_file)]);
    let secret_text = std::fs::read_to_string(&secret_file)?.trim().to_string();
    let again = run("desk-agent", &["secret", "generate", path(&secret_file)]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "a secret is never overwritten"
    );
    run_ok(
        "desk-agent",
        &[
            "secret",
            "import",
            path(&secret_file),
            "--data",
            path(&agent.data),
        ],
    );
    std::fs::remove_file(&secret_file)?;
    let config = agent.data.join("agent.toml");
    let text = std::fs::read_to_string(&config)?;
    std::fs::write(
        &config,
        text.replace("scrub_notes = false", "scrub_notes = true"),
    )?;
    agent.start().await?;

    // The offline preview and the desk produce the same record shape.
    let preview = pipe(
        &["anonymise", "--notes"],
        format!("{}\nnot json\n", visit_line(0)),
    );
    assert_eq!(preview.status.code(), Some(2), "the bad line is reported");
    let stderr = String::from_utf8_lossy(&preview.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    let preview: serde_json::Value = serde_json::from_slice(
        preview
            .stdout
            .split(|b| *b == b'\n')
            .next()
            .unwrap_or_default(),
    )?;
    let notes = preview["notes"].as_str().unwrap_or_default();
    for pii in PII {
        assert!(!notes.contains(pii), "{pii} left in {notes}");
    }
    assert!(
        notes.contains("art. 5 D.Lgs. 286/1998") && notes.contains("€ 70,46"),
        "{notes}"
    );
    assert_eq!(
        preview["pseudonym"],
        serde_json::Value::Null,
        "no secret, no pseudonym"
    );

    let input: String = (0..12).map(|i| visit_line(i) + "\n").collect();
    let file = root.path().join("visits.jsonl");
    std::fs::write(&file, &input)?;
    let out = run_ok(
        "desk-agent",
        &["record", "--agent", &agent.url, "--file", path(&file)],
    );
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(records.len(), 12);
    let pseudonym = records[0]["pseudonym"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(pseudonym.len(), 64, "{}", records[0]);
    assert!(
        records.iter().all(|r| r["pseudonym"] == pseudonym.as_str()),
        "same visitor, same year"
    );
    std::fs::remove_file(&file)?;

    let arrived = eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-a") == Some(12)).then_some(())
    })
    .await;
    assert!(
        arrived.is_ok(),
        "the hub holds {:?}; desk: {}",
        hub.records_of("desk-a"),
        agent.status()
    );
    assert_eq!(agent.status()["quarantined"], 0);

    // Published figures: 12 visits from one country, split 6/6 by outcome.
    let stats = run_ok(
        "hub",
        &[
            "stats",
            "--data",
            path(&hub.data),
            "--by",
            "nationality,outcome",
            "--period",
            "2026-11",
            "--json",
        ],
    );
    let stats: serde_json::Value = serde_json::from_str(&stats)?;
    assert_eq!(stats["totals"]["all"], 12, "{stats}");
    for row in stats["rows"].as_array().into_iter().flatten() {
        let c = &row["count"];
        assert!(
            c.as_u64().is_none_or(|n| n >= 5) || c == "<5" || c == "x",
            "{row}"
        );
    }
    let bad = run(
        "hub",
        &["stats", "--data", path(&hub.data), "--by", "nome", "--json"],
    );
    assert_eq!(bad.status.code(), Some(2));

    agent.terminate()?;
    hub.terminate()?;
    let secret_hits = files_containing(&hub.data, secret_text.as_bytes());
    assert!(
        secret_hits.is_empty(),
        "the hub holds the secret: {secret_hits:?}"
    );
    let logs_and_hub: Vec<_> = files_containing(root.path(), secret_text.as_bytes())
        .into_iter()
        .filter(|p| !p.starts_with(&agent.data))
        .collect();
    assert!(
        logs_and_hub.is_empty(),
        "secret outside the desk's folder: {logs_and_hub:?}"
    );
    for pii in PII.iter().chain(["Fatima", "1985-12-10"].iter()) {
        let hits = files_containing(root.path(), pii.as_bytes());
        assert!(hits.is_empty(), "{pii:?} found in {hits:?}");
    }
    Ok(())
}

/// An office program's export in Windows-1252 is an ordinary input: the line
/// that is not UTF-8 is refused alone, saying what to do, and the rest flow.
#[test]
fn a_line_saved_as_windows_1252_is_refused_alone_and_the_rest_flow() {
    let mut input = format!("{}\n", visit_line(0)).into_bytes();
    // "Città" as Windows-1252 writes it.
    input
        .extend_from_slice(b"{\"procedure\":\"permesso.rinnovo.lavoro\",\"notes\":\"Citt\xe0\"}\n");
    input.extend_from_slice(format!("{}\n", visit_line(1)).as_bytes());
    let out = pipe(&["anonymise", "--notes"], &input);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("UTF-8"),
        "{stderr}"
    );
    let records = String::from_utf8_lossy(&out.stdout);
    assert_eq!(records.lines().count(), 2, "{records} / {stderr}");
}
