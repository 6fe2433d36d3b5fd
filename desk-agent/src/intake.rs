//! Intake: the one code path from a visit to the anonymised record, shared
//! by `RecordVisit` and `desk-agent anonymise`, so that what a desk checks
//! before it joins is exactly what would leave it.

use domain::{AnonymisedRecord, Catalogue, FederationSecret, FieldError, IntakeOptions, Visit};
use std::path::Path;

/// Where `secret import` puts the federation secret in a data folder.
pub const SECRET_FILE: &str = "federation.secret";

/// The desk's intake settings: notes scrubbing and the pseudonym key.
#[derive(Default)]
pub struct Intake {
    pub scrub_notes: bool,
    pub secret: Option<FederationSecret>,
}

impl Intake {
    /// The settings of an enrolled desk: the scrubber per its config, the
    /// pseudonym when a federation secret was imported.
    pub fn for_desk(data: &Path, scrub_notes: bool) -> anyhow::Result<Self> {
        let path = data.join(SECRET_FILE);
        let secret = match std::fs::read_to_string(&path) {
            Ok(text) => Some(read_secret(&text, &path)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        Ok(Self {
            scrub_notes,
            secret,
        })
    }

    pub fn anonymise(
        &self,
        visit: &Visit,
        desk_id: &str,
        catalogue: &Catalogue,
    ) -> Result<AnonymisedRecord, FieldError> {
        let options = IntakeOptions {
            scrub_notes: self.scrub_notes,
            secret: self.secret.as_ref(),
        };
        domain::anonymise_with(
            visit,
            desk_id,
            catalogue,
            chrono::Utc::now(),
            uuid::Uuid::now_v7(),
            &options,
        )
    }
}

pub fn read_secret(text: &str, path: &Path) -> anyhow::Result<FederationSecret> {
    FederationSecret::from_file_text(text)
        .map_err(|e| anyhow::anyhow!("{} is not a federation secret: {e}", path.display()))
}

/// The keys of a record's JSON, in the order the CLI and the operator page
/// show them.
pub const RECORD_KEYS: [&str; 14] = [
    "id",
    "desk_id",
    "week",
    "procedure",
    "channel",
    "language",
    "outcome",
    "referral",
    "duration_band",
    "age_band",
    "sex",
    "nationality",
    "pseudonym",
    "notes",
];

/// The anonymised record's JSON, with the contract's keys and `null` for an
/// absent value.
pub fn record_json(r: &proto::AnonymisedRecord) -> serde_json::Value {
    let opt = |s: &str| {
        if s.is_empty() {
            serde_json::Value::Null
        } else {
            s.into()
        }
    };
    serde_json::json!({
        "id": r.id,
        "desk_id": r.desk_id,
        "week": r.week,
        "procedure": r.procedure,
        "channel": r.channel,
        "language": r.language,
        "outcome": r.outcome,
        "referral": opt(&r.referral),
        "duration_band": r.duration_band,
        "age_band": opt(&r.age_band),
        "sex": opt(&r.sex),
        "nationality": opt(&r.nationality),
        "pseudonym": opt(&r.pseudonym),
        "notes": opt(&r.notes),
    })
}
