//! The entries of the versioned logs as both stores keep them: protobuf,
//! with the version the store assigns filled in, so that a log reads the
//! same from sled and from PostgreSQL (and `hub migrate` copies bytes).
//! The `Store` trait speaks domain types; this is where they meet the
//! stored bytes.

use prost::Message;

use super::StorageError;

/// A domain type a log keeps as protobuf.
pub(crate) trait Stored: Sized {
    type Wire: Message + Default + From<Self>;
    fn from_wire(wire: Self::Wire) -> Result<Self, String>;
}

impl Stored for domain::GuidanceItem {
    type Wire = proto::GuidanceItem;
    fn from_wire(wire: Self::Wire) -> Result<Self, String> {
        Self::try_from(wire).map_err(|e| e.to_string())
    }
}

macro_rules! stored_as {
    ($($domain:ty => $wire:ty),* $(,)?) => {$(
        impl Stored for $domain {
            type Wire = $wire;
            fn from_wire(wire: Self::Wire) -> Result<Self, String> {
                Ok(wire.into())
            }
        }
    )*};
}

stored_as! {
    domain::AnswerTemplate => proto::Template,
    domain::CatalogueChange => proto::CatalogueUpdate,
    domain::Card => proto::ProcedureCard,
    domain::TemplateProposal => proto::Proposal,
}

/// The stored bytes of an entry.
pub(crate) fn encode<D: Stored>(entry: D) -> Vec<u8> {
    D::Wire::from(entry).encode_to_vec()
}

/// An entry read back; `what` names it in the error.
pub(crate) fn decode<D: Stored>(what: &str, bytes: &[u8]) -> Result<D, StorageError> {
    let corrupt = |e: &dyn std::fmt::Display| {
        StorageError::Corrupt(format!("{what} entry does not decode: {e}"))
    };
    let wire = D::Wire::decode(bytes).map_err(|e| corrupt(&e))?;
    D::from_wire(wire).map_err(|e| corrupt(&e))
}

/// Decodes every entry of a log read back.
pub(crate) fn decode_all<D: Stored>(
    log: &str,
    entries: impl IntoIterator<Item = Result<impl AsRef<[u8]>, StorageError>>,
) -> Result<Vec<D>, StorageError> {
    entries
        .into_iter()
        .map(|v| decode(log, v?.as_ref()))
        .collect()
}

pub(crate) fn guidance(mut item: domain::GuidanceItem, version: u64) -> Vec<u8> {
    item.version = version;
    encode(item)
}

pub(crate) fn template(mut template: domain::AnswerTemplate, version: u64) -> Vec<u8> {
    template.version = version;
    // An Italian reference names its own version as the one that
    // translations follow, unless the caller kept an earlier one (a minor
    // edit).
    if template.reference_version == 0 {
        template.reference_version = version;
    }
    encode(template)
}

pub(crate) fn catalogue(
    procedures: Vec<domain::CatalogueEntry>,
    glossary: String,
    version: u64,
) -> Vec<u8> {
    encode(domain::CatalogueChange {
        version,
        procedures,
        glossary,
    })
}

pub(crate) fn card(mut card: domain::Card, version: u64) -> Vec<u8> {
    card.version = version;
    if card.reference_version == 0 {
        card.reference_version = version;
    }
    for v in card.field_versions.values_mut() {
        if *v == 0 {
            *v = version;
        }
    }
    encode(card)
}
