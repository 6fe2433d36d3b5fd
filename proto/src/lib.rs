//! The wire contract shared by the hub, the desk-agent, the tests and the
//! load generator: generated from `proto/rete/v1/rete.proto`.
#![allow(unreachable_pub, clippy::large_enum_variant)]

pub mod v1 {
    tonic::include_proto!("rete.v1");
}

/// Encoded `FileDescriptorSet` of the contract, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/rete_descriptor.bin"));

pub use codec::SmallBufferCodec;
pub use convert::{severity_name, UnknownSeverity, WireRecord};
pub use v1::*;

mod codec;
mod convert;
mod redact;
