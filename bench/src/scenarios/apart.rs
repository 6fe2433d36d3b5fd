//! A client run apart from the simulated desks.

use crate::hub_proc::cpu_seconds;
use std::future::Future;

/// Runs `work` on a thread and a current-thread runtime of its own, as a
/// coordinator's browser or tool on another machine would: on the runtime
/// of the simulated desks, an answer waited behind their tasks before the
/// client read it, which measured this process's queue rather than the hub.
/// Gives `work`'s output and the CPU seconds its thread used, which on one
/// machine come out of the CPU that the desks and the hub share.
pub(crate) fn apart<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<std::io::Result<(T, Option<f64>)>> {
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let began = cpu_seconds("thread-self");
        let out = rt.block_on(work);
        let used = began.zip(cpu_seconds("thread-self")).map(|(a, b)| b - a);
        Ok((out, used))
    })
}
