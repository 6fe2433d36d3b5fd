//! Text → search keys, as pure functions shared by the index and the query,
//! so that both sides forgive the same things: case, accents, double
//! letters, Italian and English inflection endings, and the words a whole
//! question is made of ("come", "dove", "posso").

use unicode_normalization::UnicodeNormalization;

/// One word of a text: its key in the index and the word as written
/// (lowercase), which is what "did you mean" shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub key: String,
    pub surface: String,
}

/// Words that carry no meaning for a search: Italian, English and French
/// articles, prepositions, pronouns, common verbs and question words.
/// Compared after folding (no accents, lowercase).
const STOPWORDS: &[&str] = &[
    // Italian
    "il",
    "lo",
    "la",
    "i",
    "gli",
    "le",
    "un",
    "uno",
    "una",
    "di",
    "a",
    "da",
    "in",
    "con",
    "su",
    "per",
    "tra",
    "fra",
    "e",
    "ed",
    "o",
    "od",
    "che",
    "chi",
    "cosa",
    "come",
    "dove",
    "quando",
    "quanto",
    "quanti",
    "quanta",
    "quale",
    "quali",
    "perche",
    "posso",
    "puo",
    "possiamo",
    "devo",
    "deve",
    "dobbiamo",
    "faccio",
    "fare",
    "fa",
    "si",
    "ho",
    "ha",
    "hanno",
    "abbiamo",
    "sono",
    "sei",
    "siamo",
    "mio",
    "mia",
    "miei",
    "mie",
    "tuo",
    "tua",
    "suo",
    "sua",
    "suoi",
    "del",
    "della",
    "dei",
    "degli",
    "delle",
    "dello",
    "al",
    "alla",
    "ai",
    "agli",
    "alle",
    "allo",
    "nel",
    "nella",
    "nei",
    "negli",
    "nelle",
    "nello",
    "dal",
    "dalla",
    "dai",
    "dagli",
    "dalle",
    "sul",
    "sulla",
    "mi",
    "ti",
    "ci",
    "vi",
    "ne",
    "non",
    "piu",
    "anche",
    "ma",
    "se",
    "voglio",
    "vorrei",
    "serve",
    "servono",
    "bisogna",
    "avere",
    "essere",
    "qui",
    "gia",
    "ancora",
    "chiedo",
    "chiedere",
    "cerco",
    "lo",
    "quello",
    "questa",
    "questo",
    "mi",
    "me",
    "te",
    "lei",
    "lui",
    "noi",
    "voi",
    "loro",
    "ciao",
    "buongiorno",
    "grazie",
    "aiuto",
    "aiuta",
    "mese",
    "prossimo",
    "altro",
    "altra",
    "dopo",
    "prima",
    "ora",
    // English
    "the",
    "an",
    "of",
    "to",
    "for",
    "on",
    "at",
    "by",
    "with",
    "and",
    "or",
    "is",
    "are",
    "am",
    "my",
    "me",
    "how",
    "do",
    "does",
    "can",
    "what",
    "where",
    "when",
    "which",
    "who",
    "why",
    "get",
    "need",
    "want",
    "please",
    "your",
    "you",
    "it",
    "this",
    "that",
    "from",
    "as",
    "be",
    "have",
    "has",
    "we",
    "our",
    "about",
    "into",
    "after",
    "before",
    "while",
    // French
    "les",
    "de",
    "du",
    "des",
    "une",
    "et",
    "pour",
    "mon",
    "ma",
    "mes",
    "je",
    "est",
    "au",
    "aux",
    "comment",
    "ou",
];

/// Whether a folded word is a stopword.
pub fn is_stopword(folded: &str) -> bool {
    STOPWORDS.contains(&folded)
}

/// Lowercase without accents: "Idoneità" → "idoneita". Only the Latin,
/// Greek and Cyrillic combining accents are dropped: the vowel signs of
/// Arabic or Bengali are letters and stay.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !('\u{0300}'..='\u{036F}').contains(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// "permesso" → "permeso", "ricongiungimento" stays: a doubled letter
/// typed once (or a single one typed twice) is the commonest slip.
pub fn collapse_doubles(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if Some(c) == last && c.is_alphabetic() {
            continue;
        }
        out.push(c);
        last = Some(c);
    }
    out
}

/// A light ending strip so that singular and plural, masculine and
/// feminine, meet: "familiari"/"familiare" → "familiar", "permits" →
/// "permit", "corsi"/"corso" → "cors". Only for Latin-script words of five
/// or more letters, so that short codes ("pds", "ssn", "a2") stay whole.
pub fn stem(word: &str) -> String {
    let n = word.chars().count();
    if n < 5 || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return word.to_string();
    }
    let mut w = word.to_string();
    if w.ends_with('s') {
        w.pop();
    }
    if w.len() >= 4 && w.ends_with(['a', 'e', 'i', 'o']) {
        w.pop();
    }
    w
}

/// A word's search key: folded, doubles collapsed, stemmed.
pub fn key(word: &str) -> String {
    stem(&collapse_doubles(&fold(word)))
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || ('\u{2000}'..='\u{206F}').contains(&c)
        || "«»¿¡·€£°§،؟؛。，、？！：；（）【】「」".contains(c)
}

/// Splits a text into lowercase words. Dotted acronyms are joined ("p.d.s."
/// → "pds", "C.F." → "cf"); apostrophes and hyphens split ("l'italiano",
/// "self-employment"); each Chinese or Japanese character is a word, as
/// those scripts put no spaces between words.
pub fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' {
            // A dot after a single letter is part of an acronym: keep going.
            let single = current.chars().count() == 1
                && current.chars().all(char::is_alphabetic)
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            let acronym_tail = current.chars().count() >= 2
                && i >= 2
                && chars[i - 2] == '.'
                && chars[i - 1].is_alphabetic();
            if single || acronym_tail && chars.get(i + 1).is_some_and(|n| n.is_alphabetic()) {
                continue;
            }
        }
        if is_cjk(c) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            out.push(c.to_string());
        } else if is_separator(c) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The tokens of a text as the index holds them: stopwords and single
/// Latin letters left out.
pub fn tokens(text: &str) -> Vec<Token> {
    words(text)
        .into_iter()
        .filter_map(|w| {
            let folded = fold(&w);
            let short = folded.chars().count() < 2 && folded.is_ascii();
            if short || is_stopword(&folded) {
                return None;
            }
            Some(Token {
                key: stem(&collapse_doubles(&folded)),
                surface: w,
            })
        })
        .collect()
}

/// The tokens of a query. A query made only of stopwords ("come?") keeps
/// them, so that it still finds something rather than nothing.
pub fn query_tokens(query: &str) -> Vec<Token> {
    let t = tokens(query);
    if !t.is_empty() {
        return t;
    }
    words(query)
        .into_iter()
        .map(|w| Token {
            key: key(&w),
            surface: w,
        })
        .collect()
}

/// Levenshtein distance over characters, for ranking the terms a fuzzy
/// automaton found (the automaton says only that they are within reach).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// How many typing errors a word of this many characters forgives: none
/// below five letters (short words and codes collide too easily), one up to
/// seven, two from eight.
pub fn allowed_edits(chars: usize) -> u32 {
    match chars {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    }
}
