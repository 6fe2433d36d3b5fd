//! The rules the desk agent and the hub share, with no I/O.
//!
//! - [`catalogue`]: the procedure catalogue (seed from CATALOGUE.md, search)
//!   and the referral offices.
//! - [`fields`]: the closed vocabularies (channel, outcome, duration and age
//!   bands, sex) and the shape checks for ISO week, country and language.
//! - [`visit`]: the visit as entered at a desk, personal data included; it
//!   never reaches disk or logs.
//! - [`record`]: the anonymised record (the only thing stored or sent) and
//!   its all-strings wire mirror, `RawRecord`.
//! - [`mod@anonymise`]: the only builders of an `AnonymisedRecord`: `anonymise`
//!   at intake, `recheck` for a record from the wire.
//!
//! Error messages name the field and never repeat the refused value, which
//! may be personal data typed in the wrong place.

pub mod anonymise;
pub mod catalogue;
pub mod fields;
pub mod record;
pub mod visit;

pub use anonymise::{anonymise, recheck};
pub use catalogue::{
    referral_code, referral_label, Catalogue, CatalogueError, Procedure, REFERRAL_OFFICES,
};
pub use fields::{
    is_country_code, is_iso_week, is_language_tag, iso_week, normalise_language_tag, AgeBand,
    Channel, DurationBand, Outcome, ParseValueError, Sex,
};
pub use record::{AnonymisedRecord, RawRecord, RecordError};
pub use visit::{FieldError, Visit};
