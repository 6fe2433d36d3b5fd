//! The "Lacune / Gaps" page: what the network cannot yet serve
//! (`crate::gaps`, the same content as `hub gaps --json`), with names for
//! people instead of codes. Its own texts, Italian first.

use super::auth::Signed;
use super::i18n::Lang;
use super::{render, Chrome, Page, Shared, WebError};
use crate::gaps::{Gaps, Named};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

/// What the page says, one field per text so that a missing translation
/// does not compile.
pub(crate) struct GapsTexts {
    pub(crate) title: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) period: &'static str,
    pub(crate) provisional: &'static str,
    pub(crate) languages: &'static str,
    pub(crate) language: &'static str,
    pub(crate) visits: &'static str,
    pub(crate) cards: &'static str,
    pub(crate) templates: &'static str,
    pub(crate) without_card: &'static str,
    pub(crate) none_languages: &'static str,
    pub(crate) uncovered: &'static str,
    pub(crate) procedure: &'static str,
    pub(crate) has_templates: &'static str,
    pub(crate) yes: &'static str,
    pub(crate) no: &'static str,
    pub(crate) none_uncovered: &'static str,
    pub(crate) mediators: &'static str,
    pub(crate) mediators_note: &'static str,
    pub(crate) by_language: &'static str,
    pub(crate) by_desk: &'static str,
    pub(crate) desk: &'static str,
    pub(crate) none_mediators: &'static str,
    pub(crate) searches: &'static str,
    pub(crate) searches_note: &'static str,
    pub(crate) query: &'static str,
    pub(crate) times: &'static str,
    pub(crate) weeks: &'static str,
    pub(crate) none_searches: &'static str,
    pub(crate) due: &'static str,
    pub(crate) owner: &'static str,
    pub(crate) review_by: &'static str,
    pub(crate) none_due: &'static str,
}

static IT: GapsTexts = GapsTexts {
    title: "Lacune: cosa la rete non sa ancora offrire",
    intro: "Le lingue dei visitatori rispetto alle lingue delle schede e dei modelli, i mediatori mancati, le ricerche senza risultati e le schede da rivedere.",
    period: "Periodo",
    provisional: "provvisorio",
    languages: "Lingue dei visitatori",
    language: "Lingua",
    visits: "Visite",
    cards: "Schede nella lingua",
    templates: "Modelli nella lingua",
    without_card: "Procedure richieste senza scheda",
    none_languages: "Nessuna visita in una lingua diversa dall'italiano.",
    uncovered: "Procedure richieste in una lingua senza scheda",
    procedure: "Procedura",
    has_templates: "Modelli nella lingua",
    yes: "sì",
    no: "no",
    none_uncovered: "Ogni procedura richiesta ha la scheda nella lingua della visita.",
    mediators: "Mediatore necessario ma non disponibile",
    mediators_note: "Visite in cui serviva un mediatore culturale o un interprete e non c'era. I numeri sotto 5 sono mostrati come <5.",
    by_language: "Per lingua",
    by_desk: "Per sportello",
    desk: "Sportello",
    none_mediators: "Nessuna visita senza il mediatore necessario.",
    searches: "Ricerche senza risultati",
    searches_note: "Ricerche degli sportelli che non hanno trovato nulla, ripulite dai dati personali; solo quelle fatte almeno 5 volte nella rete.",
    query: "Ricerca",
    times: "Volte",
    weeks: "Settimane",
    none_searches: "Nessuna ricerca senza risultati fatta almeno 5 volte.",
    due: "Schede da rivedere",
    owner: "Responsabile",
    review_by: "Da rivedere entro",
    none_due: "Nessuna scheda da rivedere.",
};

static EN: GapsTexts = GapsTexts {
    title: "Gaps: what the network cannot yet serve",
    intro: "The languages visitors used against the languages of the cards and templates, missing mediators, searches that found nothing and cards due for review.",
    period: "Period",
    provisional: "provisional",
    languages: "Languages visitors used",
    language: "Language",
    visits: "Visits",
    cards: "Cards in the language",
    templates: "Templates in the language",
    without_card: "Procedures asked without a card",
    none_languages: "No visits in a language other than Italian.",
    uncovered: "Procedures asked in a language without a card",
    procedure: "Procedure",
    has_templates: "Templates in the language",
    yes: "yes",
    no: "no",
    none_uncovered: "Every procedure asked has its card in the visit's language.",
    mediators: "Mediator needed but unavailable",
    mediators_note: "Visits where a cultural mediator or interpreter was needed and none was there. Figures below 5 show as <5.",
    by_language: "By language",
    by_desk: "By desk",
    desk: "Desk",
    none_mediators: "No visits without the mediator they needed.",
    searches: "Searches that found nothing",
    searches_note: "Desk searches that found nothing, scrubbed of personal data; only those asked at least 5 times in the network.",
    query: "Search",
    times: "Times",
    weeks: "Weeks",
    none_searches: "No search that found nothing was asked 5 times or more.",
    due: "Cards due for review",
    owner: "Owner",
    review_by: "Review by",
    none_due: "No card is due for review.",
};

#[derive(Template)]
#[template(path = "gaps.html")]
struct GapsPage {
    c: Chrome,
    g: &'static GapsTexts,
    gaps: Gaps,
    en: bool,
}

impl GapsPage {
    fn name<'a>(&self, n: &'a Named) -> &'a str {
        if self.en {
            &n.en
        } else {
            &n.it
        }
    }

    /// A language tag's name in the page's language.
    fn language(&self, tag: &str) -> String {
        domain::disclosure::labels::name("language", tag, self.c.lang.code())
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct GapsQuery {
    #[serde(default)]
    period: String,
}

pub(crate) async fn page(
    State(app): State<Shared>,
    who: Signed,
    Query(q): Query<GapsQuery>,
) -> Result<Response, WebError> {
    let period = crate::stats::Period::from_args(Some(&q.period), None, None)?;
    let gaps = crate::storage::blocking(&app.deps.store, move |store| {
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        crate::gaps::build(store, &period, &today)
    })
    .await?;
    let c = who.chrome(Page::Gaps);
    let en = c.lang == Lang::En;
    render(&GapsPage {
        g: if en { &EN } else { &IT },
        c,
        gaps,
        en,
    })
}
