//! What a hub replica does with the changes other replicas make on the
//! shared store (`Store::changes`, PostgreSQL's `NOTIFY`): a new log
//! version is pushed to this replica's desks, a revoked desk's stream here
//! is cut, a decided report is told to its desk. After a reconnection of
//! the listener, whose notifications in between are lost, everything is
//! read again.

use crate::connections::{Connections, Kick};
use crate::push::Push;
use crate::storage::{self, Change, StorageError, Store};
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};

pub async fn follow(
    store: Arc<dyn Store>,
    mut changes: broadcast::Receiver<Change>,
    push: Push,
    connections: Arc<Connections>,
    shutdown: runtime::Shutdown,
) {
    loop {
        let change = tokio::select! {
            () = shutdown.wait() => return,
            change = changes.recv() => match change {
                Ok(change) => change,
                // Missed some: the same as a reconnection.
                Err(RecvError::Lagged(_)) => Change::Resync,
                Err(RecvError::Closed) => return,
            },
        };
        if let Err(e) = apply(&store, &push, &connections, change).await {
            // The next change, or the desks' next connection, reads again.
            tracing::warn!(error = %e, "a change made on another replica could not be applied here");
        }
    }
}

async fn apply(
    store: &Arc<dyn Store>,
    push: &Push,
    connections: &Arc<Connections>,
    change: Change,
) -> Result<(), StorageError> {
    match change {
        Change::Log { log, version } => match log.as_str() {
            "guidance" => push.guidance_published(version),
            "templates" => push.template_published(version),
            "cards" => push.card_published(version),
            "catalogue" => catalogue(store, push, version).await?,
            _ => {}
        },
        Change::Desk { desk_id } => {
            let entry = storage::blocking(store, move |s| s.desk(&desk_id)).await?;
            if let Some(entry) = entry.filter(|e| e.revoked) {
                connections.kick(&entry.desk_id, Kick::Revoked);
            }
        }
        Change::Report => push.report_decided(),
        Change::Resync => {
            let (guidance, templates, cards, catalogue_version, desks) =
                storage::blocking(store, |s| {
                    Ok::<_, StorageError>((
                        s.guidance_version()?,
                        s.template_version()?,
                        s.card_version()?,
                        s.catalogue_version()?,
                        s.desks()?,
                    ))
                })
                .await?;
            push.guidance_published(guidance);
            push.template_published(templates);
            push.card_published(cards);
            if catalogue_version > push.catalogue_version() {
                catalogue(store, push, catalogue_version).await?;
            }
            for d in desks.iter().filter(|d| d.revoked) {
                connections.kick(&d.desk_id, Kick::Revoked);
            }
            push.report_decided();
        }
    }
    Ok(())
}

/// A catalogue version made elsewhere: records and guidance are checked
/// against it here too, and this replica's desks are sent it.
async fn catalogue(store: &Arc<dyn Store>, push: &Push, version: u64) -> Result<(), StorageError> {
    let (every, active) = storage::blocking(store, crate::catalogue::catalogues).await?;
    push.catalogue_published(version, every, active);
    Ok(())
}
