use proptest::prelude::*;

use super::*;

const CF: &str = "RSSMRA85T10A562S";
const IBAN_IT: &str = "IT60X0542811101000000123456";

fn kinds(text: &str) -> Vec<(Kind, &str)> {
    find_personal_data(text)
        .into_iter()
        .map(|f| (f.kind, &text[f.span]))
        .collect()
}

fn s(text: &str) -> String {
    scrub(text, &[])
}

#[test]
fn every_pattern_compiles() {
    LazyLock::force(&TOKEN);
    LazyLock::force(&address::ADDRESS);
    LazyLock::force(&address::ENGLISH);
    LazyLock::force(&birth_date::BIRTH_DATE);
    LazyLock::force(&birth_date::SHORT_CUE);
    LazyLock::force(&birth_date::DATE_FIRST);
    LazyLock::force(&birth_date::CUE_AFTER);
    LazyLock::force(&document::SHAPED);
    LazyLock::force(&document::AFTER_KEYWORD);
    LazyLock::force(&email::EMAIL);
    LazyLock::force(&email::SPELLED);
}

#[test]
fn codice_fiscale_in_any_case_and_grouping() {
    assert!(is_valid_codice_fiscale(CF));
    assert!(!is_valid_codice_fiscale("RSSMRA85T10A562T"));
    for text in [
        "CF RSSMRA85T10A562S ok",
        "cf rssmra85t10a562s ok",
        "cf: RSS MRA 85T10 A562S ok",
        "pratica RSSMRA85T10A56NV.",
    ] {
        if text.contains("56NV") {
            // Omocodia with a wrong check char is not a code.
            assert_eq!(kinds(text), vec![], "{text}");
            continue;
        }
        assert_eq!(
            kinds(text).first().map(|k| k.0),
            Some(Kind::CodiceFiscale),
            "{text}"
        );
        assert!(!s(text).to_uppercase().contains("A562S"), "{text}");
    }
}

#[test]
fn omocodia_variants_are_found() {
    // RSSMRA85T10A562S with its last digit replaced (2 -> N) gets a new check char.
    let base = b"RSSMRA85T10A56N";
    let check = codice_fiscale::check_char(base).unwrap_or(b'?');
    let code = format!("{}{}", String::from_utf8_lossy(base), char::from(check));
    assert!(is_valid_codice_fiscale(&code), "{code}");
    assert_eq!(s(&format!("codice {code}.")), "codice [CODICE_FISCALE].");
    // Letters in any digit positions, not only from the right: a code
    // retyped by hand is still someone's code.
    let mixed = b"RSSMRA85T1LA562";
    let check = codice_fiscale::check_char(mixed).unwrap_or(b'?');
    let code = format!("{}{}", String::from_utf8_lossy(mixed), char::from(check));
    assert!(is_valid_codice_fiscale(&code), "{code}");
    // A letter outside L M N P Q R S T U V is no digit.
    let wrong = b"RSSMRA85T1AA562";
    let check = codice_fiscale::check_char(wrong).unwrap_or(b'?');
    let code = format!("{}{}", String::from_utf8_lossy(wrong), char::from(check));
    assert!(!is_valid_codice_fiscale(&code), "{code}");
}

/// `body` (15 characters) with its check character.
fn with_check(body: &[u8]) -> String {
    let check = codice_fiscale::check_char(body).unwrap_or(b'?');
    format!("{}{}", String::from_utf8_lossy(body), char::from(check))
}

#[test]
fn codice_fiscale_in_any_grouping_and_with_omocodia() {
    let omocodic = with_check(b"RSSMRA85T10A5MN");
    for text in [
        "cf RSS MRA 85T10 A562S ok",
        "RSSMRA 85T10A562S",
        "codice RSSMRA  85 T10 A562 S.",
        "R S S M R A 8 5 T 1 0 A 5 6 2 S",
        "rss-mra-85t10-a562s",
        "rss mra 85t10 - a562s",
    ] {
        assert_eq!(s(text).matches("[CODICE_FISCALE]").count(), 1, "{text}");
        assert!(!s(text).to_uppercase().contains("A562"), "{text}");
    }
    for grouped in [
        format!(
            "{} {} {}",
            &omocodic[..6],
            &omocodic[6..11],
            &omocodic[11..]
        ),
        format!("{} {}", &omocodic[..3], &omocodic[3..]),
        omocodic.to_lowercase(),
    ] {
        assert_eq!(
            s(&format!("CF {grouped}.")),
            "CF [CODICE_FISCALE].",
            "{grouped}"
        );
    }
    // Out of the office's order: taken in one piece, not across words.
    let mixed = with_check(b"RSSMRA85T1LA562");
    assert_eq!(s(&format!("pratica {mixed}")), "pratica [CODICE_FISCALE]");
    let spread = format!("{} {}", &mixed[..6], &mixed[6..]);
    assert_eq!(s(&format!("pratica {spread}")), format!("pratica {spread}"));
    // Words and a number that pass the check only out of order.
    assert_eq!(
        s("iQt,wP PhSTwm NLdmUY 60 mq"),
        "iQt,wP PhSTwm NLdmUY 60 mq"
    );
    // A dot ends a code: sentences and office hours are not groups.
    assert_eq!(
        s("KvyHsVVsLsR art. 5 D.Lgs. 286/1998"),
        "KvyHsVVsLsR art. 5 D.Lgs. 286/1998"
    );
    assert_eq!(s("JA 09.00-12.30 VGUisS"), "JA 09.00-12.30 VGUisS");
}

