use serde_json::Value;

use super::*;

fn parts() -> RecordParts {
    RecordParts {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
        desk_id: "brescia-centro".to_owned(),
        week: "2026-W05".to_owned(),
        procedure: "permesso.rinnovo.lavoro".to_owned(),
        channel: Channel::WalkIn,
        language: "ar".to_owned(),
        outcome: Outcome::Referred,
        referral: Some("questura".to_owned()),
        duration_band: DurationBand::From15To30,
        age_band: None,
        sex: Some(Sex::F),
        nationality: None,
        pseudonym: None,
        notes: None,
        mediator: None,
    }
}

#[test]
fn json_has_exactly_the_wire_keys_with_nulls() {
    let record = AnonymisedRecord::from_parts(parts());
    let json = serde_json::to_value(&record).unwrap_or_default();
    let Value::Object(map) = json else {
        panic!("record did not serialise to an object");
    };
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    let mut expected = [
        "id",
        "desk_id",
        "week",
        "procedure",
        "channel",
        "language",
        "outcome",
        "referral",
        "duration_band",
        "age_band",
        "sex",
        "nationality",
        "pseudonym",
        "notes",
        "mediator",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(map["age_band"], Value::Null);
    assert_eq!(map["notes"], Value::Null);
    assert_eq!(map["channel"], "walk_in");
    assert_eq!(map["duration_band"], "15-30");
    assert_eq!(map["sex"], "F");
    assert_eq!(map["id"], "01900000-0000-7000-8000-000000000001");
}

#[test]
fn to_raw_uses_canonical_texts_and_empty_for_absent() {
    let record = AnonymisedRecord::from_parts(parts());
    let raw = record.to_raw();
    assert_eq!(raw.id, "01900000-0000-7000-8000-000000000001");
    assert_eq!(raw.channel, "walk_in");
    assert_eq!(raw.outcome, "referred");
    assert_eq!(raw.referral, "questura");
    assert_eq!(raw.duration_band, "15-30");
    assert_eq!(raw.age_band, "");
    assert_eq!(raw.sex, "F");
    assert_eq!(raw.nationality, "");
    assert_eq!(raw.pseudonym, "");
    assert_eq!(RawRecord::from(&record), raw);
}

#[test]
fn getters_return_the_parts() {
    let record = AnonymisedRecord::from_parts(parts());
    assert_eq!(record.desk_id(), "brescia-centro");
    assert_eq!(record.week(), "2026-W05");
    assert_eq!(record.procedure(), "permesso.rinnovo.lavoro");
    assert_eq!(record.channel(), Channel::WalkIn);
    assert_eq!(record.outcome(), Outcome::Referred);
    assert_eq!(record.referral(), Some("questura"));
    assert_eq!(record.age_band(), None);
    assert_eq!(record.sex(), Some(Sex::F));
    assert_eq!(record.language(), "ar");
}

#[test]
fn record_error_display_names_the_field() {
    let e = RecordError::new("week", "must be an ISO week such as 2026-W05");
    assert_eq!(
        e.to_string(),
        "field `week`: must be an ISO week such as 2026-W05"
    );
}
