//! The PostgreSQL implementation of [`Store`] (issue 19): what a region
//! that outgrows one machine runs, several hub replicas on one database.
//!
//! The tables are in `hub/migrations/`, applied at open
//! (`migrate.rs`). The `Store` contract is synchronous, since its callers
//! are the group-commit thread and the blocking pool
//! ([`super::blocking`]); each call runs on this store's own small tokio
//! runtime and the calling thread waits, as it waits for sled's disk. So a
//! slow database never stalls the reactor that serves the desks' streams.
//!
//! Replicas stay apart from each other by the database only: a group
//! commit takes a transaction-scoped advisory lock per desk, so that two
//! replicas never store the same sequence twice even when a desk's stream
//! moves between them mid-batch; the versioned logs are numbered under a
//! lock per log; and every change another replica must act on is announced
//! with `NOTIFY` (`notify.rs`).

mod append;
mod desks;
mod logs;
mod migrate;
mod notify;
mod side;
mod tls;

pub use notify::Listener;

use super::StorageError;
use std::future::Future;

/// Connections one hub keeps open to the database: the group commit, the
/// blocking pool's readers and a listener.
const POOL_SIZE: usize = 12;

/// How often the count deltas are merged: reads sum what is left, so this
/// bounds their work, not their correctness.
const MERGE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

pub struct PostgresStore {
    pool: deadpool_postgres::Pool,
    /// Where the store's queries run; the callers' threads wait on them.
    runtime: Runtime,
    /// For the listener's own connection (`notify.rs`).
    config: tokio_postgres::Config,
    /// TLS to the server, when configured (`tls.rs`).
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// Shown in logs and errors: the URL without its password.
    shown: String,
    /// What the listener hears (`notify.rs`).
    changes: tokio::sync::broadcast::Sender<crate::storage::Change>,
}

/// A tokio runtime that may be dropped on any thread, an async one
/// included (the hub drops its store as it shuts down).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl PostgresStore {
    /// Connects, applies the migrations the database lacks, and checks
    /// that it answers. `password` comes from a 0600 file or the
    /// environment (`config.rs`), never from the URL in `hub.toml`;
    /// `ca_file` turns TLS on (`tls.rs`).
    pub fn open(
        url: &str,
        password: Option<&str>,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, StorageError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StorageError::Database(format!("the store URL is not valid: {e}")))?;
        if let Some(password) = password {
            config.password(password);
        }
        config.application_name("rete-hub");
        let shown = redacted(url);
        let tls = tls::connector(&mut config, ca_file)?;
        let manager_config = deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        };
        let manager = match &tls {
            Some(tls) => {
                deadpool_postgres::Manager::from_config(config.clone(), tls.clone(), manager_config)
            }
            None => deadpool_postgres::Manager::from_config(
                config.clone(),
                tokio_postgres::NoTls,
                manager_config,
            ),
        };
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(30)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| StorageError::Database(format!("cannot make the connection pool: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("store-pg")
            .enable_all()
            .build()
            .map_err(StorageError::Sink)?;
        let store = Self {
            pool,
            runtime: Runtime(Some(runtime)),
            config,
            tls,
            shown,
            changes: tokio::sync::broadcast::channel(notify::BACKLOG).0,
        };
        store.block(async { migrate::apply(store.client().await?).await })?;
        store.execute(
            "INSERT INTO meta (key, value) VALUES ('logs_epoch', $1) ON CONFLICT DO NOTHING",
            &[&uuid::Uuid::now_v7().to_string()],
        )?;
        store.start_listener();
        store.start_merger();
        tracing::info!(store = %store.shown, "PostgreSQL store open");
        Ok(store)
    }

    /// The URL without its password, as logs show it.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Runs `work` on the calling thread inside the store's runtime and
    /// waits for it, as a sled call waits for the disk: the runtime's
    /// workers drive the sockets and timers, so the future may borrow the
    /// caller's data and the calling thread may be any thread.
    pub(super) fn block<T>(
        &self,
        work: impl Future<Output = Result<T, StorageError>>,
    ) -> Result<T, StorageError> {
        let rt = self
            .runtime
            .0
            .as_ref()
            .ok_or_else(|| StorageError::Database("the store is closing".into()))?;
        let _inside = rt.enter();
        // Unconstrained: a caller inside a tokio task (the CLI's `init`)
        // carries that task's cooperative budget, which this blocking wait
        // would use up and never get back, leaving every tokio resource
        // below answering "not yet" forever.
        futures::executor::block_on(tokio::task::unconstrained(work))
    }

    /// Moves the group commits' count deltas into the counts every few
    /// seconds (`append.rs`), for as long as the store is open.
    fn start_merger(&self) {
        let Some(rt) = self.runtime.0.as_ref() else {
            return;
        };
        let pool = self.pool.clone();
        rt.spawn(async move {
            loop {
                tokio::time::sleep(MERGE_EVERY).await;
                let merged = match pool.get().await {
                    Ok(mut client) => append::merge_deltas(&mut client).await,
                    Err(e) => Err(StorageError::Database(e.to_string())),
                };
                if let Err(e) = merged {
                    tracing::warn!(error = %e, "count deltas not merged; trying again");
                }
            }
        });
    }

    /// A pooled connection.
    pub(super) async fn client(&self) -> Result<deadpool_postgres::Object, StorageError> {
        self.pool.get().await.map_err(|e| {
            StorageError::Database(format!("no connection to the database: {}", causes(&e)))
        })
    }

    /// One statement on a pooled connection, waited for.
    pub(super) fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StorageError> {
        self.block(async {
            let c = self.client().await?;
            Ok(c.execute(sql, params).await?)
        })
    }

    /// The rows of one query on a pooled connection, waited for.
    pub(super) fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StorageError> {
        self.block(async {
            let c = self.client().await?;
            Ok(c.query(sql, params).await?)
        })
    }
}