#[test]
fn ibans_with_and_without_spaces() {
    assert!(is_valid_iban(IBAN_IT));
    assert!(is_valid_iban("GB82 WEST 1234 5698 7654 32"));
    assert!(is_valid_iban("DE89370400440532013000"));
    assert!(!is_valid_iban("IT60X0542811101000000123457"));
    for text in [
        "bonifico su IT60X0542811101000000123456 grazie",
        "iban IT60 X054 2811 1010 0000 0123 456.",
        "IBAN: gb82 west 1234 5698 7654 32",
        "conto DE89 3704 0044 0532 0130 00",
    ] {
        assert_eq!(kinds(text).first().map(|k| k.0), Some(Kind::Iban), "{text}");
        assert!(s(text).contains("[IBAN]"), "{}", s(text));
        assert!(!s(text).contains("0000"), "{}", s(text));
    }
}

#[test]
fn phones_pasted_with_no_break_spaces() {
    for text in [
        "tel +39\u{a0}333\u{a0}1234567 ok",
        "tel 333\u{202f}123\u{202f}4567 ok",
        "tel +380\u{a0}67\u{a0}123\u{a0}4567 ok",
        "tel 333\u{2011}1234567 ok",
    ] {
        assert_eq!(s(text), "tel [TELEFONO] ok", "{text}");
    }
}

#[test]
fn phones_in_many_forms() {
    for (text, number) in [
        ("chiamare il 333 1234567 domani", "333 1234567"),
        ("cell. +39 333 123 4567.", "+39 333 123 4567"),
        ("tel 0039 030 1234567", "0039 030 1234567"),
        ("fisso (030) 12.34.567 ore pasti", "(030) 12.34.567"),
        ("numero 333-1234567", "333-1234567"),
        ("ufficio 030/1234567", "030/1234567"),
        ("whatsapp +212 6 12 34 56 78", "+212 6 12 34 56 78"),
        ("tel.3331234567", "3331234567"),
        ("+39 (0)30 2345678", "+39 (0)30 2345678"),
    ] {
        assert_eq!(kinds(text), vec![(Kind::Telefono, number)], "{text}");
    }
    assert_eq!(
        s("tel 333 1234567 / 030 123456"),
        "tel [TELEFONO] / [TELEFONO]"
    );
}

#[test]
fn emails() {
    assert_eq!(s("scrive a mario.rossi@gmail.com."), "scrive a [EMAIL].");
    assert_eq!(s("mail: a_b+c@uni-bs.edu.it"), "mail: [EMAIL]");
    assert_eq!(s("mario (at) libero.it"), "[EMAIL]");
    for (text, scrubbed) in [
        ("mail: mario.rossi at gmail dot com.", "mail: [EMAIL]."),
        ("mario.rossi AT virgilio DOT it", "[EMAIL]"),
        ("ayesha45 at virgilio.it, grazie", "[EMAIL], grazie"),
        ("o.k [at] ukr [dot] net", "[EMAIL]"),
        ("jallow19 chiocciola gmail punto com", "[EMAIL]"),
        ("scrive a anil53@ ukr.net oggi", "scrive a [EMAIL] oggi"),
        ("scrive a anil53 @ukr.net oggi", "scrive a [EMAIL] oggi"),
    ] {
        assert_eq!(s(text), scrubbed, "{text}");
    }
    // "at" is an ordinary English word.
    for text in [
        "paid 40 euro at the post office.",
        "met at school, then at home.",
        "at 10.30 at the Questura",
        "look at www.comune.brescia.it for the forms",
        "look at comune.brescia.it for the forms",
        "paid at post office.it was fine",
    ] {
        assert_eq!(s(text), text);
    }
}

