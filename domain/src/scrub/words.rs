//! Facts about the words around a candidate that several detectors weigh:
//! the noun a number belongs to ("prot. n. 12/03/2026", "v. Allegato 3"),
//! the unit after a number ("40 euro", "60 mq") and the casing of a name.
//! Every look here reads a bounded stretch of text, so a detector that
//! calls them once per candidate stays linear.

/// Nouns whose number is a reference, a file number or a place in the
/// office, not personal data: the articles of a law, the pages of an
/// attachment, the protocol number of an application, the class of a
/// course. After `v.` (vedi) they are what is pointed to.
const NUMBERED: [&str; 53] = [
    "allegato",
    "allegati",
    "all",
    "tabella",
    "tab",
    "pagina",
    "pag",
    "punto",
    "punti",
    "paragrafo",
    "par",
    "nota",
    "note",
    "art",
    "artt",
    "articolo",
    "comma",
    "lett",
    "lettera",
    "sezione",
    "sez",
    "modulo",
    "mod",
    "capitolo",
    "cap",
    "scheda",
    "elenco",
    "circolare",
    "legge",
    "decreto",
    "delibera",
    "sentenza",
    "ordinanza",
    "determina",
    "verbale",
    "prot",
    "protocollo",
    "pratica",
    "ricevuta",
    "fattura",
    "istanza",
    "domanda",
    "richiesta",
    "contratto",
    "rif",
    "classe",
    "livello",
    "sala",
    "sportello",
    "aula",
    "turno",
    "gruppo",
    "lotto",
];

/// Words that only say "number": the noun they number is the word before.
const NUMBER_MARKERS: [&str; 6] = ["n", "nr", "no", "num", "numero", "number"];

/// Units and counted things after a number that make it a quantity: an
/// amount, a duration, a surface, a head count. "ore" is left out on
/// purpose: "via Milano 12 ore 10:30" is an address and then a time.
const UNITS: [&str; 44] = [
    "euro",
    "eur",
    "eu",
    "dollari",
    "usd",
    "franchi",
    "cfa",
    "lei",
    "anni",
    "anno",
    "mesi",
    "mese",
    "giorni",
    "giorno",
    "settimane",
    "settimana",
    "minuti",
    "min",
    "mq",
    "m2",
    "metri",
    "km",
    "kg",
    "persone",
    "figli",
    "figlio",
    "figlie",
    "volte",
    "rate",
    "posti",
    "camere",
    "stanze",
    "vani",
    "pagine",
    "copie",
    "marche",
    "years",
    "months",
    "days",
    "weeks",
    "people",
    "children",
    "times",
    "percento",
];

/// Symbols that, right after a number, make it an amount or a share.
const UNIT_SIGNS: [char; 5] = ['€', '$', '£', '%', '‰'];

/// Lowercase words inside a street's or a person's name: "via della
/// Volta", "via dei Mille", "De Gasperi".
const PARTICLES: [&str; 14] = [
    "di", "de", "del", "della", "dello", "dei", "degli", "delle", "da", "dal", "e", "ed", "d",
    "dell",
];

/// Longer words are no listed noun or unit; the bound keeps every look
/// short whatever the text holds.
const MAX_WORD: usize = 24;

/// Whether `word` (any case, with or without its dot) is a noun whose
/// number is no personal data.
pub(super) fn is_numbered_noun(word: &str) -> bool {
    let word = word.trim_end_matches('.');
    NUMBERED.iter().any(|n| n.eq_ignore_ascii_case(word))
}

pub(super) fn is_particle(word: &str) -> bool {
    PARTICLES.iter().any(|p| p.eq_ignore_ascii_case(word))
}

/// The word that a number starting at `at` belongs to: the word before it,
/// or the one before a marker such as "n." or "nr". Returns where that word
/// starts, and the word.
pub(super) fn noun_before(text: &str, at: usize) -> Option<(usize, &str)> {
    let (start, word) = word_before(text, at)?;
    if NUMBER_MARKERS.iter().any(|m| m.eq_ignore_ascii_case(word)) {
        return word_before(text, start);
    }
    Some((start, word))
}

/// The letters that end within a few non-letters before `at` ("prot. ",
/// "n°", "rif.: "), with where they start.
fn word_before(text: &str, at: usize) -> Option<(usize, &str)> {
    const MAX_GAP: usize = 4;
    let before = text.get(..at)?;
    let gap: usize = before
        .chars()
        .rev()
        .take(MAX_GAP)
        .take_while(|c| !c.is_alphabetic())
        .map(char::len_utf8)
        .sum();
    let end = at - gap;
    let len: usize = before[..end]
        .chars()
        .rev()
        .take(MAX_WORD + 1)
        .take_while(|c| c.is_alphabetic())
        .map(char::len_utf8)
        .sum();
    (len > 0).then(|| (end - len, &before[end - len..end]))
}

/// Whether the text from `at`, just after a number, names a unit or a
/// counted thing: "40 euro", "100 €", "60 mq", "3 anni".
pub(super) fn quantity_follows(text: &str, at: usize) -> bool {
    let rest = text.get(at..).unwrap_or_default();
    let rest = rest.trim_start_matches([' ', '\u{a0}']);
    if rest.starts_with(UNIT_SIGNS) {
        return true;
    }
    let len: usize = rest
        .chars()
        .take(MAX_WORD + 1)
        .take_while(|c| c.is_alphanumeric())
        .map(char::len_utf8)
        .sum();
    let word = &rest[..len];
    UNITS.iter().any(|u| u.eq_ignore_ascii_case(word))
}

/// How a word of a name is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Casing {
    /// "Milano", "S.", "F.lli", "Sant'Eufemia", "Trento-Trieste".
    Title,
    /// "MILANO", "GARIBALDI".
    Capitals,
    /// "XX", "IV": numbers in names, at home in both casings.
    Roman,
    /// "della", "dei".
    Particle,
    /// "4" in "via 4 Novembre".
    Number,
    /// Anything else: "sopra", "ErRI", "x3".
    Other,
}

/// Classifies one word of a name. The part after an apostrophe is the name
/// ("dell'Ortaglia", "D'Annunzio"); hyphenated parts must agree.
pub(super) fn casing(word: &str) -> Casing {
    let word = word.trim_end_matches('.');
    if is_particle(word) {
        return Casing::Particle;
    }
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        return Casing::Number;
    }
    let named = word.rsplit(['\'', '’']).next().unwrap_or(word);
    let mut parts = named.split('-').map(part_casing);
    let first = parts.next().unwrap_or(Casing::Other);
    if parts.all(|p| p == first) {
        first
    } else {
        Casing::Other
    }
}

fn part_casing(part: &str) -> Casing {
    // Inner dots belong to abbreviations such as "F.lli".
    let letters: Vec<char> = part.chars().filter(|c| *c != '.').collect();
    let Some((head, tail)) = letters.split_first() else {
        return Casing::Other;
    };
    if !letters.iter().all(|c| c.is_alphabetic()) || !head.is_uppercase() {
        return Casing::Other;
    }
    if tail.iter().all(|c| c.is_lowercase()) {
        Casing::Title
    } else if tail.iter().all(|c| c.is_uppercase()) {
        if letters.len() <= 4 && letters.iter().all(|c| "IVXLCDM".contains(*c)) {
            Casing::Roman
        } else {
            Casing::Capitals
        }
    } else {
        Casing::Other
    }
}

/// Letters in `word`: "S." has one, "Milano" six.
pub(super) fn letters(word: &str) -> usize {
    word.chars().filter(|c| c.is_alphabetic()).count()
}
