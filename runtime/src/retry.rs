//! `RESOURCE_EXHAUSTED` with a retry delay, as the gRPC richer error model
//! carries it: a `google.rpc.Status` in `grpc-status-details-bin` whose
//! details hold a `google.rpc.RetryInfo`. Both sides use this one encoding,
//! so a client of any language (grpc-go, grpcio, grpc-java) reads the same
//! delay with its standard helpers.

use prost::Message;
use std::time::Duration;
use tonic::{Code, Status};

/// `google.rpc.Status` (google/rpc/status.proto).
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// `google.rpc.RetryInfo` (google/rpc/error_details.proto).
#[derive(Clone, PartialEq, Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<prost_types::Duration>,
}

const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// A `RESOURCE_EXHAUSTED` refusal that tells the client how long to wait.
pub fn exhausted_retry_after(message: impl Into<String>, delay: Duration) -> Status {
    let message = message.into();
    let info = RetryInfo {
        retry_delay: Some(prost_types::Duration {
            seconds: i64::try_from(delay.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(delay.subsec_nanos()).unwrap_or(0),
        }),
    };
    let details = RpcStatus {
        code: Code::ResourceExhausted as i32,
        message: message.clone(),
        details: vec![prost_types::Any {
            type_url: RETRY_INFO_TYPE.into(),
            value: info.encode_to_vec(),
        }],
    };
    Status::with_details(
        Code::ResourceExhausted,
        message,
        details.encode_to_vec().into(),
    )
}

/// The retry delay a status carries, if any; a malformed one is ignored
/// (the caller then treats the status as it would without details).
pub fn retry_delay(status: &Status) -> Option<Duration> {
    let details = RpcStatus::decode(status.details()).ok()?;
    let info = details
        .details
        .iter()
        .find(|any| any.type_url == RETRY_INFO_TYPE)?;
    let delay = RetryInfo::decode(info.value.as_slice()).ok()?.retry_delay?;
    let seconds = u64::try_from(delay.seconds).ok()?;
    let nanos = u32::try_from(delay.nanos).ok()?;
    Some(Duration::new(seconds, nanos.min(999_999_999)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_survives_the_round_trip() {
        let s = exhausted_retry_after("troppi invii", Duration::from_millis(2500));
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(s.message(), "troppi invii");
        assert_eq!(retry_delay(&s), Some(Duration::from_millis(2500)));
    }

    #[test]
    fn a_status_without_retry_info_has_no_delay() {
        // The oversized-message refusal: same code, nothing to wait for.
        let s = Status::resource_exhausted("message length too large");
        assert_eq!(retry_delay(&s), None);
        let garbled = Status::with_details(Code::ResourceExhausted, "x", vec![0xff, 0x01].into());
        assert_eq!(retry_delay(&garbled), None);
    }
}
