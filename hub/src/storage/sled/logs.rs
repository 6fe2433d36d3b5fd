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
use crate::storage::{entries, Logs, MinorEdit, ProposalInsert, StorageError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what} does not decode: {e}"))
}

impl Logs for SledStore {
    fn append_catalogue(
        &self,
        procedures: Vec<domain::CatalogueEntry>,
        glossary: String,
    ) -> Result<u64, StorageError> {
        self.log_append(&self.catalogue, |version| {
            entries::catalogue(procedures, glossary, version)
        })
    }

    fn catalogue_since(&self, after: u64) -> Result<Vec<domain::CatalogueChange>, StorageError> {
        self.catalogue.since(after)
    }

    fn catalogue_version(&self) -> Result<u64, StorageError> {
        self.catalogue.version()
    }

    fn append_card(&self, card: domain::Card) -> Result<u64, StorageError> {
        self.log_append(&self.cards, |version| entries::card(card, version))
    }

    fn cards_since(&self, after: u64) -> Result<Vec<domain::Card>, StorageError> {
        self.cards.since(after)
    }

    fn card_version(&self) -> Result<u64, StorageError> {
        self.cards.version()
    }

    fn insert_proposal(
        &self,
        proposal: &domain::TemplateProposal,
    ) -> Result<ProposalInsert, StorageError> {
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
                Some(entries::encode(proposal.clone())),
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
                    .map(|v| entries::decode::<domain::TemplateProposal>("proposal", &v))
                    .transpose()?;
                Ok(match held {
                    Some(p) if p.desk_id == proposal.desk_id => ProposalInsert::AlreadyHeld,
                    _ => ProposalInsert::Conflict,
                })
            }
        }
    }

    fn put_proposal(&self, proposal: &domain::TemplateProposal) -> Result<(), StorageError> {
        {
            let _w = self.writing();
            self.proposals
                .insert(proposal.id.as_bytes(), entries::encode(proposal.clone()))?;
        }
        self.flush_serialised()
    }

    fn proposal(&self, id: &str) -> Result<Option<domain::TemplateProposal>, StorageError> {
        self.proposals
            .get(id.as_bytes())?
            .map(|v| entries::decode("proposal", &v))
            .transpose()
    }

    fn proposals(&self) -> Result<Vec<domain::TemplateProposal>, StorageError> {
        self.proposals
            .iter()
            .values()
            .map(|v| entries::decode("proposal", &v?))
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
