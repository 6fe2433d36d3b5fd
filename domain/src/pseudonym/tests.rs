use super::*;

fn secret() -> FederationSecret {
    FederationSecret::from_bytes([7; SECRET_LEN])
}

#[test]
fn same_visitor_same_year_same_pseudonym() {
    let a = pseudonym(&secret(), 2026, Some("RSSMRA85T10A562S"), None);
    let b = pseudonym(&secret(), 2026, Some("rss mra 85t10 a562s"), None);
    assert_eq!(a, b);
    assert!(a.as_deref().is_some_and(is_pseudonym), "{a:?}");
}

#[test]
fn year_secret_and_person_change_it() {
    let base = pseudonym(&secret(), 2026, Some("RSSMRA85T10A562S"), None);
    assert_ne!(
        base,
        pseudonym(&secret(), 2027, Some("RSSMRA85T10A562S"), None)
    );
    let other = FederationSecret::from_bytes([8; SECRET_LEN]);
    assert_ne!(
        base,
        pseudonym(&other, 2026, Some("RSSMRA85T10A562S"), None)
    );
    assert_ne!(
        base,
        pseudonym(&secret(), 2026, Some("RSSMRA85T10A562T"), None)
    );
}

#[test]
fn codice_fiscale_wins_over_name_and_birth() {
    let nb = Some(("Mario", "Rossi", "1985-12-10"));
    assert_eq!(
        pseudonym(&secret(), 2026, Some("RSSMRA85T10A562S"), nb),
        pseudonym(&secret(), 2026, Some("RSSMRA85T10A562S"), None)
    );
    // A blank codice fiscale counts as none.
    assert_eq!(
        pseudonym(&secret(), 2026, Some("  "), nb),
        pseudonym(&secret(), 2026, None, nb)
    );
}

#[test]
fn name_and_birth_are_normalised() {
    let a = pseudonym(
        &secret(),
        2026,
        None,
        Some(("José", "D'Amico", "1990-04-03")),
    );
    let b = pseudonym(
        &secret(),
        2026,
        None,
        Some((" JOSE ", "d amico", "1990-04-03")),
    );
    assert_eq!(a, b);
    assert!(a.is_some());
    let c = pseudonym(
        &secret(),
        2026,
        None,
        Some(("Jose", "Damico", "1990-04-03")),
    );
    assert_ne!(a, c, "word boundaries count");
}

#[test]
fn nothing_usable_gives_none() {
    assert_eq!(pseudonym(&secret(), 2026, None, None), None);
    assert_eq!(
        pseudonym(&secret(), 2026, None, Some(("", "Rossi", "1990-01-01"))),
        None
    );
    assert_eq!(
        pseudonym(&secret(), 2026, None, Some(("Mario", "Rossi", " "))),
        None
    );
}

#[test]
fn known_vector() {
    // Pins the message layout: a change here splits every visitor's history.
    let p = pseudonym(&secret(), 2026, Some("RSSMRA85T10A562S"), None).unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(&[7; SECRET_LEN]).expect("any key length");
    mac.update(b"rete-sportelli/pseudonym/v1");
    mac.update(&2026i32.to_be_bytes());
    mac.update(&2u64.to_be_bytes());
    mac.update(b"cf");
    mac.update(&16u64.to_be_bytes());
    mac.update(b"RSSMRA85T10A562S");
    assert_eq!(p, hex(&mac.finalize().into_bytes()));
}

#[test]
fn secret_file_round_trip_and_errors() {
    let s = FederationSecret::generate();
    assert_ne!(s, FederationSecret::generate());
    let text = s.to_file_text();
    assert_eq!(text.len(), 65);
    assert_eq!(FederationSecret::from_file_text(&text), Ok(s.clone()));
    assert_eq!(
        FederationSecret::from_file_text(&text.to_uppercase()),
        Ok(s)
    );
    assert_eq!(
        FederationSecret::from_file_text("abc"),
        Err(SecretError::Length { found: 3 })
    );
    let bad = format!("{}g", "a".repeat(63));
    let err = FederationSecret::from_file_text(&bad);
    assert_eq!(err, Err(SecretError::NotHex { position: 64 }));
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.contains("hexadecimal") && !msg.contains("aaaa"),
        "{msg}"
    );
    let multibyte = "é".repeat(64);
    assert!(FederationSecret::from_file_text(&multibyte).is_err());
}

#[test]
fn debug_hides_the_key() {
    let s = FederationSecret::from_bytes([0xab; SECRET_LEN]);
    let shown = format!("{s:?}");
    assert_eq!(shown, "FederationSecret(<redacted>)");
    assert!(!shown.contains("ab"));
}
