//! The printable handout: the desk's copy of a procedure card, Italian
//! beside the visitor's language, typeset by the `handout` crate at the
//! desk, offline. The operator's additions for this visitor (an appointment,
//! a document still missing) live only in this request's memory and in the
//! PDF handed back: never stored, sent or logged.

use crate::service::DeskService;
use domain::card::{format_euro, REFERENCE_LANGUAGE};
use domain::Card;
use std::collections::HashMap;
use std::sync::OnceLock;
use tokio::sync::Semaphore;
use tonic::Status;

/// Most additions per handout, and characters per label and value.
const MAX_ADDITIONS: usize = 10;
const MAX_LABEL: usize = 60;
const MAX_VALUE: usize = 500;

/// Typesetting takes a core for tens of milliseconds: one render per core
/// at once, the others wait their turn.
fn renders() -> &'static Semaphore {
    static RENDERS: OnceLock<Semaphore> = OnceLock::new();
    RENDERS.get_or_init(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// Renders the handout of `code` in `language` (Italian alone when it is
/// Italian or empty).
pub async fn render(
    service: &DeskService,
    code: &str,
    language: &str,
    additions: HashMap<String, String>,
) -> Result<Vec<u8>, Status> {
    if additions.len() > MAX_ADDITIONS
        || additions
            .iter()
            .any(|(k, v)| k.chars().count() > MAX_LABEL || v.chars().count() > MAX_VALUE)
    {
        return Err(Status::invalid_argument(format!(
            "aggiunte: al massimo {MAX_ADDITIONS}, etichette di {MAX_LABEL} e testi di {MAX_VALUE} caratteri / additions: at most {MAX_ADDITIONS}, labels of {MAX_LABEL} and values of {MAX_VALUE} characters"
        )));
    }
    let found = service.find_card(code, language)?;
    let reference: Card = found
        .reference
        .map(Card::from)
        .ok_or_else(|| Status::internal("the card has no reference"))?;
    let translation = found.translation.map(Card::from);
    let procedure = service.local.catalogue().get(&reference.code).cloned();
    let name_it = procedure
        .as_ref()
        .map_or(reference.code.clone(), |p| p.name_it.clone());
    let title_for = |lang: &str| match (&procedure, lang) {
        (Some(p), "en") => p.name_en.clone(),
        _ => name_it.clone(),
    };
    let mut additions: Vec<handout::Addition> = additions
        .into_iter()
        .filter(|(k, v)| !k.trim().is_empty() && !v.trim().is_empty())
        .map(|(label, value)| handout::Addition { label, value })
        .collect();
    additions.sort_by(|a, b| a.label.cmp(&b.label));
    let doc = handout::Handout {
        desk_name: service.desk_id.clone(),
        date: italian_date(chrono::Local::now().date_naive()),
        reference: column(&reference, &reference, title_for(REFERENCE_LANGUAGE)),
        visitor: translation
            .as_ref()
            .map(|t| column(t, &reference, title_for(&t.language))),
        additions,
        layout: handout::Layout::Auto,
    };
    let _turn = renders()
        .acquire()
        .await
        .map_err(|_| Status::unavailable("the agent is shutting down"))?;
    let rendered = tokio::task::spawn_blocking(move || handout::render_report(&doc))
        .await
        .map_err(|_| Status::internal("the handout renderer stopped"))?
        .map_err(|e| Status::failed_precondition(e.to_string()))?;
    if !rendered.missing_glyphs.is_empty() {
        // Count only: the characters may come from the visitor's additions.
        tracing::warn!(
            characters = rendered.missing_glyphs.len(),
            "the handout has characters no bundled font covers; they print as boxes"
        );
    }
    Ok(rendered.pdf)
}

/// One language's column: the card's fields under that language's
/// headings; amounts, law references and dates come from the reference.
fn column(card: &Card, reference: &Card, title: String) -> handout::Column {
    let l = labels(&card.language);
    let mut sections = Vec::new();
    let mut section = |heading: &str, paragraphs: Vec<String>, items: Vec<String>, numbered| {
        let paragraphs: Vec<String> = paragraphs.into_iter().filter(|p| !p.trim().is_empty()).collect();
        if !paragraphs.is_empty() || !items.is_empty() {
            sections.push(handout::Section {
                heading: heading.to_string(),
                paragraphs,
                items,
                numbered,
            });
        }
    };
    let item = |i: &domain::CardItem| {
        if i.note.is_empty() {
            i.text.clone()
        } else {
            format!("{} — {}", i.text, i.note)
        }
    };
    section(l.summary, vec![card.summary.clone()], Vec::new(), false);
    section(l.who, vec![card.who_can_apply.clone()], Vec::new(), false);
    section(l.steps, Vec::new(), card.steps.iter().map(item).collect(), true);
    section(
        l.documents,
        Vec::new(),
        card.documents.iter().map(item).collect(),
        false,
    );
    let costs = card
        .costs
        .iter()
        .map(|c| {
            let cents = reference
                .costs
                .iter()
                .find(|r| r.id == c.id)
                .map_or(c.cents, |r| r.cents);
            format!("{} — {}", format_euro(cents), c.what)
        })
        .collect();
    section(l.costs, Vec::new(), costs, false);
    let mut place = vec![card.office.clone()];
    if !card.hours.is_empty() {
        place.push(format!("{}: {}", l.hours, card.hours));
    }
    if !card.booking.is_empty() {
        place.push(format!("{}: {}", l.booking, card.booking));
    }
    section(l.place, place, Vec::new(), false);
    section(l.deadlines, vec![card.deadlines.clone()], Vec::new(), false);
    section(l.waiting, vec![card.waiting_time.clone()], Vec::new(), false);
    section(
        l.mistakes,
        Vec::new(),
        card.mistakes.iter().map(item).collect(),
        false,
    );
    section(l.legal, Vec::new(), reference.legal_basis.clone(), false);
    handout::Column {
        lang: card.language.clone(),
        title,
        sections,
    }
}

/// "6 dicembre 2026": the date as an Italian office prints it.
fn italian_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ];
    let month = MONTHS[d.month0() as usize % 12];
    format!("{} {month} {}", d.day(), d.year())
}

