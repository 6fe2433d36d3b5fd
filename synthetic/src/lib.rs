//! Realistic synthetic visits for the demo, the load generator and tests.
//! They carry made-up personal data on purpose: it must never leave the desk.

use proto::Visit;
use rand::seq::IndexedRandom;
use rand::Rng;

const NAMES: &[(&str, &str, &str)] = &[
    ("Amina", "El Idrissi", "MA"),
    ("Mohamed", "Benali", "MA"),
    ("Oksana", "Kovalenko", "UA"),
    ("Rajesh", "Kumar", "IN"),
    ("Fatima", "Zahra Khan", "PK"),
    ("Wei", "Zhang", "CN"),
    ("Ioana", "Popescu", "RO"),
    ("Kwame", "Mensah", "GH"),
    ("Blerina", "Hoxha", "AL"),
    ("Ahmed", "Hassan", "EG"),
    ("Maria José", "Gonçalves", "BR"),
    ("Abdoulaye", "Diop", "SN"),
    ("Nimal", "Perera", "LK"),
    ("Jesús", "Ramírez", "PE"),
];

const LANGUAGES: &[(&str, &str)] = &[
    ("MA", "ar"),
    ("EG", "ar"),
    ("UA", "uk"),
    ("IN", "hi"),
    ("PK", "ur"),
    ("CN", "zh"),
    ("RO", "ro"),
    ("GH", "en"),
    ("AL", "sq"),
    ("BR", "pt"),
    ("SN", "fr"),
    ("LK", "en"),
    ("PE", "es"),
];

const PROCEDURES: &[&str] = &[
    "permesso.rinnovo.lavoro",
    "permesso.rinnovo.lavoro",
    "permesso.rinnovo.lavoro",
    "permesso.kit_postale",
    "permesso.kit_postale",
    "ricongiungimento.nulla_osta",
    "ricongiungimento.nulla_osta",
    "cittadinanza.residenza",
    "cittadinanza.residenza",
    "permesso.ue_lungo_periodo",
    "integrazione.test_italiano_a2",
    "anagrafe.iscrizione",
    "fisco.codice_fiscale",
    "sanita.iscrizione_ssr",
    "scuola.iscrizione",
    "casa.servizi_abitativi",
    "lavoro.decreto_flussi",
    "welfare.assegno_unico",
];

const CHANNELS: &[&str] = &["walk_in", "walk_in", "walk_in", "phone", "email", "online"];
const OUTCOMES: &[&str] = &[
    "answered",
    "answered",
    "referred",
    "appointment_booked",
    "documents_checked",
    "follow_up_needed",
    "out_of_scope",
];
const REFERRALS: &[&str] = &[
    "questura",
    "prefettura_sui",
    "poste",
    "anagrafe",
    "asst",
    "inps",
    "cpia",
];

pub fn visit(rng: &mut impl Rng) -> Visit {
    let &(name, surname, country) = NAMES.choose(rng).unwrap_or(&NAMES[0]);
    let language = LANGUAGES
        .iter()
        .find(|(c, _)| *c == country)
        .map(|(_, l)| *l)
        .filter(|_| rng.random_bool(0.7))
        .unwrap_or("it");
    let outcome = *OUTCOMES.choose(rng).unwrap_or(&"answered");
    let referral = if outcome == "referred" {
        *REFERRALS.choose(rng).unwrap_or(&"questura")
    } else {
        ""
    };
    let year = rng.random_range(1955..2008);
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let mut visit = Visit {
        name: name.into(),
        surname: surname.into(),
        birth_date: format!("{year:04}-{month:02}-{day:02}"),
        sex: if rng.random_bool(0.5) { "F" } else { "M" }.into(),
        nationality: country.into(),
        codice_fiscale: String::new(),
        document_number: format!("Y{:08}", rng.random_range(0..100_000_000u32)),
        phone: format!(
            "+39 3{:02} {:07}",
            rng.random_range(20..99),
            rng.random_range(0..10_000_000u32)
        ),
        email: format!(
            "{}.{}@example.org",
            name.to_lowercase().replace(' ', ""),
            rng.random_range(1..999)
        ),
        address: format!("Via Milano {}, 25126 Brescia", rng.random_range(1..200)),
        procedure: (*PROCEDURES.choose(rng).unwrap_or(&PROCEDURES[0])).into(),
        channel: (*CHANNELS.choose(rng).unwrap_or(&"walk_in")).into(),
        language: language.into(),
        outcome: outcome.into(),
        referral: referral.into(),
        minutes: rng.random_range(3..90),
        notes: String::new(),
        visited_at: String::new(),
        mediator: String::new(),
    };
    // From what was drawn already, so that a seed gives the same visits as
    // before the field: Italian needs no mediator; otherwise mostly one
    // was there, sometimes none could be found, sometimes nobody said.
    visit.mediator = match (language, visit.minutes % 6) {
        ("it", _) => "not_needed",
        (_, 0) => "needed_unavailable",
        (_, 1) => "",
        _ => "used",
    }
    .into();
    visit
}
