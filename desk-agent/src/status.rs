//! The one mapping from the desk's errors to what its callers see: gRPC
//! status codes on the local API, and the HTTP status the operator page
//! answers for each code.

use crate::local::LocalError;
use crate::outbox::OutboxError;
use axum::http::StatusCode;
use tonic::Status;

/// The outbox is the desk's own disk: a failure is the desk's fault, logged,
/// and the caller is told nothing was recorded.
impl From<OutboxError> for Status {
    fn from(e: OutboxError) -> Self {
        match e {
            OutboxError::KeyReused(_) => Status::already_exists(e.to_string()),
            OutboxError::KeyBusy(_) => Status::aborted(e.to_string()),
            OutboxError::DiskFull(low) => {
                tracing::warn!(
                    free = low.free,
                    reserve = low.reserve,
                    "intake refused: the disk is almost full"
                );
                Status::resource_exhausted(e.to_string())
            }
            _ => {
                tracing::error!(error = %e, "outbox failure");
                Status::internal(format!("the desk could not store the record: {e}"))
            }
        }
    }
}

impl From<LocalError> for Status {
    fn from(e: LocalError) -> Self {
        match e {
            LocalError::QueueFull | LocalError::ReportsFull => {
                Status::resource_exhausted(e.to_string())
            }
            LocalError::Backend(_) | LocalError::Refused(_) => {
                tracing::error!(error = %e, "local copy failure");
                Status::internal(format!("the desk could not read its local copy: {e}"))
            }
        }
    }
}

/// A visit or a text that breaks a field rule: the caller's to correct.
pub fn invalid(e: impl std::fmt::Display) -> Status {
    Status::invalid_argument(e.to_string())
}

/// Work handed to a blocking thread that did not come back.
pub fn lost_task(e: tokio::task::JoinError) -> Status {
    tracing::error!(error = %e, "blocking task failed");
    Status::internal("the desk could not finish the request; try again")
}

/// A page that failed to render: the desk's fault, never the operator's.
pub fn page_failed(e: askama::Error) -> Status {
    tracing::error!(error = %e, "operator page failed to render");
    Status::internal(format!("the page could not be drawn: {e}"))
}

/// What the operator page answers for a refusal of the local API.
pub fn http_status(code: tonic::Code) -> StatusCode {
    match code {
        tonic::Code::InvalidArgument | tonic::Code::FailedPrecondition => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        tonic::Code::NotFound => StatusCode::NOT_FOUND,
        tonic::Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        tonic::Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
