//! The Italian codice fiscale: 16 characters whose last one is a check
//! character, so a candidate is reported only when the check agrees. That
//! keeps ordinary words and codes out while catching codes written in any
//! case or in groups.
//!
//! Omocodia: when two people would get the same code, the office replaces
//! digits with the letters L M N P Q R S T U V, starting from the rightmost
//! digit. A code written in one piece may hold such letters in any digit
//! positions: retyped by hand or mangled by a form it is still someone's
//! code, and a 16-character word with a digit, the right letters in the
//! right places and a matching check character is nothing else. A code
//! spread over several words must keep the office's order (a letter in a
//! digit position means every later digit position holds one too): without
//! it, ordinary words and a number ("PhSTwm NLdmUY 60 mq") pass the check
//! one time in 26. With the month letter, the day range and the check
//! character, a run of ordinary words passes about once in 100,000
//! word-aligned tries, so codes with no digit left are accepted too.
//!
//! Codes are read through the runs of `compact.rs`, so any grouping
//! ("RSS MRA 85T10 A562S", "RSSMRA 85 T10 A562 S", "RSS-MRA-85T10-A562S")
//! and either case is the same code.

use super::compact::{cued, Run};
use super::{work, Finding, Kind};

const LEN: usize = 16;
/// Positions that hold digits, or omocodia letters.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// Values of characters in odd positions (1st, 3rd, …), digits 0–9 then A–Z.
const ODD: [u32; 36] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// Words that announce a codice fiscale: after them a code with the right
/// shape is taken even when its check character is wrong, since a code
/// mistyped by one letter still points at one person.
const CUES: [&str; 5] = ["cf", "c.f", "codice fiscale", "fiscal", "tax code"];

pub(super) fn find(text: &str, runs: &[Run], out: &mut Vec<Finding>) {
    for run in runs {
        let mut i = 0;
        while i + LEN <= run.chars.len() {
            let end = i + LEN;
            work::add(LEN);
            let chars = &run.chars[i..end];
            // Written in groups, a code must start and end with words; in one
            // piece it may be glued to other letters, but then it must hold a
            // digit, so that a run of ordinary letters cannot pass.
            let one_piece = run.contiguous(i, end);
            let fits_words = (run.word_start[i] && run.word_end[end - 1])
                || (one_piece && chars.iter().any(u8::is_ascii_digit));
            let order = if one_piece {
                Omocodia::AnyOrder
            } else {
                Omocodia::FromTheRight
            };
            let found = fits_words
                && (is_valid(chars, order)
                    || (is_shaped(chars, order) && cued(text, run.at[i], &CUES)));
            if found {
                out.push(Finding {
                    kind: Kind::CodiceFiscale,
                    span: run.span(i, end),
                });
                i = end;
            } else {
                i += 1;
            }
        }
    }
}

/// A well-formed codice fiscale with a correct check character, in any
/// case, spaces allowed anywhere inside.
pub fn is_valid_codice_fiscale(text: &str) -> bool {
    let chars: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    is_valid(&chars, Omocodia::AnyOrder)
}

/// Which omocodia letters a code may hold in its digit positions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Omocodia {
    AnyOrder,
    /// Only the office's order: from the rightmost digit position leftwards.
    FromTheRight,
}

/// `chars` uppercase ASCII.
fn is_valid(chars: &[u8], order: Omocodia) -> bool {
    is_shaped(chars, order) && check_char(&chars[..LEN - 1]) == Some(chars[LEN - 1])
}

/// Right letters and digits in the right places, whatever the check
/// character.
fn is_shaped(chars: &[u8], order: Omocodia) -> bool {
    if chars.len() != LEN {
        return false;
    }
    let letter_at = |i: usize| chars[i].is_ascii_uppercase();
    if ![0, 1, 2, 3, 4, 5, 8, 11, 15].into_iter().all(letter_at) || !MONTHS.contains(&chars[8]) {
        return false;
    }
    let mut digits = [0u8; LEN];
    let mut letter_seen = false;
    for p in DIGIT_POSITIONS {
        let c = chars[p];
        digits[p] = if c.is_ascii_digit() {
            if letter_seen && order == Omocodia::FromTheRight {
                return false;
            }
            c - b'0'
        } else {
            letter_seen = true;
            match OMOCODIA.iter().position(|l| *l == c) {
                Some(d) => d as u8,
                None => return false,
            }
        };
    }
    let day = digits[9] * 10 + digits[10];
    (1..=31).contains(&day) || (41..=71).contains(&day)
}

/// The check character of the first 15 characters.
pub(super) fn check_char(first15: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, c) in first15.iter().enumerate() {
        let index = match c {
            b'0'..=b'9' => usize::from(c - b'0'),
            b'A'..=b'Z' => usize::from(c - b'A') + 10,
            _ => return None,
        };
        sum += if i % 2 == 0 {
            ODD[index]
        } else if index < 10 {
            index as u32
        } else {
            index as u32 - 10
        };
    }
    Some(b'A' + (sum % 26) as u8)
}
