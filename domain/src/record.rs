//! The anonymised record, the only form of a visit that is stored or sent,
//! and its plain all-strings mirror of the wire message.
//!
//! `AnonymisedRecord` has private fields and no public constructor: a value
//! of this type has passed either `anonymise` (intake at the agent) or
//! `recheck` (a record from the wire or from storage), so holding one means
//! it carries no personal data and every field is in its domain.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::fields::{AgeBand, Channel, DurationBand, Mediator, Outcome, Sex};

#[cfg(test)]
mod tests;

/// A wire record that fails the hub's re-check, naming the field and the
/// problem. As with intake errors, the refused value is never repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct RecordError {
    pub field: &'static str,
    pub message: String,
}

impl RecordError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A visit after anonymisation. Serialises to JSON with the keys `id`,
/// `desk_id`, `week`, `procedure`, `channel`, `language`, `outcome`,
/// `referral`, `duration_band`, `age_band`, `sex`, `nationality`,
/// `pseudonym`, `notes`, `mediator`, absent values as `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnonymisedRecord {
    id: Uuid,
    desk_id: String,
    week: String,
    procedure: String,
    channel: Channel,
    language: String,
    outcome: Outcome,
    referral: Option<String>,
    duration_band: DurationBand,
    age_band: Option<AgeBand>,
    sex: Option<Sex>,
    nationality: Option<String>,
    pseudonym: Option<String>,
    notes: Option<String>,
    mediator: Option<Mediator>,
}

/// The already-validated parts of a record, handed over by the anonymiser.
pub(crate) struct RecordParts {
    pub(crate) id: Uuid,
    pub(crate) desk_id: String,
    pub(crate) week: String,
    pub(crate) procedure: String,
    pub(crate) channel: Channel,
    pub(crate) language: String,
    pub(crate) outcome: Outcome,
    pub(crate) referral: Option<String>,
    pub(crate) duration_band: DurationBand,
    pub(crate) age_band: Option<AgeBand>,
    pub(crate) sex: Option<Sex>,
    pub(crate) nationality: Option<String>,
    pub(crate) pseudonym: Option<String>,
    pub(crate) notes: Option<String>,
    pub(crate) mediator: Option<Mediator>,
}

impl AnonymisedRecord {
    /// Only `anonymise` and `recheck` call this, after validating every part.
    pub(crate) fn from_parts(p: RecordParts) -> Self {
        Self {
            id: p.id,
            desk_id: p.desk_id,
            week: p.week,
            procedure: p.procedure,
            channel: p.channel,
            language: p.language,
            outcome: p.outcome,
            referral: p.referral,
            duration_band: p.duration_band,
            age_band: p.age_band,
            sex: p.sex,
            nationality: p.nationality,
            pseudonym: p.pseudonym,
            notes: p.notes,
            mediator: p.mediator,
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn desk_id(&self) -> &str {
        &self.desk_id
    }
    /// ISO week, `YYYY-Www`.
    pub fn week(&self) -> &str {
        &self.week
    }
    pub fn procedure(&self) -> &str {
        &self.procedure
    }
    pub fn channel(&self) -> Channel {
        self.channel
    }
    pub fn language(&self) -> &str {
        &self.language
    }
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
    /// A code of `REFERRAL_OFFICES`.
    pub fn referral(&self) -> Option<&str> {
        self.referral.as_deref()
    }
    pub fn duration_band(&self) -> DurationBand {
        self.duration_band
    }
    pub fn age_band(&self) -> Option<AgeBand> {
        self.age_band
    }
    pub fn sex(&self) -> Option<Sex> {
        self.sex
    }
    /// ISO 3166-1 alpha-2, uppercase.
    pub fn nationality(&self) -> Option<&str> {
        self.nationality.as_deref()
    }
    /// 64 lowercase hex characters (HMAC-SHA256), when pseudonyms are on.
    pub fn pseudonym(&self) -> Option<&str> {
        self.pseudonym.as_deref()
    }
    /// Scrubbed notes, when notes are on.
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }
    /// Whether a mediator was needed and there; `None` when the desk did
    /// not say.
    pub fn mediator(&self) -> Option<Mediator> {
        self.mediator
    }

    /// Every field but the id as text, in the wire message's order (fields
    /// 2 to 15: desk, week, procedure, channel, language, outcome,
    /// referral, duration band, age band, sex, nationality, pseudonym,
    /// notes, mediator), the empty string for one absent: the one mapping
    /// that the wire form, the stored segments and the counts all read.
    pub fn texts(&self) -> [&str; 14] {
        [
            &self.desk_id,
            &self.week,
            &self.procedure,
            self.channel.as_str(),
            &self.language,
            self.outcome.as_str(),
            self.referral().unwrap_or_default(),
            self.duration_band.as_str(),
            self.age_band.map(AgeBand::as_str).unwrap_or_default(),
            self.sex.map(Sex::as_str).unwrap_or_default(),
            self.nationality().unwrap_or_default(),
            self.pseudonym().unwrap_or_default(),
            self.notes().unwrap_or_default(),
            self.mediator.map(Mediator::as_str).unwrap_or_default(),
        ]
    }

    /// The all-strings form that maps one to one onto the wire message.
    pub fn to_raw(&self) -> RawRecord {
        let [desk_id, week, procedure, channel, language, outcome, referral, duration_band, age_band, sex, nationality, pseudonym, notes, mediator] =
            self.texts().map(str::to_owned);
        RawRecord {
            id: self.id.hyphenated().to_string(),
            desk_id,
            week,
            procedure,
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
        }
    }
}

/// A record as it travels: every field a string, the empty string meaning
/// absent (as in protobuf). Nothing about it is trusted; `recheck` turns it
/// into an `AnonymisedRecord`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RawRecord {
    pub id: String,
    pub desk_id: String,
    pub week: String,
    pub procedure: String,
    pub channel: String,
    pub language: String,
    pub outcome: String,
    pub referral: String,
    pub duration_band: String,
    pub age_band: String,
    pub sex: String,
    pub nationality: String,
    pub pseudonym: String,
    pub notes: String,
    /// Empty from desks that do not say (and in records stored before it).
    #[serde(default)]
    pub mediator: String,
}

impl From<&AnonymisedRecord> for RawRecord {
    fn from(r: &AnonymisedRecord) -> Self {
        r.to_raw()
    }
}

/// How the hub's refusal of a record whose id it already holds begins: a
/// desk that sends again, under a new incarnation, what the hub had before
/// (a folder restored from an older copy) is told this, and counts the
/// record as delivered rather than refused.
pub const ALREADY_HELD: &str = "duplicate record id";
