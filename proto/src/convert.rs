//! Conversions between the wire messages and the domain's plain forms. The
//! domain crate never sees prost types; this is the one place that knows both.

use crate::v1;
use domain::RawRecord;

impl From<RawRecord> for v1::AnonymisedRecord {
    fn from(r: RawRecord) -> Self {
        Self {
            id: r.id,
            desk_id: r.desk_id,
            week: r.week,
            procedure: r.procedure,
            channel: r.channel,
            language: r.language,
            outcome: r.outcome,
            referral: r.referral,
            duration_band: r.duration_band,
            age_band: r.age_band,
            sex: r.sex,
            nationality: r.nationality,
            pseudonym: r.pseudonym,
            notes: r.notes,
        }
    }
}

impl From<v1::AnonymisedRecord> for RawRecord {
    fn from(r: v1::AnonymisedRecord) -> Self {
        Self {
            id: r.id,
            desk_id: r.desk_id,
            week: r.week,
            procedure: r.procedure,
            channel: r.channel,
            language: r.language,
            outcome: r.outcome,
            referral: r.referral,
            duration_band: r.duration_band,
            age_band: r.age_band,
            sex: r.sex,
            nationality: r.nationality,
            pseudonym: r.pseudonym,
            notes: r.notes,
        }
    }
}

/// Every field of a wire visit, for the agent's intake (the only place a
/// visit crosses the wire is the agent's loopback API).
impl From<v1::Visit> for domain::Visit {
    fn from(v: v1::Visit) -> Self {
        fn opt(s: String) -> Option<String> {
            (!s.is_empty()).then_some(s)
        }
        Self {
            name: opt(v.name),
            surname: opt(v.surname),
            birth_date: opt(v.birth_date),
            sex: opt(v.sex),
            nationality: opt(v.nationality),
            codice_fiscale: opt(v.codice_fiscale),
            document_number: opt(v.document_number),
            phone: opt(v.phone),
            email: opt(v.email),
            address: opt(v.address),
            procedure: opt(v.procedure),
            channel: opt(v.channel),
            language: opt(v.language),
            outcome: opt(v.outcome),
            referral: opt(v.referral),
            minutes: Some(v.minutes),
            notes: opt(v.notes),
            visited_at: opt(v.visited_at),
        }
    }
}

/// The CLI parses and checks a visit's JSON line with the domain's rules,
/// then sends it over the agent's local API.
impl From<domain::Visit> for v1::Visit {
    fn from(v: domain::Visit) -> Self {
        Self {
            name: v.name.unwrap_or_default(),
            surname: v.surname.unwrap_or_default(),
            birth_date: v.birth_date.unwrap_or_default(),
            sex: v.sex.unwrap_or_default(),
            nationality: v.nationality.unwrap_or_default(),
            codice_fiscale: v.codice_fiscale.unwrap_or_default(),
            document_number: v.document_number.unwrap_or_default(),
            phone: v.phone.unwrap_or_default(),
            email: v.email.unwrap_or_default(),
            address: v.address.unwrap_or_default(),
            procedure: v.procedure.unwrap_or_default(),
            channel: v.channel.unwrap_or_default(),
            language: v.language.unwrap_or_default(),
            outcome: v.outcome.unwrap_or_default(),
            referral: v.referral.unwrap_or_default(),
            minutes: v.minutes.unwrap_or_default(),
            notes: v.notes.unwrap_or_default(),
            visited_at: v.visited_at.unwrap_or_default(),
        }
    }
}

/// A guidance severity's name as operators and scripts read it.
pub fn severity_name(severity: i32) -> &'static str {
    match crate::Severity::try_from(severity) {
        Ok(crate::Severity::Urgent) => "urgent",
        Ok(crate::Severity::Important) => "important",
        _ => "info",
    }
}
