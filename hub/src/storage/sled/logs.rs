//! The sled implementation of [`Logs`]: the coordination logs that live
//! beside the ingest path, each in its own tree, so that a change here never
//! touches the records' atomic batch.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `catalogue` | version (u64 BE) | `CatalogueUpdate`, protobuf |
//! | `cards` | version (u64 BE) | `ProcedureCard`, protobuf |
//! | `proposals` | proposal id (UUID v7 text, so oldest first) | `Proposal`, protobuf |
//! | `minor_edits` | template version (u64 BE) | `MinorEdit`, JSON |
//! | `reports` | report id (UUID v7 text) | `StoredReport`, JSON (`reports.rs`, beside this file) |

use super::SledStore;
use crate::storage::{Logs, MinorEdit, ProposalInsert, StorageError};
use prost::Message;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what} does not decode: {e}"))
}

impl Logs for SledStore {
    fn append_catalogue(
        &self,
        procedures: Vec<proto::Procedure>,
        glossary: String,
    ) -> Result<u64, StorageError> {
        self.log_append(&self.catalogue, |version| {
            crate::storage::entries::catalogue(procedures, glossary, version)
        })
    }

    fn catalogue_since(&self, after: u64) -> Result<Vec<proto::CatalogueUpdate>, StorageError> {
        self.catalogue.since(after)
    }

    fn catalogue_version(&self) -> Result<u64, StorageError> {
        self.catalogue.version()
    }

    fn append_card(&self, card: domain::Card) -> Result<u64, StorageError> {
        self.log_append(&self.cards, |version| {
            crate::storage::entries::card(card, version)
        })
    }

    fn cards_since(&self, after: u64) -> Result<Vec<domain::Card>, StorageError> {
        Ok(self
            .cards
            .since::<proto::ProcedureCard>(after)?
            .into_iter()
            .map(domain::Card::from)
            .collect())
    }

    fn card_version(&self) -> Result<u64, StorageError> {
        self.cards.version()
    }

    fn insert_proposal(&self, proposal: &proto::Proposal) -> Result<ProposalInsert, StorageError> {
        // A desk may send a proposal again after retention deleted its
        // decision (a desk restored from an old copy): it is held, not new.
        if let Some(desk) = self.pruned_proposals.get(proposal.id.as_bytes())? {
            return Ok(if desk.as_ref() == proposal.desk_id.as_bytes() {
                ProposalInsert::AlreadyHeld
            } else {
                ProposalInsert::Conflict
            });
        }
        let swapped = {
            let _w = self.writing();
            self.proposals.compare_and_swap(
                proposal.id.as_bytes(),
                None as Option<&[u8]>,
                Some(proposal.encode_to_vec()),
            )?
        };
        match swapped {
            Ok(()) => {
                self.flush_serialised()?;
                Ok(ProposalInsert::Stored)
            }
            Err(e) => {
                let held = e
                    .current
                    .map(|v| proto::Proposal::decode(v.as_ref()))
                    .transpose()
                    .map_err(|e| corrupt("proposal", e))?;
                Ok(match held {
                    Some(p) if p.desk_id == proposal.desk_id => ProposalInsert::AlreadyHeld,
                    _ => ProposalInsert::Conflict,
                })
            }
        }
    }

    fn put_proposal(&self, proposal: &proto::Proposal) -> Result<(), StorageError> {
        {
            let _w = self.writing();
            self.proposals
                .insert(proposal.id.as_bytes(), proposal.encode_to_vec())?;
        }
        self.flush_serialised()
    }

    fn proposal(&self, id: &str) -> Result<Option<proto::Proposal>, StorageError> {
        self.proposals
            .get(id.as_bytes())?
            .map(|v| proto::Proposal::decode(v.as_ref()).map_err(|e| corrupt("proposal", e)))
            .transpose()
    }

    fn proposals(&self) -> Result<Vec<proto::Proposal>, StorageError> {
        self.proposals
            .iter()
            .values()
            .map(|v| proto::Proposal::decode(v?.as_ref()).map_err(|e| corrupt("proposal", e)))
            .collect()
    }

    fn append_minor_edit(&self, edit: &MinorEdit) -> Result<(), StorageError> {
        let value = serde_json::to_vec(edit).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        {
            let _w = self.writing();
            self.minor_edits.insert(edit.version.to_be_bytes(), value)?;
        }
        self.flush_serialised()
    }

    fn minor_edits(&self) -> Result<Vec<MinorEdit>, StorageError> {
        self.minor_edits
            .iter()
            .values()
            .map(|v| serde_json::from_slice(&v?).map_err(|e| corrupt("minor edit", e)))
            .collect()
    }
}
