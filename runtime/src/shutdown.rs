//! One stop signal, fanned out: the process's signal handler (or a test)
//! fires a [`Trigger`]; every task holds a cheap [`Shutdown`] and finishes
//! its current batch when it resolves.

use tokio::sync::watch;

/// Fires the stop signal once; every [`Shutdown`] made from it resolves.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// A task's view of the stop signal. Clones are cheap; waiting is
/// cancel-safe, so it can sit in a `select!` loop.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// A new, unfired signal.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    pub fn fire(&self) {
        // No receiver left means no task left to stop.
        let _ = self.0.send(true);
    }

    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    /// Resolves once the signal has fired, or at once if it already has.
    /// A dropped [`Trigger`] counts as fired: nobody is left to say "go on".
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// [`Shutdown::wait`] as an owned future, for servers that take a
    /// `'static` shutdown future.
    pub async fn waited(self) {
        self.wait().await
    }

    pub fn is_fired(&self) -> bool {
        *self.0.borrow()
    }
}

/// Resolves on SIGTERM or Ctrl-C, whichever comes first.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn every_subscriber_sees_the_signal_once_fired() {
        let (trigger, shutdown) = channel();
        let late = trigger.subscribe();
        assert!(!shutdown.is_fired());
        let waiting = tokio::spawn(shutdown.clone().waited());
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiting.is_finished(), "resolved before the signal");
        trigger.fire();
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("resolves after fire")
            .expect("task");
        assert!(late.is_fired());
        // Waiting after the fact resolves at once.
        tokio::time::timeout(Duration::from_secs(1), late.wait())
            .await
            .expect("already fired");
    }

    #[tokio::test]
    async fn a_dropped_trigger_stops_the_tasks() {
        let (trigger, shutdown) = channel();
        drop(trigger);
        tokio::time::timeout(Duration::from_secs(1), shutdown.wait())
            .await
            .expect("a dropped trigger counts as fired");
    }
}
