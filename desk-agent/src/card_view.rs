//! A procedure card laid out for a person: sections under headings in the
//! card's own language, with each line's field key, so that the operator
//! page can mark what is stale and the handout can typeset the same
//! sections. Amounts and law references come from the Italian reference.

use domain::card::format_euro;
use domain::Card;

/// One line of a section and the card field it shows.
pub struct Line {
    pub text: String,
    /// `summary`, `steps.kit`, ...: as `Card::fields` names them.
    pub field: String,
}

pub struct CardSection {
    pub heading: &'static str,
    pub paragraphs: Vec<Line>,
    pub items: Vec<Line>,
    pub numbered: bool,
}

pub struct CardColumn {
    pub language: String,
    pub title: String,
    pub sections: Vec<CardSection>,
}

/// The column of `card` (the reference or a translation of it), headed by
/// the procedure's name: English for English, else the Italian name, which
/// is also the name the visitor meets at the offices.
pub fn column(card: &Card, reference: &Card, catalogue: &domain::Catalogue) -> CardColumn {
    let title = catalogue.get(&card.code).map_or_else(
        || card.code.clone(),
        |p| {
            if card.language == "en" {
                p.name_en.clone()
            } else {
                p.name_it.clone()
            }
        },
    );
    let l = labels(&card.language);
    let mut sections = Vec::new();
    let mut section = |heading: &'static str, paragraphs: Vec<Line>, items: Vec<Line>, numbered| {
        let paragraphs: Vec<Line> = paragraphs
            .into_iter()
            .filter(|p| !p.text.trim().is_empty())
            .collect();
        if !paragraphs.is_empty() || !items.is_empty() {
            sections.push(CardSection {
                heading,
                paragraphs,
                items,
                numbered,
            });
        }
    };
    let line = |field: &str, text: &str| Line {
        text: text.to_string(),
        field: field.to_string(),
    };
    let items = |group: &str, items: &[domain::CardItem]| -> Vec<Line> {
        items
            .iter()
            .map(|i| Line {
                text: if i.note.is_empty() {
                    i.text.clone()
                } else {
                    format!("{} — {}", i.text, i.note)
                },
                field: format!("{group}.{}", i.id),
            })
            .collect()
    };
    section(
        l.summary,
        vec![line("summary", &card.summary)],
        Vec::new(),
        false,
    );
    section(
        l.who,
        vec![line("who_can_apply", &card.who_can_apply)],
        Vec::new(),
        false,
    );
    section(l.steps, Vec::new(), items("steps", &card.steps), true);
    section(
        l.documents,
        Vec::new(),
        items("documents", &card.documents),
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
            Line {
                text: format!("{} — {}", format_euro(cents), c.what),
                field: format!("costs.{}", c.id),
            }
        })
        .collect();
    section(l.costs, Vec::new(), costs, false);
    let mut place = vec![line("office", &card.office)];
    if !card.hours.is_empty() {
        place.push(line("hours", &format!("{}: {}", l.hours, card.hours)));
    }
    if !card.booking.is_empty() {
        place.push(line("booking", &format!("{}: {}", l.booking, card.booking)));
    }
    section(l.place, place, Vec::new(), false);
    section(
        l.deadlines,
        vec![line("deadlines", &card.deadlines)],
        Vec::new(),
        false,
    );
    section(
        l.waiting,
        vec![line("waiting_time", &card.waiting_time)],
        Vec::new(),
        false,
    );
    section(
        l.mistakes,
        Vec::new(),
        items("mistakes", &card.mistakes),
        false,
    );
    let laws = reference
        .legal_basis
        .iter()
        .map(|r| line("legal_basis", r))
        .collect();
    section(l.legal, Vec::new(), laws, false);
    CardColumn {
        language: card.language.clone(),
        title,
        sections,
    }
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
                "In breve",
                "Chi può chiederlo",
                "Passi",
                "Documenti da portare",
                "Costi",
                "Dove",
                "Orari",
                "Prenotazione",
                "Scadenze",
                "Tempi di attesa",
                "Riferimenti normativi",
                "Errori frequenti",
            ],
            "fr" => [
                "En bref",
                "Qui peut en faire la demande",
                "Étapes",
                "Documents à apporter",
                "Coûts",
                "Où",
                "Horaires",
                "Rendez-vous",
                "Délais",
                "Temps d'attente",
                "Base juridique",
                "Erreurs fréquentes",
            ],
            "ar" => [
                "باختصار",
                "من يمكنه التقديم",
                "الخطوات",
                "المستندات المطلوبة",
                "التكاليف",
                "أين",
                "مواعيد العمل",
                "الحجز",
                "المواعيد النهائية",
                "مدة الانتظار",
                "الأساس القانوني",
                "أخطاء شائعة",
            ],
            "ur" => [
                "خلاصہ",
                "کون درخواست دے سکتا ہے",
                "مراحل",
                "ساتھ لانے والی دستاویزات",
                "اخراجات",
                "کہاں",
                "اوقات کار",
                "وقت لینا",
                "آخری تاریخیں",
                "انتظار کا وقت",
                "قانونی بنیاد",
                "عام غلطیاں",
            ],
            "zh" => [
                "简介",
                "谁可以申请",
                "步骤",
                "需要携带的文件",
                "费用",
                "地点",
                "办公时间",
                "预约",
                "期限",
                "等待时间",
                "法律依据",
                "常见错误",
            ],
            "uk" => [
                "Коротко",
                "Хто може подати заяву",
                "Кроки",
                "Документи, які потрібно принести",
                "Витрати",
                "Де",
                "Години роботи",
                "Запис",
                "Терміни",
                "Час очікування",
                "Правова основа",
                "Поширені помилки",
            ],
            "bn" => [
                "সংক্ষেপে",
                "কে আবেদন করতে পারেন",
                "ধাপসমূহ",
                "যে কাগজপত্র আনতে হবে",
                "খরচ",
                "কোথায়",
                "খোলার সময়",
                "অ্যাপয়েন্টমেন্ট",
                "সময়সীমা",
                "অপেক্ষার সময়",
                "আইনি ভিত্তি",
                "সাধারণ ভুল",
            ],
            "ti" => [
                "ብሓጺሩ",
                "መን ክሓትት ይኽእል",
                "ስጉምትታት",
                "ክትመጽኡ ዘለኩም ሰነዳት",
                "ክፍሊት",
                "ኣበይ",
                "ሰዓታት ስራሕ",
                "ቆጸራ",
                "ናይ መወዳእታ ዕለት",
                "ግዜ ምጽባይ",
                "ሕጋዊ መሰረት",
                "ልሙዳት ጌጋታት",
            ],
            _ => [
                "In short",
                "Who can apply",
                "Steps",
                "Documents to bring",
                "Costs",
                "Where",
                "Opening hours",
                "Booking",
                "Deadlines",
                "Waiting time",
                "Legal basis",
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