/// The section headings of a handout in one language.
struct Labels {
    summary: &'static str,
    who: &'static str,
    steps: &'static str,
    documents: &'static str,
    costs: &'static str,
    place: &'static str,
    hours: &'static str,
    booking: &'static str,
    deadlines: &'static str,
    waiting: &'static str,
    legal: &'static str,
    mistakes: &'static str,
}

/// Headings in the card's language; English for a language without its
/// own, since the visitor's column is read by someone who asked for it.
fn labels(language: &str) -> Labels {
    let primary = language.split('-').next().unwrap_or(language);
    let [summary, who, steps, documents, costs, place, hours, booking, deadlines, waiting, legal, mistakes] =
        match primary {
            "it" => [
                "In breve", "Chi può chiederlo", "Passi", "Documenti da portare", "Costi", "Dove",
                "Orari", "Prenotazione", "Scadenze", "Tempi di attesa", "Riferimenti normativi",
                "Errori frequenti",
            ],
            "fr" => [
                "En bref", "Qui peut en faire la demande", "Étapes", "Documents à apporter",
                "Coûts", "Où", "Horaires", "Rendez-vous", "Délais", "Temps d'attente",
                "Base juridique", "Erreurs fréquentes",
            ],
            "ar" => [
                "باختصار", "من يمكنه التقديم", "الخطوات", "المستندات المطلوبة", "التكاليف", "أين",
                "مواعيد العمل", "الحجز", "المواعيد النهائية", "مدة الانتظار", "الأساس القانوني",
                "أخطاء شائعة",
            ],
            "ur" => [
                "خلاصہ", "کون درخواست دے سکتا ہے", "مراحل", "ساتھ لانے والی دستاویزات", "اخراجات",
                "کہاں", "اوقات کار", "وقت لینا", "آخری تاریخیں", "انتظار کا وقت", "قانونی بنیاد",
                "عام غلطیاں",
            ],
            "zh" => [
                "简介", "谁可以申请", "步骤", "需要携带的文件", "费用", "地点", "办公时间", "预约",
                "期限", "等待时间", "法律依据", "常见错误",
            ],
            "uk" => [
                "Коротко", "Хто може подати заяву", "Кроки", "Документи, які потрібно принести",
                "Витрати", "Де", "Години роботи", "Запис", "Терміни", "Час очікування",
                "Правова основа", "Поширені помилки",
            ],
            "bn" => [
                "সংক্ষেপে", "কে আবেদন করতে পারেন", "ধাপসমূহ", "যে কাগজপত্র আনতে হবে", "খরচ",
                "কোথায়", "খোলার সময়", "অ্যাপয়েন্টমেন্ট", "সময়সীমা", "অপেক্ষার সময়", "আইনি ভিত্তি",
                "সাধারণ ভুল",
            ],
            "ti" => [
                "ብሓጺሩ", "መን ክሓትት ይኽእል", "ስጉምትታት", "ክትመጽኡ ዘለኩም ሰነዳት", "ክፍሊት", "ኣበይ",
                "ሰዓታት ስራሕ", "ቆጸራ", "ናይ መወዳእታ ዕለት", "ግዜ ምጽባይ", "ሕጋዊ መሰረት", "ልሙዳት ጌጋታት",
            ],
            _ => [
                "In short", "Who can apply", "Steps", "Documents to bring", "Costs", "Where",
                "Opening hours", "Booking", "Deadlines", "Waiting time", "Legal basis",
                "Common mistakes",
            ],
        };
    Labels {
        summary,
        who,
        steps,
        documents,
        costs,
        place,
        hours,
        booking,
        deadlines,
        waiting,
        legal,
        mistakes,
    }
}
