//! The procedure catalogue (the codes a record may name, with their Italian
//! and English names and usual office) and the closed list of referral
//! offices. The hub owns the catalogue and pushes it to desks; both sides
//! validate records against it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod log;
#[cfg(test)]
mod tests;

pub use log::{CatalogueChange, CatalogueEntry};

/// Longest procedure code accepted, in characters.
pub const MAX_CODE_LEN: usize = 100;
/// Longest name or office text accepted, in characters.
pub const MAX_TEXT_LEN: usize = 200;

/// One procedure a desk can help with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    /// Stable code, `family.procedure[.variant]`, e.g. `permesso.rinnovo.lavoro`.
    pub code: String,
    /// First dotted segment of the code, e.g. `permesso`.
    pub family: String,
    pub name_it: String,
    pub name_en: String,
    /// The office the visitor is usually sent to, as a desk operator says it.
    pub office: String,
}

/// Why a list of procedures cannot become a catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error(
        "procedure #{index}: field `code` must be at least two dot-separated segments \
         of a-z, 0-9 and _, at most {MAX_CODE_LEN} characters"
    )]
    BadCode { index: usize },
    #[error(
        "procedure `{code}`: field `family` must be `{expected}`, the first segment of the code"
    )]
    BadFamily { code: String, expected: String },
    #[error("procedure `{code}`: field `{field}` must be 1 to {max} characters")]
    BadText {
        code: String,
        field: &'static str,
        max: usize,
    },
    #[error("procedure `{code}`: field `code` appears more than once")]
    Duplicate { code: String },
}

/// A validated set of procedures, unique by code, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    procedures: Vec<Procedure>,
    by_code: BTreeMap<String, usize>,
}

