use super::*;
use crate::storage::{AuditLog, Logs, SledStore};

const CODE: &str = "permesso.rinnovo.lavoro";

const IT: &str = r#"
summary = "Il permesso per lavoro si rinnova con il kit postale."
who_can_apply = "Chi ha un permesso per lavoro in scadenza."
legal_basis = ["art. 5 D.Lgs. 286/1998"]
owner = "Coordinamento sportelli stranieri"
verified_on = "2026-12-01"
review_by = "2027-06-01"

[where]
office = "Poste Italiane, ufficio con Sportello Amico"

[[step]]
id = "kit"
text = "Ritirare il kit postale"

[[step]]
id = "poste"
text = "Spedirlo dalle Poste"

[[cost]]
id = "bollo"
amount = "€ 16,00"
what = "marca da bollo"
"#;

const EN: &str = r#"
summary = "The work permit is renewed with the postal kit."

[[step]]
id = "kit"
text = "Collect the postal kit"

[[step]]
id = "poste"
text = "Send it from the post office"

[[cost]]
id = "bollo"
what = "revenue stamp"
"#;

fn store(dir: &tempfile::TempDir) -> SledStore {
    SledStore::open(&dir.path().join("store"), 8 << 20).expect("open")
}

#[test]
fn a_translation_follows_its_reference_and_goes_stale_field_by_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let card = |text: &str, lang: &str| from_toml(text, CODE, lang).expect("parses");
    // A translation needs its Italian reference first.
    assert!(matches!(
        put(&store, None, card(EN, "en"), "test"),
        Err(CardsError::NoReference { .. })
    ));
    let v1 = put(&store, None, card(IT, "it"), "test").expect("Italian saved");
    let v2 = put(&store, None, card(EN, "en"), "test").expect("English saved");
    let held = current(&store).expect("current");
    let en = &held[&(CODE.to_string(), "en".to_string())];
    assert_eq!(en.reference_version, v1);
    assert_eq!(en.costs[0].cents, 1600, "the amount comes from the Italian");
    assert!(en.owner.is_empty(), "only the reference holds the owner");
    let today = "2027-01-01";
    let rows = listing(&store, today).expect("listing");
    assert_eq!(rows[0].languages[0].version, v2);
    assert!(rows[0].languages[0].stale.is_empty());
    assert!(rows[0].due.is_none());

    // One Italian step changes: only that field of the English goes stale,
    // with the Italian word diff.
    let edited = IT.replace(
        "Spedirlo dalle Poste",
        "Spedirlo da un ufficio con Sportello Amico",
    );
    put(&store, None, card(&edited, "it"), "test").expect("edit saved");
    let rows = listing(&store, today).expect("listing");
    let stale = &rows[0].languages[0].stale;
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0].field, "steps.poste");
    assert!(
        stale[0].diff.contains("[-dalle Poste-]"),
        "{}",
        stale[0].diff
    );
    assert!(stale[0]
        .diff
        .contains("{+da un ufficio con Sportello Amico+}"));

    // "Still correct" stamps the date and the reviewer and stales nothing.
    let today_date = chrono::NaiveDate::from_ymd_opt(2027, 7, 1).expect("date");
    assert!(listing(&store, "2027-07-01").expect("listing")[0]
        .due
        .is_some());
    confirm(&store, None, CODE, "maria", today_date).expect("confirmed");
    let rows = listing(&store, "2027-07-01").expect("listing");
    assert_eq!(rows[0].verified_on, "2027-07-01");
    assert_eq!(rows[0].verified_by, "maria");
    assert!(
        rows[0].review_by.as_str() > "2027-12-01",
        "{}",
        rows[0].review_by
    );
    assert!(rows[0].due.is_none());
    assert_eq!(
        rows[0].languages[0].stale.len(),
        1,
        "unchanged by the stamp"
    );
    let audit = store.audit_recent(10).expect("audit");
    assert!(audit
        .iter()
        .any(|a| a.action == "card.confirm" && a.actor == "maria"));
}

#[test]
fn a_bad_card_is_refused_with_every_problem_and_nothing_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let bad = IT
        .replace("€ 16,00", "sedici")
        .replace("2027-06-01", "giugno");
    let e = from_toml(&bad, CODE, "it").expect_err("refused");
    assert!(e.to_string().contains("costs.1.amount"), "{e}");
    let bad = IT
        .replace("2027-06-01", "giugno")
        .replace("Coordinamento sportelli stranieri", "");
    let e = put(
        &store,
        None,
        from_toml(&bad, CODE, "it").expect("parses"),
        "t",
    )
    .expect_err("refused");
    let text = e.to_string();
    assert!(
        text.contains("review_by") && text.contains("owner"),
        "{text}"
    );
    let e = from_toml("summary = [", CODE, "it").expect_err("refused");
    assert!(e.to_string().contains("line 1"), "{e}");
    let e = put(
        &store,
        None,
        from_toml(IT, "non.esiste", "it").expect("parses"),
        "t",
    )
    .expect_err("refused");
    assert!(matches!(e, CardsError::UnknownCode(_)));
    assert_eq!(store.card_version().expect("version"), 0);
}

#[test]
fn guidance_on_the_same_law_makes_a_card_due() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    put(
        &store,
        None,
        from_toml(IT, CODE, "it").expect("parses"),
        "t",
    )
    .expect("saved");
    store
        .append_guidance(domain::GuidanceItem {
            id: "dl-2026".into(),
            title: "Rinnovi: nuove regole".into(),
            body: "...".into(),
            effective_from: "2026-12-05".into(),
            legal_basis: vec!["art. 5 d.lgs 286/1998".into()],
            ..Default::default()
        })
        .expect("guidance");
    let rows = listing(&store, "2027-01-01").expect("listing");
    let due = rows[0].due.as_deref().expect("due");
    assert!(due.contains("Rinnovi: nuove regole"), "{due}");
}

#[test]
fn the_seed_is_complete_and_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    crate::catalogue::ensure_seeded(&store).expect("catalogue");
    ensure_seeded(&store).expect("every seed card passes the checks");
    let rows = listing(&store, "2027-01-01").expect("listing");
    for code in [
        "permesso.rinnovo.lavoro",
        "permesso.rilascio.lavoro_subordinato",
        "permesso.rilascio.famiglia",
        "permesso.ue_lungo_periodo",
        "ricongiungimento.nulla_osta",
        "cittadinanza.residenza",
        "anagrafe.iscrizione",
        "fisco.codice_fiscale",
        "sanita.iscrizione_ssr",
        "scuola.iscrizione",
        "lingua.corsi_italiano",
        "casa.servizi_abitativi",
    ] {
        let row = rows.iter().find(|r| r.code == code).expect(code);
        assert!(
            row.languages.iter().any(|l| l.language == "en"),
            "{code} has English"
        );
        assert!(row.languages.iter().all(|l| l.stale.is_empty()), "{code}");
    }
    // Seeding twice writes nothing.
    let held = store.card_version().expect("version");
    ensure_seeded(&store).expect("again");
    assert_eq!(store.card_version().expect("version"), held);
}

#[test]
fn a_card_written_back_as_toml_reads_the_same() {
    let it = from_toml(IT, CODE, "it").expect("parses");
    let again = from_toml(&to_toml(&it), CODE, "it").expect("reads back");
    assert_eq!(again, it);
    let en = from_toml(EN, CODE, "en").expect("parses");
    assert_eq!(
        from_toml(&to_toml(&en), CODE, "en").expect("reads back"),
        en
    );
}