#[test]
fn documents() {
    for text in [
        "CIE CA12345AB",
        "carta id AB1234567",
        "passaporto YA1234567",
        "pds I12345678",
        "passport no. 123456789",
        "permesso di soggiorno n. 0912345AB",
        "ricevuta nr: 20261234",
        "passaporto ya 1234567",
    ] {
        let found = kinds(text);
        assert_eq!(
            found.first().map(|k| k.0),
            Some(Kind::Documento),
            "{text}: {found:?}"
        );
    }
    assert_eq!(
        s("passaporto YA1234567 scaduto"),
        "passaporto [DOCUMENTO] scaduto"
    );
}

#[test]
fn addresses() {
    for (text, address) in [
        ("abita in via Milano 12, da sola", "via Milano 12"),
        (
            "Via Vittorio Emanuele II 5/B",
            "Via Vittorio Emanuele II 5/B",
        ),
        (
            "piazza della Loggia, 3 25122 Brescia (BS)",
            "piazza della Loggia, 3 25122 Brescia (BS)",
        ),
        ("Corso Zanardelli n. 34", "Corso Zanardelli n. 34"),
        ("viale Venezia 120a", "viale Venezia 120a"),
        ("lives at 12 Baker Street", "12 Baker Street"),
        ("vicolo San Clemente 4", "vicolo San Clemente 4"),
    ] {
        assert_eq!(kinds(text), vec![(Kind::Indirizzo, address)], "{text}");
    }
    for text in [
        "inviato via mail 3 volte",
        "iscritta al corso di italiano 2 volte a settimana",
        "pratica in via di definizione",
        "via WhatsApp 2 foto",
    ] {
        assert_eq!(kinds(text), vec![], "{text}");
    }
}

#[test]
fn addresses_with_abbreviated_street_types() {
    for (text, address) in [
        ("abita in v. Milano n. 12, da sola", "v. Milano n. 12"),
        ("c.so Zanardelli 3/B", "c.so Zanardelli 3/B"),
        ("sede: p.za Loggia n.4.", "p.za Loggia n.4"),
        ("P.ZA LOGGIA 4", "P.ZA LOGGIA 4"),
        ("V.MILANO 12", "V.MILANO 12"),
        ("v.Milano 12", "v.Milano 12"),
        ("ospite in V.le Venezia 120", "V.le Venezia 120"),
        ("vle Piave 5", "vle Piave 5"),
        ("vic.San Clemente 4", "vic.San Clemente 4"),
        ("Vic. dell'Ortaglia 2", "Vic. dell'Ortaglia 2"),
        ("l.go Formentone 2", "l.go Formentone 2"),
        ("p.le Garibaldi nr. 1", "p.le Garibaldi nr. 1"),
        (
            "p.zza della Loggia, 3 25122 Brescia",
            "p.zza della Loggia, 3 25122 Brescia",
        ),
        ("v. XX Settembre n° 15", "v. XX Settembre n° 15"),
        ("C.so Magenta civ. 7", "C.so Magenta civ. 7"),
        // Glued to the name: its capital shows where it starts.
        ("abita in c.soTrento 44.", "c.soTrento 44"),
        ("v.leDei Mille 3", "v.leDei Mille 3"),
        ("C.soCavour 150/B", "C.soCavour 150/B"),
        ("p.zzaVittoria, 156", "p.zzaVittoria, 156"),
        ("L.goFormentone n° 117", "L.goFormentone n° 117"),
        ("P.leCesare Battisti 97", "P.leCesare Battisti 97"),
        ("v.Leonardo da Vinci 3", "v.Leonardo da Vinci 3"),
        // Typed in lowercase after an abbreviation that is only a street.
        ("in v.le venezia 12.", "v.le venezia 12"),
        ("p.zza tebaldo brusato 196", "p.zza tebaldo brusato 196"),
        ("c.so trento n. 37", "c.so trento n. 37"),
        ("l.go torrelunga 126", "l.go torrelunga 126"),
    ] {
        assert_eq!(kinds(text), vec![(Kind::Indirizzo, address)], "{text}");
    }
    // A letter and a dot alone are no street: references, amounts, years,
    // counts, random letters, another abbreviation.
    for text in [
        "v. Allegato 3",
        "v. Art. 5",
        "v. Prot. n. 12",
        "v. sopra 3",
        "V.Aa 40 euro",
        "v.Ab 100 €",
        "v. Aa 2 figli",
        "V.Aa da 10 anni",
        "V.Aa CAS 2026",
        "v. CAS 2026",
        "PLe QU 2 figli",
        "v.ErRI 40",
        "rinvio al 12 p.v. Ufficio 2",
        "BTJ VICO classe 2A",
        "viA 2 figli di 3 e 5 anni",
        "v.lettera 3",
        "c.sottoscritta 12",
        "p.zzaLoggia 40 euro",
        "c.soDi 3",
        "c.so di italiano 2",
        "c.so base 2 volte",
        "v. sopra 3",
        "p.za di 3",
    ] {
        assert_eq!(kinds(text), vec![], "{text}");
    }
}

