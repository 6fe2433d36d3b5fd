//! Telephone numbers, Italian and international: `+39 333 123 4567`,
//! `0039 030 123456`, `333-1234567`, `(030) 12.34.567`, `030/1234567`.
//!
//! A hand-written scanner rather than a pattern, because the same digits
//! can be grouped in any way: it reads a run of digit groups joined by short
//! separators, then takes from it the longest stretches that have the shape
//! of a number — international (`+` or `00`, 8 to 15 digits), Italian mobile
//! (3…, 9 or 10 digits) or landline (0…, 6 to 11 digits). Dates, times and
//! law references have other shapes (they never start with 0 or 3 and the
//! right length, or they are `dd.mm.yyyy`, `hh.mm-hh.mm`), so they stay.

use std::ops::Range;

use super::{is_word_char, work, Finding, Kind};

/// At most this many separator characters between two digit groups, as in
/// `333 - 1234567` or `+39 (0)30`.
const MAX_SEP: usize = 3;
const MAX_DIGITS: usize = 15;

/// Digit groups that follow one another closely.
struct NumberRun {
    /// Where the run starts: a `(` or `+` before the first group, if any.
    start: usize,
    plus: bool,
    groups: Vec<Range<usize>>,
    /// `seps[k]` is the text between groups `k` and `k + 1`.
    seps: Vec<Range<usize>>,
}

pub(super) fn find(text: &str, out: &mut Vec<Finding>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        work::add(1);
        // A number glued to letters ("cell3331234567") still counts: the
        // finding is then widened to the whole word.
        let starts = matches!(b[i], b'0'..=b'9' | b'+' | b'(')
            && !text
                .get(..i)
                .and_then(|s| s.chars().next_back())
                .is_some_and(|c| c.is_ascii_digit());
        match starts.then(|| read_run(b, i)).flatten() {
            Some(run) => {
                i = run.groups.last().map_or(i + 1, |g| g.end);
                take_numbers(text, &run, out);
            }
            None => i += 1,
        }
    }
}

fn read_run(b: &[u8], start: usize) -> Option<NumberRun> {
    let mut j = start;
    if b[j] == b'(' {
        j += 1;
    }
    let plus = b.get(j) == Some(&b'+');
    if plus {
        j += 1;
    }
    if !b.get(j).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut run = NumberRun {
        start,
        plus,
        groups: Vec::new(),
        seps: Vec::new(),
    };
    loop {
        let g = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        run.groups.push(g..j);
        work::add(j - g + 1);
        let s = j;
        let mut count = 0;
        while count < MAX_SEP {
            let len = separator_at(b, j);
            if len == 0 {
                break;
            }
            j += len;
            count += 1;
        }
        if j > s && b.get(j).is_some_and(u8::is_ascii_digit) {
            run.seps.push(s..j);
        } else {
            return Some(run);
        }
    }
}

/// The length in bytes of the separator character at `j`, or 0: an ASCII
/// blank, dot, hyphen, slash or bracket, or the no-break and thin spaces and
/// no-break hyphens that phones, WhatsApp and web pages put into numbers
/// copied from them ("+39\u{a0}333\u{a0}1234567").
fn separator_at(b: &[u8], j: usize) -> usize {
    match b.get(j..) {
        Some([c, ..]) if b" .-/()".contains(c) => 1,
        Some([0xC2, 0xA0, ..]) => 2,
        // U+2007 figure space, U+2009 thin space, U+2011 no-break hyphen,
        // U+2013 en dash, U+202F narrow no-break space.
        Some([0xE2, 0x80, 0x87 | 0x89 | 0x91 | 0x93 | 0xAF, ..]) => 3,
        _ => 0,
    }
}

/// Greedy from the left: at each group that can start a number, the longest
/// valid number starting there.
fn take_numbers(text: &str, run: &NumberRun, out: &mut Vec<Finding>) {
    let mut a = 0;
    while a < run.groups.len() {
        let natural_start = a == 0
            || text.get(run.seps[a - 1].clone()).is_some_and(|sep| {
                sep.contains(|c: char| c.is_whitespace() || c == '(' || c == '/')
            });
        let mut best = None;
        if natural_start {
            let mut digits = 0;
            for z in a..run.groups.len() {
                work::add(1);
                digits += run.groups[z].len();
                if digits > MAX_DIGITS + 2 {
                    break;
                }
                let ends_word = z + 1 < run.groups.len()
                    || !text
                        .get(run.groups[z].end..)
                        .and_then(|s| s.chars().next())
                        .is_some_and(is_word_char);
                if ends_word && is_number(text, run, a, z) {
                    best = Some(z);
                }
            }
        }
        match best {
            Some(z) => {
                let start = if a == 0 {
                    run.start
                } else {
                    run.groups[a].start
                };
                out.push(Finding {
                    kind: Kind::Telefono,
                    span: start..run.groups[z].end,
                });
                a = z + 1;
            }
            None => a += 1,
        }
    }
}

/// Groups `a..=z` of the run form a telephone number.
fn is_number(text: &str, run: &NumberRun, a: usize, z: usize) -> bool {
    let b = text.as_bytes();
    let groups = &run.groups[a..=z];
    let seps = &run.seps[a..z];
    let digits: Vec<u8> = groups.iter().flat_map(|g| b[g.clone()].to_vec()).collect();
    work::add(digits.len());
    if looks_like_date_or_time(b, groups, seps) {
        return false;
    }
    let n = digits.len();
    if a == 0 && run.plus {
        (8..=MAX_DIGITS).contains(&n)
    } else if digits.starts_with(b"00") {
        (8..=MAX_DIGITS).contains(&(n - 2))
    } else if digits.first() == Some(&b'3') {
        (9..=10).contains(&n)
    } else if digits.first() == Some(&b'0') {
        (6..=11).contains(&n)
    } else {
        false
    }
}

/// `03.04.1990`, `3/4/90`, `09.00-12.30`, `12/2026`: the shapes of dates,
/// times and numbered acts that a phone number would never be written in.
fn looks_like_date_or_time(b: &[u8], groups: &[Range<usize>], seps: &[Range<usize>]) -> bool {
    let one_char = |s: &Range<usize>| s.len() == 1;
    if groups.len() <= 4 && groups.iter().all(|g| g.len() <= 2) {
        return true;
    }
    if groups.len() == 3
        && seps.iter().all(one_char)
        && seps.iter().all(|s| b[s.start] == b[seps[0].start])
        && b".-/".contains(&b[seps[0].start])
        && groups[0].len() <= 2
        && groups[1].len() <= 2
        && matches!(groups[2].len(), 2 | 4)
    {
        return true;
    }
    if let ([first, last], [sep]) = (groups, seps) {
        let year = &b[last.clone()];
        return b[sep.clone()] == *b"/"
            && first.len() <= 5
            && year.len() == 4
            && (year.starts_with(b"19") || year.starts_with(b"20"));
    }
    false
}
