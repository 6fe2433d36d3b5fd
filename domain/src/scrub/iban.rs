//! IBANs of any country, recognised by their mod-97 check (ISO 13616):
//! country letters, two check digits, then the national account number,
//! written in one piece or in groups.
//!
//! Where the country's IBAN length is known the candidate must have exactly
//! that length; for other countries any length from 15 to 34 is tried. In
//! both cases at least half the account part must be digits: a run of ordinary
//! words passes mod-97 about once in 97 tries, an account number is almost
//! all digits.

use super::compact::{cued, Run};
use super::{work, Finding, Kind};

const MIN_LEN: usize = 15;
const MAX_LEN: usize = 34;

/// IBAN lengths from the SWIFT registry, plus the national IBAN formats used
/// in West and Central Africa and the Maghreb, where many visitors bank.
#[rustfmt::skip]
const LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AO", 25), (b"AT", 20), (b"AZ", 28), (b"BA", 20),
    (b"BE", 16), (b"BF", 28), (b"BG", 22), (b"BH", 22), (b"BI", 27), (b"BJ", 28), (b"BR", 29),
    (b"BY", 28), (b"CF", 27), (b"CG", 27), (b"CH", 21), (b"CI", 28), (b"CM", 27), (b"CR", 22),
    (b"CV", 25), (b"CY", 28), (b"CZ", 24), (b"DE", 22), (b"DJ", 27), (b"DK", 18), (b"DO", 28),
    (b"DZ", 26), (b"EE", 20), (b"EG", 29), (b"ES", 24), (b"FI", 18), (b"FK", 18), (b"FO", 18),
    (b"FR", 27), (b"GA", 27), (b"GB", 22), (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GQ", 27),
    (b"GR", 27), (b"GT", 28), (b"GW", 25), (b"HN", 28), (b"HR", 21), (b"HU", 28), (b"IE", 22),
    (b"IL", 23), (b"IQ", 23), (b"IR", 26), (b"IS", 26), (b"IT", 27), (b"JO", 30), (b"KM", 27),
    (b"KW", 30), (b"KZ", 20), (b"LB", 28), (b"LC", 32), (b"LI", 21), (b"LT", 20), (b"LU", 20),
    (b"LV", 21), (b"LY", 25), (b"MA", 28), (b"MC", 27), (b"MD", 24), (b"ME", 22), (b"MG", 27),
    (b"MK", 19), (b"ML", 28), (b"MN", 20), (b"MR", 27), (b"MT", 31), (b"MU", 30), (b"MZ", 25),
    (b"NE", 28), (b"NI", 28), (b"NL", 18), (b"NO", 15), (b"OM", 23), (b"PK", 24), (b"PL", 28),
    (b"PS", 29), (b"PT", 25), (b"QA", 29), (b"RO", 24), (b"RS", 22), (b"RU", 33), (b"SA", 24),
    (b"SC", 31), (b"SD", 18), (b"SE", 24), (b"SI", 19), (b"SK", 24), (b"SM", 27), (b"SN", 28),
    (b"SO", 23), (b"ST", 25), (b"SV", 28), (b"TD", 27), (b"TG", 28), (b"TL", 23), (b"TN", 24),
    (b"TR", 26), (b"UA", 29), (b"VA", 22), (b"VG", 24), (b"XK", 20), (b"YE", 30),
];

/// After this word an IBAN-shaped code is taken even when its check digits
/// are wrong: a mistyped account number is still someone's account.
const CUES: [&str; 1] = ["iban"];

pub(super) fn find(text: &str, runs: &[Run], out: &mut Vec<Finding>) {
    for run in runs {
        let mut i = 0;
        while i + MIN_LEN <= run.chars.len() {
            let cued = cued(text, run.at[i], &CUES);
            match match_at(run, i, cued) {
                Some(len) => {
                    out.push(Finding {
                        kind: Kind::Iban,
                        span: run.span(i, i + len),
                    });
                    i += len;
                }
                None => i += 1,
            }
        }
    }
}

/// The length of the longest IBAN starting at `i`, ending on a word end;
/// when `cued`, the check digits are not checked.
fn match_at(run: &Run, i: usize, cued: bool) -> Option<usize> {
    let c = &run.chars[i..];
    let shaped = c[0].is_ascii_uppercase()
        && c[1].is_ascii_uppercase()
        && c[2].is_ascii_digit()
        && c[3].is_ascii_digit();
    if !shaped {
        return None;
    }
    let lengths = match LENGTHS.iter().find(|(cc, _)| cc[..] == c[..2]) {
        Some((_, len)) => *len..=*len,
        None => MIN_LEN..=MAX_LEN,
    };
    lengths
        .rev()
        // In groups a code starts and ends with words; in one piece it may be
        // glued to other letters ("IBAN:IT60…", "ibanIT60…").
        .filter(|len| {
            *len <= c.len()
                && ((run.word_start[i] && run.word_end[i + len - 1]) || run.contiguous(i, i + len))
        })
        .find(|len| {
            work::add(2 * len);
            is_shaped(&c[..*len]) && (cued || is_valid(&c[..*len]))
        })
}

/// An IBAN with a correct check, in any case, with or without spaces.
pub fn is_valid_iban(text: &str) -> bool {
    let chars: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    (MIN_LEN..=MAX_LEN).contains(&chars.len())
        && chars[..2].iter().all(u8::is_ascii_uppercase)
        && chars[2..4].iter().all(u8::is_ascii_digit)
        && LENGTHS
            .iter()
            .find(|(cc, _)| cc[..] == chars[..2])
            .is_none_or(|(_, len)| *len == chars.len())
        && is_valid(&chars)
}

/// At least half the account number in digits, all of it alphanumeric.
fn is_shaped(chars: &[u8]) -> bool {
    let account = chars.get(4..).unwrap_or_default();
    let digits = account.iter().filter(|b| b.is_ascii_digit()).count();
    digits * 2 >= account.len() && chars.iter().all(u8::is_ascii_alphanumeric)
}

/// `chars` uppercase ASCII alphanumerics.
fn is_valid(chars: &[u8]) -> bool {
    if !is_shaped(chars) {
        return false;
    }
    // Rearranged: account number, then country and check digits.
    let mut rem = 0u32;
    for c in chars[4..].iter().chain(&chars[..4]) {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    rem == 1
}
