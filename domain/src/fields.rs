//! The closed vocabularies of a record (channel, outcome, duration and age
//! bands, sex) and the validators for open-looking fields that still have a
//! fixed shape: ISO week, ISO 3166-1 alpha-2 country, BCP 47 language tag.
//!
//! Every value has one canonical text form (`as_str`, serde, the wire); the
//! `FromStr` impls are lenient about case and spelling because operators type
//! them, while `from_code` accepts only the canonical form, for the hub's
//! re-check of records from the wire.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// A text that is not one of the values a field accepts. The value itself is
/// never echoed: it may be personal data typed in the wrong field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be one of: {}", .accepted.join(", "))]
pub struct ParseValueError {
    /// What was being parsed, e.g. `channel`.
    pub what: &'static str,
    /// The canonical values accepted.
    pub accepted: &'static [&'static str],
}

impl ParseValueError {
    /// The message without the leading field name, for wrapping in a field error.
    pub fn expected(&self) -> String {
        format!("must be one of: {}", self.accepted.join(", "))
    }
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The canonical texts, same order as `ALL`.
            pub const TEXTS: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Only the canonical text, exactly.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            fn parse_error() -> ParseValueError {
                ParseValueError { what: $what, accepted: Self::TEXTS }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// How the visitor reached the desk.
    Channel, "channel" { WalkIn => "walk_in", Phone => "phone", Email => "email", Online => "online" }
}

vocabulary! {
    /// What came of the visit.
    Outcome, "outcome" {
        Answered => "answered",
        Referred => "referred",
        AppointmentBooked => "appointment_booked",
        DocumentsChecked => "documents_checked",
        FollowUpNeeded => "follow_up_needed",
        OutOfScope => "out_of_scope",
    }
}

vocabulary! {
    /// Time spent, generalised so that an exact duration cannot single out a visit.
    DurationBand, "duration_band" { Under15 => "<15", From15To30 => "15-30", From30To60 => "30-60", Over60 => ">60" }
}

vocabulary! {
    /// Age at the visit, generalised from the birth date (which is dropped).
    AgeBand, "age_band" {
        Under18 => "0-17",
        From18To24 => "18-24",
        From25To34 => "25-34",
        From35To44 => "35-44",
        From45To54 => "45-54",
        From55To64 => "55-64",
        From65 => "65+",
    }
}

vocabulary! {
    /// Sex as the visitor states it; X for anything else.
    Sex, "sex" { F => "F", M => "M", X => "X" }
}

vocabulary! {
    /// Whether a cultural mediator or interpreter was needed, and there.
    /// Absent means nobody said (desks from before the field): counted as
    /// [`MEDIATOR_UNKNOWN`].
    Mediator, "mediator" {
        NotNeeded => "not_needed",
        Used => "used",
        NeededUnavailable => "needed_unavailable",
    }
}

/// How the counts, the tables and the gaps name a record that does not say
/// whether a mediator was needed (older desks, records stored before the
/// field). Never a value of the record itself: there it is absent.
pub const MEDIATOR_UNKNOWN: &str = "unknown";

impl Mediator {
    /// A visit's `mediator` as typed: the codes in any case or spacing, the
    /// Italian labels of the operator page, and `unknown` / `non indicato`,
    /// which mean absent (`Ok(None)`).
    pub fn parse_optional(s: &str) -> Result<Option<Self>, ParseValueError> {
        let l = loose(s).replace('\'', "_");
        match l.as_str() {
            "" | "unknown" | "non_indicato" | "non_noto" => Ok(None),
            "notneeded" | "non_necessario" | "nessuno" | "no" => Ok(Some(Self::NotNeeded)),
            "presente" | "usato" | "utilizzato" | "present" => Ok(Some(Self::Used)),
            "neededunavailable"
            | "unavailable"
            | "non_disponibile"
            | "necessario_ma_non_disponibile"
            | "necessario_non_disponibile"
            | "mancante" => Ok(Some(Self::NeededUnavailable)),
            other => Self::from_code(other)
                .map(Some)
                .ok_or_else(Self::parse_error),
        }
    }
}

/// Operators write "Walk-in", "appointment booked", "FOLLOW_UP_NEEDED".
fn loose(s: &str) -> String {
    s.trim().to_lowercase().replace(['-', ' '], "_")
}

impl FromStr for Channel {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match loose(s).as_str() {
            "walkin" | "in_person" => Ok(Self::WalkIn),
            "e_mail" | "mail" => Ok(Self::Email),
            other => Self::from_code(other).ok_or_else(Self::parse_error),
        }
    }
}

