//! The view of a text that the codice fiscale and IBAN detectors share:
//! runs of ASCII letters and digits, uppercased, in which a single space or
//! hyphen between two characters is skipped. People write both codes in
//! groups ("RSS MRA 85T10 A562S", "IT60 X054 2811 …"), so the detectors
//! must see through those separators while still knowing where the words
//! start and end.

use super::is_word_char;

pub(super) struct Run {
    /// Uppercased ASCII letters and digits.
    pub(super) chars: Vec<u8>,
    /// Byte offset in the text of each character.
    pub(super) at: Vec<usize>,
    /// A word starts here: a code may start here without splitting a word.
    pub(super) word_start: Vec<bool>,
    /// A word ends here.
    pub(super) word_end: Vec<bool>,
}

impl Run {
    fn new() -> Self {
        Run {
            chars: Vec::new(),
            at: Vec::new(),
            word_start: Vec::new(),
            word_end: Vec::new(),
        }
    }

    /// Characters `from..to` stand together in the text, with no separator
    /// skipped: glued to other letters ("CF:xRSSMRA…", "IBANIT60…"), such a
    /// code is still taken, and the finding then covers the whole word.
    pub(super) fn contiguous(&self, from: usize, to: usize) -> bool {
        match (self.at.get(from), self.at.get(to - 1)) {
            (Some(a), Some(b)) => b - a == to - 1 - from,
            _ => false,
        }
    }

    /// The byte range in the text of characters `from..to` of the run.
    pub(super) fn span(&self, from: usize, to: usize) -> std::ops::Range<usize> {
        let start = self.at.get(from).copied().unwrap_or(0);
        let end = self.at.get(to - 1).map_or(start, |a| a + 1);
        start..end
    }
}

/// Whether one of `cues` (lowercase ASCII) appears in the few bytes of
/// `text` before `at`: "CF: …", "IBAN …".
pub(super) fn cued(text: &str, at: usize, cues: &[&str]) -> bool {
    const WINDOW: usize = 24;
    let mut from = at.saturating_sub(WINDOW);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text.get(from..at).unwrap_or_default().to_ascii_lowercase();
    cues.iter().any(|c| before.contains(c))
}

/// The runs of `text`, in order. A run's first word is not a word start
/// when a letter of another script touches it ("èRSS…"), and likewise at
/// the end.
pub(super) fn runs(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut run = Run::new();
    // Whether the previous character glues to the next ASCII one.
    let mut glued = false;
    let mut pending_sep = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_alphanumeric() {
            if pending_sep {
                if let Some(last) = run.word_end.last_mut() {
                    *last = true;
                }
            }
            let after_sep = pending_sep;
            pending_sep = false;
            run.chars.push(c.to_ascii_uppercase() as u8);
            run.at.push(i);
            // The first character of a run starts a word unless a letter
            // of another script touches it.
            let word_start = if run.chars.len() == 1 {
                !glued
            } else {
                after_sep
            };
            run.word_start.push(word_start);
            run.word_end.push(false);
            glued = true;
            continue;
        }
        let bridges = (c == ' ' || c == '-')
            && !pending_sep
            && !run.chars.is_empty()
            && glued
            && chars.peek().is_some_and(|(_, n)| n.is_ascii_alphanumeric());
        if bridges {
            pending_sep = true;
            glued = false;
            continue;
        }
        let ends_word = !is_word_char(c);
        finish(&mut runs, &mut run, ends_word);
        pending_sep = false;
        glued = is_word_char(c);
    }
    finish(&mut runs, &mut run, true);
    runs
}

fn finish(runs: &mut Vec<Run>, run: &mut Run, ends_word: bool) {
    if run.chars.is_empty() {
        return;
    }
    if let Some(last) = run.word_end.last_mut() {
        *last = ends_word;
    }
    runs.push(std::mem::replace(run, Run::new()));
}
