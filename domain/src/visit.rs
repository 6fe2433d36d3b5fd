//! The visit as a desk enters it, personal data included. It lives only in
//! the agent's memory between intake and `anonymise`; it is deliberately not
//! `Serialize`, and its `Debug` prints no personal field, so that it can reach
//! neither disk nor logs by accident.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

#[cfg(test)]
mod tests;

/// Longest JSON line `from_json_line` reads; far above the sum of the field
/// limits even with every character escaped.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// An intake field that cannot be accepted, named so the operator can fix it.
/// Messages never repeat the refused value: it may be personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct FieldError {
    /// The JSON key of the field, or `visit` for the line as a whole.
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// One visit as entered at the desk. Every field is optional here; the
/// anonymiser says which ones a record needs.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    pub name: Option<String>,
    pub surname: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    /// ISO 3166-1 alpha-2, any case.
    pub nationality: Option<String>,
    pub codice_fiscale: Option<String>,
    pub document_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// A catalogue code.
    pub procedure: Option<String>,
    pub channel: Option<String>,
    /// BCP 47 tag of the language spoken with the visitor.
    pub language: Option<String>,
    pub outcome: Option<String>,
    /// A referral office code or its Italian label.
    pub referral: Option<String>,
    pub minutes: Option<u32>,
    pub notes: Option<String>,
    /// RFC 3339; absent means "now" as the caller passes it.
    pub visited_at: Option<String>,
    /// `not_needed`, `used` or `needed_unavailable` (any case, or the
    /// operator page's Italian labels); absent: nobody said.
    pub mediator: Option<String>,
}

/// The longest idempotency key a visit line may carry, in characters.
pub const MAX_REQUEST_ID_CHARS: usize = 64;

/// An idempotency key as given (empty: none), checked: at most
/// `MAX_REQUEST_ID_CHARS` characters, none of them control characters.
pub fn request_id(key: &str) -> Result<Option<&str>, FieldError> {
    if key.chars().count() > MAX_REQUEST_ID_CHARS || key.chars().any(char::is_control) {
        return Err(request_id_error());
    }
    Ok((!key.is_empty()).then_some(key))
}

fn request_id_error() -> FieldError {
    FieldError::new(
        "request_id",
        format!("must be a text of at most {MAX_REQUEST_ID_CHARS} characters, without control characters"),
    )
}

/// Struct fields, in the order the JSON keys are listed to the operator.
const FIELDS: [&str; 19] = [
    "name",
    "surname",
    "birth_date",
    "sex",
    "nationality",
    "codice_fiscale",
    "document_number",
    "phone",
    "email",
    "address",
    "procedure",
    "channel",
    "language",
    "outcome",
    "referral",
    "minutes",
    "notes",
    "visited_at",
    "mediator",
];

impl Visit {
    /// The JSON keys a visit line may carry.
    pub const FIELDS: &'static [&'static str] = &FIELDS;

    /// Reads one visit from a JSON line (the CLI's and the import's format).
    /// Type errors name the field; unknown keys are refused and named, so a
    /// misspelt `nazionalita` is not silently lost.
    pub fn from_json_line(line: &str) -> Result<Visit, FieldError> {
        Self::from_keyed_json_line(line).map(|(visit, _)| visit)
    }

    /// As `from_json_line`, for a line that may also carry `request_id`, the
    /// idempotency key of `RecordVisit` (a string of at most
    /// `MAX_REQUEST_ID_CHARS` characters), returned beside the visit.
    pub fn from_keyed_json_line(line: &str) -> Result<(Visit, Option<String>), FieldError> {
        if line.len() > MAX_LINE_BYTES {
            return Err(FieldError::new(
                "visit",
                format!("a visit line must be at most {MAX_LINE_BYTES} bytes"),
            ));
        }
        // serde_json's own messages can quote the offending value, so they
        // are rebuilt here from the position only.
        let value: Value = serde_json::from_str(line).map_err(|e| {
            FieldError::new(
                "visit",
                format!("not valid JSON (at character {})", e.column()),
            )
        })?;
        let Value::Object(mut map) = value else {
            return Err(FieldError::new("visit", "must be one JSON object"));
        };
        let request_id = match map.remove("request_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(k)) => request_id(&k)?.map(str::to_owned),
            Some(_) => return Err(request_id_error()),
        };
        for (key, value) in &map {
            let Some(&field) = FIELDS.iter().find(|f| **f == key.as_str()) else {
                return Err(FieldError::new(
                    "visit",
                    format!(
                        "unknown field `{}`; accepted fields: {}",
                        shorten(key),
                        FIELDS.join(", ")
                    ),
                ));
            };
            check_type(field, value)?;
        }
        let visit = serde_json::from_value(Value::Object(map))
            .map_err(|_| FieldError::new("visit", "does not have the shape of a visit"))?;
        Ok((visit, request_id))
    }
}

fn check_type(field: &'static str, value: &Value) -> Result<(), FieldError> {
    let fits = if field == "minutes" {
        match value {
            Value::Number(n) => n.as_u64().is_some_and(|m| u32::try_from(m).is_ok()),
            other => other.is_null(),
        }
    } else {
        value.is_string() || value.is_null()
    };
    match (fits, field) {
        (true, _) => Ok(()),
        (false, "minutes") => Err(FieldError::new(
            field,
            format!("must be a whole number of minutes from 0 to {}", u32::MAX),
        )),
        (false, _) => Err(FieldError::new(field, "must be a string or null")),
    }
}

/// An unknown key is shown to help the operator, but only its start and with
/// control characters escaped: it is still untrusted input.
fn shorten(key: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = key.chars().take(MAX).flat_map(char::escape_debug).collect();
    if key.chars().count() > MAX {
        out.push('…');
    }
    out
}

impl fmt::Debug for Visit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted(bool);
        impl fmt::Debug for Redacted {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(if self.0 { "<redacted>" } else { "None" })
            }
        }
        let r = |present: bool| Redacted(present);
        f.debug_struct("Visit")
            .field("procedure", &self.procedure)
            .field("channel", &self.channel)
            .field("outcome", &self.outcome)
            .field("name", &r(self.name.is_some()))
            .field("surname", &r(self.surname.is_some()))
            .field("birth_date", &r(self.birth_date.is_some()))
            .field("sex", &r(self.sex.is_some()))
            .field("nationality", &r(self.nationality.is_some()))
            .field("codice_fiscale", &r(self.codice_fiscale.is_some()))
            .field("document_number", &r(self.document_number.is_some()))
            .field("phone", &r(self.phone.is_some()))
            .field("email", &r(self.email.is_some()))
            .field("address", &r(self.address.is_some()))
            .field("language", &r(self.language.is_some()))
            .field("referral", &r(self.referral.is_some()))
            .field("minutes", &r(self.minutes.is_some()))
            .field("notes", &r(self.notes.is_some()))
            .field("visited_at", &r(self.visited_at.is_some()))
            .field("mediator", &self.mediator)
            .finish()
    }
}
