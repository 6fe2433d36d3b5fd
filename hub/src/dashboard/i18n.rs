//! The dashboard's words, Italian first with English beside them. A missing
//! key shows as itself, so a forgotten entry is visible rather than blank.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Lang {
    #[default]
    It,
    En,
}

pub(crate) const COOKIE: &str = "rete_lang";

impl Lang {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub(crate) fn other(self) -> Self {
        match self {
            Lang::It => Lang::En,
            Lang::En => Lang::It,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Lang::It => "Italiano",
            Lang::En => "English",
        }
    }

    pub(crate) fn t(self, key: &str) -> &'static str {
        match TEXTS.iter().find(|(k, _, _)| *k == key) {
            Some((_, it, en)) => match self {
                Lang::It => it,
                Lang::En => en,
            },
            None => {
                tracing::warn!(key, "dashboard text missing");
                "?"
            }
        }
    }
}

/// (key, Italian, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("app", "Rete Sportelli", "Rete Sportelli"),
    ("skip", "Vai al contenuto", "Skip to content"),
    ("nav", "Sezioni", "Sections"),
    ("nav.overview", "Panoramica", "Overview"),
    ("nav.desks", "Sportelli", "Desks"),
    ("nav.guidance", "Indicazioni", "Guidance"),
    ("nav.templates", "Modelli di risposta", "Answer templates"),
    ("nav.stats", "Statistiche", "Statistics"),
    ("nav.audit", "Registro attività", "Audit log"),
    ("signed_in_as", "Accesso come", "Signed in as"),
    ("logout", "Esci", "Sign out"),
    ("login.title", "Accesso coordinatori", "Coordinator sign-in"),
    ("login.username", "Nome utente", "User name"),
    ("login.password", "Password", "Password"),
    ("login.submit", "Accedi", "Sign in"),
    (
        "login.failed",
        "Nome utente o password non corretti.",
        "Wrong user name or password.",
    ),
    (
        "login.hint",
        "Gli account si creano con «hub user add NOME --data CARTELLA».",
        "Accounts are created with `hub user add NAME --data DIR`.",
    ),
    ("overview.title", "Panoramica", "Overview"),
    ("overview.week", "Questa settimana", "This week"),
    ("overview.trend", "Ultime 12 settimane", "Last 12 weeks"),
    ("overview.visits", "visite registrate", "visits recorded"),
    (
        "overview.connected",
        "sportelli collegati",
        "desks connected",
    ),
    ("overview.lagging", "sportelli in ritardo", "desks lagging"),
    (
        "overview.protected",
        "Conteggi sotto 5 mostrati come «<5» o nascosti («x») per tutela della riservatezza.",
        "Counts below 5 are shown as “<5” or hidden (“x”) to protect privacy.",
    ),
    ("overview.data", "Dati del grafico", "Chart data"),
    (
        "overview.nodata",
        "Nessun dato nel periodo.",
        "No data in this period.",
    ),
    ("dim.family", "Famiglia di procedure", "Procedure family"),
    ("dim.procedure", "Procedura", "Procedure"),
    ("dim.outcome", "Esito", "Outcome"),
    ("dim.channel", "Canale", "Channel"),
    ("dim.language", "Lingua", "Language"),
    ("dim.desk_id", "Sportello", "Desk"),
    ("dim.week", "Settimana", "Week"),
    ("dim.referral", "Invio a ufficio", "Referral"),
    ("dim.duration_band", "Durata", "Duration"),
    ("dim.age_band", "Fascia d'età", "Age band"),
    ("dim.sex", "Sesso", "Sex"),
    ("dim.nationality", "Cittadinanza", "Nationality"),
    ("count", "Numero", "Count"),
    ("total", "Totale", "Total"),
    ("desks.title", "Sportelli", "Desks"),
    ("desks.desk", "Sportello", "Desk"),
    ("desks.state", "Stato", "State"),
    ("desks.connected", "collegato", "connected"),
    ("desks.disconnected", "non collegato", "not connected"),
    ("desks.revoked", "revocato", "revoked"),
    ("desks.lagging", "in ritardo", "lagging"),
    ("desks.last_seen", "Ultimo contatto", "Last seen"),
    (
        "desks.last_ack",
        "Ultimo lotto confermato",
        "Last batch acknowledged",
    ),
    ("desks.pending", "Visite in attesa", "Records pending"),
    ("desks.records", "Visite ricevute", "Records received"),
    (
        "desks.versions",
        "Versioni (indicazioni / modelli / catalogo)",
        "Versions (guidance / templates / catalogue)",
    ),
    (
        "desks.rejection",
        "Ultimo aggiornamento rifiutato",
        "Last refused push",
    ),
    ("desks.actions", "Azioni", "Actions"),
    ("desks.revoke", "Revoca", "Revoke"),
    ("desks.add", "Aggiungi uno sportello", "Add a desk"),
    (
        "desks.id",
        "Identificativo (es. sportello-centro)",
        "Id (e.g. sportello-centro)",
    ),
    (
        "desks.hub_address",
        "Indirizzo dell'hub per lo sportello (HOST:PORTA)",
        "Hub address for the desk (HOST:PORT)",
    ),
    (
        "desks.add_submit",
        "Aggiungi e scarica il pacchetto di adesione",
        "Add and download the enrollment bundle",
    ),
    (
        "desks.bundle_note",
        "Il pacchetto contiene la chiave privata dello sportello: consegnalo solo allo sportello.",
        "The bundle holds the desk's private key: hand it to the desk only.",
    ),
    (
        "desks.none",
        "Nessuno sportello registrato.",
        "No desk enrolled.",
    ),
    ("desks.revoked_msg", "Sportello revocato.", "Desk revoked."),
    (
        "desks.current",
        "Versioni attuali dell'hub",
        "The hub's current versions",
    ),
    ("never", "mai", "never"),
    ("ago", "fa", "ago"),
    ("unknown", "non noto", "unknown"),
    (
        "guidance.title",
        "Indicazioni agli sportelli",
        "Guidance for the desks",
    ),
    (
        "guidance.publish",
        "Pubblica un'indicazione",
        "Publish guidance",
    ),
    (
        "guidance.amend",
        "Modifica l'indicazione",
        "Amend the guidance item",
    ),
    ("guidance.item_title", "Titolo", "Title"),
    ("guidance.body", "Testo", "Text"),
    ("guidance.severity", "Importanza", "Severity"),
    (
        "guidance.procedures",
        "Procedure interessate",
        "Procedures concerned",
    ),
    ("guidance.effective_from", "Valida dal", "Effective from"),
    ("guidance.expires_at", "Scade il", "Expires on"),
    (
        "guidance.id",
        "Identificativo (vuoto: nuovo)",
        "Id (empty: new)",
    ),
    ("guidance.submit", "Pubblica", "Publish"),
    ("guidance.retire", "Ritira", "Retire"),
    ("guidance.edit", "Modifica", "Amend"),
    ("guidance.version", "Versione", "Version"),
    ("guidance.rollout", "Applicata da", "Applied by"),
    ("guidance.missing", "Non ancora", "Not yet"),
    ("guidance.retired", "ritirata", "retired"),
    (
        "guidance.none",
        "Nessuna indicazione pubblicata.",
        "No guidance published.",
    ),
    (
        "guidance.published_msg",
        "Indicazione pubblicata.",
        "Guidance published.",
    ),
    (
        "guidance.retired_msg",
        "Indicazione ritirata.",
        "Guidance retired.",
    ),
    ("sev.info", "informativa", "info"),
    ("sev.important", "importante", "important"),
    ("sev.urgent", "urgente", "urgent"),
    ("templates.title", "Modelli di risposta", "Answer templates"),
    ("templates.matrix", "Chiavi × lingue", "Keys × languages"),
    ("templates.key", "Chiave", "Key"),
    ("templates.current", "aggiornato", "current"),
    ("templates.stale", "da aggiornare", "stale"),
    ("templates.missing", "mancante", "missing"),
    ("templates.edit", "Modifica il modello", "Edit the template"),
    (
        "templates.new",
        "Nuovo modello o nuova lingua",
        "New template or language",
    ),
    (
        "templates.language",
        "Lingua (es. it, en, ar)",
        "Language (e.g. it, en, ar)",
    ),
    (
        "templates.body",
        "Testo con i campi {{nome}}",
        "Text with {{name}} fields",
    ),
    (
        "templates.minor",
        "Modifica minore (le traduzioni restano aggiornate)",
        "Minor edit (translations stay current)",
    ),
    ("templates.save", "Salva", "Save"),
    ("templates.check", "Verifica", "Check"),
    (
        "templates.check_ok",
        "Il testo è coerente con il riferimento italiano.",
        "The text is consistent with the Italian reference.",
    ),
    (
        "templates.reference",
        "Riferimento italiano",
        "Italian reference",
    ),
    (
        "templates.diff",
        "Cosa è cambiato nel riferimento italiano da quando è stata tradotta",
        "What changed in the Italian reference since it was translated",
    ),
    (
        "templates.none",
        "Nessun modello salvato.",
        "No template saved.",
    ),
    ("templates.saved_msg", "Modello salvato.", "Template saved."),
    (
        "templates.rollout",
        "Sportelli con la versione attuale dei modelli",
        "Desks running the current template version",
    ),
    (
        "templates.proposals",
        "Proposte degli sportelli",
        "Proposals from desks",
    ),
    (
        "templates.no_proposals",
        "Nessuna proposta dagli sportelli.",
        "No proposals from desks.",
    ),
    ("proposals.from", "da", "from"),
    ("proposals.similarity", "Somiglianza", "Similarity"),
    ("proposals.against", "rispetto a", "against"),
    ("proposals.canonical", "Testo attuale", "Canonical text"),
    ("proposals.proposed", "Proposta", "Proposal"),
    ("proposals.accept", "Accetta", "Accept"),
    ("proposals.decline", "Rifiuta", "Decline"),
    ("proposals.open", "da decidere", "open"),
    ("proposals.accepted", "accettata", "accepted"),
    ("proposals.declined", "rifiutata", "declined"),
    (
        "proposals.accepted_msg",
        "Proposta accettata: è il nuovo testo e va a tutti gli sportelli.",
        "Proposal accepted: it is the new text and goes to every desk.",
    ),
    (
        "proposals.declined_msg",
        "Proposta rifiutata.",
        "Proposal declined.",
    ),
    ("stats.title", "Statistiche", "Statistics"),
    ("stats.by", "Dimensione", "Dimension"),
    (
        "stats.by2",
        "Seconda dimensione (facoltativa)",
        "Second dimension (optional)",
    ),
    ("stats.none", "nessuna", "none"),
    (
        "stats.from",
        "Dalla settimana (es. 2026-W01)",
        "From week (e.g. 2026-W01)",
    ),
    (
        "stats.to",
        "Alla settimana (es. 2026-W52)",
        "To week (e.g. 2026-W52)",
    ),
    ("stats.show", "Mostra", "Show"),
    ("stats.csv", "Scarica CSV", "Download CSV"),
    ("stats.xlsx", "Scarica XLSX", "Download XLSX"),
    ("stats.merged", "Voci raggruppate", "Merged labels"),
    ("audit.title", "Registro attività", "Audit log"),
    ("audit.when", "Quando", "When"),
    ("audit.who", "Chi", "Who"),
    ("audit.what", "Azione", "Action"),
    ("audit.target", "Oggetto", "Target"),
    ("audit.detail", "Dettagli", "Details"),
    (
        "audit.none",
        "Nessuna attività registrata.",
        "No activity recorded.",
    ),
    ("error", "Errore", "Error"),
    ("back", "Torna indietro", "Go back"),
];
