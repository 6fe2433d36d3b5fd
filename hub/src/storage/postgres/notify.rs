//! Changes one replica makes that the others must act on, announced with
//! `NOTIFY` in the transaction that makes them (so delivered only if it
//! commits) and heard by every replica's listener: a new log version to
//! push, a desk's entry to check again (revocation), a report decided.
//!
//! A notification carries only what changed, never data: the listeners
//! read the store for the rest. Notifications sent while a listener is
//! disconnected are lost, so after every (re)connection it gives
//! [`Change::Resync`], on which the hub reads everything newer than what it
//! last saw.

use super::PostgresStore;
use crate::storage::{Change, StorageError};
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast;

const CHANNEL: &str = "rete_changes";

/// Changes kept for a slow receiver before it is told to resync.
pub(super) const BACKLOG: usize = 1024;

/// The receiving end of the listener, for `Store::changes`.
pub type Listener = broadcast::Receiver<Change>;

pub(super) async fn announce(
    tx: &tokio_postgres::Transaction<'_>,
    change: &Change,
) -> Result<(), StorageError> {
    let payload =
        serde_json::to_string(change).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
        .await?;
    Ok(())
}

impl PostgresStore {
    /// Changes announced by any replica, this one included, from now on.
    pub(super) fn subscribe(&self) -> Listener {
        self.changes.subscribe()
    }

    /// Starts the listener on the store's runtime; it runs until the store
    /// is dropped.
    pub(super) fn start_listener(&self) {
        let Some(rt) = self.runtime.0.as_ref() else {
            return;
        };
        let config = self.config.clone();
        let tls = self.tls.clone();
        let sender = self.changes.clone();
        let shown = self.shown.clone();
        rt.spawn(async move {
            let mut first = true;
            loop {
                let heard = match &tls {
                    Some(tls) => listen(&config, tls.clone(), &sender, first).await,
                    None => listen(&config, tokio_postgres::NoTls, &sender, first).await,
                };
                match heard {
                    Ok(()) => tracing::warn!(store = %shown, "change listener disconnected; reconnecting"),
                    Err(e) => tracing::warn!(store = %shown, error = %e, "change listener failed; reconnecting"),
                }
                first = false;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
    }
}

/// One connection's life: `LISTEN`, then forward every notification until
/// the connection ends.
async fn listen<T>(
    config: &tokio_postgres::Config,
    tls: T,
    sender: &broadcast::Sender<Change>,
    first: bool,
) -> Result<(), StorageError>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, mut connection) = config.connect(tls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    if !first {
        // Whatever was announced while no one listened is read again.
        let _ = sender.send(Change::Resync);
    }
    while let Some(payload) = rx.recv().await {
        match serde_json::from_str::<Change>(&payload) {
            Ok(change) => {
                let _ = sender.send(change);
            }
            Err(e) => tracing::warn!(error = %e, "a change notification does not decode"),
        }
    }
    driver.abort();
    Ok(())
}