#[test]
fn numbers_of_files_are_not_documents_or_births() {
    for text in [
        "protocollo n. 123",
        "documento consegnato, protocollo n. 12345",
        "passaporto ok, pratica n. 20261234",
        "prot. n. 12/03/2026",
        "fattura n. 3.4.90",
        "permesso: pagati 12500 euro",
    ] {
        assert_eq!(kinds(text), vec![], "{text}");
    }
    assert_eq!(
        kinds("ricevuta n. 123456789012"),
        vec![(Kind::Documento, "123456789012")]
    );
}

#[test]
fn birth_dates_after_a_cue() {
    for (text, date) in [
        ("nato il 3/4/1990 a Dakar", "3/4/1990"),
        ("nata il 03.04.1990", "03.04.1990"),
        ("born 3 April 1990", "3 April 1990"),
        ("DOB 1990-04-03", "1990-04-03"),
        ("data di nascita 3 aprile 1990", "3 aprile 1990"),
        ("nata a Casablanca (Marocco) il 12-11-1987", "12-11-1987"),
        ("born on April 3, 1990", "April 3, 1990"),
        ("d.n. 03/04/1990", "03/04/1990"),
        ("nato il 3 aprile del 1990 a Dakar", "3 aprile del 1990"),
        ("03/04/1990 (data di nascita)", "03/04/1990"),
        ("3 apr 1990 DOB", "3 apr 1990"),
    ] {
        assert_eq!(kinds(text), vec![(Kind::DataNascita, date)], "{text}");
    }
    assert_eq!(s("nato il 3/4/1990."), "nato il [DATA_NASCITA].");
    assert_eq!(kinds("nata in Senegal, arrivata il 3/4/2015"), vec![]);
    assert_eq!(
        kinds("appuntamento 12/12/2026 (data di nascita del figlio da verificare)"),
        vec![]
    );
    // After a comma the cue starts another sentence.
    assert_eq!(
        kinds("permesso scade il 03/04/2027, data di nascita sbagliata"),
        vec![]
    );
}

#[test]
fn birth_dates_after_short_cues_and_names() {
    for (text, date) in [
        ("b. 3/4/90", "3/4/90"),
        ("n. 03-04-1990", "03-04-1990"),
        ("nata 3 March 1990, Lagos", "3 March 1990"),
        ("nato 03.04.1990", "03.04.1990"),
        ("born 3 Mar 1990", "3 Mar 1990"),
        ("d.o.b. 3/4/1990", "3/4/1990"),
        ("D.O.B.: 03/04/1990", "03/04/1990"),
        ("nata: 3 marzo 1990", "3 marzo 1990"),
        ("n. March 3, 1990", "March 3, 1990"),
        ("b.3 mar 1990", "3 mar 1990"),
    ] {
        assert_eq!(kinds(text), vec![(Kind::DataNascita, date)], "{text}");
    }
    let names = ["Mario", "Rossi"];
    for (text, out) in [
        ("Rossi Mario 03/04/1990", "[NOME] [DATA_NASCITA]"),
        (
            "Mario Rossi (3.4.90) chiede",
            "[NOME] ([DATA_NASCITA]) chiede",
        ),
        ("Mario Rossi, 3 marzo 1990", "[NOME], [DATA_NASCITA]"),
        ("Rossi – 3 mar 1990", "[NOME] – [DATA_NASCITA]"),
        ("ROSSI, March 3, 1990", "[NOME], [DATA_NASCITA]"),
        ("Rossi 3-4-1990.", "[NOME] [DATA_NASCITA]."),
        // The name already replaced still marks the date.
        ("[NOME] 03/04/1990", "[NOME] [DATA_NASCITA]"),
        // An appointment after the name, or a date with no cue, stays.
        ("Rossi 12/03/2026 ore 10:30", "[NOME] 12/03/2026 ore 10:30"),
        (
            "Rossi: appuntamento il 12/12/2026",
            "[NOME]: appuntamento il 12/12/2026",
        ),
        (
            "il 12/03/2026 Rossi è tornato",
            "il 12/03/2026 [NOME] è tornato",
        ),
        ("Rossi 9.00-12.30", "[NOME] 9.00-12.30"),
    ] {
        assert_eq!(scrub(text, &names), out, "{text}");
    }
    // The hub, which never learns the names, finds the same date after a token.
    assert_eq!(
        find_personal_data("[NOME] 03/04/1990").len(),
        1,
        "a date after a replaced name"
    );
}

