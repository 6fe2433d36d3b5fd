//! Names for people, in Italian and English, of the values a published
//! table holds: countries, M49 groups, procedures and their families,
//! outcomes, channels, sexes, referral offices, mediators. Tables keep the codes (for
//! machines); pages and downloads show these beside or instead of them.

/// `(it, en)` for M49 groups and the nationality groups' own labels.
const GROUPS: &[(&str, &str)] = &[
    ("Africa", "Africa"),
    ("Americas", "Americhe"),
    ("Asia", "Asia"),
    ("Europe", "Europa"),
    ("Oceania", "Oceania"),
    ("Antarctica", "Antartide"),
    ("Northern Africa", "Africa settentrionale"),
    ("Sub-Saharan Africa", "Africa subsahariana"),
    ("Western Africa", "Africa occidentale"),
    ("Eastern Africa", "Africa orientale"),
    ("Middle Africa", "Africa centrale"),
    ("Southern Africa", "Africa australe"),
    (
        "Latin America and the Caribbean",
        "America latina e Caraibi",
    ),
    ("Caribbean", "Caraibi"),
    ("Central America", "America centrale"),
    ("South America", "America meridionale"),
    ("Northern America", "America settentrionale"),
    ("Central Asia", "Asia centrale"),
    ("Eastern Asia", "Asia orientale"),
    ("South-eastern Asia", "Asia sud-orientale"),
    ("Southern Asia", "Asia meridionale"),
    ("Western Asia", "Asia occidentale"),
    ("Eastern Europe", "Europa orientale"),
    ("Northern Europe", "Europa settentrionale"),
    ("Southern Europe", "Europa meridionale"),
    ("Western Europe", "Europa occidentale"),
    ("Channel Islands", "Isole del Canale"),
    ("Australia and New Zealand", "Australia e Nuova Zelanda"),
    ("Melanesia", "Melanesia"),
    ("Micronesia", "Micronesia"),
    ("Polynesia", "Polinesia"),
    (super::OTHER_NATIONALITIES, "altre nazionalità"),
];

/// `(code, it, en)` of the procedure families.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("anagrafe", "Anagrafe", "Registry office"),
    ("asilo", "Asilo e protezione", "Asylum and protection"),
    ("casa", "Casa", "Housing"),
    ("cittadinanza", "Cittadinanza", "Citizenship"),
    (
        "conversione",
        "Conversione del permesso",
        "Permit conversion",
    ),
    ("fisco", "Fisco", "Tax"),
    ("integrazione", "Integrazione", "Integration"),
    ("lavoro", "Lavoro", "Work"),
    ("lingua", "Lingua italiana", "Italian language"),
    ("permesso", "Permesso di soggiorno", "Residence permit"),
    (
        "ricongiungimento",
        "Ricongiungimento familiare",
        "Family reunification",
    ),
    ("sanita", "Sanità", "Health care"),
    ("scuola", "Scuola", "School"),
    ("welfare", "Welfare", "Welfare"),
];

const OUTCOMES: &[(&str, &str, &str)] = &[
    ("answered", "Risposta data", "Answered"),
    ("referred", "Inviato a un ufficio", "Referred"),
    (
        "appointment_booked",
        "Appuntamento fissato",
        "Appointment booked",
    ),
    (
        "documents_checked",
        "Documenti controllati",
        "Documents checked",
    ),
    ("follow_up_needed", "Da seguire", "Follow-up needed"),
    ("out_of_scope", "Fuori competenza", "Out of scope"),
];

const CHANNELS: &[(&str, &str, &str)] = &[
    ("walk_in", "Di persona", "Walk-in"),
    ("phone", "Telefono", "Phone"),
    ("email", "E-mail", "E-mail"),
    ("online", "Online", "Online"),
];

const SEXES: &[(&str, &str, &str)] = &[
    ("F", "Donne", "Women"),
    ("M", "Uomini", "Men"),
    ("X", "Altro", "Other"),
];

