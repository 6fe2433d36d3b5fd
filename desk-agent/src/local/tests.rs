use super::*;

fn item(id: &str, version: u64, severity: Severity, procedures: &[&str]) -> GuidanceItem {
    GuidanceItem {
        id: id.into(),
        title: format!("title {id}"),
        body: "body".into(),
        procedures: procedures.iter().map(|p| p.to_string()).collect(),
        severity: severity as i32,
        effective_from: "2026-01-01".into(),
        expires_at: String::new(),
        version,
        retired: false,
        legal_basis: Vec::new(),
    }
}

#[test]
fn updates_survive_a_reopen_and_old_updates_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    {
        let local = LocalCopy::open(&dir.path().join("local")).expect("open");
        let update = GuidanceUpdate {
            version: 2,
            items: vec![
                item("a", 1, Severity::Info, &["permesso.rinnovo.lavoro"]),
                item("b", 2, Severity::Urgent, &[]),
            ],
        };
        assert_eq!(local.apply_guidance(update).expect("apply"), 2);
        let stale = GuidanceUpdate {
            version: 1,
            items: vec![item("c", 1, Severity::Info, &[])],
        };
        assert_eq!(local.apply_guidance(stale).expect("stale"), 2);
    }
    let local = LocalCopy::open(&dir.path().join("local")).expect("reopen");
    assert_eq!(local.guidance_version(), 2);
    let all = local.guidance("", today).expect("list");
    let ids: Vec<_> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["b", "a"], "urgent first");
    let ids_for = |procedure: &str| -> Vec<String> {
        let items = local.guidance(procedure, today).expect("list");
        items.into_iter().map(|i| i.id).collect()
    };
    // "b" names no procedure: general news, shown with every procedure.
    assert_eq!(ids_for("permesso.rinnovo.lavoro"), ["b", "a"]);
    assert_eq!(ids_for("casa.servizi_abitativi"), ["b"]);
}

#[test]
fn retired_and_expired_items_are_not_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = LocalCopy::open(&dir.path().join("local")).expect("open");
    let mut retired = item("r", 1, Severity::Info, &[]);
    retired.retired = true;
    let mut expired = item("e", 2, Severity::Info, &[]);
    expired.expires_at = "2026-01-31".into();
    let update = GuidanceUpdate {
        version: 3,
        items: vec![retired, expired, item("ok", 3, Severity::Info, &[])],
    };
    local.apply_guidance(update).expect("apply");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    let ids: Vec<_> = local
        .guidance("", today)
        .expect("list")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["ok"]);
}

#[test]
fn an_update_with_a_bad_item_is_refused_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = LocalCopy::open(&dir.path().join("local")).expect("open");
    let update = GuidanceUpdate {
        version: 2,
        items: vec![
            item("a", 1, Severity::Info, &[]),
            item("", 2, Severity::Info, &[]),
        ],
    };
    assert!(matches!(
        local.apply_guidance(update),
        Err(LocalError::Refused(_))
    ));
    assert_eq!(local.guidance_version(), 0);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    assert!(local.guidance("", today).expect("list").is_empty());
}

fn procedure(code: &str, retired: bool) -> Procedure {
    Procedure {
        code: code.into(),
        family: domain::catalogue::family_of(code).into(),
        name_it: format!("nome {code}"),
        name_en: format!("name {code}"),
        office: "Questura".into(),
        retired,
    }
}

#[test]
fn the_seed_serves_until_a_pushed_catalogue_replaces_it_durably() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let local = LocalCopy::open(&dir.path().join("local")).expect("open");
        assert_eq!(local.catalogue_version(), 0);
        assert!(local.catalogue().contains("permesso.rinnovo.lavoro"));
        let update = CatalogueUpdate {
            version: 1,
            procedures: vec![
                procedure("permesso.rinnovo.lavoro", false),
                procedure("casa.servizi_abitativi", false),
            ],
            glossary: String::new(),
        };
        assert_eq!(local.apply_catalogue(update).expect("apply"), 1);
        let retire = CatalogueUpdate {
            version: 2,
            procedures: vec![procedure("casa.servizi_abitativi", true)],
            glossary: String::new(),
        };
        local.apply_catalogue(retire).expect("retire");
        let bad = CatalogueUpdate {
            version: 3,
            procedures: vec![procedure("Not A Code", false)],
            glossary: String::new(),
        };
        assert!(matches!(
            local.apply_catalogue(bad),
            Err(LocalError::Refused(_))
        ));
    }
    let local = LocalCopy::open(&dir.path().join("local")).expect("reopen");
    assert_eq!(local.catalogue_version(), 2);
    let c = local.catalogue();
    assert_eq!(c.len(), 1);
    assert!(c.contains("permesso.rinnovo.lavoro"));
    assert!(!c.contains("casa.servizi_abitativi"));
}

