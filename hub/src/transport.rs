//! Everything that touches the network: TLS accept, the gRPC servers with
//! health and reflection, and the one mapping from errors to gRPC status.

pub mod grpc;
pub mod status;
pub mod tls;
