//! An operator's comment on the content the desk shows (a report that a
//! card is wrong): free text with no visitor behind it, so the scrubber
//! knows no name to look for. The names it is given are the capitalised
//! words that follow a title or a naming phrase ("il sig. Rossi", "la
//! signora Amina Diallo", "si chiama Karim"): a comment about content names
//! a person mostly that way, and once found, each such name is replaced
//! wherever else it appears in the comment.

use super::fold::fold;
use super::{find_personal_data, is_word_char, scrub};

/// Most characters of a comment, as the contract says.
pub const MAX_COMMENT_CHARS: usize = 1_000;

/// Words after which the next capitalised words are a person's name.
/// Folded (lowercase, no accents); "sig.ra" is read as "sig" then "ra".
const TITLES: [&str; 27] = [
    "sig",
    "sigg",
    "signor",
    "signore",
    "signora",
    "signorina",
    "sigra",
    "dott",
    "dottor",
    "dottore",
    "dottoressa",
    "avv",
    "avvocato",
    "prof",
    "mr",
    "mrs",
    "ms",
    "miss",
    "madame",
    "monsieur",
    "mme",
    "sr",
    "sra",
    "chiamo",
    "chiama",
    "chiamato",
    "chiamata",
];

/// What follows a title's abbreviation point ("sig.ra", "dott.ssa").
const TITLE_ENDINGS: [&str; 3] = ["ra", "na", "ssa"];

/// At most this many words after a title are taken as the name.
const MAX_NAME_WORDS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("il commento contiene ancora dati personali: riscriverlo senza / the comment still holds personal data: rewrite it without")]
pub struct StillPersonal;

/// The comment without personal data, trimmed and at most
/// `MAX_COMMENT_CHARS` characters; checked again after bounding, since a
/// cut can expose digits that read differently.
pub fn scrub_comment(text: &str) -> Result<String, StillPersonal> {
    let names = titled_names(text);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut out = text.to_owned();
    for _ in 0..3 {
        out = crate::anonymise::bound_to(scrub(&out, &names).trim(), MAX_COMMENT_CHARS);
        if find_personal_data(&out).is_empty() {
            return Ok(out);
        }
    }
    Err(StillPersonal)
}

/// The capitalised words that follow a title, each once.
fn titled_names(text: &str) -> Vec<String> {
    let words: Vec<&str> = text
        .split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .collect();
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if !TITLES.contains(&fold(words[i]).as_str()) {
            i += 1;
            continue;
        }
        i += 1;
        if words
            .get(i)
            .is_some_and(|w| TITLE_ENDINGS.contains(&fold(w).as_str()))
        {
            i += 1;
        }
        let mut taken = 0;
        while taken < MAX_NAME_WORDS
            && words
                .get(i)
                .is_some_and(|w| w.chars().next().is_some_and(char::is_uppercase))
        {
            let name = words[i].to_owned();
            if !names.contains(&name) {
                names.push(name);
            }
            taken += 1;
            i += 1;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_and_a_titled_name_are_replaced_everywhere() {
        let out = scrub_comment(
            "La sig.ra Amina Diallo dice che il numero 333 123 4567 non risponde; Diallo ha ragione",
        )
        .expect("scrubbed");
        assert!(!out.contains("Diallo") && !out.contains("Amina"), "{out}");
        assert!(!out.contains("4567"), "{out}");
        assert!(
            out.contains("[NOME]") && out.contains("[TELEFONO]"),
            "{out}"
        );
    }

    #[test]
    fn plain_text_is_kept_and_long_text_is_bounded() {
        assert_eq!(
            scrub_comment("  L'orario dell'ufficio è cambiato dal 1° marzo. ").expect("kept"),
            "L'orario dell'ufficio è cambiato dal 1° marzo."
        );
        let long = "parola ".repeat(400);
        let out = scrub_comment(&long).expect("bounded");
        assert!(out.chars().count() <= MAX_COMMENT_CHARS);
    }

    #[test]
    fn titles_without_a_capitalised_name_take_nothing() {
        assert!(titled_names("il signore ha detto che la procedura è lunga").is_empty());
        assert_eq!(
            titled_names("dott.ssa Bianchi e Mr John Smith"),
            ["Bianchi", "John", "Smith"]
        );
    }
}