#[test]
fn names_any_case_with_or_without_accents_and_alone() {
    let names = ["José María", "Núñez"];
    assert_eq!(
        scrub(
            "Jose Maria NUNEZ è venuto; poi nunez ha chiamato. José",
            &names
        ),
        "[NOME] è venuto; poi [NOME] ha chiamato. [NOME]"
    );
    // Whole words only.
    assert_eq!(
        scrub("Alice ha visto Ali", &["Ali"]),
        "Alice ha visto [NOME]"
    );
    assert_eq!(
        scrub("la signora D'Amico", &["D'Amico"]),
        "la signora [NOME]"
    );
    assert_eq!(scrub("Sig.ra ФАТИМА", &["Фатима"]), "Sig.ra [NOME]");
    assert_eq!(scrub("客户王伟来了", &["王伟"]), "客户[NOME]来了");
    assert_eq!(
        scrub("فاطمة الزهراء جاءت", &["فاطمة"]),
        "[NOME] الزهراء جاءت"
    );
    // Decomposed accents are folded too.
    assert_eq!(scrub("Jose\u{301} arrived", &["José"]), "[NOME] arrived");
    // A particle of a surname is the name only with the rest of it.
    assert_eq!(
        scrub(
            "João DA SILVA è qui da 10 anni; Silva va al Comune",
            &["João", "Da Silva"]
        ),
        "[NOME] è qui da 10 anni; [NOME] va al Comune"
    );
    assert_eq!(
        scrub("Omar Al-Hassan al Comune", &["Omar", "Al-Hassan"]),
        "[NOME] al Comune"
    );
    // Glued or apart where the permesso does the other.
    assert_eq!(
        scrub("Ndiaye e N’DIAYE", &["Mamadou", "N'Diaye"]),
        "[NOME] e [NOME]"
    );
    assert_eq!(
        scrub("pratica N'Diaye, El Amrani", &["Ndiaye", "Elamrani"]),
        "pratica [NOME], [NOME]"
    );
    // Cyrillic, by the transliteration of Ukrainian passports.
    assert_eq!(
        scrub(
            "Клієнтка Тетяна Григоренко, ЮЛІЯ Ткачук, Сергій Євтушенко",
            &[
                "Tetiana",
                "Hryhorenko",
                "Yuliia Tkachuk",
                "Serhii Yevtushenko"
            ]
        ),
        "Клієнтка [NOME], [NOME], [NOME]"
    );
    // Short names that are everyday words: capitalised or whole only.
    assert_eq!(
        scrub(
            "Ma Lin ha chiamato ma non c'era; Ma tornerà, li ho visti",
            &["Lin", "Ma"]
        ),
        "[NOME] ha chiamato ma non c'era; [NOME] tornerà, li ho visti"
    );
    assert_eq!(
        scrub("li na è venuta; Li ha 2 figli", &["Li Na"]),
        "[NOME] è venuta; [NOME] ha 2 figli"
    );
    // A one-word name is the visitor's whatever it is.
    assert_eq!(
        scrub("Ben ha chiamato", &["Ben", "Okafor"]),
        "[NOME] ha chiamato"
    );
}

#[test]
fn keep_list_survives() {
    let keep = [
        "art. 5 D.Lgs. 286/1998",
        "L. 91/1992",
        "€ 70,46",
        "40 euro",
        "permesso.rinnovo.lavoro",
        "9:00-12:30",
        "09.00-12.30",
        "appuntamento il 12/12/2026",
        "appuntamento il 03/02/2027",
        "art. 9 L. 91/1992",
        "DPR 394/1999",
        "ISEE 12.345,67",
        "kit postale da 30,46 euro",
        "25122 Brescia",
        "scadenza 2027-03-31",
        "2 figli di 3 e 5 anni",
        "classe 2A",
        "livello A2",
        "CAS 2026",
    ];
    for k in keep {
        assert_eq!(kinds(k), vec![], "{k}");
        assert_eq!(s(k), k);
    }
}

#[test]
fn tokens_are_not_personal_data() {
    let all: Vec<&str> = Kind::ALL.iter().map(|k| k.token()).collect();
    let text = all.join(" ");
    assert_eq!(kinds(&text), vec![]);
    assert_eq!(scrub(&text, &["Nome", "Email"]), text);
}

