//! The one mapping from the hub's errors to gRPC status codes.

use crate::admin::AdminError;
use crate::answer_templates::TemplatesError;
use crate::catalogue::CatalogueLogError;
use crate::guidance::GuidanceError;
use crate::proposals::ProposalError;
use crate::reports::ReportError;
use crate::stats::StatsError;
use crate::storage::StorageError;
use crate::users::UsersError;
use tonic::Status;

/// The store's own failures are the hub's fault (internal, logged); the two
/// that name a desk are the caller's.
impl From<StorageError> for Status {
    fn from(e: StorageError) -> Self {
        match &e {
            StorageError::DeskExists(_) => Status::already_exists(e.to_string()),
            StorageError::UnknownDesk(_) => Status::not_found(e.to_string()),
            StorageError::NotCounted(_) => Status::invalid_argument(e.to_string()),
            StorageError::Backend(_)
            | StorageError::Database(_)
            | StorageError::Corrupt(_)
            | StorageError::Sink(_) => {
                tracing::error!(error = %e, "storage failure");
                Status::internal(format!("the hub could not read its store: {e}"))
            }
        }
    }
}

/// A reply the hub builds as JSON; failing to encode it is the hub's fault.
pub fn json(value: &impl serde::Serialize) -> Result<String, Status> {
    serde_json::to_string(value)
        .map_err(|e| Status::internal(format!("the hub could not encode its answer: {e}")))
}

impl From<AdminError> for Status {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Storage(s) => s.into(),
            AdminError::InvalidDeskId(_)
            | AdminError::InvalidAddress(_)
            | AdminError::NoAddress => Status::invalid_argument(e.to_string()),
            AdminError::NoCaKey => Status::failed_precondition(e.to_string()),
            AdminError::Pki(_) | AdminError::Bundle(_) => {
                tracing::error!(error = %e, "coordinator request failed");
                Status::internal(e.to_string())
            }
        }
    }
}

impl From<GuidanceError> for Status {
    fn from(e: GuidanceError) -> Self {
        match &e {
            GuidanceError::Invalid { .. } => Status::invalid_argument(e.to_string()),
            GuidanceError::NotFound(_) => Status::not_found(e.to_string()),
            GuidanceError::AlreadyRetired(_) => Status::failed_precondition(e.to_string()),
            GuidanceError::Storage(_) => {
                tracing::error!(error = %e, "guidance request failed");
                Status::internal(e.to_string())
            }
        }
    }
}

impl From<StatsError> for Status {
    fn from(e: StatsError) -> Self {
        match &e {
            StatsError::Invalid(_) | StatsError::Disclosure(_) => {
                Status::invalid_argument(e.to_string())
            }
            StatsError::Storage(_) => {
                tracing::error!(error = %e, "statistics request failed");
                Status::internal(e.to_string())
            }
        }
    }
}

impl From<crate::cards::CardsError> for Status {
    fn from(e: crate::cards::CardsError) -> Self {
        use crate::cards::CardsError;
        match &e {
            CardsError::Problems(_) | CardsError::UnknownCode(_) | CardsError::File(_) => {
                Status::invalid_argument(e.to_string())
            }
            CardsError::NoReference { .. } => Status::failed_precondition(e.to_string()),
            CardsError::Storage(_) => {
                tracing::error!(error = %e, "card request failed");
                Status::internal(e.to_string())
            }
        }
    }
}

impl From<TemplatesError> for Status {
    fn from(e: TemplatesError) -> Self {
        match &e {
            TemplatesError::Invalid { .. } | TemplatesError::Body(_) => {
                Status::invalid_argument(e.to_string())
            }
            TemplatesError::NoReference { .. } => Status::failed_precondition(e.to_string()),
            TemplatesError::Storage(_) => {
                tracing::error!(error = %e, "template request failed");
                Status::internal(e.to_string())
            }
        }
    }
}

impl From<ProposalError> for Status {
    fn from(e: ProposalError) -> Self {
        match &e {
            ProposalError::Invalid { .. } => Status::invalid_argument(e.to_string()),
            ProposalError::NotFound(_) => Status::not_found(e.to_string()),
            ProposalError::Decided { .. } => Status::failed_precondition(e.to_string()),
            ProposalError::Template(t) => {
                let code = match t {
                    TemplatesError::NoReference { .. } => tonic::Code::FailedPrecondition,
                    TemplatesError::Storage(_) => tonic::Code::Internal,
                    _ => tonic::Code::InvalidArgument,
                };
                Status::new(code, e.to_string())
            }
            ProposalError::Storage(_) => {
                tracing::error!(error = %e, "proposal request failed");
                Status::internal(e.to_string())
            }
        }
    }
}

impl From<ReportError> for Status {
    fn from(e: ReportError) -> Self {
        match &e {
            ReportError::Invalid { .. } => Status::invalid_argument(e.to_string()),
            ReportError::NotFound(_) => Status::not_found(e.to_string()),
            ReportError::Decided { .. } => Status::failed_precondition(e.to_string()),
            ReportError::Storage(_) => {
                tracing::error!(error = %e, "report request failed");
                Status::internal(e.to_string())
            }
        }
    }
}

impl From<CatalogueLogError> for Status {
    fn from(e: CatalogueLogError) -> Self {
        match &e {
            CatalogueLogError::Invalid { .. } | CatalogueLogError::Procedure(_) => {
                Status::invalid_argument(e.to_string())
            }
            CatalogueLogError::Storage(_) => {
                tracing::error!(error = %e, "catalogue request failed");
                Status::internal(e.to_string())
            }
        }
    }
}

impl From<UsersError> for Status {
    fn from(e: UsersError) -> Self {
        match &e {
            UsersError::InvalidName(_) | UsersError::InvalidPassword | UsersError::Hash(_) => {
                Status::invalid_argument(e.to_string())
            }
            UsersError::Exists(_) => Status::already_exists(e.to_string()),
            UsersError::Corrupt { .. } | UsersError::Io(_) | UsersError::Storage(_) => {
                tracing::error!(error = %e, "user request failed");
                Status::internal(e.to_string())
            }
        }
    }
}
