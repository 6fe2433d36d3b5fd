//! The entries of the versioned logs as both stores keep them: protobuf,
//! with the version the store assigns filled in, so that a log reads the
//! same from sled and from PostgreSQL (and `hub migrate` copies bytes).

use prost::Message;

pub(crate) fn guidance(mut item: proto::GuidanceItem, version: u64) -> Vec<u8> {
    item.version = version;
    item.encode_to_vec()
}

pub(crate) fn template(mut template: proto::Template, version: u64) -> Vec<u8> {
    template.version = version;
    // An Italian reference names its own version as the one that
    // translations follow, unless the caller kept an earlier one (a minor
    // edit).
    if template.reference_version == 0 {
        template.reference_version = version;
    }
    template.encode_to_vec()
}

pub(crate) fn catalogue(
    procedures: Vec<proto::Procedure>,
    glossary: String,
    version: u64,
) -> Vec<u8> {
    proto::CatalogueUpdate {
        version,
        procedures,
        glossary,
    }
    .encode_to_vec()
}

pub(crate) fn card(card: domain::Card, version: u64) -> Vec<u8> {
    let mut card = proto::ProcedureCard::from(card);
    card.version = version;
    if card.reference_version == 0 {
        card.reference_version = version;
    }
    for v in card.field_versions.values_mut() {
        if *v == 0 {
            *v = version;
        }
    }
    card.encode_to_vec()
}

/// Decodes every entry of a log read back.
pub(crate) fn decode_all<M: Message + Default>(
    log: &str,
    entries: impl IntoIterator<Item = Result<impl AsRef<[u8]>, super::StorageError>>,
) -> Result<Vec<M>, super::StorageError> {
    entries
        .into_iter()
        .map(|v| {
            M::decode(v?.as_ref()).map_err(|e| {
                super::StorageError::Corrupt(format!("{log} entry does not decode: {e}"))
            })
        })
        .collect()
}