#[test]
fn tokens_never_split_words() {
    // A code glued to letters takes the whole word with it.
    assert_eq!(s("cf xRSSMRA85T10A562S."), "cf [CODICE_FISCALE].");
    assert_eq!(s("èRSSMRA85T10A562S è"), "[CODICE_FISCALE] è");
    assert_eq!(s("ibanIT60X0542811101000000123456"), "[IBAN]");
    // A number glued to a word takes the word with it.
    assert_eq!(s("cell3331234567 ok"), "[TELEFONO] ok");
}

#[test]
fn other_scripts_do_not_panic_and_keep_their_text() {
    for text in [
        "اتصل على +39 333 1234567 غدا",
        "میرا نمبر 0039 333 1234567 ہے",
        "电话3331234567，邮箱wang@qq.com",
        "🙂 333 1234567 🙂",
    ] {
        let out = s(text);
        assert!(!out.contains("1234567"), "{out}");
    }
    assert_eq!(s("电话3331234567"), "电话[TELEFONO]");
}

/// Codice fiscale strategy: valid structure, correct check char, optional
/// omocodia (the last k digit positions as letters).
fn codice_fiscale() -> impl Strategy<Value = String> {
    (
        "[A-Z]{6}",
        0u8..100,
        prop::sample::select(b"ABCDEHLMPRST".to_vec()),
        1u8..=31,
        any::<bool>(),
        "[A-Z][0-9]{3}",
        0usize..=7,
    )
        .prop_map(|(name, year, month, day, female, town, omocodia)| {
            let day = if female { day + 40 } else { day };
            let mut c: Vec<u8> =
                format!("{name}{year:02}{}{day:02}{town}", char::from(month)).into_bytes();
            let positions = [14, 13, 12, 10, 9, 7, 6];
            for p in positions.iter().take(omocodia) {
                c[*p] = b"LMNPQRSTUV"[usize::from(c[*p] - b'0')];
            }
            let check = codice_fiscale::check_char(&c).unwrap_or(b'A');
            c.push(check);
            String::from_utf8_lossy(&c).into_owned()
        })
}

/// IBANs of a few countries with the right length and check digits.
fn iban() -> impl Strategy<Value = String> {
    let countries = vec![
        ("IT", 27),
        ("DE", 22),
        ("FR", 27),
        ("MA", 28),
        ("GB", 22),
        ("ES", 24),
        ("RO", 24),
        ("XX", 20),
    ];
    (
        prop::sample::select(countries),
        "[0-9]{30}",
        "[A-Z]{4}",
        any::<bool>(),
    )
        .prop_map(|((cc, len), digits, letters, with_letters)| {
            let bban_len = len - 4;
            let bban: String = if with_letters && cc != "XX" {
                format!("{}{}", &letters[..1], &digits[..bban_len - 1])
            } else {
                digits[..bban_len].to_owned()
            };
            // Check digits: 98 - (bban + cc + "00") mod 97.
            let mut rem = 0u32;
            for c in bban.bytes().chain(cc.bytes()).chain(*b"00") {
                rem = if c.is_ascii_digit() {
                    (rem * 10 + u32::from(c - b'0')) % 97
                } else {
                    (rem * 100 + u32::from(c - b'A') + 10) % 97
                };
            }
            format!("{cc}{:02}{bban}", 98 - rem)
        })
}

fn grouped(code: &str, spaced: bool) -> String {
    if !spaced {
        return code.to_owned();
    }
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn phone() -> impl Strategy<Value = String> {
    prop_oneof![
        "3[0-9]{2}[ .\\-]?[0-9]{3}[ .\\-]?[0-9]{3,4}",
        "\\+39 ?3[0-9]{2} ?[0-9]{6,7}",
        "0039 ?3[0-9]{2} ?[0-9]{7}",
        "0[1-9][0-9]{1,2}[ /\\-][0-9]{5,7}",
        "\\(0[1-9][0-9]\\) ?[0-9]{6,7}",
        "\\+(212|216|92|86|380|40|234) ?[1-9][0-9]{1,2}( ?[0-9]{3}){2}",
    ]
}

fn email() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9._+\\-]{0,15}@[a-z][a-z0-9\\-]{0,10}(\\.[a-z]{2,6}){1,2}"
}

/// Text around the personal data: anything, but separated by a space so
/// the item stands as its own word.
fn surrounding() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-zA-Zàèéìòù ,.:;!?()€0-9]{0,60}",
        Just("Il signore ha chiesto informazioni, ".to_owned()),
        Just("نحن هنا 我们在这里 ".to_owned()),
    ]
}

