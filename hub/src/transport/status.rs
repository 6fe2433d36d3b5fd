//! The one mapping from the hub's errors to gRPC status codes.

use crate::admin::AdminError;
use crate::catalogue::CatalogueLogError;
use crate::guidance::GuidanceError;
use crate::proposals::ProposalError;
use crate::stats::StatsError;
use crate::storage::StorageError;
use crate::templates::TemplatesError;
use crate::users::UsersError;
use tonic::Status;

impl From<AdminError> for Status {
    fn from(e: AdminError) -> Self {
        match &e {
            AdminError::InvalidDeskId(_) | AdminError::InvalidAddress(_) => {
                Status::invalid_argument(e.to_string())
            }
            AdminError::Storage(StorageError::DeskExists(_)) => {
                Status::already_exists(e.to_string())
            }
            AdminError::Storage(StorageError::UnknownDesk(_)) => Status::not_found(e.to_string()),
            AdminError::Storage(_) | AdminError::Pki(_) | AdminError::Bundle(_) => {
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
