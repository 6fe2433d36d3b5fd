//! What the hub tells Prometheus (`/metrics`, when `metrics_addr` is set).
//! Events are counted where they happen (group commit, desk streams); the
//! rest is sampled every few seconds. No series carries a desk id: how far
//! each desk lags is on `hub desks`, not in a label.

use crate::connections::Connections;
use crate::push::Push;
use crate::storage::Store;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

type Labels = Vec<(&'static str, &'static str)>;

pub struct HubMetrics {
    pub records_stored: Counter,
    pub records_refused: Counter,
    pub group_commit_records: Histogram,
    pub commit_seconds: Histogram,
    pub incarnations_started: Counter,
    pub older_state_returns: Counter,
    pub records_lost: Counter,
    /// Set by the dashboard's session sweep.
    pub dashboard_sessions: Gauge,
    pub acks_delayed: Counter,
    pub floods_refused: Counter,
    /// Connections closed at accept, by the cap they met and the port.
    pub connections_refused: Family<Labels, Counter>,
    ingest_queue: Gauge,
    connected_desks: Gauge,
    desks_behind: Family<Labels, Gauge>,
    disk_free: Gauge,
    disk_reserve: Gauge,
}

impl Default for HubMetrics {
    fn default() -> Self {
        Self {
            records_stored: Counter::default(),
            records_refused: Counter::default(),
            // 1 .. 32768 records.
            group_commit_records: Histogram::new(exponential_buckets(1.0, 2.0, 16)),
            // 0.5 ms .. 8 s.
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 15)),
            incarnations_started: Counter::default(),
            older_state_returns: Counter::default(),
            records_lost: Counter::default(),
            dashboard_sessions: Gauge::default(),
            acks_delayed: Counter::default(),
            floods_refused: Counter::default(),
            connections_refused: Family::default(),
            ingest_queue: Gauge::default(),
            connected_desks: Gauge::default(),
            desks_behind: Family::default(),
            disk_free: Gauge::default(),
            disk_reserve: Gauge::default(),
        }
    }
}

impl HubMetrics {
    /// The metrics, registered in `registry` under `rete_hub_`.
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let m = Self::default();
        let r = registry.sub_registry_with_prefix("rete_hub");
        r.register(
            "records_stored",
            "Records stored, each once",
            m.records_stored.clone(),
        );
        r.register(
            "records_refused",
            "Records refused by the hub's re-check or as already held",
            m.records_refused.clone(),
        );
        r.register(
            "group_commit_records",
            "Records per group commit",
            m.group_commit_records.clone(),
        );
        r.register(
            "group_commit_seconds",
            "Time to write and flush one group commit",
            m.commit_seconds.clone(),
        );
        r.register(
            "incarnations_started",
            "Desk outbox incarnations the hub saw start after a desk's first",
            m.incarnations_started.clone(),
        );
        r.register(
            "older_state_returns",
            "Desks that came back holding less than the hub had (restored from an older copy)",
            m.older_state_returns.clone(),
        );
        r.register(
            "records_lost",
            "Records acknowledged to desks that the hub no longer holds and the desks no longer keep (a restore from an older backup)",
            m.records_lost.clone(),
        );
        r.register(
            "dashboard_sessions",
            "Signed-in dashboard sessions held in the store",
            m.dashboard_sessions.clone(),
        );
        r.register(
            "acks_delayed",
            "Batch acks held back because the desk was past its rate (desk_records_per_sec, desk_bytes_per_sec)",
            m.acks_delayed.clone(),
        );
        r.register(
            "floods_refused",
            "Desk streams refused for sending far past their window of unacknowledged batches",
            m.floods_refused.clone(),
        );
        r.register(
            "connections_refused",
            "Connections closed at once, by the cap they met and the port",
            m.connections_refused.clone(),
        );
        r.register(
            "ingest_queue",
            "Batches waiting for the group-commit writer",
            m.ingest_queue.clone(),
        );
        r.register(
            "connected_desks",
            "Desks with an open stream",
            m.connected_desks.clone(),
        );
        r.register(
            "desks_behind",
            "Enrolled desks that have not applied the hub's current version, by kind",
            m.desks_behind.clone(),
        );
        r.register(
            "disk_free_bytes",
            "Free bytes on the disk holding the store",
            m.disk_free.clone(),
        );
        r.register(
            "disk_reserve_bytes",
            "Free bytes ingest leaves alone (disk_reserve_mib)",
            m.disk_reserve.clone(),
        );
        Arc::new(m)
    }

    /// Samples the gauges until `shutdown`.
    pub async fn sample(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        connections: Arc<Connections>,
        push: Push,
        queued: impl Fn() -> usize + Send + 'static,
        reserve: runtime::disk::Reserve,
        shutdown: runtime::Shutdown,
    ) {
        loop {
            self.disk_reserve
                .set(i64::try_from(reserve.bytes()).unwrap_or(i64::MAX));
            self.disk_free.set(
                reserve
                    .free()
                    .map_or(-1, |f| i64::try_from(f).unwrap_or(i64::MAX)),
            );
            self.ingest_queue.set(gauge(queued()));
            self.connected_desks
                .set(gauge(connections.connected_count()));
            let store = Arc::clone(&store);
            let current = (
                push.guidance_version(),
                push.template_version(),
                push.catalogue_version(),
            );
            let behind = tokio::task::spawn_blocking(move || {
                let mut behind = [0usize; 3];
                for d in store.desks()?.iter().filter(|d| !d.revoked) {
                    let s = store.push_state(&d.desk_id)?;
                    behind[0] += usize::from(s.guidance < current.0);
                    behind[1] += usize::from(s.template < current.1);
                    behind[2] += usize::from(s.catalogue < current.2);
                }
                Ok::<_, crate::storage::StorageError>(behind)
            })
            .await;
            if let Ok(Ok(behind)) = behind {
                for (kind, n) in ["guidance", "template", "catalogue"]
                    .into_iter()
                    .zip(behind)
                {
                    self.desks_behind
                        .get_or_create(&vec![("kind", kind)])
                        .set(gauge(n));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = shutdown.wait() => return,
            }
        }
    }
}

fn gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