/// Around the item: spaces, or, for an item written in one piece and with
/// a digit in it, nothing between it and a word before it ("tel3331234567":
/// the word then goes with it). Glued to a number instead, the digits would
/// read as one longer number, and glued letters alone would make any word a
/// candidate.
fn embedded(before: &str, item: &str, after: &str) -> String {
    // Varies with the inputs, so that both forms come up.
    let one_piece = !item.contains(' ') && item.bytes().any(|b| b.is_ascii_digit());
    let after_word = before.chars().next_back().is_some_and(char::is_alphabetic);
    if (before.len() + after.len()).is_multiple_of(3) && one_piece && after_word {
        format!("{before}{item} {after}")
    } else {
        format!("{before} {item} {after}")
    }
}

proptest! {
    #[test]
    fn any_codice_fiscale_is_removed(cf in codice_fiscale(), lower in any::<bool>(), spaced in any::<bool>(), a in surrounding(), b in surrounding()) {
        prop_assert!(is_valid_codice_fiscale(&cf), "{}", cf);
        let item = if lower { cf.to_lowercase() } else { cf.clone() };
        let item = grouped(&item, spaced);
        let out = s(&embedded(&a, &item, &b));
        prop_assert!(!out.contains(&item), "{} -> {}", item, out);
        prop_assert!(find_personal_data(&out).is_empty(), "{}", out);
    }

    #[test]
    fn any_iban_is_removed(iban in iban(), spaced in any::<bool>(), a in surrounding(), b in surrounding()) {
        prop_assert!(is_valid_iban(&iban), "{}", iban);
        let item = grouped(&iban, spaced);
        let out = s(&embedded(&a, &item, &b));
        prop_assert!(!out.contains(&item), "{} -> {}", item, out);
        prop_assert!(!out.contains(&iban[4..14]), "{} -> {}", item, out);
    }

    #[test]
    fn any_phone_is_removed(p in phone(), a in surrounding(), b in surrounding()) {
        let out = s(&embedded(&a, &p, &b));
        prop_assert!(!out.contains(&p), "{} -> {}", p, out);
        prop_assert!(find_personal_data(&out).is_empty(), "{}", out);
    }

    #[test]
    fn any_email_is_removed(e in email(), a in surrounding(), b in surrounding()) {
        let out = s(&embedded(&a, &e, &b));
        prop_assert!(!out.contains(&e), "{} -> {}", e, out);
    }

    #[test]
    fn keep_list_items_survive_in_any_text(k in prop::sample::select(vec![
        "art. 5 D.Lgs. 286/1998", "L. 91/1992", "€ 70,46", "40 euro", "permesso.rinnovo.lavoro",
        "9:00-12:30", "appuntamento il 12/12/2026",
    ]), a in "[a-zA-Z ,.]{0,40}", b in "[a-zA-Z ,.]{0,40}") {
        let text = embedded(&a, k, &b);
        prop_assert!(s(&text).contains(k), "{} -> {}", text, s(&text));
    }

    #[test]
    fn scrubbing_never_panics_and_leaves_nothing_to_find(text in any::<String>(), names in prop::collection::vec(any::<String>(), 0..3)) {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let out = scrub(&text, &names);
        prop_assert!(find_personal_data(&out).is_empty(), "{:?} -> {:?}", text, out);
        for f in find_personal_data_with_names(&text, &names) {
            prop_assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
            // A token never splits a word.
            let before = text[..f.span.start].chars().next_back();
            let first = text[f.span.clone()].chars().next();
            let last = text[f.span.clone()].chars().next_back();
            let after = text[f.span.end..].chars().next();
            let splits = |a: Option<char>, b: Option<char>| {
                a.zip(b).is_some_and(|(a, b)| is_word_char(a) && is_word_char(b))
            };
            prop_assert!(!splits(before, first) && !splits(last, after), "{:?} in {:?}", f, text);
        }
    }

    #[test]
    fn digit_heavy_text_never_panics(text in "[0-9 +()./\\-a-zA-Z@èà]{0,200}") {
        let out = s(&text);
        prop_assert!(find_personal_data(&out).is_empty(), "{:?} -> {:?}", text, out);
        for f in find_personal_data(&text) {
            let before = text[..f.span.start].chars().next_back();
            let after = text[f.span.end..].chars().next();
            prop_assert!(!before.is_some_and(is_word_char) && !after.is_some_and(is_word_char), "{:?} in {:?}", f, text);
        }
    }
}