#[test]
fn queued_proposals_survive_a_reopen_until_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = DeskProposal {
        proposal_id: "0190-a".into(),
        key: "k/p".into(),
        language: "it".into(),
        body: "Testo.".into(),
    };
    {
        let local = LocalCopy::open(&dir.path().join("local")).expect("open");
        local.queue_proposal(&p).expect("queue");
    }
    let local = LocalCopy::open(&dir.path().join("local")).expect("reopen");
    assert_eq!(local.queued_proposals().expect("list"), vec![p]);
    local.drop_proposal("0190-a").expect("drop");
    assert!(local.queued_proposals().expect("list").is_empty());
}

#[test]
fn a_new_logs_epoch_forgets_every_pushed_log_and_the_same_one_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = LocalCopy::open(&dir.path().join("local")).expect("open");
    let update = GuidanceUpdate {
        version: 3,
        items: vec![item("a", 3, Severity::Info, &[])],
    };
    local.apply_guidance(update).expect("apply");
    // An older hub names no epoch; a desk's first keeps what it holds.
    assert!(!local.adopt_epoch("").expect("adopt"));
    assert!(!local.adopt_epoch("epoch-1").expect("adopt"));
    assert!(!local.adopt_epoch("epoch-1").expect("adopt"));
    assert_eq!(local.guidance_version(), 3);
    // A hub restored from a backup: everything pushed is fetched again.
    assert!(local.adopt_epoch("epoch-2").expect("adopt"));
    assert_eq!(local.guidance_version(), 0);
    assert_eq!(local.template_version().expect("version"), 0);
    assert_eq!(local.catalogue_version(), 0);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
    assert!(local.guidance("", today).expect("list").is_empty());
    drop(local);
    let local = LocalCopy::open(&dir.path().join("local")).expect("reopen");
    assert!(
        !local.adopt_epoch("epoch-2").expect("adopt"),
        "kept on disk"
    );
}

#[test]
fn a_glossary_pushed_with_the_catalogue_replaces_the_compiled_one_durably() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local");
    let toml = "[[group]]\nterms = [\"numer podatkowy\", \"codice fiscale\"]\n";
    {
        let local = LocalCopy::open(&path).expect("open");
        assert!(!local.glossary().groups.is_empty(), "the compiled default");
        let bad = CatalogueUpdate {
            version: 1,
            procedures: Vec::new(),
            glossary: "[[group]]\nterms = [\"solo\"]\n".into(),
        };
        assert!(matches!(
            local.apply_catalogue(bad),
            Err(LocalError::Refused(_))
        ));
        assert_eq!(
            local.catalogue_version(),
            0,
            "a bad glossary changes nothing"
        );
        let update = CatalogueUpdate {
            version: 1,
            procedures: Vec::new(),
            glossary: toml.into(),
        };
        assert_eq!(local.apply_catalogue(update).expect("apply"), 1);
        assert_eq!(local.glossary().groups.len(), 1);
        // A later change without a glossary keeps it.
        let later = CatalogueUpdate {
            version: 2,
            procedures: vec![procedure("permesso.rinnovo.lavoro", false)],
            glossary: String::new(),
        };
        local.apply_catalogue(later).expect("apply");
        assert_eq!(local.glossary().version, 1);
    }
    let local = LocalCopy::open(&path).expect("reopen");
    let g = local.glossary();
    assert_eq!(g.groups.len(), 1);
    assert_eq!(g.groups[0].terms[0], "numer podatkowy");
    assert!(local.catalogue().contains("permesso.rinnovo.lavoro"));
}
