use std::collections::HashSet;

use super::*;

fn proc(code: &str, family: &str) -> Procedure {
    Procedure {
        code: code.to_owned(),
        family: family.to_owned(),
        name_it: "Nome".to_owned(),
        name_en: "Name".to_owned(),
        office: "Comune".to_owned(),
    }
}

#[test]
fn seed_has_all_34_procedures_with_unique_codes() {
    let c = Catalogue::seed();
    assert_eq!(c.len(), 34);
    let codes: HashSet<&str> = c.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes.len(), 34);
    for code in [
        "permesso.rinnovo.lavoro",
        "ricongiungimento.nulla_osta",
        "cittadinanza.residenza",
        "lingua.corsi_italiano",
    ] {
        assert!(c.contains(code), "{code} missing from the seed");
    }
}

#[test]
fn seed_is_accepted_by_from_procedures() {
    // seed() falls back to an empty catalogue on error; this proves it never does.
    let seed = Catalogue::seed();
    assert_eq!(
        Catalogue::from_procedures(seed.procedures().to_vec()),
        Ok(seed)
    );
}

#[test]
fn seed_family_is_first_segment() {
    let c = Catalogue::seed();
    let p = c.get("ricongiungimento.idoneita_alloggio");
    assert_eq!(p.map(|p| p.family.as_str()), Some("ricongiungimento"));
    assert_eq!(p.map(|p| p.office.as_str()), Some("Comune"));
    assert!(c
        .iter()
        .all(|p| p.code.starts_with(&format!("{}.", p.family))));
}

#[test]
fn get_unknown_code_is_none() {
    let c = Catalogue::seed();
    assert!(c.get("permesso").is_none());
    assert!(!c.contains("PERMESSO.RINNOVO.LAVORO"));
}

#[test]
fn search_ignores_case_and_accents() {
    let c = Catalogue::seed();
    let hits: Vec<&str> = c
        .search("IDONEITA")
        .iter()
        .map(|p| p.code.as_str())
        .collect();
    assert_eq!(hits, ["ricongiungimento.idoneita_alloggio"]);
    let hits: Vec<&str> = c
        .search("ospitalità")
        .iter()
        .map(|p| p.code.as_str())
        .collect();
    assert_eq!(hits, ["anagrafe.ospitalita"]);
}

#[test]
fn search_matches_code_italian_and_english_names() {
    let c = Catalogue::seed();
    let by_code: Vec<&str> = c
        .search("permesso.rinnovo")
        .iter()
        .map(|p| p.code.as_str())
        .collect();
    assert_eq!(by_code, ["permesso.rinnovo.lavoro"]);
    let by_en: Vec<&str> = c.search("asylum").iter().map(|p| p.code.as_str()).collect();
    assert_eq!(by_en, ["asilo.domanda"]);
    let by_words: Vec<&str> = c
        .search("rinnovo lavoro")
        .iter()
        .map(|p| p.code.as_str())
        .collect();
    assert_eq!(by_words, ["permesso.rinnovo.lavoro"]);
    assert!(c.search("cittadinanza").len() >= 4);
    assert_eq!(c.search("").len(), 34);
    assert!(c.search("zzzz-nothing").is_empty());
}

#[test]
fn from_procedures_refuses_duplicates() {
    let err = Catalogue::from_procedures(vec![proc("a.b", "a"), proc("a.b", "a")]);
    assert_eq!(
        err,
        Err(CatalogueError::Duplicate {
            code: "a.b".to_owned()
        })
    );
    assert!(err
        .map_err(|e| e.to_string())
        .err()
        .is_some_and(|m| m.contains("`code`")));
}

#[test]
fn from_procedures_refuses_bad_code_and_family() {
    let long = format!("a.{}", "b".repeat(MAX_CODE_LEN));
    for bad in ["single", "a..b", "A.b", "a.b c", ".a", "a.", long.as_str()] {
        assert_eq!(
            Catalogue::from_procedures(vec![proc(bad, "a")]),
            Err(CatalogueError::BadCode { index: 0 }),
            "{bad:?} accepted"
        );
    }
    let err = Catalogue::from_procedures(vec![proc("a.b", "b")]);
    assert!(matches!(err, Err(CatalogueError::BadFamily { .. })));
}

#[test]
fn from_procedures_refuses_empty_and_long_texts() {
    let mut p = proc("a.b", "a");
    p.name_en = "  ".to_owned();
    let msg = Catalogue::from_procedures(vec![p])
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        msg.as_deref(),
        Some("procedure `a.b`: field `name_en` must be 1 to 200 characters")
    );
    let mut p = proc("a.b", "a");
    p.office = "x".repeat(MAX_TEXT_LEN + 1);
    assert!(matches!(
        Catalogue::from_procedures(vec![p]),
        Err(CatalogueError::BadText {
            field: "office",
            ..
        })
    ));
}

#[test]
fn referral_offices_and_labels_agree() {
    let codes: Vec<&str> = REFERRAL_OFFICE_LABELS.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, REFERRAL_OFFICES);
    for code in REFERRAL_OFFICES {
        assert_eq!(referral_code(code), Some(*code));
        assert!(referral_label(code).is_some());
    }
}

#[test]
fn referral_code_accepts_italian_label_loosely() {
    assert_eq!(referral_code("Prefettura – SUI"), Some("prefettura_sui"));
    assert_eq!(referral_code("prefettura - sui"), Some("prefettura_sui"));
    assert_eq!(
        referral_code("AGENZIA DELLE ENTRATE"),
        Some("agenzia_entrate")
    );
    assert_eq!(referral_code("questura"), Some("questura"));
    assert_eq!(referral_code("Carabinieri"), None);
    assert_eq!(referral_code(" - "), None);
}

#[test]
fn fold_strips_accents_and_punctuation() {
    assert_eq!(fold("  Idoneità—Alloggiativa! "), "idoneita alloggiativa");
    assert_eq!(fold("permesso.rinnovo.lavoro"), "permesso rinnovo lavoro");
    assert_eq!(fold("..."), "");
}
