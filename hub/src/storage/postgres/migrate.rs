//! The schema's versions: `hub/migrations/NNNN_name.sql`, compiled in,
//! applied in order at open, each in its own transaction with its number
//! recorded, under an advisory lock so that replicas starting together
//! apply each once.

use crate::storage::StorageError;

/// Every migration, in order. Append only.
const MIGRATIONS: &[(i32, &str, &str)] =
    &[(1, "init", include_str!("../../../migrations/0001_init.sql"))];

/// The advisory lock key migrations run under ("rete-mig").
const LOCK: i64 = 0x7265_7465_2d6d_6967;

pub(super) async fn apply(mut client: deadpool_postgres::Object) -> Result<(), StorageError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK])
        .await?;
    let result = apply_locked(&mut client).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK])
        .await?;
    result
}

async fn apply_locked(client: &mut deadpool_postgres::Object) -> Result<(), StorageError> {
    let applied: Vec<i32> = client
        .query("SELECT version FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if let Some(newer) = applied.iter().find(|v| **v > latest()) {
        return Err(StorageError::Database(format!(
            "the database has schema version {newer}, newer than this hub knows ({}): \
             upgrade the hub",
            latest()
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "database schema migrated");
    }
    Ok(())
}

fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}
