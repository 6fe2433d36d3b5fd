//! A search that found nothing, as the desk counts it and the hub may
//! show it (issue 16): the query scrubbed by the notes scrubber the
//! anonymiser uses, then normalised with the search's own normaliser so
//! that "Carta  Blu?" and "carta blu" count as one, and bounded.
//!
//! The scrubber's tokens (`[TELEFONO]`, `[EMAIL]`, ...) are kept as they
//! are, so that the Comune sees that something personal was typed and
//! what kind, never what.

use super::normalise::{fold, words};

/// Longest query kept, in characters (the wire's bound).
pub const MAX_QUERY_CHARS: usize = 200;

fn is_token(chunk: &str) -> bool {
    chunk.len() > 2
        && chunk.starts_with('[')
        && chunk.ends_with(']')
        && chunk[1..chunk.len() - 1]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_')
}

/// The form a zero-result query is counted in, or `None` when nothing
/// countable is left (blank, or personal data the scrubber still finds
/// after normalising, which is then never kept).
pub fn miss_query(query: &str) -> Option<String> {
    let scrubbed = domain::scrub(query, &[]);
    let mut parts: Vec<String> = Vec::new();
    for chunk in scrubbed.split_whitespace() {
        // A token glued to punctuation ("[TELEFONO]," or "([EMAIL])").
        let bare = chunk.trim_matches(|c: char| !c.is_alphanumeric() && c != '[' && c != ']');
        if is_token(bare) {
            parts.push(bare.to_owned());
        } else {
            parts.extend(words(chunk).iter().map(|w| fold(w)));
        }
    }
    let mut text = String::new();
    for part in parts {
        let room =
            MAX_QUERY_CHARS.saturating_sub(text.chars().count() + usize::from(!text.is_empty()));
        if part.chars().count() > room {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&part);
    }
    (!text.is_empty() && domain::find_personal_data(&text).is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_case_and_punctuation_count_as_one_query() {
        assert_eq!(miss_query("  Carta   BLU? ").as_deref(), Some("carta blu"));
        assert_eq!(
            miss_query("Idoneità alloggiativa").as_deref(),
            Some("idoneita alloggiativa")
        );
        assert_eq!(miss_query(" ?! "), None);
    }

    #[test]
    fn personal_data_is_scrubbed_before_anything_is_counted() {
        let q = miss_query("richiamare il 333 1234567 per il bonus").expect("kept");
        assert!(!q.contains("1234567"), "{q}");
        assert!(q.contains("[TELEFONO]"), "{q}");
        let q = miss_query("scrivere a amina.haddad@example.org").expect("kept");
        assert!(!q.contains("amina"), "{q}");
        let q = miss_query("RSSMRA85T10A562S codice").expect("kept");
        assert!(!q.to_lowercase().contains("rssmra"), "{q}");
    }

    #[test]
    fn a_long_query_is_cut_at_a_word() {
        let long = "parola ".repeat(60);
        let q = miss_query(&long).expect("kept");
        assert!(q.chars().count() <= MAX_QUERY_CHARS);
        assert!(q.ends_with("parola"), "{q}");
    }
}
