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
    let one = local
        .guidance("permesso.rinnovo.lavoro", today)
        .expect("list");
    assert_eq!(one.len(), 1);
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
