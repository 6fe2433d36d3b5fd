//! Intake: the one code path from a visit to the anonymised record, shared
//! by `RecordVisit` and `desk-agent anonymise`, so that what a desk checks
//! before it joins is exactly what would leave it.

use domain::{AnonymisedRecord, Catalogue, FederationSecret, FieldError, IntakeOptions, Visit};
use std::io::{BufRead, Read};
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
pub const RECORD_KEYS: [&str; 15] = [
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
    "mediator",
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
        "mediator": opt(&r.mediator),
    })
}

/// One line of a visits file as `record` and `anonymise` read it: its text,
/// or why it cannot be read, so that the lines beside it still flow.
pub type Line = Result<String, String>;

/// The lines of `input`, numbered from 1. A line that is not UTF-8 (a CSV or
/// JSON saved by an office program as Windows-1252) or longer than a visit
/// line may be is refused on its own, without reading more than the limit
/// of it into memory; only a failing read ends the input.
pub fn lines(mut input: impl BufRead) -> impl Iterator<Item = std::io::Result<(usize, Line)>> {
    let limit = domain::visit::MAX_LINE_BYTES;
    let mut n = 0;
    std::iter::from_fn(move || {
        let mut buf = Vec::new();
        let read = (&mut input)
            .take(limit as u64 + 1)
            .read_until(b'\n', &mut buf);
        match read {
            Err(e) => Some(Err(e)),
            Ok(0) => None,
            Ok(_) => {
                n += 1;
                let whole = buf.last() == Some(&b'\n') || buf.len() <= limit;
                if !whole {
                    // Skip the rest of the line, a bounded piece at a time.
                    loop {
                        buf.clear();
                        match (&mut input).take(limit as u64).read_until(b'\n', &mut buf) {
                            Err(e) => return Some(Err(e)),
                            Ok(0) => break,
                            Ok(_) if buf.last() == Some(&b'\n') => break,
                            Ok(_) => {}
                        }
                    }
                    return Some(Ok((
                        n,
                        Err(format!("a visit line must be at most {limit} bytes")),
                    )));
                }
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                Some(Ok((
                    n,
                    String::from_utf8(buf).map_err(|_| {
                        "is not UTF-8 text (a file saved as Windows-1252 or ANSI?): save the file as UTF-8 and send this line again / non è testo UTF-8: salvare il file come UTF-8 e inviare di nuovo questa riga".to_string()
                    }),
                )))
            }
        }
    })
}

#[cfg(test)]
mod lines_tests {
    use super::*;

    #[test]
    fn a_line_that_is_not_utf8_or_too_long_is_refused_alone() {
        let long = "x".repeat(domain::visit::MAX_LINE_BYTES + 10);
        let input = format!("uno\r\ncaf\u{e9}\n{long}\nultima");
        let mut bytes = input.into_bytes();
        // "caf\xe9" as Windows-1252 writes it.
        let at = bytes.windows(2).position(|w| w == [0xc3, 0xa9]).expect("é");
        bytes.splice(at..at + 2, [0xe9]);
        let got: Vec<(usize, Line)> = lines(&bytes[..]).map(|l| l.expect("read")).collect();
        assert_eq!(got[0], (1, Ok("uno".into())));
        assert!(got[1].1.as_ref().expect_err("cp1252").contains("UTF-8"));
        assert!(got[2].1.as_ref().expect_err("long").contains("at most"));
        assert_eq!(got[3], (4, Ok("ultima".into())));
        assert_eq!(got.len(), 4);
    }
}
