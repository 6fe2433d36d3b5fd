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
            mediator: r.mediator,
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
            mediator: r.mediator,
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
            mediator: opt(v.mediator),
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
            mediator: v.mediator.unwrap_or_default(),
        }
    }
}

/// A catalogue entry on the wire; one the domain holds is in force, so
/// never retired.
impl From<&domain::Procedure> for v1::Procedure {
    fn from(p: &domain::Procedure) -> Self {
        domain::CatalogueEntry::from(p).into()
    }
}

/// The `retired` flag is the log's concern: the caller filters on it first.
impl From<&v1::Procedure> for domain::Procedure {
    fn from(p: &v1::Procedure) -> Self {
        (&domain::CatalogueEntry::from(p.clone())).into()
    }
}

/// A catalogue log entry on the wire, retired or not.
impl From<domain::CatalogueEntry> for v1::Procedure {
    fn from(p: domain::CatalogueEntry) -> Self {
        Self {
            code: p.code,
            family: p.family,
            name_it: p.name_it,
            name_en: p.name_en,
            office: p.office,
            retired: p.retired,
        }
    }
}

impl From<v1::Procedure> for domain::CatalogueEntry {
    fn from(p: v1::Procedure) -> Self {
        Self {
            code: p.code,
            family: p.family,
            name_it: p.name_it,
            name_en: p.name_en,
            office: p.office,
            retired: p.retired,
        }
    }
}

impl From<domain::CatalogueChange> for v1::CatalogueUpdate {
    fn from(c: domain::CatalogueChange) -> Self {
        Self {
            version: c.version,
            procedures: c.procedures.into_iter().map(Into::into).collect(),
            glossary: c.glossary,
        }
    }
}

impl From<v1::CatalogueUpdate> for domain::CatalogueChange {
    fn from(c: v1::CatalogueUpdate) -> Self {
        Self {
            version: c.version,
            procedures: c.procedures.into_iter().map(Into::into).collect(),
            glossary: c.glossary,
        }
    }
}

impl From<domain::Severity> for v1::Severity {
    fn from(s: domain::Severity) -> Self {
        match s {
            domain::Severity::Info => v1::Severity::Info,
            domain::Severity::Important => v1::Severity::Important,
            domain::Severity::Urgent => v1::Severity::Urgent,
        }
    }
}

/// A guidance severity number the wire does not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownSeverity;

impl std::fmt::Display for UnknownSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field `severity`: must be info, important or urgent")
    }
}

impl std::error::Error for UnknownSeverity {}

/// A wire severity: unset means `info`, as the proto documents.
fn severity_from_wire(severity: i32) -> Result<domain::Severity, UnknownSeverity> {
    match v1::Severity::try_from(severity) {
        Ok(v1::Severity::Unspecified | v1::Severity::Info) => Ok(domain::Severity::Info),
        Ok(v1::Severity::Important) => Ok(domain::Severity::Important),
        Ok(v1::Severity::Urgent) => Ok(domain::Severity::Urgent),
        Err(_) => Err(UnknownSeverity),
    }
}

impl From<domain::GuidanceItem> for v1::GuidanceItem {
    fn from(i: domain::GuidanceItem) -> Self {
        Self {
            id: i.id,
            title: i.title,
            body: i.body,
            procedures: i.procedures,
            severity: v1::Severity::from(i.severity) as i32,
            effective_from: i.effective_from,
            expires_at: i.expires_at,
            version: i.version,
            retired: i.retired,
            legal_basis: i.legal_basis,
        }
    }
}

impl TryFrom<v1::GuidanceItem> for domain::GuidanceItem {
    type Error = UnknownSeverity;

    fn try_from(i: v1::GuidanceItem) -> Result<Self, UnknownSeverity> {
        Ok(Self {
            severity: severity_from_wire(i.severity)?,
            id: i.id,
            title: i.title,
            body: i.body,
            procedures: i.procedures,
            effective_from: i.effective_from,
            expires_at: i.expires_at,
            version: i.version,
            retired: i.retired,
            legal_basis: i.legal_basis,
        })
    }
}

impl From<domain::AnswerTemplate> for v1::Template {
    fn from(t: domain::AnswerTemplate) -> Self {
        Self {
            key: t.key,
            language: t.language,
            body: t.body,
            version: t.version,
            reference_version: t.reference_version,
            stale: t.stale,
        }
    }
}

impl From<v1::Template> for domain::AnswerTemplate {
    fn from(t: v1::Template) -> Self {
        Self {
            key: t.key,
            language: t.language,
            body: t.body,
            version: t.version,
            reference_version: t.reference_version,
            stale: t.stale,
        }
    }
}

impl From<domain::TemplateProposal> for v1::Proposal {
    fn from(p: domain::TemplateProposal) -> Self {
        Self {
            id: p.id,
            desk_id: p.desk_id,
            key: p.key,
            language: p.language,
            body: p.body,
            similarity: p.similarity,
            diff: p.diff,
            state: p.state,
            base_version: p.base_version,
            received_at: p.received_at,
            decided_at: p.decided_at,
            template_version: p.template_version,
        }
    }
}

impl From<v1::Proposal> for domain::TemplateProposal {
    fn from(p: v1::Proposal) -> Self {
        Self {
            id: p.id,
            desk_id: p.desk_id,
            key: p.key,
            language: p.language,
            body: p.body,
            similarity: p.similarity,
            diff: p.diff,
            state: p.state,
            base_version: p.base_version,
            received_at: p.received_at,
            decided_at: p.decided_at,
            template_version: p.template_version,
        }
    }
}

fn item_to_wire(i: domain::CardItem) -> v1::CardItem {
    v1::CardItem {
        id: i.id,
        text: i.text,
        note: i.note,
    }
}

