use super::*;
use crate::fields::COUNTRY_CODES;

#[test]
fn every_country_code_has_both_names() {
    assert_eq!(COUNTRIES.len(), COUNTRY_CODES.len());
    for (c, code) in COUNTRIES.iter().zip(COUNTRY_CODES) {
        assert_eq!(c.code, code);
        assert!(!c.name_it.is_empty() && !c.name_en.is_empty(), "{code}");
    }
}

#[test]
fn search_by_italian_or_english_name_ignoring_accents() {
    let codes = |q: &str| {
        search_countries(q)
            .iter()
            .map(|c| c.code)
            .collect::<Vec<_>>()
    };
    assert_eq!(codes("marocco"), ["MA"]);
    assert_eq!(codes("Morocco"), ["MA"]);
    assert!(
        codes("costa d avorio").contains(&"CI"),
        "{:?}",
        codes("costa d avorio")
    );
    assert_eq!(codes("MA").first(), Some(&"MA"));
    assert_eq!(search_countries("").len(), COUNTRIES.len());
}

#[test]
fn code_from_name_or_code() {
    assert_eq!(country_code("Marocco"), Some("MA"));
    assert_eq!(country_code("morocco"), Some("MA"));
    assert_eq!(country_code("ma"), Some("MA"));
    assert_eq!(country_code("Atlantide"), None);
    assert_eq!(country("ua").map(|c| c.name("en")), Some("Ukraine"));
    assert_eq!(country("UA").map(|c| c.name("it")), Some("Ucraina"));
}