/// (code, Italian name, English name, office) — the rows of CATALOGUE.md.
#[rustfmt::skip]
pub(crate) const SEED: &[(&str, &str, &str, &str)] = &[
    ("permesso.rilascio.lavoro_subordinato", "Permesso per lavoro subordinato", "Employment permit", "Poste (kit) → Questura"),
    ("permesso.rilascio.lavoro_autonomo", "Permesso per lavoro autonomo", "Self-employment permit", "Poste (kit) → Questura"),
    ("permesso.rilascio.famiglia", "Permesso per motivi familiari", "Family permit", "Poste (kit) → Questura"),
    ("permesso.rilascio.studio", "Permesso per studio", "Study permit", "Poste (kit) → Questura"),
    ("permesso.rilascio.attesa_occupazione", "Permesso per attesa occupazione", "Job-seeking permit", "Poste (kit) → Questura"),
    ("permesso.rinnovo.lavoro", "Rinnovo permesso per lavoro", "Work permit renewal", "Poste (kit) → Questura"),
    ("permesso.ue_lungo_periodo", "Permesso UE per soggiornanti di lungo periodo", "EU long-term residence permit", "Poste (kit) → Questura"),
    ("permesso.familiare_ue", "Carta di soggiorno per familiare di cittadino UE", "Residence card, family of EU citizen", "Questura"),
    ("permesso.protezione_speciale", "Protezione speciale", "Special protection", "Questura / Commissione territoriale"),
    ("permesso.aggiornamento", "Aggiornamento o duplicato del permesso", "Permit update or duplicate", "Poste (kit)"),
    ("permesso.kit_postale", "Compilazione kit postale", "Filling in the postal kit", "Poste, Sportello Amico"),
    ("asilo.domanda", "Domanda di protezione internazionale", "Asylum application", "Questura"),
    ("ricongiungimento.nulla_osta", "Nulla osta al ricongiungimento familiare", "Family reunification clearance", "Prefettura – SUI"),
    ("ricongiungimento.coesione", "Coesione familiare", "Family cohesion", "Poste (kit) → Questura"),
    ("ricongiungimento.idoneita_alloggio", "Certificato di idoneità alloggiativa", "Housing suitability certificate", "Comune"),
    ("conversione.studio_lavoro", "Conversione da studio o stagionale a lavoro", "Conversion to a work permit", "Prefettura – SUI"),
    ("integrazione.accordo", "Accordo di integrazione", "Integration agreement", "Prefettura – SUI / Questura"),
    ("integrazione.test_italiano_a2", "Test di lingua italiana A2", "A2 Italian language test", "Prefettura (online), test at a CPIA"),
    ("cittadinanza.residenza", "Cittadinanza per residenza", "Citizenship by residence", "Prefettura (online application)"),
    ("cittadinanza.matrimonio", "Cittadinanza per matrimonio", "Citizenship by marriage", "Prefettura (online application)"),
    ("cittadinanza.giuramento", "Giuramento", "Citizenship oath", "Comune"),
    ("cittadinanza.elezione_18", "Elezione di cittadinanza a 18 anni", "Citizenship election at 18", "Comune"),
    ("anagrafe.iscrizione", "Iscrizione anagrafica / dichiarazione di dimora", "Residence registration", "Anagrafe comunale"),
    ("anagrafe.ospitalita", "Dichiarazione di ospitalità", "Hospitality declaration", "Questura / Polizia Locale"),
    ("fisco.codice_fiscale", "Codice fiscale", "Tax code", "Agenzia delle Entrate (SUI for new entrants)"),
    ("sanita.iscrizione_ssr", "Iscrizione al Servizio sanitario e scelta del medico", "Health-service registration, choice of GP", "ASST, ufficio Scelta e Revoca"),
    ("lavoro.decreto_flussi", "Decreto flussi", "Quota-based work entry", "Prefettura – SUI (ALI portal)"),
    ("lavoro.emersione", "Emersione", "Regularisation", "Prefettura – SUI / INPS; Questura"),
    ("welfare.assegno_unico", "Assegno unico universale", "Child allowance", "INPS"),
    ("scuola.iscrizione", "Iscrizione scolastica dei minori", "School enrolment of minors", "School / Comune"),
    ("scuola.comunicazione_famiglia", "Comunicazione scuola–famiglia, mediazione", "School–family communication, mediation", "School / Comune"),
    ("casa.servizi_abitativi", "Servizi abitativi pubblici", "Public housing", "Comune / ALER"),
    ("casa.incentivi_affitto", "Incentivi all'affitto, rapporti con i proprietari", "Rent incentives, contact with landlords", "Comune"),
    ("lingua.corsi_italiano", "Corsi di italiano (anche per madri con figli)", "Italian courses (also for mothers)", "CPIA / associazioni"),
];

impl Catalogue {
    /// The seed catalogue the hub loads on first start (CATALOGUE.md).
    pub fn seed() -> Self {
        let procedures = SEED
            .iter()
            .map(|&(code, name_it, name_en, office)| Procedure {
                code: code.to_owned(),
                family: family_of(code).to_owned(),
                name_it: name_it.to_owned(),
                name_en: name_en.to_owned(),
                office: office.to_owned(),
            })
            .collect();
        // The seed is checked by a unit test, so a failure here is a
        // programming error; an empty catalogue keeps the process alive anyway.
        Self::from_procedures(procedures).unwrap_or_else(|_| Self {
            procedures: Vec::new(),
            by_code: BTreeMap::new(),
        })
    }

    /// Builds a catalogue from procedures received from the hub or storage,
    /// refusing malformed codes, wrong families, empty or over-long texts and
    /// duplicate codes.
    pub fn from_procedures(procedures: Vec<Procedure>) -> Result<Self, CatalogueError> {
        let mut by_code = BTreeMap::new();
        for (index, p) in procedures.iter().enumerate() {
            if !is_procedure_code(&p.code) {
                return Err(CatalogueError::BadCode { index });
            }
            let expected = family_of(&p.code);
            if p.family != expected {
                return Err(CatalogueError::BadFamily {
                    code: p.code.clone(),
                    expected: expected.to_owned(),
                });
            }
            for (field, text) in [
                ("name_it", &p.name_it),
                ("name_en", &p.name_en),
                ("office", &p.office),
            ] {
                let len = text.trim().chars().count();
                if len == 0 || text.chars().count() > MAX_TEXT_LEN {
                    return Err(CatalogueError::BadText {
                        code: p.code.clone(),
                        field,
                        max: MAX_TEXT_LEN,
                    });
                }
            }
            if by_code.insert(p.code.clone(), index).is_some() {
                return Err(CatalogueError::Duplicate {
                    code: p.code.clone(),
                });
            }
        }
        Ok(Self {
            procedures,
            by_code,
        })
    }

