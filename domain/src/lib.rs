//! The rules the desk agent and the hub share, with no I/O.
//!
//! - [`catalogue`]: the procedure catalogue (seed from CATALOGUE.md, search)
//!   and the referral offices.
//! - [`fields`]: the closed vocabularies (channel, outcome, duration and age
//!   bands, sex) and the shape checks for ISO week, country and language.
//! - [`countries`]: country names in Italian and English for the
//!   nationality picker (the record keeps only the code).
//! - [`visit`]: the visit as entered at a desk, personal data included; it
//!   never reaches disk or logs.
//! - [`record`]: the anonymised record (the only thing stored or sent) and
//!   its all-strings wire mirror, `RawRecord`.
//! - [`mod@anonymise`]: the only builders of an `AnonymisedRecord`: `anonymise`
//!   at intake, `recheck` for a record from the wire.
//! - [`mod@scrub`]: the free-text notes scrubber (personal data → typed
//!   tokens) and the detector the hub re-runs on received notes.
//! - [`mod@pseudonym`]: the federation secret and the yearly HMAC pseudonym.
//! - [`disclosure`]: small-cell protection of published counts (k = 5, UN M49
//!   merging, secondary suppression).
//! - [`card`]: procedure cards: checks, euro amounts, law references,
//!   per-field staleness and review dates.
//! - [`guidance`]: guidance items and their severity.
//! - [`glossary`]: the search glossary (synonym groups as TOML data).
//! - [`template`]: answer templates: placeholder checks against the Italian
//!   reference, escaped right-to-left-aware rendering, word diff, similarity.
//!
//! Error messages name the field and never repeat the refused value, which
//! may be personal data typed in the wrong place.

pub mod anonymise;
pub mod catalogue;
pub mod countries;
pub mod fields;
pub mod pseudonym;
pub mod record;
pub mod scrub;
pub mod visit;

pub use anonymise::{anonymise, recheck};
pub use anonymise::{anonymise_with, IntakeOptions};
pub use catalogue::{
    referral_code, referral_label, Catalogue, CatalogueChange, CatalogueEntry, CatalogueError,
    Procedure, REFERRAL_OFFICES,
};
pub use countries::{country, country_code, search_countries, Country, COUNTRIES};
pub use fields::{
    is_country_code, is_iso_week, is_language_tag, iso_week, normalise_language_tag, AgeBand,
    Channel, DurationBand, Mediator, Outcome, ParseValueError, Sex, MEDIATOR_UNKNOWN,
};
pub use pseudonym::{is_pseudonym, pseudonym, FederationSecret, SecretError};
pub use record::{AnonymisedRecord, RawRecord, RecordError, ALREADY_HELD};
pub use scrub::{find_personal_data, scrub, scrub_comment, Finding, Kind as PersonalDataKind};
pub use visit::{FieldError, Visit};

// Small-cell protection (k = 5, merging up UN M49, secondary suppression)
// for every count the hub publishes; its own docs say how.
pub mod disclosure;
pub use disclosure::{
    protect, protect_within, CountTable, DisclosureError, ProtectedTable, K as DISCLOSURE_K,
};

// Answer templates (issue 5): checks before publishing, rendering in the
// visitor's language and direction, word diff for harmonising translations.
pub mod template;
// Procedure cards (issue 15): the whole answer per procedure in structured
// fields, Italian the reference, translations stale field by field.
pub mod card;
pub use card::{Card, Cost as CardCost, Item as CardItem, Problem as CardProblem};

pub use template::{
    check as check_template, diff_text, escape_html, placeholders, render as render_template,
    similarity, word_diff, AnswerTemplate, DiffOp, Direction, Rendered, TemplateError,
    TemplateProposal,
};

// Guidance: the Comune's procedural news as its log keeps it.
pub mod guidance;
pub use guidance::{GuidanceItem, Severity};

// The search glossary (issue 16): groups of terms that mean the same thing
// at a desk, as data, so that a version pushed by the hub can replace the
// compiled default.
pub mod glossary;
pub use glossary::{Glossary, GlossaryError};
