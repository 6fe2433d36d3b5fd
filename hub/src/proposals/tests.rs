use super::*;
use crate::storage::SledStore;

const KEY: &str = "permesso.rinnovo.lavoro/documenti";

fn proposal(id: &str, body: &str) -> DeskProposal {
    DeskProposal {
        proposal_id: id.into(),
        key: KEY.into(),
        language: "it".into(),
        body: body.into(),
    }
}

#[test]
fn direction_controls_are_shown_not_obeyed() {
    let text = "Porti \u{202E}otroppassap\u{202C} e\u{200F} la ricevuta\n\tfine";
    assert_eq!(
        shown(text),
        "Porti <U+202E>otroppassap<U+202C> e<U+200F> la ricevuta\n\tfine"
    );
    assert_eq!(shown("\u{0007}"), "<U+0007>");
}

#[test]
fn a_resent_proposal_is_stored_once_and_another_desk_cannot_take_its_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(&dir.path().join("store"), 8 << 20).expect("open");
    answer_templates::put(
        &store,
        None,
        KEY,
        "it",
        "Porti il {{documento}}.",
        false,
        "test",
    )
    .expect("reference");
    let id = uuid::Uuid::now_v7().to_string();
    let first = receive(
        &store,
        "desk-a",
        proposal(&id, "Porti il {{documento}} valido."),
    )
    .expect("stored");
    assert!(first.similarity > 0.5 && first.similarity < 1.0);
    assert!(
        first.diff.contains("{+") && first.diff.starts_with("Porti il"),
        "{}",
        first.diff
    );
    let again = receive(
        &store,
        "desk-a",
        proposal(&id, "Porti il {{documento}} valido."),
    )
    .expect("resend");
    assert_eq!(again, first);
    assert!(receive(&store, "desk-b", proposal(&id, "Altro testo.")).is_err());
    assert_eq!(list(&store).expect("list").len(), 1);
}

#[test]
fn a_decision_is_final_and_accepting_checks_the_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(&dir.path().join("store"), 8 << 20).expect("open");
    answer_templates::put(
        &store,
        None,
        KEY,
        "it",
        "Porti il {{documento}}.",
        false,
        "test",
    )
    .expect("reference");
    answer_templates::put(
        &store,
        None,
        KEY,
        "en",
        "Bring the {{documento}}.",
        false,
        "test",
    )
    .expect("en");
    assert!(receive(&store, "desk-a", proposal("not-a-uuid", "Testo.")).is_err());
    let empty = uuid::Uuid::now_v7().to_string();
    assert!(receive(&store, "desk-a", proposal(&empty, "  ")).is_err());
    // An English proposal that drops the field is refused at accept by name.
    let en = uuid::Uuid::now_v7().to_string();
    let mut p = proposal(&en, "Bring your passport.");
    p.language = "en".into();
    receive(&store, "desk-a", p).expect("stored");
    let err = decide(&store, None, &en, true, "test").expect_err("missing field");
    assert!(err.to_string().contains("documento"), "{err}");
    assert_eq!(
        decide(&store, None, &en, false, "test").expect("decline"),
        None
    );
    assert!(matches!(
        decide(&store, None, &en, true, "test"),
        Err(ProposalError::Decided { .. })
    ));
    assert!(matches!(
        decide(&store, None, "no-such-id", true, "test"),
        Err(ProposalError::NotFound(_))
    ));
}

#[test]
fn one_desk_has_a_bounded_number_of_open_proposals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(&dir.path().join("s"), 8 << 20).expect("open");
    let id = || uuid::Uuid::now_v7().to_string();
    let first = proposal(&id(), "Porti il passaporto (0).");
    receive(&store, "desk-a", first.clone()).expect("stored");
    for n in 1..MAX_OPEN_PER_DESK {
        let body = format!("Porti il passaporto ({n}).");
        receive(&store, "desk-a", proposal(&id(), &body)).expect("stored");
    }
    let refused =
        receive(&store, "desk-a", proposal(&id(), "Una di troppo.")).expect_err("over the bound");
    assert!(refused.to_string().contains("waiting"), "{refused}");
    // A resend of a held one is no new proposal; another desk is not affected.
    receive(&store, "desk-a", first).expect("resend");
    receive(&store, "desk-b", proposal(&id(), "Dall'altro sportello.")).expect("another desk");
    assert_eq!(
        crate::storage::Logs::proposals(&store).expect("list").len(),
        MAX_OPEN_PER_DESK + 1
    );
}
