//! Assembles the hub's two gRPC servers, each with the standard services
//! (health, reflection) beside its own.

use crate::coordinator::{bearer_check, CoordinatorService};
use crate::federation::FederationService;
use proto::coordinator_server::CoordinatorServer;
use proto::federation_server::FederationServer;
use runtime::grpc::{server, standard_services, Router};

/// The desks' port. `window_bytes` is each connection's and stream's HTTP/2
/// receive window, which bounds what a desk can make the hub buffer.
pub async fn federation_router(
    svc: FederationService,
    max_message_bytes: usize,
    window_bytes: u32,
) -> Result<Router, tonic_reflection::server::Error> {
    let svc = FederationServer::new(svc)
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes);
    let mut server = server()
        .initial_stream_window_size(window_bytes)
        .initial_connection_window_size(window_bytes);
    standard_services::<FederationServer<FederationService>>(server.add_service(svc)).await
}

pub async fn coordinator_router(
    svc: CoordinatorService,
    token: String,
) -> Result<Router, tonic_reflection::server::Error> {
    let svc = CoordinatorServer::with_interceptor(svc, bearer_check(token));
    standard_services::<CoordinatorServer<CoordinatorService>>(server().add_service(svc)).await
}
