use chrono::NaiveDate;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

#[test]
fn texts_round_trip_for_every_vocabulary() {
    for v in Channel::ALL {
        assert_eq!(v.as_str().parse::<Channel>(), Ok(*v));
        assert_eq!(Channel::from_code(v.as_str()), Some(*v));
    }
    for v in Outcome::ALL {
        assert_eq!(v.as_str().parse::<Outcome>(), Ok(*v));
    }
    for v in DurationBand::ALL {
        assert_eq!(v.as_str().parse::<DurationBand>(), Ok(*v));
    }
    for v in AgeBand::ALL {
        assert_eq!(v.as_str().parse::<AgeBand>(), Ok(*v));
    }
    for v in Sex::ALL {
        assert_eq!(v.as_str().parse::<Sex>(), Ok(*v));
    }
    assert_eq!(Outcome::TEXTS.len(), 6);
    assert_eq!(
        AgeBand::TEXTS,
        ["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    );
}

#[test]
fn serde_uses_the_canonical_texts() {
    assert_eq!(
        serde_json::to_string(&Channel::WalkIn).ok().as_deref(),
        Some("\"walk_in\"")
    );
    assert_eq!(
        serde_json::to_string(&DurationBand::Over60).ok().as_deref(),
        Some("\">60\"")
    );
    assert_eq!(
        serde_json::from_str::<AgeBand>("\"65+\"").ok(),
        Some(AgeBand::From65)
    );
}

#[test]
fn operator_spellings_are_accepted() {
    assert_eq!("Walk-in".parse::<Channel>(), Ok(Channel::WalkIn));
    assert_eq!(" E-mail ".parse::<Channel>(), Ok(Channel::Email));
    assert_eq!(
        "Appointment booked".parse::<Outcome>(),
        Ok(Outcome::AppointmentBooked)
    );
    assert_eq!(
        "FOLLOW-UP-NEEDED".parse::<Outcome>(),
        Ok(Outcome::FollowUpNeeded)
    );
    for (text, sex) in [
        ("f", Sex::F),
        ("Female", Sex::F),
        ("DONNA", Sex::F),
        ("m", Sex::M),
        ("male", Sex::M),
        ("Uomo", Sex::M),
        ("x", Sex::X),
        ("other", Sex::X),
    ] {
        assert_eq!(text.parse::<Sex>(), Ok(sex), "{text}");
    }
}

#[test]
fn canonical_only_parse_refuses_loose_spellings() {
    assert_eq!(Channel::from_code("Walk-in"), None);
    assert_eq!(Sex::from_code("f"), None);
    assert_eq!(Outcome::from_code(""), None);
}

#[test]
fn parse_errors_list_accepted_values_and_hide_the_input() {
    let err = "Mario Rossi".parse::<Channel>().err();
    let msg = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert_eq!(msg, "channel must be one of: walk_in, phone, email, online");
    assert!(!msg.contains("Mario"));
    assert_eq!(
        err.map(|e| e.expected()).as_deref(),
        Some("must be one of: walk_in, phone, email, online")
    );
    let msg = "yes"
        .parse::<Sex>()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(msg, "sex must be one of: F, M, X");
    assert!("12".parse::<AgeBand>().is_err());
    assert!("".parse::<Outcome>().is_err());
}

#[test]
fn duration_band_boundaries() {
    let cases = [
        (0, "<15"),
        (14, "<15"),
        (15, "15-30"),
        (29, "15-30"),
        (30, "30-60"),
        (60, "30-60"),
        (61, ">60"),
        (u32::MAX, ">60"),
    ];
    for (minutes, band) in cases {
        assert_eq!(
            DurationBand::from_minutes(minutes).as_str(),
            band,
            "{minutes} min"
        );
    }
}

#[test]
fn age_band_boundaries() {
    let cases = [
        (0, "0-17"),
        (17, "0-17"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (34, "25-34"),
        (35, "35-44"),
        (44, "35-44"),
        (45, "45-54"),
        (54, "45-54"),
        (55, "55-64"),
        (64, "55-64"),
        (65, "65+"),
        (120, "65+"),
    ];
    for (age, band) in cases {
        assert_eq!(AgeBand::from_age(age).as_str(), band, "age {age}");
    }
}

#[test]
fn iso_week_uses_the_iso_week_year() {
    assert_eq!(iso_week(date(2027, 1, 1)), "2026-W53");
    assert_eq!(iso_week(date(2024, 12, 30)), "2025-W01");
    assert_eq!(iso_week(date(2026, 1, 29)), "2026-W05");
    assert_eq!(iso_week(date(2021, 1, 3)), "2020-W53");
    assert_eq!(iso_week(date(2026, 12, 31)), "2026-W53");
}

#[test]
fn iso_week_validator() {
    for ok in ["2026-W05", "2026-W53", "2020-W53", "2025-W01", "2025-W52"] {
        assert!(is_iso_week(ok), "{ok} refused");
    }
    for bad in [
        "2025-W53",
        "2026-W00",
        "2026-W54",
        "2026-W5",
        "2026W05",
        "2026-w05",
        "26-W05",
        "2026-W05 ",
        "+026-W05",
        "２026-W05",
        "",
    ] {
        assert!(!is_iso_week(bad), "{bad} accepted");
    }
}

#[test]
fn country_codes_are_sorted_unique_and_official() {
    assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
    assert!(COUNTRY_CODES
        .iter()
        .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())));
    for ok in [
        "IT", "MA", "AL", "RO", "UA", "PK", "IN", "SN", "EG", "CN", "BD", "SS", "CW",
    ] {
        assert!(is_country_code(ok), "{ok} refused");
    }
    // Lowercase is the caller's to normalise; XK and EU are not officially assigned.
    for bad in ["it", "XK", "EU", "UK", "ITA", "I", ""] {
        assert!(!is_country_code(bad), "{bad} accepted");
    }
}

#[test]
fn language_tags() {
    for ok in [
        "it",
        "en",
        "ara",
        "pt-BR",
        "zh-Hans",
        "zh-Hans-CN",
        "es-419",
        "sr-Latn-RS",
    ] {
        assert!(is_language_tag(ok), "{ok} refused");
    }
    let too_long = format!("en-{}", ["abcdefgh"; 4].join("-"));
    for bad in [
        "",
        "e",
        "engl",
        "en-",
        "-en",
        "en--US",
        "en_US",
        "en-x-priv",
        "12",
        "it-abcdefghi",
        "ar ",
        too_long.as_str(),
    ] {
        assert!(!is_language_tag(bad), "{bad} accepted");
    }
}

#[test]
fn language_tags_normalise_to_one_spelling() {
    assert_eq!(normalise_language_tag(" IT ").as_deref(), Some("it"));
    assert_eq!(normalise_language_tag("pt_br").as_deref(), Some("pt-BR"));
    assert_eq!(
        normalise_language_tag("ZH-hans-cn").as_deref(),
        Some("zh-Hans-CN")
    );
    assert_eq!(normalise_language_tag("es-419").as_deref(), Some("es-419"));
    assert_eq!(normalise_language_tag("italiano"), None);
}

#[test]
fn mediator_takes_codes_in_any_case_and_the_italian_labels() {
    let m = |s: &str| Mediator::parse_optional(s);
    assert_eq!(m("not_needed"), Ok(Some(Mediator::NotNeeded)));
    assert_eq!(m(" Not needed "), Ok(Some(Mediator::NotNeeded)));
    assert_eq!(m("Non necessario"), Ok(Some(Mediator::NotNeeded)));
    assert_eq!(m("USED"), Ok(Some(Mediator::Used)));
    assert_eq!(m("presente"), Ok(Some(Mediator::Used)));
    assert_eq!(
        m("needed-unavailable"),
        Ok(Some(Mediator::NeededUnavailable))
    );
    assert_eq!(
        m("Necessario ma non disponibile"),
        Ok(Some(Mediator::NeededUnavailable))
    );
    for absent in ["", "  ", "unknown", "Non indicato"] {
        assert_eq!(m(absent), Ok(None), "{absent:?}");
    }
    let err = m("forse").expect_err("refused");
    assert_eq!(err.what, "mediator");
    assert!(!err.to_string().contains("forse"), "{err}");
    assert_eq!(
        Mediator::from_code("Used"),
        None,
        "the hub takes codes only"
    );
}
