//! The view of a text that the codice fiscale and IBAN detectors share:
//! runs of ASCII letters and digits, uppercased, in which a short gap
//! between two characters is skipped: up to `MAX_GAP` blanks with at most
//! one hyphen among them. People write both codes in groups of any size and
//! spacing ("RSS MRA 85T10 A562S", "RSSMRA  85 T10 A562 S",
//! "RSS-MRA-85T10-A562S", "IT60 X054 2811 …"), so the detectors must see
//! through those separators while still knowing where the words start and
//! end. Dots, commas, slashes and colons end a run: nobody groups a code
//! with them, and a dot bridged would join the words of two sentences, or
//! the numbers of "09.00-12.30", into a candidate.

use super::{is_word_char, work};

/// The longest gap skipped between two groups, as in "85T10 - A562S" or a
/// double space; longer gaps separate two things.
const MAX_GAP: usize = 3;

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
    work::add(WINDOW);
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
        work::add(1);
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
        if glued && !run.chars.is_empty() {
            if let Some(more) = gap_after(c, chars.clone()) {
                for _ in 0..more {
                    chars.next();
                }
                pending_sep = true;
                glued = false;
                continue;
            }
        }
        let ends_word = !is_word_char(c);
        finish(&mut runs, &mut run, ends_word);
        pending_sep = false;
        glued = is_word_char(c);
    }
    finish(&mut runs, &mut run, true);
    runs
}

/// Characters that may stand between two groups of one code.
fn is_gap(c: char) -> bool {
    c.is_whitespace() || is_gap_mark(c)
}

fn is_gap_mark(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2013}')
}

/// When `first` starts a gap that an ASCII letter or digit ends, how many
/// characters after `first` the gap still holds. Looks at most `MAX_GAP`
/// characters ahead, so reading the runs stays linear.
fn gap_after(first: char, mut rest: impl Iterator<Item = (usize, char)>) -> Option<usize> {
    if !is_gap(first) {
        return None;
    }
    let mut len = 1;
    let mut marks = usize::from(is_gap_mark(first));
    loop {
        work::add(1);
        let (_, c) = rest.next()?;
        if c.is_ascii_alphanumeric() {
            return Some(len - 1);
        }
        len += 1;
        marks += usize::from(is_gap_mark(c));
        if !is_gap(c) || len > MAX_GAP || marks > 1 {
            return None;
        }
    }
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