impl From<tokio_postgres::Error> for StorageError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The server's own message when there is one: "connection refused"
        // or "duplicate key" say more than the client's wrapper.
        let text = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => causes(&e),
        };
        StorageError::Database(text)
    }
}

/// An error with what caused it: "error performing TLS handshake" alone
/// does not say that the server's certificate was not the expected one.
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

/// The error a configured fail point returns, as a failing database would.
pub(super) fn injected(point: &str) -> StorageError {
    StorageError::Database(format!("injected fault at {point}"))
}

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, StorageError> {
    serde_json::to_value(value).map_err(|e| StorageError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, StorageError> {
    serde_json::from_value(value).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; a
/// `password=` option in a key/value string likewise.
pub fn redacted(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (auth, tail) = match rest.split_once('@') {
            Some((auth, tail)) => (Some(auth), tail),
            None => (None, rest),
        };
        let auth = auth.map(|a| match a.split_once(':') {
            Some((user, _)) => format!("{user}:***@"),
            None => format!("{a}@"),
        });
        let tail = tail
            .split('&')
            .map(|part| match part.split_once("password=") {
                Some((head, _)) => format!("{head}password=***"),
                None => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        format!("{scheme}://{}{tail}", auth.unwrap_or_default())
    } else {
        url.split_whitespace()
            .map(|kv| {
                if kv.starts_with("password=") {
                    "password=***".to_owned()
                } else {
                    kv.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_shown_url_holds_no_password() {
        assert_eq!(
            redacted("postgres://rete:s3cret@db:5432/rete"),
            "postgres://rete:***@db:5432/rete"
        );
        assert_eq!(
            redacted("postgres://rete@db/rete"),
            "postgres://rete@db/rete"
        );
        assert_eq!(
            redacted("postgres://db/rete?sslmode=disable&password=s3cret"),
            "postgres://db/rete?sslmode=disable&password=***"
        );
        assert_eq!(
            redacted("host=db user=rete password=s3cret"),
            "host=db user=rete password=***"
        );
    }
}
