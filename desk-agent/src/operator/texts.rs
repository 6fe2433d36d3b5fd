//! What the operator page says, in Italian (first) and English. One struct
//! per language, so a missing translation is a compile error, not a hole.

use domain::{Channel, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    It,
    En,
}

impl Lang {
    pub const COOKIE: &'static str = "lang";

    /// From the `Cookie` header; Italian unless the operator chose English.
    pub fn from_cookie_header(header: Option<&str>) -> Self {
        let chosen = header.unwrap_or("").split(';').any(|c| {
            c.trim()
                .strip_prefix("lang=")
                .is_some_and(|v| v.trim() == "en")
        });
        if chosen {
            Lang::En
        } else {
            Lang::It
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::It => &IT,
            Lang::En => &EN,
        }
    }
}

pub struct Texts {
    pub skip: &'static str,
    pub nav_record: &'static str,
    pub nav_guidance: &'static str,
    pub nav_answer: &'static str,
    pub nav_status: &'static str,
    pub switch_to: &'static str,
    pub switch_lang: &'static str,
    pub title_record: &'static str,
    pub intro_record: &'static str,
    pub procedure: &'static str,
    pub procedure_hint: &'static str,
    pub channel: &'static str,
    pub language: &'static str,
    pub outcome: &'static str,
    pub referral: &'static str,
    pub referral_none: &'static str,
    pub minutes: &'static str,
    pub age: &'static str,
    pub age_hint: &'static str,
    pub birth_date: &'static str,
    pub birth_date_hint: &'static str,
    pub age_group: &'static str,
    pub sex: &'static str,
    pub sex_unknown: &'static str,
    pub nationality: &'static str,
    pub nationality_hint: &'static str,
    pub notes: &'static str,
    pub notes_hint: &'static str,
    pub save: &'static str,
    pub errors_intro: &'static str,
    pub saved: &'static str,
    pub saved_intro: &'static str,
    pub title_guidance: &'static str,
    pub guidance_for: &'static str,
    pub guidance_all: &'static str,
    pub guidance_none: &'static str,
    pub guidance_live: &'static str,
    pub new_item: &'static str,
    pub mark_read: &'static str,
    pub urgent: &'static str,
    pub important: &'static str,
    pub info: &'static str,
    pub valid_from: &'static str,
    pub until: &'static str,
    pub title_answer: &'static str,
    pub answer_pick: &'static str,
    pub answer_key: &'static str,
    pub answer_language: &'static str,
    pub answer_show: &'static str,
    pub answer_none: &'static str,
    pub answer_variables: &'static str,
    pub answer_fill: &'static str,
    pub answer_stale: &'static str,
    pub print: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub propose_title: &'static str,
    pub propose_body: &'static str,
    pub propose_send: &'static str,
    pub propose_sent: &'static str,
    pub title_status: &'static str,
    pub hub: &'static str,
    pub connected: &'static str,
    pub disconnected: &'static str,
    pub pending: &'static str,
    pub sent: &'static str,
    pub quarantined: &'static str,
    pub quarantine_none: &'static str,
    pub reason: &'static str,
    pub versions: &'static str,
    pub last_error: &'static str,
    pub desk: &'static str,
    pub field: &'static str,
    pub value: &'static str,
    pub choose: &'static str,
}

