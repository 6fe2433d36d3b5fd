use super::*;

const FULL: &str = r#"{"name":"Giuseppina","surname":"Verdastri","birth_date":"1990-04-02","sex":"F",
"nationality":"ma","codice_fiscale":"VRDGPP90D42Z330X","document_number":"YA1234567","phone":"+39 333 1234567",
"email":"giuseppina@example.org","address":"Via Milano 12, Brescia","procedure":"permesso.rinnovo.lavoro",
"channel":"walk_in","language":"ar","outcome":"answered","referral":"questura","minutes":20,"notes":null,
"visited_at":"2026-01-29T10:00:00+01:00"}"#;

fn full_line() -> String {
    FULL.replace('\n', "")
}

fn field_of(line: &str) -> Option<&'static str> {
    Visit::from_json_line(line).err().map(|e| e.field)
}

#[test]
fn reads_every_field() {
    let v = Visit::from_json_line(&full_line());
    let v = v.as_ref().ok();
    assert_eq!(v.and_then(|v| v.surname.as_deref()), Some("Verdastri"));
    assert_eq!(v.and_then(|v| v.nationality.as_deref()), Some("ma"));
    assert_eq!(v.and_then(|v| v.minutes), Some(20));
    assert_eq!(
        v.and_then(|v| v.visited_at.as_deref()),
        Some("2026-01-29T10:00:00+01:00")
    );
    assert_eq!(v.and_then(|v| v.notes.as_deref()), None);
}

#[test]
fn absent_fields_are_none() {
    assert_eq!(Visit::from_json_line("{}"), Ok(Visit::default()));
    assert_eq!(
        Visit::from_json_line(r#"{"procedure":"asilo.domanda"}"#).map(|v| v.procedure),
        Ok(Some("asilo.domanda".to_owned()))
    );
}

#[test]
fn unknown_field_is_named() {
    let err = Visit::from_json_line(r#"{"nazionalita":"MA"}"#).err();
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("unknown field `nazionalita`"), "{msg}");
    assert!(msg.contains("nationality"), "accepted fields listed: {msg}");
}

#[test]
fn unknown_field_name_is_shortened_and_escaped() {
    let key = format!("x\u{1b}[31m{}", "y".repeat(100));
    let line = format!(r#"{{"{}":1}}"#, key.replace('\u{1b}', "\\u001b"));
    let msg = Visit::from_json_line(&line)
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
    assert!(!msg.contains('\u{1b}'));
    assert!(msg.contains('…'));
    assert!(!msg.contains(&"y".repeat(50)));
}

#[test]
fn wrong_types_name_the_field_without_echoing_the_value() {
    assert_eq!(field_of(r#"{"minutes":"Mario Rossi"}"#), Some("minutes"));
    assert_eq!(field_of(r#"{"minutes":-1}"#), Some("minutes"));
    assert_eq!(field_of(r#"{"minutes":12.5}"#), Some("minutes"));
    assert_eq!(field_of(r#"{"minutes":4294967296}"#), Some("minutes"));
    assert_eq!(field_of(r#"{"name":42}"#), Some("name"));
    assert_eq!(field_of(r#"{"phone":["+39 333 1234567"]}"#), Some("phone"));
    let msg = Visit::from_json_line(r#"{"minutes":"Mario Rossi"}"#)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(!msg.contains("Mario"), "{msg}");
    assert!(msg.starts_with("field `minutes`:"), "{msg}");
}

#[test]
fn malformed_lines_are_refused_as_visit() {
    for line in [
        "",
        "not json",
        "[1,2]",
        "\"Mario\"",
        r#"{"name":"Mario"#,
        "null",
    ] {
        assert_eq!(field_of(line), Some("visit"), "{line:?}");
    }
    let msg = Visit::from_json_line(r#"{"name": "Mario Rossi" "x"}"#)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(!msg.contains("Mario"), "{msg}");
}

#[test]
fn over_long_line_is_refused() {
    let line = format!(r#"{{"notes":"{}"}}"#, "a".repeat(MAX_LINE_BYTES));
    let err = Visit::from_json_line(&line).err();
    assert_eq!(err.as_ref().map(|e| e.field), Some("visit"));
    assert!(err
        .map(|e| e.message.contains("65536 bytes"))
        .unwrap_or(false));
}

#[test]
fn debug_never_prints_personal_fields() {
    let v = Visit::from_json_line(&full_line()).unwrap_or_default();
    let printed = format!("{v:?} {v:#?}");
    for secret in [
        "Giuseppina",
        "Verdastri",
        "1990-04-02",
        "VRDGPP90D42Z330X",
        "YA1234567",
        "333",
        "example.org",
        "Milano",
    ] {
        assert!(!printed.contains(secret), "{secret} leaked: {printed}");
    }
    assert!(printed.contains("permesso.rinnovo.lavoro"));
    assert!(printed.contains("walk_in"));
    assert!(printed.contains("<redacted>"));
}

#[test]
fn field_error_display_names_the_field() {
    assert_eq!(
        FieldError::new("sex", "must be one of: F, M, X").to_string(),
        "field `sex`: must be one of: F, M, X"
    );
}

#[test]
fn field_list_matches_the_struct() {
    // Every listed key must deserialize; deny_unknown_fields catches a typo.
    for f in Visit::FIELDS {
        let line = if *f == "minutes" {
            format!(r#"{{"{f}":1}}"#)
        } else {
            format!(r#"{{"{f}":"x"}}"#)
        };
        assert!(Visit::from_json_line(&line).is_ok(), "{f}");
    }
}
