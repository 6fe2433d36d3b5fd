//! Compiles the contract with the pure-Rust `protox`, so no `protoc` is needed,
//! and keeps the descriptor set for server reflection.
use prost::Message;
use std::{env, fs, path::PathBuf};

#[path = "src/personal.rs"]
mod redact;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/rete/v1/rete.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["proto"])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("rete_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .codec_path("crate::SmallBufferCodec")
        // Messages that carry a visitor's personal data get a hand-written
        // `Debug` that prints none of it (`src/redact.rs`).
        .skip_debug(redact::PERSONAL)
        .compile_fds(fds)?;
    Ok(())
}