fn item_from_wire(i: v1::CardItem) -> domain::CardItem {
    domain::CardItem {
        id: i.id,
        text: i.text,
        note: i.note,
    }
}

impl From<domain::Card> for v1::ProcedureCard {
    fn from(c: domain::Card) -> Self {
        Self {
            code: c.code,
            language: c.language,
            summary: c.summary,
            who_can_apply: c.who_can_apply,
            steps: c.steps.into_iter().map(item_to_wire).collect(),
            documents: c.documents.into_iter().map(item_to_wire).collect(),
            costs: c
                .costs
                .into_iter()
                .map(|c| v1::CardCost {
                    id: c.id,
                    cents: c.cents,
                    what: c.what,
                })
                .collect(),
            office: c.office,
            hours: c.hours,
            booking: c.booking,
            deadlines: c.deadlines,
            waiting_time: c.waiting_time,
            legal_basis: c.legal_basis,
            mistakes: c.mistakes.into_iter().map(item_to_wire).collect(),
            owner: c.owner,
            verified_on: c.verified_on,
            verified_by: c.verified_by,
            review_by: c.review_by,
            version: c.version,
            reference_version: c.reference_version,
            field_versions: c.field_versions.into_iter().collect(),
        }
    }
}

impl From<v1::ProcedureCard> for domain::Card {
    fn from(c: v1::ProcedureCard) -> Self {
        Self {
            code: c.code,
            language: c.language,
            summary: c.summary,
            who_can_apply: c.who_can_apply,
            steps: c.steps.into_iter().map(item_from_wire).collect(),
            documents: c.documents.into_iter().map(item_from_wire).collect(),
            costs: c
                .costs
                .into_iter()
                .map(|c| domain::CardCost {
                    id: c.id,
                    cents: c.cents,
                    what: c.what,
                })
                .collect(),
            office: c.office,
            hours: c.hours,
            booking: c.booking,
            deadlines: c.deadlines,
            waiting_time: c.waiting_time,
            legal_basis: c.legal_basis,
            mistakes: c.mistakes.into_iter().map(item_from_wire).collect(),
            owner: c.owner,
            verified_on: c.verified_on,
            verified_by: c.verified_by,
            review_by: c.review_by,
            version: c.version,
            reference_version: c.reference_version,
            field_versions: c.field_versions.into_iter().collect(),
        }
    }
}

/// A record the hub refused, as the stores keep it: its sequence and why.
impl From<(u64, String)> for v1::RecordRejection {
    fn from((seq, reason): (u64, String)) -> Self {
        Self {
            seq,
            already_held: reason.starts_with(domain::ALREADY_HELD),
            reason,
        }
    }
}

impl From<v1::RecordRejection> for (u64, String) {
    fn from(r: v1::RecordRejection) -> Self {
        (r.seq, r.reason)
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

/// A record's wire form, borrowed from its fields: the same bytes as the
/// conversion through `RawRecord`, without copying every field into a
/// `String` first (intake's and ingest's hot path).
pub struct WireRecord<'a> {
    id: [u8; 36],
    fields: [&'a str; 14],
}

impl<'a> WireRecord<'a> {
    pub fn new(r: &'a domain::AnonymisedRecord) -> Self {
        let mut id = [0u8; 36];
        r.id().hyphenated().encode_lower(&mut id);
        Self {
            id,
            fields: r.texts(),
        }
    }

    /// Every field with its protobuf tag (1 to 15), in order.
    fn tagged(&self) -> impl Iterator<Item = (u32, &[u8])> {
        let rest = self.fields.iter().map(|f| f.as_bytes());
        (1u32..).zip(std::iter::once(&self.id[..]).chain(rest))
    }

    pub fn encoded_len(&self) -> usize {
        self.tagged()
            .filter(|(_, v)| !v.is_empty())
            .map(|(_, v)| 1 + prost::encoding::encoded_len_varint(v.len() as u64) + v.len())
            .sum()
    }

    /// Appends the encoded message; empty fields are left out, as prost does.
    pub fn encode(&self, buf: &mut impl prost::bytes::BufMut) {
        use prost::encoding::{encode_key, encode_varint, WireType};
        for (tag, v) in self.tagged().filter(|(_, v)| !v.is_empty()) {
            encode_key(tag, WireType::LengthDelimited, buf);
            encode_varint(v.len() as u64, buf);
            buf.put_slice(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn a_wire_record_encodes_the_bytes_of_the_converted_message() {
        let lines = [
            r#"{"procedure":"permesso.rinnovo.lavoro","channel":"walk_in","language":"ar","outcome":"referred","referral":"questura","minutes":18,"nationality":"MA","sex":"F","birth_date":"1990-04-03","visited_at":"2026-11-20T10:15:00+01:00"}"#,
            // Empty optional fields are left out, as prost leaves them.
            r#"{"procedure":"cittadinanza.residenza","channel":"phone","language":"it","outcome":"answered","minutes":70,"visited_at":"2026-11-20T10:15:00+01:00"}"#,
        ];
        for line in lines {
            let visit = domain::Visit::from_json_line(line).expect("visit parses");
            let record = domain::anonymise(
                &visit,
                "sportello-centro",
                &domain::Catalogue::seed(),
                chrono::Utc::now(),
                uuid::Uuid::now_v7(),
            )
            .expect("valid visit");
            let want = v1::AnonymisedRecord::from(record.to_raw()).encode_to_vec();
            let wire = WireRecord::new(&record);
            let mut got = Vec::new();
            wire.encode(&mut got);
            assert_eq!(got, want);
            assert_eq!(wire.encoded_len(), want.len());
        }
    }
}
