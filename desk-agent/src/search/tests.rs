use super::normalise::*;
use super::*;

#[test]
fn folding_drops_accents_and_case_only() {
    assert_eq!(fold("Idoneità"), "idoneita");
    assert_eq!(fold("PERCHÉ"), "perche");
    // Arabic letters and Bengali vowel signs are not accents.
    assert_eq!(fold("تجديد"), "تجديد");
    assert_eq!(fold("নবীকরণ"), "নবীকরণ".nfc_free());
}

trait NfcFree {
    fn nfc_free(&self) -> String;
}
impl NfcFree for str {
    fn nfc_free(&self) -> String {
        use unicode_normalization::UnicodeNormalization;
        self.nfd().collect()
    }
}

#[test]
fn doubles_collapse_and_endings_meet() {
    assert_eq!(collapse_doubles("permesso"), "permeso");
    assert_eq!(key("permesso"), key("permeso"));
    assert_eq!(key("familiari"), key("familiare"));
    assert_eq!(key("permits"), key("permit"));
    assert_eq!(key("corsi"), key("corso"));
    // Short words and codes stay whole.
    assert_eq!(key("pds"), "pds");
    assert_eq!(key("a2"), "a2");
}

#[test]
fn a_whole_question_keeps_only_its_content_words() {
    let keys: Vec<String> = query_tokens("Come rinnovo il permesso?")
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(keys, vec![key("rinnovo"), key("permesso")]);
    let keys: Vec<String> = query_tokens("dove posso imparare l'italiano?")
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(keys, vec![key("imparare"), key("italiano")]);
}

#[test]
fn acronyms_with_dots_are_one_word() {
    assert_eq!(words("p.d.s. rinnovo"), vec!["pds", "rinnovo"]);
    assert_eq!(words("C.F."), vec!["cf"]);
    assert_eq!(
        words("art. 5 D.Lgs. 286/1998"),
        vec!["art", "5", "dlgs", "286", "1998"]
    );
    assert_eq!(words("self-employment"), vec!["self", "employment"]);
    assert_eq!(words("居留许可"), vec!["居", "留", "许", "可"]);
}

#[test]
fn distance_counts_edits() {
    assert_eq!(distance("rinovo", "rinnovo"), 1);
    assert_eq!(distance("fiscle", "fiscale"), 1);
    assert_eq!(distance("abc", "abc"), 0);
    assert_eq!(distance("", "ab"), 2);
    assert_eq!(allowed_edits(4), 0);
    assert_eq!(allowed_edits(6), 1);
    assert_eq!(allowed_edits(9), 2);
}

fn small_index() -> Index {
    let content = Content {
        procedures: domain::Catalogue::seed().iter().cloned().collect(),
        cards: Vec::new(),
        guidance: vec![proto::GuidanceItem {
            id: "g1".into(),
            title: "Chiusura dell'Anagrafe il 24 dicembre".into(),
            body: "Gli uffici anagrafici restano chiusi.".into(),
            ..Default::default()
        }],
        templates: vec![proto::Template {
            key: "fisco.codice_fiscale/documenti".into(),
            language: "it".into(),
            body: "Porti il passaporto e il visto.".into(),
            ..Default::default()
        }],
    };
    Index::build(documents(&content), &Glossary::compiled())
}

#[test]
fn a_typo_an_abbreviation_and_an_english_term_find_the_procedure() {
    let index = small_index();
    for (query, code) in [
        ("rinovo permeso", "permesso.rinnovo.lavoro"),
        ("pds rinnovo", "permesso.rinnovo.lavoro"),
        ("CF", "fisco.codice_fiscale"),
        ("family reunification", "ricongiungimento.nulla_osta"),
        ("ricongiungimento", "ricongiungimento.nulla_osta"),
        (
            "idoneita alloggiativa",
            "ricongiungimento.idoneita_alloggio",
        ),
    ] {
        let out = index.search(query, "it", 3);
        assert!(
            out.hits.iter().any(|h| h.code == code),
            "{query}: {:?}",
            out.hits
        );
    }
}

#[test]
fn guidance_and_templates_are_found_with_their_kind_and_id() {
    let index = small_index();
    let out = index.search("chiusura anagrafe dicembre", "it", 5);
    assert_eq!(out.hits[0].kind, Kind::Guidance);
    assert_eq!(out.hits[0].id, "g1");
    assert_eq!(out.hits[0].code, "");
    let out = index.search("codice fiscale documenti passaporto", "it", 5);
    assert!(out
        .hits
        .iter()
        .any(|h| h.kind == Kind::Template && h.id == "fisco.codice_fiscale/documenti"));
}

#[test]
fn did_you_mean_only_when_nothing_matches() {
    let index = small_index();
    let out = index.search("pemrseso", "it", 5);
    assert!(out.hits.is_empty(), "{:?}", out.hits);
    assert!(
        out.did_you_mean.iter().any(|s| s.starts_with("permess")),
        "{:?}",
        out.did_you_mean
    );
    let out = index.search("permesso", "it", 5);
    assert!(!out.hits.is_empty());
    assert!(out.did_you_mean.is_empty());
}

#[test]
fn the_title_follows_the_asked_language() {
    let index = small_index();
    let out = index.search("codice fiscale", "en", 1);
    assert_eq!(out.hits[0].title, "Tax code");
    assert_eq!(out.hits[0].language, "en");
    let out = index.search("tax code", "it", 1);
    assert_eq!(out.hits[0].title, "Codice fiscale");
}

#[test]
fn requests_past_the_bounds_are_refused_without_echoing_the_query() {
    let long = "x".repeat(MAX_QUERY_CHARS + 1);
    let e = check_request(&long, 5).expect_err("too long");
    assert!(!e.contains("xxx"));
    assert!(check_request("pds", MAX_LIMIT + 1).is_err());
    assert_eq!(check_request("pds", 0), Ok(DEFAULT_LIMIT as usize));
}

#[test]
fn a_group_added_to_the_glossary_finds_its_procedure() {
    let mut text = domain::glossary::DEFAULT_GLOSSARY.to_string();
    text.push_str("\n[[group]]\nterms = [\"numer podatkowy\", \"codice fiscale\"]\n");
    let glossary = Glossary::from_toml(&text).expect("glossary");
    let content = Content {
        procedures: domain::Catalogue::seed().iter().cloned().collect(),
        cards: Vec::new(),
        guidance: Vec::new(),
        templates: Vec::new(),
    };
    let before = Index::build(documents(&content), &Glossary::compiled());
    let after = Index::build(documents(&content), &glossary);
    assert!(before.search("numer podatkowy", "it", 3).hits.is_empty());
    let out = after.search("numer podatkowy", "it", 3);
    assert!(
        out.hits.iter().any(|h| h.code == "fisco.codice_fiscale"),
        "{:?} / before {:?}",
        out.hits,
        before.search("numer podatkowy", "it", 3).hits
    );
}