impl FromStr for Outcome {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_code(&loose(s)).ok_or_else(Self::parse_error)
    }
}

impl FromStr for DurationBand {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_code(&s.replace(' ', "")).ok_or_else(Self::parse_error)
    }
}

impl FromStr for AgeBand {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_code(&s.replace(' ', "")).ok_or_else(Self::parse_error)
    }
}

impl FromStr for Sex {
    type Err = ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "f" | "female" | "donna" | "femmina" => Ok(Self::F),
            "m" | "male" | "uomo" | "maschio" => Ok(Self::M),
            "x" | "other" | "altro" => Ok(Self::X),
            _ => Err(Self::parse_error()),
        }
    }
}

impl DurationBand {
    /// <15, 15–29, 30–60, over 60: an hour exactly still counts as "30-60".
    pub fn from_minutes(minutes: u32) -> Self {
        match minutes {
            0..=14 => Self::Under15,
            15..=29 => Self::From15To30,
            30..=60 => Self::From30To60,
            _ => Self::Over60,
        }
    }
}

impl AgeBand {
    pub fn from_age(years: u32) -> Self {
        match years {
            0..=17 => Self::Under18,
            18..=24 => Self::From18To24,
            25..=34 => Self::From25To34,
            35..=44 => Self::From35To44,
            45..=54 => Self::From45To54,
            55..=64 => Self::From55To64,
            _ => Self::From65,
        }
    }
}

/// The ISO week of a date, `YYYY-Www`, using the ISO week-year (so
/// 2027-01-01 is `2026-W53`).
pub fn iso_week(date: NaiveDate) -> String {
    let w = date.iso_week();
    format!("{:04}-W{:02}", w.year(), w.week())
}

/// `YYYY-Www` with a week that exists in that ISO year (W53 only in long years).
pub fn is_iso_week(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 8 || b[4] != b'-' || b[5] != b'W' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !digits(0..4) || !digits(6..8) {
        return false;
    }
    match (s[0..4].parse::<i32>(), s[6..8].parse::<u32>()) {
        (Ok(year), Ok(week)) => {
            week >= 1 && NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).is_some()
        }
        _ => false,
    }
}

/// The officially assigned ISO 3166-1 alpha-2 codes, sorted.
#[rustfmt::skip]
pub const COUNTRY_CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An officially assigned ISO 3166-1 alpha-2 code, uppercase exactly.
pub fn is_country_code(s: &str) -> bool {
    s.len() == 2 && COUNTRY_CODES.binary_search(&s).is_ok()
}

/// Longest language tag accepted, in characters.
pub const MAX_LANGUAGE_TAG_LEN: usize = 35;

/// A BCP 47-shaped tag: a 2–3 letter primary subtag, then subtags of 2–8
/// letters or digits joined by `-`, at most 35 characters in all. Registry
/// membership is not checked: desks meet languages the operator can name
/// better than any list we would ship.
pub fn is_language_tag(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_LANGUAGE_TAG_LEN {
        return false;
    }
    let mut parts = s.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    primary_ok
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The canonical spelling of a language tag (`pt-BR`, `zh-Hans`, `ar`), also
/// accepting `_` as separator; `None` when it is not a valid tag. One
/// spelling per language keeps the counts from splitting.
pub fn normalise_language_tag(s: &str) -> Option<String> {
    let s = s.trim().replace('_', "-");
    if !is_language_tag(&s) {
        return None;
    }
    let parts: Vec<String> = s
        .split('-')
        .enumerate()
        .map(|(i, p)| {
            let alpha = p.bytes().all(|b| b.is_ascii_alphabetic());
            if i > 0 && alpha && p.len() == 2 {
                p.to_ascii_uppercase()
            } else if i > 0 && alpha && p.len() == 4 {
                let lower = p.to_ascii_lowercase();
                let (first, rest) = lower.split_at(1);
                format!("{}{rest}", first.to_ascii_uppercase())
            } else {
                p.to_ascii_lowercase()
            }
        })
        .collect();
    Some(parts.join("-"))
}