/// Languages a visit is commonly held in at Brescia's desks: (tag, name in
/// the language itself, Italian name, English name). The operator page
/// offers them; tables and the gaps page name them.
pub const LANGUAGES: &[(&str, &str, &str, &str)] = &[
    ("it", "Italiano", "Italiano", "Italian"),
    ("en", "English", "Inglese", "English"),
    ("fr", "Français", "Francese", "French"),
    ("es", "Español", "Spagnolo", "Spanish"),
    ("ar", "العربية", "Arabo", "Arabic"),
    ("ur", "اردو", "Urdu", "Urdu"),
    ("bn", "বাংলা", "Bengalese", "Bengali"),
    ("pa", "ਪੰਜਾਬੀ", "Punjabi", "Punjabi"),
    ("hi", "हिन्दी", "Hindi", "Hindi"),
    ("zh", "中文", "Cinese", "Chinese"),
    ("uk", "Українська", "Ucraino", "Ukrainian"),
    ("ru", "Русский", "Russo", "Russian"),
    ("ro", "Română", "Rumeno", "Romanian"),
    ("sq", "Shqip", "Albanese", "Albanian"),
    ("pt", "Português", "Portoghese", "Portuguese"),
    ("tr", "Türkçe", "Turco", "Turkish"),
    ("fa", "فارسی", "Persiano", "Persian"),
    ("wo", "Wolof", "Wolof", "Wolof"),
    ("ti", "ትግርኛ", "Tigrino", "Tigrinya"),
];

const MEDIATORS: &[(&str, &str, &str)] = &[
    ("not_needed", "Non necessario", "Not needed"),
    ("used", "Presente", "Present"),
    (
        "needed_unavailable",
        "Necessario ma non disponibile",
        "Needed but unavailable",
    ),
    (
        crate::fields::MEDIATOR_UNKNOWN,
        "Non indicato",
        "Not stated",
    ),
];

fn find(table: &[(&str, &str, &str)], value: &str) -> Option<(String, String)> {
    table
        .iter()
        .find(|(code, ..)| *code == value)
        .map(|(_, it, en)| ((*it).to_owned(), (*en).to_owned()))
}

/// A nationality label: a country code, an M49 group, or a group marked
/// `"(other)"` when it leaves out some of its countries.
fn nationality(value: &str) -> Option<(String, String)> {
    if value.is_empty() {
        return Some(("Non indicata".into(), "Not stated".into()));
    }
    if let Some(c) = crate::country(value) {
        return Some((c.name_it.to_owned(), c.name_en.to_owned()));
    }
    let (group, other) = match value.strip_suffix(" (other)") {
        Some(g) => (g, true),
        None => (value, false),
    };
    let (en, it) = GROUPS.iter().find(|(en, _)| *en == group)?;
    Some(if other {
        (format!("{it} (altri)"), format!("{en} (other)"))
    } else {
        ((*it).to_owned(), (*en).to_owned())
    })
}

/// `(it, en)` names of `value` in dimension `dim`, when it has names other
/// than its code.
pub fn label(dim: &str, value: &str) -> Option<(String, String)> {
    match dim {
        "nationality" => nationality(value),
        "family" => find(FAMILIES, value),
        "procedure" => crate::catalogue::SEED
            .iter()
            .find(|(code, ..)| *code == value)
            .map(|(_, it, en, _)| ((*it).to_owned(), (*en).to_owned()))
            // A procedure recoded to its family.
            .or_else(|| find(FAMILIES, value)),
        "outcome" => find(OUTCOMES, value),
        "channel" => find(CHANNELS, value),
        "sex" => find(SEXES, value),
        "mediator" => find(MEDIATORS, value),
        "language" => LANGUAGES
            .iter()
            .find(|(tag, ..)| *tag == value)
            .map(|(_, _, it, en)| ((*it).to_owned(), (*en).to_owned())),
        "referral" => crate::catalogue::referral_label(value).map(|l| (l.to_owned(), l.to_owned())),
        _ => None,
    }
}

/// The name of `value` in `language` (`en`, otherwise Italian), or the
/// value itself.
pub fn name(dim: &str, value: &str, language: &str) -> String {
    match label(dim, value) {
        Some((_, en)) if language == "en" => en,
        Some((it, _)) => it,
        None => value.to_owned(),
    }
}