#[test]
fn cued_codes_are_taken_even_with_a_wrong_check() {
    // One letter off: still someone's code, when announced as one.
    assert_eq!(s("CF: RSSMRA85T10A562T."), "CF: [CODICE_FISCALE].");
    assert_eq!(
        s("codice fiscale rss mra 85t10 a562t"),
        "codice fiscale [CODICE_FISCALE]"
    );
    assert_eq!(s("pratica RSSMRA85T10A562T"), "pratica RSSMRA85T10A562T");
    assert_eq!(s("IBAN IT61X0542811101000000123456"), "IBAN [IBAN]");
    assert_eq!(
        s("conto IT61X0542811101000000123456"),
        "conto IT61X0542811101000000123456"
    );
}

/// Inputs of about `n` bytes that push on each detector: long runs of what
/// they look for, and near-matches that each one weighs and refuses.
fn adversarial(n: usize) -> Vec<(&'static str, String)> {
    let fill = |unit: &str| unit.repeat(n / unit.len());
    vec![
        ("digits", fill("3")),
        ("digits and blanks", fill("3 ")),
        ("digits and dots", fill("3.")),
        ("dots", fill(".")),
        ("separators", fill("- / . ( ) + ")),
        ("no-break separators", fill("3\u{a0}\u{202f}-")),
        ("phone-like groups", fill("+39 (0)30 12 ")),
        ("capitalised words", fill("Milano ")),
        ("streets without a number", fill("via Milano ")),
        ("refused streets", fill("via Milano 3 euro ")),
        ("glued abbreviations", fill("c.soTrento v.leDei ")),
        ("abbreviations", fill("v. p.za c.so V.le ")),
        ("birth cues", fill("nato il ")),
        ("refused dates", fill("nato il 39/19/99 ")),
        ("dates after names", fill("[NOME] 3/4/90 ")),
        (
            "blanks after names and dates",
            fill("[NOME] 3 marzo                                  "),
        ),
        (
            "a date, long blanks, its cue",
            format!("3/4/1990{}(data di nascita)", " ".repeat(n)),
        ),
        ("document words", fill("passaporto n. ")),
        (
            "a long document number",
            format!("passaporto {}", fill("1")),
        ),
        ("at signs", fill("a@")),
        ("spelled e-mails", fill("a at b dot ")),
        ("codes glued in one word", fill("xRSSMRA85T10A562S")),
        ("code near-misses", fill("RSS MRA 85T10 A562 ")),
        ("IBAN near-misses", fill("IT60 X054 ")),
        (
            "IBANs glued in one word",
            fill("IT60X0542811101000000123456"),
        ),
        ("tokens and phones", fill("[NOME] 3331234567 ")),
        ("names", fill("Mario Rossi ")),
        ("unspaced names", fill("王伟来了")),
        ("mixed", fill("A1 b2.C3-d4 ")),
        ("phones glued to words", fill("tel3331234567")),
        (
            "document words before a long code",
            format!("{}{}", "doc ".repeat(n / 8), "1".repeat(n / 2)),
        ),
        ("near-miss names", fill("Mari Ross Mario Ros ")),
        ("spelled e-mail near-misses", fill("mario at casa punto ")),
        (
            "a long refused user before a spelled at",
            format!("{} at casa.com", "-a".repeat(n / 2)),
        ),
        (
            "a long street name before a refused number",
            format!("via via via via via {} 3 euro", "A".repeat(n)),
        ),
    ]
}

/// Linear time without a clock: the work counted at twice the input size
/// is about twice the work (a rescan per candidate would make it four
/// times).
#[test]
fn scrubbing_is_linear_in_the_input() {
    const N: usize = 6_000;
    const MAX_RATIO: f64 = 2.2;
    let names = ["Mario", "Rossi", "王伟"];
    let mut worst = (0.0, "");
    let mut superlinear = Vec::new();
    for ((label, small), (_, large)) in adversarial(N).into_iter().zip(adversarial(2 * N)) {
        work::take();
        let _ = scrub(&small, &names);
        let small_work = work::take();
        let _ = scrub(&large, &names);
        let large_work = work::take();
        let ratio = large_work as f64 / small_work.max(1) as f64;
        println!(
            "{label}: {small_work} steps for {} bytes, {large_work} for {} (ratio {ratio:.3})",
            small.len(),
            large.len()
        );
        if ratio > MAX_RATIO {
            superlinear.push(format!("{label}: ratio {ratio:.2}"));
        }
        if ratio > worst.0 {
            worst = (ratio, label);
        }
    }
    println!("worst ratio: {:.3} ({})", worst.0, worst.1);
    assert!(superlinear.is_empty(), "{}", superlinear.join("\n"));
}
