//! The bilingual handout at the desk, with the real binaries: from the CLI
//! and from the operator page's POST form, Italian beside Arabic, with the
//! operator's additions for this visitor in the PDF and nowhere on the
//! desk's disk or in its log; the card page shows both languages, Arabic
//! right to left.

use e2e::{files_containing, run};
use std::path::Path;
use std::process::Command;

const CODE: &str = "permesso.rinnovo.lavoro";
const APPOINTMENT: &str = "Questura 14 gennaio 2031 ore 9:40";
const MISSING: &str = "contratto Zanardelli Logistica";

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args([pdf.to_str().unwrap_or_default(), "-"])
        .output()
        .expect("pdftotext (Debian poppler-utils; cargo xtask test installs it)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handout_carries_the_visitors_additions_and_the_desk_keeps_none() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut hub, mut agent) = e2e::desk_with_cards(root.path()).await?;

    // From the CLI.
    let pdf = root.path().join("handout-ar.pdf");
    let out = run(
        "desk-agent",
        &[
            "handout",
            CODE,
            "ar",
            "--agent",
            &agent.url,
            "--out",
            pdf.to_str().unwrap_or_default(),
            "--var",
            &format!("Appuntamento={APPOINTMENT}"),
            "--var",
            &format!("Documento mancante={MISSING}"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = pdftotext(&pdf);
    for words in [
        APPOINTMENT,
        MISSING,
        "sportello-centro",
        "marca da bollo",
        "D.Lgs. 286/1998",
    ] {
        assert!(text.contains(words), "{words} in the PDF:\n{text}");
    }
    assert!(
        text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
        "Arabic text in the PDF"
    );

    // A language the desk has no card in: refused, naming what it holds.
    let out = run(
        "desk-agent",
        &[
            "handout",
            CODE,
            "sw",
            "--agent",
            &agent.url,
            "--out",
            "/dev/null",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("ar") && said.contains("en"), "{said}");

    // From the operator page: the card side by side, then the handout as a
    // POST whose additions never reach a URL.
    let page = e2e::http::get(
        &agent.http,
        &format!("/scheda?procedure={CODE}&language=ar"),
    )?;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = &page.body;
    assert!(
        html.contains("dir=\"rtl\"") && html.contains("lang=\"ar\""),
        "{html}"
    );
    assert!(html.contains("action=\"/scheda/volantino\"") && html.contains("method=\"post\""));
    let reply = e2e::http::post_form(
        &agent.http,
        "/scheda/volantino",
        &[
            ("procedure", CODE),
            ("language", "ur"),
            ("appointment", APPOINTMENT),
            ("missing", MISSING),
        ],
    )?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/pdf"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let page_pdf = root.path().join("handout-ur.pdf");
    std::fs::write(&page_pdf, &reply.bytes)?;
    let text = pdftotext(&page_pdf);
    assert!(text.contains(APPOINTMENT), "{text}");

    // The additions exist in the PDFs handed over, nowhere at the desk.
    agent.terminate()?;
    hub.terminate()?;
    for needle in [APPOINTMENT, MISSING] {
        let found = files_containing(&agent.data, needle.as_bytes());
        assert!(found.is_empty(), "{needle} found in {found:?}");
        let logs: Vec<_> = files_containing(root.path(), needle.as_bytes())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        assert!(logs.is_empty(), "{needle} logged in {logs:?}");
    }
    Ok(())
}