pub static IT: Texts = Texts {
    skip: "Vai al contenuto",
    nav_record: "Registra visita",
    nav_guidance: "Indicazioni",
    nav_answer: "Risposta",
    nav_status: "Stato",
    switch_to: "English",
    switch_lang: "en",
    title_record: "Registra una visita",
    intro_record: "Nessun dato personale lascia lo sportello: il nome non si scrive, l'età diventa una fascia.",
    procedure: "Procedura",
    procedure_hint: "Scrivi il nome in italiano o in inglese, o il codice, e scegli dall'elenco.",
    channel: "Canale",
    language: "Lingua della visita",
    outcome: "Esito",
    referral: "Inviato a",
    referral_none: "Nessun invio",
    minutes: "Durata (minuti)",
    age: "Età (anni)",
    age_hint: "Se non conosci la data di nascita. Basta una delle due.",
    birth_date: "Data di nascita",
    birth_date_hint: "Serve solo a calcolare la fascia d'età, poi viene scartata.",
    age_group: "Età",
    sex: "Sesso",
    sex_unknown: "Non indicato",
    nationality: "Cittadinanza",
    nationality_hint: "Scrivi il paese in italiano o in inglese.",
    notes: "Note",
    notes_hint: "I dati personali vengono tolti prima di salvare.",
    save: "Salva la visita",
    errors_intro: "La visita non è stata salvata. Correggi i campi segnati: il resto è ancora qui.",
    saved: "Visita registrata.",
    saved_intro: "Ecco esattamente ciò che lascia lo sportello (il record anonimo):",
    title_guidance: "Indicazioni",
    guidance_for: "Indicazioni per",
    guidance_all: "Tutte le indicazioni in vigore",
    guidance_none: "Nessuna indicazione in vigore.",
    guidance_live: "Si aggiorna da sola quando il Comune pubblica.",
    new_item: "Nuovo",
    mark_read: "Segna come letto",
    urgent: "Urgente",
    important: "Importante",
    info: "Informazione",
    valid_from: "In vigore dal",
    until: "fino al",
    title_answer: "Risposta per il visitatore",
    answer_pick: "Scegli procedura e lingua",
    answer_key: "Testo",
    answer_language: "Lingua del visitatore",
    answer_show: "Mostra la risposta",
    answer_none: "Lo sportello non ha ancora testi per questa procedura.",
    answer_variables: "Dati da inserire nel testo",
    answer_fill: "Compila i dati richiesti per vedere il testo completo.",
    answer_stale: "Questa traduzione segue una versione precedente del testo italiano.",
    print: "Stampa",
    copy: "Copia il testo",
    copied: "Copiato.",
    propose_title: "Proponi una formulazione migliore",
    propose_body: "Nuovo testo (con gli stessi {{campi}})",
    propose_send: "Invia la proposta al Comune",
    propose_sent: "Proposta inviata.",
    title_status: "Stato dello sportello",
    hub: "Collegamento al Comune",
    connected: "Collegato",
    disconnected: "Non collegato: le visite restano al sicuro qui e partiranno appena possibile.",
    pending: "In attesa di invio",
    sent: "Inviate",
    quarantined: "Rifiutate dal Comune",
    quarantine_none: "Nessun record rifiutato.",
    reason: "Motivo",
    versions: "Versioni ricevute",
    last_error: "Ultimo errore di collegamento",
    desk: "Sportello",
    field: "Campo",
    value: "Valore",
    choose: "Scegli…",
};

