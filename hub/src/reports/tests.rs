use super::*;
use crate::storage::{AuditLog, ReportInbox, SledStore};

fn store() -> (tempfile::TempDir, SledStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(&dir.path().join("store"), 8 << 20).expect("open");
    (dir, store)
}

fn report(kind: &str, item_id: &str, comment: &str) -> DeskReport {
    DeskReport {
        report_id: uuid::Uuid::now_v7().to_string(),
        kind: kind.into(),
        code: "permesso.rinnovo.lavoro".into(),
        item_id: item_id.into(),
        language: "it".into(),
        item_version: 3,
        reason: "outdated".into(),
        comment: comment.into(),
    }
}

#[test]
fn a_resent_report_is_stored_once_and_another_desk_cannot_take_its_id() {
    let (_dir, store) = store();
    let r = report("guidance", "g-1", "L'orario è cambiato");
    let first = receive(&store, "desk-a", r.clone()).expect("stored");
    assert_eq!(first.state, OPEN);
    assert_eq!(first.owner, COORDINATOR);
    let again = receive(&store, "desk-a", r.clone()).expect("resend");
    assert_eq!(again, first);
    assert!(receive(&store, "desk-b", r).is_err());
    assert_eq!(store.reports().expect("list").len(), 1);
}

#[test]
fn the_comment_is_scrubbed_again_at_the_hub() {
    let (_dir, store) = store();
    let held = receive(
        &store,
        "desk-a",
        report(
            "template",
            "k/x",
            "il sig. Rossi ha chiamato il 333 123 4567",
        ),
    )
    .expect("stored");
    assert!(!held.comment.contains("Rossi"), "{}", held.comment);
    assert!(!held.comment.contains("4567"), "{}", held.comment);
}

#[test]
fn bad_kind_reason_language_and_sizes_are_refused_with_the_field() {
    let (_dir, store) = store();
    let mut r = report("poster", "x", "");
    let e = receive(&store, "d", r.clone()).expect_err("kind");
    assert!(e.to_string().contains("`kind`"), "{e}");
    r.kind = "card".into();
    r.reason = "ugly".into();
    assert!(receive(&store, "d", r.clone())
        .expect_err("reason")
        .to_string()
        .contains("`reason`"));
    r.reason = "wrong".into();
    r.language = "not a tag!".into();
    assert!(receive(&store, "d", r.clone())
        .expect_err("language")
        .to_string()
        .contains("`language`"));
    r.language = "it".into();
    r.comment = "x".repeat(5_000);
    assert!(receive(&store, "d", r.clone())
        .expect_err("comment")
        .to_string()
        .contains("`comment`"));
    r.comment.clear();
    r.item_id = "y".repeat(300);
    assert!(receive(&store, "d", r.clone())
        .expect_err("item")
        .to_string()
        .contains("`item_id`"));
    r.report_id = "not-a-uuid".into();
    assert!(receive(&store, "d", r).is_err());
    assert!(store.reports().expect("list").is_empty());
}

#[test]
fn one_desk_is_bounded_in_open_reports_and_a_decision_makes_room() {
    let (_dir, store) = store();
    let mut first = None;
    for _ in 0..MAX_OPEN_PER_DESK {
        let held = receive(&store, "busy", report("procedure", "p", "")).expect("stored");
        first.get_or_insert(held.id);
    }
    let e = receive(&store, "busy", report("procedure", "p", "")).expect_err("bounded");
    assert!(e.to_string().contains("waiting"), "{e}");
    receive(&store, "other", report("procedure", "p", "")).expect("another desk still may");
    let first = first.expect("one stored");
    decide(
        &store,
        None,
        &first,
        Decision::Declined {
            note: "già corretto".into(),
        },
        "test",
    )
    .expect("declined");
    receive(&store, "busy", report("procedure", "p", "")).expect("room again");
}

#[test]
fn decisions_need_a_version_or_a_reason_and_happen_once() {
    let (_dir, store) = store();
    let id = receive(&store, "desk-a", report("guidance", "g", ""))
        .expect("stored")
        .id;
    let fixed = |version| Decision::Fixed {
        version,
        note: String::new(),
    };
    assert!(matches!(
        decide(&store, None, &id, fixed(0), "t"),
        Err(ReportError::Invalid {
            field: "version",
            ..
        })
    ));
    assert!(matches!(
        decide(
            &store,
            None,
            &id,
            Decision::Declined { note: "  ".into() },
            "t"
        ),
        Err(ReportError::Invalid { field: "note", .. })
    ));
    assert!(matches!(
        decide(
            &store,
            None,
            "0190e0b2-0000-7000-8000-000000000000",
            fixed(2),
            "t"
        ),
        Err(ReportError::NotFound(_))
    ));
    let r = decide(&store, None, &id, fixed(7), "t").expect("fixed");
    assert_eq!((r.state.as_str(), r.fixed_version), (FIXED, 7));
    assert!(matches!(
        decide(&store, None, &id, fixed(8), "t"),
        Err(ReportError::Decided { .. })
    ));
    let told = statuses(&store, "desk-a").expect("statuses");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].fixed_version, 7);
    assert!(statuses(&store, "desk-b").expect("none").is_empty());
    let audit = store.audit_recent(5).expect("audit");
    assert!(audit
        .iter()
        .any(|a| a.action == "report.fix" && a.target == id));
}

#[test]
fn a_card_report_goes_to_the_cards_owner() {
    let (_dir, store) = store();
    crate::cards::ensure_seeded(&store).expect("seed");
    let cards = crate::cards::current(&store).expect("cards");
    let Some(((code, _), card)) = cards
        .iter()
        .find(|((_, l), c)| l == "it" && !c.owner.trim().is_empty())
    else {
        panic!("the seed has a card with an owner");
    };
    let held = receive(&store, "d", report("card", code, "")).expect("stored");
    assert_eq!(held.owner, card.owner.trim());
    let other = receive(&store, "d", report("card", "no.such.card", "")).expect("stored");
    assert_eq!(other.owner, COORDINATOR);
}

#[test]
fn retention_deletes_decided_reports_past_their_window_and_keeps_open_ones() {
    let (_dir, store) = store();
    let old = receive(&store, "desk-a", report("guidance", "g-1", "")).expect("stored");
    let open = receive(&store, "desk-a", report("guidance", "g-2", "")).expect("stored");
    store
        .put_report(&StoredReport {
            state: DECLINED.into(),
            note: "già corretto".into(),
            decided_at: "2025-01-10T10:00:00Z".into(),
            ..old
        })
        .expect("decided long ago");
    let policy = crate::config::RetentionConfig {
        reports_days: 365,
        ..Default::default()
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    let done = crate::retention::run_once(&store, &policy, now, true).expect("retention");
    assert_eq!(done.reports, 1);
    let left: Vec<String> = store
        .reports()
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [open.id]);
    assert!(store
        .audit_recent(5)
        .expect("audit")
        .iter()
        .any(|e| e.action == "retention.reports"));
}
