use super::*;

fn item(id: &str, text: &str) -> Item {
    Item {
        id: id.into(),
        text: text.into(),
        note: String::new(),
    }
}

pub(super) fn reference() -> Card {
    Card {
        code: "permesso.rinnovo.lavoro".into(),
        language: "it".into(),
        summary: "Il permesso per lavoro si rinnova con il kit postale.".into(),
        who_can_apply: "Chi ha un permesso per lavoro in scadenza.".into(),
        steps: vec![
            item("kit", "Ritirare il kit"),
            item("poste", "Spedirlo dalle Poste"),
        ],
        documents: vec![Item {
            id: "passaporto".into(),
            text: "Passaporto".into(),
            note: "copia di tutte le pagine".into(),
        }],
        costs: vec![Cost {
            id: "bollo".into(),
            cents: 1600,
            what: "marca da bollo".into(),
        }],
        legal_basis: vec!["art. 5 D.Lgs. 286/1998".into()],
        owner: "Coordinamento sportelli".into(),
        verified_on: "2026-12-01".into(),
        review_by: "2027-06-01".into(),
        ..Card::default()
    }
}

#[test]
fn a_complete_reference_passes_and_every_problem_is_named() {
    assert_eq!(check_reference(&reference()), Ok(()));
    let mut bad = reference();
    bad.owner = " ".into();
    bad.verified_on = "1/12/2026".into();
    bad.review_by = "2026-02-30".into();
    bad.steps.push(item("kit", ""));
    bad.costs[0].what = String::new();
    let problems = check_reference(&bad).expect_err("refused");
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    for f in [
        "owner",
        "verified_on",
        "review_by",
        "steps.3.id",
        "steps.3.text",
        "costs.1.what",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let mut early = reference();
    early.review_by = "2026-01-01".into();
    assert_eq!(
        check_reference(&early).expect_err("refused")[0].field,
        "review_by"
    );
}

#[test]
fn a_translation_follows_the_reference_ids_and_amounts() {
    let it = reference();
    let mut en = Card {
        code: it.code.clone(),
        language: "en".into(),
        summary: "The work permit is renewed with the postal kit.".into(),
        steps: vec![item("kit", "Collect the kit")],
        costs: vec![Cost {
            id: "bollo".into(),
            cents: 1600,
            what: "revenue stamp".into(),
        }],
        ..Card::default()
    };
    assert_eq!(check_translation(&en, &it), Ok(()));
    en.steps.push(item("other", "Something the Italian lacks"));
    en.costs[0].cents = 1500;
    let problems = check_translation(&en, &it).expect_err("refused");
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["steps.2.id", "costs.1.amount"]);
}

#[test]
fn an_italian_edit_makes_only_the_changed_fields_stale() {
    let mut it = reference();
    it.field_versions = it.next_field_versions(None, 1);
    assert!(it.field_versions.values().all(|v| *v == 1));
    let en = Card {
        code: it.code.clone(),
        language: "en".into(),
        summary: "Renewed with the postal kit.".into(),
        steps: vec![item("kit", "Collect the kit"), item("poste", "Post it")],
        reference_version: 1,
        ..Card::default()
    };
    assert!(en.stale_fields(&it).is_empty());
    let mut edited = it.clone();
    edited.steps[1].text = "Spedirlo da un ufficio postale con Sportello Amico".into();
    edited.owner = "Ufficio stranieri".into();
    edited.field_versions = edited.next_field_versions(Some(&it), 2);
    assert_eq!(edited.field_versions["steps.poste"], 2);
    assert_eq!(edited.field_versions["summary"], 1);
    assert_eq!(en.stale_fields(&edited), ["steps.poste"]);
    // A field the translation lacks is missing, not stale.
    assert!(en
        .missing_fields(&edited)
        .contains(&"documents.passaporto".to_string()));
    assert!(!en
        .stale_fields(&edited)
        .contains(&"documents.passaporto".to_string()));
}

#[test]
fn a_card_is_due_past_its_date_or_after_guidance_on_its_law() {
    let it = reference();
    assert_eq!(it.review_due("2027-01-01", &[]), None);
    assert!(it.review_due("2027-06-02", &[]).is_some());
    let newer = vec![(
        "2026-12-05".to_string(),
        "Nuove regole".to_string(),
        vec!["D.Lgs. 286/1998".to_string()],
    )];
    assert!(it.review_due("2027-01-01", &newer).is_some());
    let older = vec![(
        "2026-11-05".to_string(),
        "Vecchie regole".to_string(),
        vec!["D.Lgs. 286/1998".to_string()],
    )];
    assert_eq!(it.review_due("2027-01-01", &older), None);
    let other_law = vec![(
        "2026-12-05".to_string(),
        "Cittadinanza".to_string(),
        vec!["L. 91/1992".to_string()],
    )];
    assert_eq!(it.review_due("2027-01-01", &other_law), None);
}
