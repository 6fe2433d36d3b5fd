//! The visitor's own name and surname, wherever they appear in the note:
//! any case, with or without accents, together or alone. Only whole words
//! are matched ("Ali" is not found in "Alice"), except in scripts written
//! without spaces (Chinese, Japanese, Korean, Thai), where a name is found
//! inside the sentence.
//!
//! A name is also found when a note writes it glued or apart where the
//! permesso does the other ("Ndiaye" for "N'Diaye", "El Amrani" for
//! "Elamrani"), and in Cyrillic when the permesso has the Latin spelling:
//! Ukrainian passports spell names by the national transliteration, which
//! `latin` applies, so "Олена Коваленко" is "Olena Kovalenko". Arabic and
//! Chinese spellings cannot be derived from a Latin one (short vowels are not
//! written; a syllable has many characters): the desk must be given them.

use super::fold::fold;
use super::{is_unspaced_script, is_word_char, work, Finding, Kind};

/// Parts of multi-word names that are also ordinary words in the notes'
/// languages: "Da Silva", "Al-Hassan", "El Amrani", "Ben Ali", "Van Dijk".
/// Alone they are the preposition of "da 10 anni" or "al Comune", not the
/// visitor; they are replaced only as part of the whole name.
const PARTICLES: [&str; 24] = [
    "al", "el", "ad", "ben", "da", "de", "di", "del", "della", "dello", "dei", "degli", "delle",
    "dal", "dos", "das", "do", "du", "des", "la", "le", "lo", "van", "von",
];

/// Short names that are also everyday words of the notes' languages: Li,
/// Ma, He, Su, Le, Ha, Ho, Mai. Written in lowercase on their own they are
/// the "li", "ma" or "su" of an Italian sentence, and replacing every one
/// would garble the note; capitalised, or with the rest of the name, they
/// are the visitor.
const EVERYDAY_WORDS: [&str; 13] = [
    "li", "ma", "he", "su", "an", "le", "do", "ha", "ho", "mai", "in", "no", "se",
];

/// Names beyond this many words are ignored; a visitor has a few names,
/// and the bound keeps the matching linear in the note.
const MAX_NAME_WORDS: usize = 16;

pub(super) fn find(text: &str, visitor_names: &[&str], out: &mut Vec<Finding>) {
    let mut spaced: Vec<Vec<String>> = Vec::new();
    let mut unspaced: Vec<String> = Vec::new();
    let mut count = 0;
    for name in visitor_names {
        let words: Vec<String> = words(name).map(|(_, w)| latin(&fold(w))).collect();
        count += words.len();
        if count > MAX_NAME_WORDS {
            break;
        }
        // "N'Diaye", "El Amrani", "Al-Hassan" are also written in one word.
        let joined = words.concat();
        if words.len() > 1 && joined.chars().count() >= 4 {
            spaced.push(vec![joined]);
        }
        if !words.is_empty() {
            spaced.push(words);
        }
        unspaced.extend(
            name.split(|c: char| !is_unspaced_script(c))
                .filter(|w| !w.is_empty())
                .map(str::to_owned),
        );
    }
    if spaced.is_empty() && unspaced.is_empty() {
        return;
    }
    let text_words: Vec<(usize, &str)> = words(text).collect();
    let folded: Vec<String> = text_words.iter().map(|(_, w)| latin(&fold(w))).collect();
    for (i, (start, word)) in text_words.iter().enumerate() {
        work::add(word.len());
        // "N'Diaye" or "El Amrani" in the note for "Ndiaye" or "Elamrani":
        // two words with one apostrophe, hyphen or blank between them.
        if let (Some(next), Some((next_start, next_word))) =
            (folded.get(i + 1), text_words.get(i + 1))
        {
            let one_gap = text
                .get(start + word.len()..*next_start)
                .is_some_and(|gap| matches!(gap, " " | "'" | "’" | "-"));
            let pair = [folded[i].as_str(), next.as_str()].concat();
            if one_gap && spaced.iter().any(|name| name.len() == 1 && name[0] == pair) {
                out.push(Finding {
                    kind: Kind::Nome,
                    span: *start..next_start + next_word.len(),
                });
            }
        }
        let everyday =
            EVERYDAY_WORDS.contains(&folded[i].as_str()) && !word.chars().any(char::is_uppercase);
        for name in &spaced {
            work::add(name.len());
            // The whole name, word after word (this is what catches one-letter
            // parts such as the D of D'Amico), or any part of two letters or more.
            let whole =
                folded.get(i..i + name.len()) == Some(&name[..]) && !(everyday && name.len() == 1);
            let part = !everyday
                && folded[i].chars().count() >= 2
                && name.contains(&folded[i])
                && (name.len() == 1 || !PARTICLES.contains(&folded[i].as_str()));
            if whole {
                let (last_start, last) = text_words[i + name.len() - 1];
                out.push(Finding {
                    kind: Kind::Nome,
                    span: *start..last_start + last.len(),
                });
            } else if part {
                out.push(Finding {
                    kind: Kind::Nome,
                    span: *start..start + word.len(),
                });
            }
        }
    }
    for name in &unspaced {
        work::add(text.len());
        out.extend(text.match_indices(name.as_str()).map(|(at, m)| Finding {
            kind: Kind::Nome,
            span: at..at + m.len(),
        }));
    }
}

/// A folded word in Cyrillic letters spelled in Latin ones by the Ukrainian
/// national transliteration (KMU 2010, the one in Ukrainian passports),
/// with the Russian letters it lacks; any other word unchanged.
fn latin(word: &str) -> String {
    if !word.chars().any(|c| matches!(c, '\u{0400}'..='\u{04FF}')) {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len());
    for (i, c) in word.chars().enumerate() {
        let first = i == 0;
        out.push_str(match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "h",
            'ґ' => "g",
            'д' => "d",
            'е' | 'э' | 'ё' => "e",
            'є' if first => "ye",
            'є' => "ie",
            'ж' => "zh",
            'з' => "z",
            'и' | 'ы' => "y",
            'і' => "i",
            'ї' if first => "yi",
            'ї' => "i",
            'й' if first => "y",
            'й' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ь' | 'ъ' => "",
            'ю' if first => "yu",
            'ю' => "iu",
            'я' if first => "ya",
            'я' => "ia",
            _ => {
                out.push(c);
                continue;
            }
        });
    }
    out
}

/// The words of `text` with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = rest.find(|(_, c)| is_word_char(*c))?;
        let mut end = text.len();
        while let Some((i, c)) = rest.peek().copied() {
            if !is_word_char(c) {
                end = i;
                break;
            }
            rest.next();
        }
        Some((start, &text[start..end]))
    })
}
