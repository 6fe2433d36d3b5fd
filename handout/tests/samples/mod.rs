//! A short procedure card (renewal of a residence permit for work) in
//! Italian and in the languages the handout tests need, with the operator's
//! additions. Shared by the tests and the examples (`#[path]`).

#![allow(dead_code)]

use handout::{Addition, Column, Handout, Layout, Section};

/// The languages with a translation here, besides Italian.
pub(crate) const LANGS: [&str; 6] = ["ar", "ur", "zh", "ti", "bn", "uk"];

fn section(heading: &str, paragraphs: &[&str], items: &[&str], numbered: bool) -> Section {
    Section {
        heading: heading.to_owned(),
        paragraphs: paragraphs.iter().map(|s| (*s).to_owned()).collect(),
        items: items.iter().map(|s| (*s).to_owned()).collect(),
        numbered,
    }
}

/// A section as written below: heading, paragraphs, list, numbered.
type Raw<'a> = (&'a str, &'a [&'a str], &'a [&'a str], bool);

/// The card in `lang` (`it` or one of [`LANGS`]).
pub(crate) fn column(lang: &str) -> Column {
    // title, then headings and texts of: what it is, documents, costs,
    // steps, legal basis (the last paragraph mixes scripts on purpose).
    let (title, s): (&str, [Raw<'_>; 5]) = match lang {
        "ar" => ("تجديد تصريح الإقامة للعمل", [
            ("ما هو", &["يتم تجديد تصريح الإقامة للعمل قبل انتهاء صلاحيته في مديرية الشرطة (Questura) بواسطة الطقم البريدي."], &[], false),
            ("الوثائق المطلوبة", &[], &["جواز سفر ساري المفعول ونسخة من جميع صفحاته", "تصريح الإقامة الذي سينتهي", "عقد العمل أو آخر قسائم الراتب", "أربع صور شخصية"], false),
            ("التكاليف", &[], &["€ 16,00 طابع رسوم (marca da bollo)", "€ 70,46 مساهمة وتصريح إلكتروني", "€ 30,00 رسوم البريد"], false),
            ("الخطوات", &[], &["استلم الطقم من مكتب البريد", "أرسل الطلب من مكتب البريد", "اذهب إلى مديرية الشرطة في يوم الموعد"], true),
            ("الأساس القانوني", &["الأساس القانوني هو art. 5 D.Lgs. 286/1998 ويجب دفع € 70,46 قبل الموعد."], &[], false),
        ]),
        "ur" => ("کام کے لیے رہائشی اجازت نامے کی تجدید", [
            ("یہ کیا ہے", &["کام کے رہائشی اجازت نامے کی تجدید اس کے ختم ہونے سے پہلے Questura میں ڈاک کٹ کے ذریعے ہوتی ہے۔"], &[], false),
            ("ساتھ لانے والے کاغذات", &[], &["درست پاسپورٹ اور اس کے تمام صفحات کی نقل", "ختم ہونے والا رہائشی اجازت نامہ", "ملازمت کا معاہدہ یا آخری تنخواہ کی پرچیاں", "چار پاسپورٹ سائز تصاویر"], false),
            ("اخراجات", &[], &["€ 16,00 اسٹامپ (marca da bollo)", "€ 70,46 فیس اور الیکٹرانک اجازت نامہ", "€ 30,00 ڈاک کی فیس"], false),
            ("مراحل", &[], &["ڈاک خانے سے کٹ حاصل کریں", "ڈاک خانے سے درخواست بھیجیں", "ملاقات کے دن Questura جائیں"], true),
            ("قانونی بنیاد", &["قانونی بنیاد art. 5 D.Lgs. 286/1998 ہے اور € 70,46 ملاقات سے پہلے ادا کرنا ضروری ہے۔"], &[], false),
        ]),
        "zh" => ("工作居留许可续签", [
            ("简介", &["工作居留许可应在到期前通过邮局套件在警察局（Questura）续签。"], &[], false),
            ("需要携带的文件", &[], &["有效护照及所有页面的复印件", "即将到期的居留许可", "劳动合同或最近的工资单", "四张证件照"], false),
            ("费用", &[], &["€ 16,00 印花税票（marca da bollo）", "€ 70,46 手续费和电子居留卡", "€ 30,00 邮寄费"], false),
            ("步骤", &[], &["在邮局领取申请套件", "在邮局寄出申请", "在预约当天前往警察局"], true),
            ("法律依据", &["法律依据为 art. 5 D.Lgs. 286/1998，预约前须支付 € 70,46。"], &[], false),
        ]),
        "ti" => ("ናይ ስራሕ መንበሪ ፍቓድ ምሕዳስ", [
            ("እንታይ እዩ", &["ናይ ስራሕ መንበሪ ፍቓድ ቅድሚ ምውዳኡ ኣብ Questura ብናይ ፖስታ ኪት ይሕደስ።"], &[], false),
            ("ዘምጽእዎ ሰነዳት", &[], &["ዝሰርሕ ፓስፖርትን ናይ ኩሉ ገጻቱ ቅዳሕን", "ዝውዳእ ዘሎ መንበሪ ፍቓድ", "ውዕል ስራሕ ወይ ናይ መወዳእታ ደሞዝ ወረቐት", "ኣርባዕተ ስእሊ"], false),
            ("ክፍሊት", &[], &["€ 16,00 ናይ ቴምብር ክፍሊት (marca da bollo)", "€ 70,46 ክፍሊትን ኤሌክትሮኒካዊ ፍቓድን", "€ 30,00 ናይ ፖስታ ክፍሊት"], false),
            ("ስጉምትታት", &[], &["ኪት ካብ ፖስታ ቤት ውሰዱ", "ሕቶኹም ካብ ፖስታ ቤት ስደዱ", "ብዕለት ቆጸራኹም ናብ Questura ኪዱ"], true),
            ("ሕጋዊ መሰረት", &["ሕጋዊ መሰረት art. 5 D.Lgs. 286/1998 እዩ፣ ቅድሚ ቆጸራ € 70,46 ክኽፈል ኣለዎ።"], &[], false),
        ]),
        "bn" => ("কাজের জন্য থাকার অনুমতিপত্র নবায়ন", [
            ("এটি কী", &["কাজের থাকার অনুমতিপত্র মেয়াদ শেষ হওয়ার আগে ডাক কিট দিয়ে Questura-তে নবায়ন করতে হয়।"], &[], false),
            ("যে কাগজপত্র আনতে হবে", &[], &["বৈধ পাসপোর্ট এবং সব পৃষ্ঠার কপি", "মেয়াদ শেষ হতে চলা অনুমতিপত্র", "কাজের চুক্তি বা শেষ বেতনের স্লিপ", "চারটি পাসপোর্ট সাইজের ছবি"], false),
            ("খরচ", &[], &["€ 16,00 স্ট্যাম্প (marca da bollo)", "€ 70,46 ফি এবং ইলেকট্রনিক অনুমতিপত্র", "€ 30,00 ডাক খরচ"], false),
            ("ধাপ", &[], &["ডাকঘর থেকে কিট সংগ্রহ করুন", "ডাকঘর থেকে আবেদন পাঠান", "সাক্ষাতের দিন Questura-তে যান"], true),
            ("আইনি ভিত্তি", &["আইনি ভিত্তি art. 5 D.Lgs. 286/1998 এবং সাক্ষাতের আগে € 70,46 দিতে হবে।"], &[], false),
        ]),
        "uk" => ("Продовження дозволу на проживання для роботи", [
            ("Що це", &["Дозвіл на проживання для роботи продовжують до закінчення терміну в Квестурі (Questura) за допомогою поштового набору."], &[], false),
            ("Документи, які треба принести", &[], &["Дійсний паспорт і копія всіх сторінок", "Дозвіл на проживання, термін якого закінчується", "Трудовий договір або останні розрахункові листи", "Чотири фотографії на документи"], false),
            ("Вартість", &[], &["€ 16,00 гербова марка (marca da bollo)", "€ 70,46 внесок і електронний дозвіл", "€ 30,00 поштовий збір"], false),
            ("Кроки", &[], &["Візьміть набір у поштовому відділенні", "Надішліть заяву з поштового відділення", "Прийдіть до Квестури в день запису"], true),
            ("Правова підстава", &["Правова підстава: art. 5 D.Lgs. 286/1998; € 70,46 треба сплатити до запису."], &[], false),
        ]),
        _ => ("Rinnovo del permesso di soggiorno per lavoro", [
            ("Che cos'è", &["Il permesso di soggiorno per lavoro si rinnova prima della scadenza, in Questura, con il kit postale."], &[], false),
            ("Documenti da portare", &[], &["Passaporto valido e copia di tutte le pagine", "Permesso di soggiorno in scadenza", "Contratto di lavoro o ultime buste paga", "Quattro fotografie formato tessera"], false),
            ("Costi", &[], &["€ 16,00 marca da bollo", "€ 70,46 contributo e permesso elettronico", "€ 30,00 spedizione postale"], false),
            ("Passi", &[], &["Ritirare il kit all'ufficio postale", "Spedire la domanda dall'ufficio postale", "Andare in Questura il giorno dell'appuntamento"], true),
            ("Base giuridica", &["La base giuridica è art. 5 D.Lgs. 286/1998; € 70,46 si pagano prima dell'appuntamento."], &[], false),
        ]),
    };
    Column {
        lang: if lang == "it" || LANGS.contains(&lang) {
            lang
        } else {
            "it"
        }
        .to_owned(),
        title: title.to_owned(),
        sections: s.iter().map(|(h, p, i, n)| section(h, p, i, *n)).collect(),
    }
}

/// The operator's additions of the samples.
pub(crate) fn additions() -> Vec<Addition> {
    vec![
        Addition {
            label: "Appuntamento in Questura".into(),
            value: "12 gennaio 2027, ore 9:30".into(),
        },
        Addition {
            label: "Documento mancante".into(),
            value: "copia del contratto di lavoro".into(),
        },
    ]
}

/// The handout for a visitor reading `lang` (`it` for none).
pub(crate) fn handout(lang: &str) -> Handout {
    Handout {
        desk_name: "Sportello Stranieri — Brescia Centro".into(),
        date: "6 dicembre 2026".into(),
        reference: column("it"),
        visitor: (lang != "it").then(|| column(lang)),
        additions: additions(),
        layout: Layout::Auto,
    }
}
