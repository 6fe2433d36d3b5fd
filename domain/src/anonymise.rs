//! The only two ways to obtain an `AnonymisedRecord`: `anonymise` turns a
//! visit entered at a desk into one (dropping personal data, generalising
//! age, time and duration), and `recheck` accepts one from the wire or from
//! storage only if every field is in its domain, so that a buggy or hostile
//! desk cannot smuggle personal data into the hub.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use uuid::{Uuid, Version};

use crate::catalogue::{referral_code, Catalogue, REFERRAL_OFFICES};
use crate::fields::{
    is_country_code, is_iso_week, iso_week, normalise_language_tag, AgeBand, Channel, DurationBand,
    Mediator, Outcome, ParseValueError, Sex,
};
use crate::pseudonym::{is_pseudonym, pseudonym, FederationSecret};
use crate::record::{AnonymisedRecord, RawRecord, RecordError, RecordParts};
use crate::scrub::{find_personal_data, scrub, Kind};
use crate::visit::{FieldError, Visit};

#[cfg(test)]
mod tests;

/// Limit for name, surname and address, in characters.
pub const MAX_PERSONAL_LEN: usize = 200;
/// Limit for free-text notes, in characters.
pub const MAX_NOTES_LEN: usize = 2000;
/// Limit for every other text field, in characters.
pub const MAX_FIELD_LEN: usize = 100;
/// One visit cannot last longer than a day; more is a typing error.
pub const MAX_MINUTES: u32 = 24 * 60;
/// Oldest plausible visitor; an older birth date is a typing error.
pub const MAX_AGE_YEARS: u32 = 130;
/// Length of a pseudonym: HMAC-SHA256 in hex.
pub const PSEUDONYM_LEN: usize = 64;

const NOTES_OFF: &str =
    "notes are turned off at this desk (scrub_notes = true in agent.toml turns them on): leave them empty";
const LANGUAGE_SHAPE: &str = "must be a language tag such as it, en, ar, pt-BR or zh-Hans";

/// What intake does beyond the fixed rules. The default keeps notes refused
/// and pseudonyms off, which is what `anonymise` does.
#[derive(Debug, Clone, Copy, Default)]
pub struct IntakeOptions<'a> {
    /// Accept free-text notes, scrubbed of personal data (the visitor's own
    /// name and surname included) and bounded to `MAX_NOTES_LEN`.
    pub scrub_notes: bool,
    /// Fill the pseudonym with this federation's key.
    pub secret: Option<&'a FederationSecret>,
}

/// Validates a visit and builds its anonymised record. `now` is the caller's
/// clock (the visit's time when `visited_at` is absent); `id` should be a
/// fresh `Uuid::now_v7()`. Personal fields are only length-checked, then
/// dropped; the birth date yields the age band at the visit date.
/// Non-empty notes are refused: see `anonymise_with`.
pub fn anonymise(
    visit: &Visit,
    desk_id: &str,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    id: Uuid,
) -> Result<AnonymisedRecord, FieldError> {
    anonymise_with(
        visit,
        desk_id,
        catalogue,
        now,
        id,
        &IntakeOptions::default(),
    )
}