    pub fn contains(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    pub fn get(&self, code: &str) -> Option<&Procedure> {
        self.by_code.get(code).and_then(|&i| self.procedures.get(i))
    }

    /// Procedures whose code, Italian or English name contain every word of
    /// `query`, ignoring case, accents and punctuation (an operator types
    /// "idoneita" or "rinnovo lavoro"). An empty query matches everything.
    pub fn search(&self, query: &str) -> Vec<&Procedure> {
        let folded = fold(query);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        self.procedures
            .iter()
            .filter(|p| {
                let haystack = fold(&format!("{} {} {}", p.code, p.name_it, p.name_en));
                words.iter().all(|w| haystack.contains(w))
            })
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Procedure> {
        self.procedures.iter()
    }

    pub fn procedures(&self) -> &[Procedure] {
        &self.procedures
    }

    pub fn len(&self) -> usize {
        self.procedures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.procedures.is_empty()
    }
}

/// The family of a code: its first dotted segment.
pub fn family_of(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

/// `family.procedure[.variant]`: at least two non-empty segments of a-z, 0-9, _.
pub fn is_procedure_code(code: &str) -> bool {
    code.len() <= MAX_CODE_LEN
        && code.split('.').count() >= 2
        && code.split('.').all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// Codes of the offices a record may name as referral. Stable: they are
/// stored in records and counted, so never rename one.
pub const REFERRAL_OFFICES: &[&str] = &[
    "questura",
    "prefettura_sui",
    "poste",
    "anagrafe",
    "asst",
    "agenzia_entrate",
    "inps",
    "cpia",
    "comune",
    "scuola",
    "aler",
    "terzo_settore",
];

/// (code, Italian label) for every referral office, same order as
/// [`REFERRAL_OFFICES`].
pub const REFERRAL_OFFICE_LABELS: &[(&str, &str)] = &[
    ("questura", "Questura"),
    ("prefettura_sui", "Prefettura – SUI"),
    ("poste", "Poste"),
    ("anagrafe", "Anagrafe"),
    ("asst", "ASST"),
    ("agenzia_entrate", "Agenzia delle Entrate"),
    ("inps", "INPS"),
    ("cpia", "CPIA"),
    ("comune", "Comune"),
    ("scuola", "Scuola"),
    ("aler", "ALER"),
    ("terzo_settore", "Associazione del terzo settore"),
];

/// The Italian label of a referral office code.
pub fn referral_label(code: &str) -> Option<&'static str> {
    REFERRAL_OFFICE_LABELS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

/// The office code for what an operator typed: the code itself or the
/// Italian label, ignoring case, accents and punctuation ("Prefettura - SUI").
pub fn referral_code(input: &str) -> Option<&'static str> {
    let wanted = fold(input);
    if wanted.is_empty() {
        return None;
    }
    REFERRAL_OFFICE_LABELS
        .iter()
        .find(|(code, label)| fold(code) == wanted || fold(label) == wanted)
        .map(|(code, _)| *code)
}

/// Lowercases, strips the accents of Latin letters and turns every run of
/// non-alphanumerics into one space, so that "Idoneità" matches "idoneita"
/// and `permesso.rinnovo` matches "permesso rinnovo".
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        let base = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'š' | 'ś' | 'ş' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            other => other,
        };
        if base.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(base);
        } else {
            pending_space = true;
        }
    }
    out
}
