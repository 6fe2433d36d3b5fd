//! `demo`: a real hub and real desk agents in one process (real mutual TLS,
//! real sled in a temporary folder), fed synthetic visits, until Ctrl-C.
//! It sits above both sides so that neither has to link the other.

mod network;

use clap::Parser;

/// A hub and a few desks on a temporary folder, visits flowing; prints the
/// dashboard URL and each desk's operator page.
#[derive(Parser)]
#[command(name = "demo", version)]
struct Cli {
    /// Number of desks.
    #[arg(long, default_value_t = 3)]
    desks: usize,
    /// Visits per second per desk.
    #[arg(long, default_value_t = 5)]
    rate: u32,
    /// `pretty` or `json`.
    #[arg(long, default_value = "pretty")]
    log_format: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    runtime::telemetry::init(&cli.log_format);
    network::run(cli.desks, cli.rate, runtime::shutdown::signal()).await
}