/// `anonymise`, with scrubbed notes and a pseudonym when `options` ask for
/// them. The pseudonym is keyed on the calendar year of the visit date.
pub fn anonymise_with(
    visit: &Visit,
    desk_id: &str,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
    id: Uuid,
    options: &IntakeOptions<'_>,
) -> Result<AnonymisedRecord, FieldError> {
    check_lengths(visit)?;
    if desk_id.trim().is_empty()
        || desk_id.chars().count() > MAX_FIELD_LEN
        || desk_id.chars().any(char::is_control)
    {
        return Err(FieldError::new(
            "desk_id",
            format!("must be 1 to {MAX_FIELD_LEN} printable characters"),
        ));
    }
    if id.get_version() != Some(Version::SortRand) {
        return Err(FieldError::new("id", "must be a version 7 UUID"));
    }

    let procedure = required(&visit.procedure, "procedure")?.to_lowercase();
    if !catalogue.contains(&procedure) {
        return Err(FieldError::new(
            "procedure",
            "is not a code of the procedure catalogue",
        ));
    }
    let channel: Channel = parse(required(&visit.channel, "channel")?, "channel")?;
    let outcome: Outcome = parse(required(&visit.outcome, "outcome")?, "outcome")?;
    let language = normalise_language_tag(required(&visit.language, "language")?)
        .ok_or_else(|| FieldError::new("language", LANGUAGE_SHAPE))?;
    let referral = match present(&visit.referral) {
        None => None,
        Some(r) => Some(referral_code(r).ok_or_else(|| {
            FieldError::new(
                "referral",
                format!("must be one of: {}", REFERRAL_OFFICES.join(", ")),
            )
        })?),
    };

    let minutes = visit.minutes.unwrap_or(0);
    if minutes > MAX_MINUTES {
        return Err(FieldError::new(
            "minutes",
            format!("must be at most {MAX_MINUTES} (one day)"),
        ));
    }

    let visit_date = match present(&visit.visited_at) {
        None => now.date_naive(),
        Some(text) => {
            let at = DateTime::parse_from_rfc3339(text).map_err(|_| {
                FieldError::new(
                    "visited_at",
                    "must be an RFC 3339 timestamp such as 2026-01-29T10:30:00+01:00",
                )
            })?;
            let latest = now.checked_add_signed(Duration::days(1)).unwrap_or(now);
            if at.with_timezone(&Utc) > latest {
                return Err(FieldError::new(
                    "visited_at",
                    "must not be more than one day in the future",
                ));
            }
            // The desk's own local date decides the week, not UTC's.
            at.date_naive()
        }
    };

    let age_band = match present(&visit.birth_date) {
        None => None,
        Some(text) => Some(age_band_at(text, visit_date)?),
    };
    let sex = present(&visit.sex)
        .map(|s| parse::<Sex>(s, "sex"))
        .transpose()?;
    let nationality = match present(&visit.nationality) {
        None => None,
        Some(n) => {
            let code = n.to_ascii_uppercase();
            if !is_country_code(&code) {
                return Err(FieldError::new(
                    "nationality",
                    "must be an ISO 3166-1 alpha-2 country code such as MA or UA",
                ));
            }
            Some(code)
        }
    };
    let mediator = match present(&visit.mediator) {
        None => None,
        Some(m) => Mediator::parse_optional(m)
            .map_err(|e: ParseValueError| FieldError::new("mediator", e.expected()))?,
    };
    let notes = match present(&visit.notes) {
        None => None,
        Some(_) if !options.scrub_notes => return Err(FieldError::new("notes", NOTES_OFF)),
        Some(text) => scrub_notes(text, visit)?,
    };
    let pseudonym = options.secret.and_then(|secret| {
        let name_and_birth = match (
            present(&visit.name),
            present(&visit.surname),
            present(&visit.birth_date),
        ) {
            (Some(name), Some(surname), Some(birth)) => Some((name, surname, birth)),
            _ => None,
        };
        pseudonym(
            secret,
            visit_date.year(),
            present(&visit.codice_fiscale),
            name_and_birth,
        )
    });

    Ok(AnonymisedRecord::from_parts(RecordParts {
        id,
        desk_id: desk_id.to_owned(),
        week: iso_week(visit_date),
        procedure,
        channel,
        language,
        outcome,
        referral: referral.map(str::to_owned),
        duration_band: DurationBand::from_minutes(minutes),
        age_band,
        sex,
        nationality,
        pseudonym,
        notes,
        mediator,
    }))
}

const NOTES_STILL_PERSONAL: &str =
    "still contain personal data after scrubbing: rewrite them without it";

/// The visit's notes without personal data, at most `MAX_NOTES_LEN`
/// characters, `None` when nothing is left. The visit's own identifying
/// fields are replaced wherever they appear verbatim, in case one of them
/// has a shape the detectors do not know (a foreign document number); then
/// the scrubber runs with the visitor's names. Bounding can cut a token or
/// expose digits that read differently, so the result is checked again the
/// way the hub will check it.
fn scrub_notes(text: &str, visit: &Visit) -> Result<Option<String>, FieldError> {
    let names: Vec<&str> = [&visit.name, &visit.surname]
        .into_iter()
        .filter_map(present)
        .collect();
    let known = [
        (&visit.codice_fiscale, Kind::CodiceFiscale),
        (&visit.document_number, Kind::Documento),
        (&visit.phone, Kind::Telefono),
        (&visit.email, Kind::Email),
        (&visit.address, Kind::Indirizzo),
    ];
    let mut notes = text.to_owned();
    for (value, kind) in known {
        if let Some(value) = present(value) {
            notes = replace_verbatim(&notes, value, kind);
        }
    }
    for _ in 0..3 {
        notes = bound(scrub(&notes, &names).trim());
        if find_personal_data(&notes).is_empty() {
            return Ok(Some(notes).filter(|n| !n.is_empty()));
        }
    }
    Err(FieldError::new("notes", NOTES_STILL_PERSONAL))
}

/// Values this short could be a common word or number in the note.
const MIN_VERBATIM_LEN: usize = 5;

