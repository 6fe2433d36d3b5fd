//! `hub demo`: kept for those who know it, as a hand-over to the `demo`
//! program installed beside this one. The demo starts desk agents too, so it
//! lives in its own crate above both sides; linking it here would put the
//! desk's code into the production hub.

use anyhow::Context;
use std::path::PathBuf;
use std::process::Command;

pub fn exec(desks: usize, rate: u32, log_format: Option<&str>) -> anyhow::Result<()> {
    let demo = beside_this_program("demo")?;
    if !demo.is_file() {
        anyhow::bail!(
            "the demo is its own program and {} is not there: run `cargo run --release -p demo`, \
             or build it with `cargo build --release -p demo` and try again",
            demo.display()
        );
    }
    let mut command = Command::new(&demo);
    command
        .arg("--desks")
        .arg(desks.to_string())
        .arg("--rate")
        .arg(rate.to_string());
    if let Some(format) = log_format {
        command.arg("--log-format").arg(format);
    }
    run(command).with_context(|| format!("cannot start {}", demo.display()))
}

fn beside_this_program(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("cannot tell where this program is")?;
    Ok(me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// Replaces this process, so that Ctrl-C reaches the demo directly.
#[cfg(unix)]
fn run(mut command: Command) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    Err(command.exec().into())
}

#[cfg(not(unix))]
fn run(mut command: Command) -> anyhow::Result<()> {
    let status = command.status()?;
    anyhow::ensure!(status.success(), "the demo ended with {status}");
    Ok(())
}
