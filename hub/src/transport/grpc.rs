//! Assembles the hub's two gRPC servers, each with `grpc.health.v1` and
//! server reflection beside its own service.

use crate::coordinator::{bearer_check, CoordinatorService};
use crate::federation::FederationService;
use proto::coordinator_server::CoordinatorServer;
use proto::federation_server::FederationServer;
use std::time::Duration;
use tonic::transport::server::Router;
use tonic::transport::Server;

/// Health and reflection, added to every port.
pub async fn standard_services<S: tonic::server::NamedService>(
    mut router: Router,
) -> Result<Router, tonic_reflection::server::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    reporter.set_serving::<S>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    router = router.add_service(health).add_service(reflection);
    Ok(router)
}

fn builder() -> Server {
    // Keepalive pings find a silent, dead peer instead of waiting forever.
    Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .tcp_nodelay(true)
}

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
    let mut server = builder()
        .initial_stream_window_size(window_bytes)
        .initial_connection_window_size(window_bytes);
    standard_services::<FederationServer<FederationService>>(server.add_service(svc)).await
}

pub async fn coordinator_router(
    svc: CoordinatorService,
    token: String,
) -> Result<Router, tonic_reflection::server::Error> {
    let svc = CoordinatorServer::with_interceptor(svc, bearer_check(token));
    standard_services::<CoordinatorServer<CoordinatorService>>(builder().add_service(svc)).await
}