/// `text` with every ASCII-case-insensitive occurrence of `value` replaced
/// by the token of `kind`.
fn replace_verbatim(text: &str, value: &str, kind: Kind) -> String {
    if value.chars().count() < MIN_VERBATIM_LEN {
        return text.to_owned();
    }
    // ASCII lowercasing keeps byte offsets, so matches map back to `text`.
    let haystack = text.to_ascii_lowercase();
    let needle = value.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, _) in haystack.match_indices(&needle) {
        if start < at {
            continue;
        }
        out.push_str(text.get(at..start).unwrap_or_default());
        out.push_str(kind.token());
        at = start + needle.len();
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// At most `MAX_NOTES_LEN` characters: tokens can make a note longer than
/// what was typed. A cut never leaves half a token.
fn bound(text: &str) -> String {
    bound_to(text, MAX_NOTES_LEN)
}

/// `text` cut to at most `max` characters, an ellipsis marking the cut and
/// never half a token left behind.
pub(crate) fn bound_to(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    if let Some(open) = cut.rfind('[') {
        if !cut[open..].contains(']') {
            cut.truncate(open);
        }
    }
    let mut cut = cut.trim_end().to_owned();
    cut.push('…');
    cut
}

/// Every field first, so that an over-long value is reported as such even
/// when it is also malformed.
fn check_lengths(v: &Visit) -> Result<(), FieldError> {
    let fields: [(&'static str, &Option<String>, usize); 18] = [
        ("name", &v.name, MAX_PERSONAL_LEN),
        ("surname", &v.surname, MAX_PERSONAL_LEN),
        ("address", &v.address, MAX_PERSONAL_LEN),
        ("notes", &v.notes, MAX_NOTES_LEN),
        ("birth_date", &v.birth_date, MAX_FIELD_LEN),
        ("sex", &v.sex, MAX_FIELD_LEN),
        ("nationality", &v.nationality, MAX_FIELD_LEN),
        ("codice_fiscale", &v.codice_fiscale, MAX_FIELD_LEN),
        ("document_number", &v.document_number, MAX_FIELD_LEN),
        ("phone", &v.phone, MAX_FIELD_LEN),
        ("email", &v.email, MAX_FIELD_LEN),
        ("procedure", &v.procedure, MAX_FIELD_LEN),
        ("channel", &v.channel, MAX_FIELD_LEN),
        ("language", &v.language, MAX_FIELD_LEN),
        ("outcome", &v.outcome, MAX_FIELD_LEN),
        ("referral", &v.referral, MAX_FIELD_LEN),
        ("visited_at", &v.visited_at, MAX_FIELD_LEN),
        ("mediator", &v.mediator, MAX_FIELD_LEN),
    ];
    for (field, value, max) in fields {
        if value.as_deref().is_some_and(|s| s.chars().count() > max) {
            return Err(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
    Ok(())
}

/// The trimmed value, `None` when absent or blank.
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn required<'a>(value: &'a Option<String>, field: &'static str) -> Result<&'a str, FieldError> {
    present(value).ok_or_else(|| FieldError::new(field, "is required"))
}

fn parse<T: FromStr<Err = ParseValueError>>(
    text: &str,
    field: &'static str,
) -> Result<T, FieldError> {
    text.parse()
        .map_err(|e: ParseValueError| FieldError::new(field, e.expected()))
}

fn age_band_at(text: &str, visit_date: NaiveDate) -> Result<AgeBand, FieldError> {
    // chrono's %Y also takes signs and five-digit years; insist on the plain form.
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let birth = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| shaped)
        .ok_or_else(|| FieldError::new("birth_date", "must be a date written YYYY-MM-DD"))?;
    let age = visit_date
        .years_since(birth)
        .ok_or_else(|| FieldError::new("birth_date", "must not be after the visit date"))?;
    if age > MAX_AGE_YEARS {
        return Err(FieldError::new(
            "birth_date",
            format!("must be at most {MAX_AGE_YEARS} years before the visit"),
        ));
    }
    Ok(AgeBand::from_age(age))
}

/// The hub's check of a record from the wire (or read back from storage):
/// every field must be in its canonical form and domain, and the record must
/// come from `expected_desk_id`, the identity in the client certificate.
pub fn recheck(
    raw: RawRecord,
    expected_desk_id: &str,
    catalogue: &Catalogue,
) -> Result<AnonymisedRecord, RecordError> {
    let bounded: [(&'static str, &str, usize); 15] = [
        ("id", &raw.id, MAX_FIELD_LEN),
        ("desk_id", &raw.desk_id, MAX_FIELD_LEN),
        ("week", &raw.week, MAX_FIELD_LEN),
        ("procedure", &raw.procedure, MAX_FIELD_LEN),
        ("channel", &raw.channel, MAX_FIELD_LEN),
        ("language", &raw.language, MAX_FIELD_LEN),
        ("outcome", &raw.outcome, MAX_FIELD_LEN),
        ("referral", &raw.referral, MAX_FIELD_LEN),
        ("duration_band", &raw.duration_band, MAX_FIELD_LEN),
        ("age_band", &raw.age_band, MAX_FIELD_LEN),
        ("sex", &raw.sex, MAX_FIELD_LEN),
        ("nationality", &raw.nationality, MAX_FIELD_LEN),
        ("pseudonym", &raw.pseudonym, MAX_FIELD_LEN),
        ("notes", &raw.notes, MAX_NOTES_LEN),
        ("mediator", &raw.mediator, MAX_FIELD_LEN),
    ];
    for (field, value, max) in bounded {
        if value.chars().count() > max {
            return Err(RecordError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }

    let id = Uuid::try_parse(&raw.id)
        .ok()
        .filter(|id| id.get_version() == Some(Version::SortRand))
        .ok_or_else(|| RecordError::new("id", "must be a version 7 UUID"))?;
    if raw.desk_id != expected_desk_id {
        return Err(RecordError::new(
            "desk_id",
            "does not match the desk's certificate identity",
        ));
    }
    if !is_iso_week(&raw.week) {
        return Err(RecordError::new(
            "week",
            "must be an ISO week such as 2026-W05",
        ));
    }
    if !catalogue.contains(&raw.procedure) {
        return Err(RecordError::new(
            "procedure",
            "is not a code of the procedure catalogue",
        ));
    }
    let channel = canonical(&raw.channel, "channel", Channel::from_code, Channel::TEXTS)?;
    let outcome = canonical(&raw.outcome, "outcome", Outcome::from_code, Outcome::TEXTS)?;
    let duration_band = canonical(
        &raw.duration_band,
        "duration_band",
        DurationBand::from_code,
        DurationBand::TEXTS,
    )?;
    let age_band = optional(&raw.age_band, |s| {
        canonical(s, "age_band", AgeBand::from_code, AgeBand::TEXTS)
    })?;
    let sex = optional(&raw.sex, |s| {
        canonical(s, "sex", Sex::from_code, Sex::TEXTS)
    })?;
    let language = normalise_language_tag(&raw.language)
        .filter(|_| raw.language.trim() == raw.language)
        .ok_or_else(|| RecordError::new("language", LANGUAGE_SHAPE))?;
    let referral = optional(&raw.referral, |s| {
        REFERRAL_OFFICES
            .iter()
            .find(|code| **code == s)
            .map(|code| (*code).to_owned())
            .ok_or_else(|| {
                RecordError::new(
                    "referral",
                    format!("must be empty or one of: {}", REFERRAL_OFFICES.join(", ")),
                )
            })
    })?;
    let nationality = optional(&raw.nationality, |s| {
        Some(s.to_owned())
            .filter(|s| is_country_code(s))
            .ok_or_else(|| {
                RecordError::new(
                    "nationality",
                    "must be empty or an uppercase ISO 3166-1 alpha-2 code",
                )
            })
    })?;
    let pseudonym = optional(&raw.pseudonym, |s| {
        Some(s.to_owned())
            .filter(|s| is_pseudonym(s))
            .ok_or_else(|| {
                RecordError::new(
                    "pseudonym",
                    format!("must be empty or {PSEUDONYM_LEN} lowercase hexadecimal characters"),
                )
            })
    })?;
    let notes = optional(&raw.notes, |s| {
        if s.trim() != s {
            return Err(RecordError::new(
                "notes",
                "must not start or end with blank space",
            ));
        }
        match find_personal_data(s).first() {
            None => Ok(s.to_owned()),
            Some(found) => Err(RecordError::new(
                "notes",
                format!(
                    "still contain personal data ({}): notes must be scrubbed at the desk",
                    found.kind.as_str()
                ),
            )),
        }
    })?;

    let mediator = optional(&raw.mediator, |s| {
        canonical(s, "mediator", Mediator::from_code, Mediator::TEXTS)
    })?;

    Ok(AnonymisedRecord::from_parts(RecordParts {
        id,
        desk_id: raw.desk_id,
        week: raw.week,
        procedure: raw.procedure,
        channel,
        language,
        outcome,
        referral,
        duration_band,
        age_band,
        sex,
        nationality,
        pseudonym,
        notes,
        mediator,
    }))
}

fn canonical<T>(
    text: &str,
    field: &'static str,
    from_code: fn(&str) -> Option<T>,
    accepted: &[&str],
) -> Result<T, RecordError> {
    from_code(text)
        .ok_or_else(|| RecordError::new(field, format!("must be one of: {}", accepted.join(", "))))
}

/// Empty means absent on the wire.
fn optional<T>(
    text: &str,
    check: impl FnOnce(&str) -> Result<T, RecordError>,
) -> Result<Option<T>, RecordError> {
    if text.is_empty() {
        Ok(None)
    } else {
        check(text).map(Some)
    }
}