pub static EN: Texts = Texts {
    skip: "Skip to content",
    nav_record: "Record a visit",
    nav_guidance: "Guidance",
    nav_answer: "Answer",
    nav_status: "Status",
    switch_to: "Italiano",
    switch_lang: "it",
    title_record: "Record a visit",
    intro_record: "No personal data leaves the desk: no name is written, the age becomes a band.",
    procedure: "Procedure",
    procedure_hint: "Type the name in Italian or English, or the code, and pick from the list.",
    channel: "Channel",
    language: "Language of the visit",
    outcome: "Outcome",
    referral: "Referred to",
    referral_none: "No referral",
    minutes: "Duration (minutes)",
    age: "Age (years)",
    age_hint: "If the birth date is not known. One of the two is enough.",
    birth_date: "Birth date",
    birth_date_hint: "Only used to work out the age band, then dropped.",
    age_group: "Age",
    sex: "Sex",
    sex_unknown: "Not stated",
    nationality: "Nationality",
    nationality_hint: "Type the country in Italian or English.",
    notes: "Notes",
    notes_hint: "Personal data is removed before saving.",
    save: "Save the visit",
    errors_intro: "The visit was not saved. Fix the marked fields: everything else is still here.",
    saved: "Visit recorded.",
    saved_intro: "This is exactly what leaves the desk (the anonymised record):",
    title_guidance: "Guidance",
    guidance_for: "Guidance for",
    guidance_all: "All guidance in force",
    guidance_none: "No guidance in force.",
    guidance_live: "Updates by itself when the Comune publishes.",
    new_item: "New",
    mark_read: "Mark as read",
    urgent: "Urgent",
    important: "Important",
    info: "Information",
    valid_from: "In force from",
    until: "until",
    title_answer: "Answer for the visitor",
    answer_pick: "Choose procedure and language",
    answer_key: "Text",
    answer_language: "Visitor's language",
    answer_show: "Show the answer",
    answer_none: "The desk has no texts for this procedure yet.",
    answer_variables: "Details to put in the text",
    answer_fill: "Fill in the details to see the whole text.",
    answer_stale: "This translation follows an earlier version of the Italian text.",
    print: "Print",
    copy: "Copy the text",
    copied: "Copied.",
    propose_title: "Propose a better wording",
    propose_body: "New text (with the same {{fields}})",
    propose_send: "Send the proposal to the Comune",
    propose_sent: "Proposal sent.",
    title_status: "Desk status",
    hub: "Link to the Comune",
    connected: "Connected",
    disconnected: "Not connected: visits are safe here and leave as soon as possible.",
    pending: "Waiting to be sent",
    sent: "Sent",
    quarantined: "Refused by the Comune",
    quarantine_none: "No refused record.",
    reason: "Reason",
    versions: "Versions received",
    last_error: "Last link error",
    desk: "Desk",
    field: "Field",
    value: "Value",
    choose: "Choose…",
};

pub fn channel_label(c: Channel, lang: Lang) -> &'static str {
    match (c, lang) {
        (Channel::WalkIn, Lang::It) => "Di persona",
        (Channel::WalkIn, Lang::En) => "In person",
        (Channel::Phone, Lang::It) => "Telefono",
        (Channel::Phone, Lang::En) => "Phone",
        (Channel::Email, _) => "E-mail",
        (Channel::Online, _) => "Online",
    }
}

pub fn outcome_label(o: Outcome, lang: Lang) -> &'static str {
    match (o, lang) {
        (Outcome::Answered, Lang::It) => "Risposta data",
        (Outcome::Answered, Lang::En) => "Answered",
        (Outcome::Referred, Lang::It) => "Inviato a un altro ufficio",
        (Outcome::Referred, Lang::En) => "Referred to another office",
        (Outcome::AppointmentBooked, Lang::It) => "Appuntamento fissato",
        (Outcome::AppointmentBooked, Lang::En) => "Appointment booked",
        (Outcome::DocumentsChecked, Lang::It) => "Documenti controllati",
        (Outcome::DocumentsChecked, Lang::En) => "Documents checked",
        (Outcome::FollowUpNeeded, Lang::It) => "Da ricontattare",
        (Outcome::FollowUpNeeded, Lang::En) => "Follow-up needed",
        (Outcome::OutOfScope, Lang::It) => "Fuori competenza",
        (Outcome::OutOfScope, Lang::En) => "Out of scope",
    }
}

/// Languages a visit is commonly held in at Brescia's desks: (tag, name in
/// the language itself, Italian name, English name). Names in their own
/// script carry `lang` in the page so screen readers read them right.
pub const VISIT_LANGUAGES: &[(&str, &str, &str, &str)] = &[
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

pub fn language_name(tag: &str, lang: Lang) -> String {
    match VISIT_LANGUAGES.iter().find(|l| l.0 == tag) {
        Some((_, own, it, en)) => {
            let local = if lang == Lang::It { it } else { en };
            if own == local {
                own.to_string()
            } else {
                format!("{local} – {own}")
            }
        }
        None => tag.to_string(),
    }
}
