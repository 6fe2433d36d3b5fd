//! What the desk tells Prometheus (`/metrics`, when `metrics_addr` is set).
//! Counts of intakes are kept where they happen; the rest is sampled from
//! the outbox and the link every few seconds. No series carries the desk's
//! id: one agent serves one desk, and the scrape target says which.

use crate::outbox::Outbox;
use crate::sync::LinkStatus;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

type Labels = Vec<(&'static str, &'static str)>;

fn bytes(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// How an intake ended, for `rete_desk_intakes_total{outcome}`.
#[derive(Debug, Clone, Copy)]
pub enum Intake {
    Recorded,
    /// A repeated `request_id`: the first answer again, nothing stored.
    Repeat,
    /// Refused for its content (a field rule, a reused key).
    Refused,
    /// Refused because the disk is down to its reserve.
    DiskFull,
    /// The outbox could not store it.
    Failed,
}

impl Intake {
    fn label(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Repeat => "repeat",
            Self::Refused => "refused",
            Self::DiskFull => "disk_full",
            Self::Failed => "failed",
        }
    }
}

#[derive(Default)]
pub struct DeskMetrics {
    intakes: Family<Labels, Counter>,
    acked: Counter,
    quarantined: Counter,
    incarnations: Counter,
    records_lost: Counter,
    outbox_depth: Gauge,
    oldest_unacked: Gauge,
    connected: Gauge,
    disk_free: Gauge,
    disk_reserve: Gauge,
}

impl DeskMetrics {
    /// The metrics, registered in `registry` under `rete_desk_`.
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let m = Self::default();
        let r = registry.sub_registry_with_prefix("rete_desk");
        r.register(
            "intakes",
            "Visits taken at intake, by outcome",
            m.intakes.clone(),
        );
        r.register(
            "records_acked",
            "Records the hub acknowledged as stored",
            m.acked.clone(),
        );
        r.register(
            "records_quarantined",
            "Records the hub refused, kept in the desk's quarantine",
            m.quarantined.clone(),
        );
        r.register(
            "incarnation_changes",
            "New incarnations of the outbox started (restored folder, restored hub)",
            m.incarnations.clone(),
        );
        r.register(
            "records_lost",
            "Records the hub had acknowledged, no longer holds and this desk no longer keeps (a hub restored from an older backup)",
            m.records_lost.clone(),
        );
        r.register(
            "outbox_depth",
            "Records in the outbox not yet acknowledged by the hub",
            m.outbox_depth.clone(),
        );
        r.register(
            "outbox_oldest_unacked_seconds",
            "Age of the oldest record not yet acknowledged (0 when none waits)",
            m.oldest_unacked.clone(),
        );
        r.register(
            "connected",
            "1 while the link to the hub is up",
            m.connected.clone(),
        );
        r.register(
            "disk_free_bytes",
            "Free bytes on the disk holding the data folder",
            m.disk_free.clone(),
        );
        r.register(
            "disk_reserve_bytes",
            "Free bytes intake leaves alone (disk_reserve_mib)",
            m.disk_reserve.clone(),
        );
        Arc::new(m)
    }

    pub fn intake(&self, outcome: Intake) {
        self.intakes
            .get_or_create(&vec![("outcome", outcome.label())])
            .inc();
    }

    /// Samples the outbox and the link until `shutdown`.
    pub async fn sample(
        self: Arc<Self>,
        outbox: Arc<Outbox>,
        link: Arc<LinkStatus>,
        shutdown: runtime::Shutdown,
    ) {
        let mut sent = outbox.sent().unwrap_or(0);
        let mut quarantined = outbox.quarantined().unwrap_or(0);
        let mut incarnation = outbox.incarnation().id;
        loop {
            let now_sent = outbox.sent().unwrap_or(sent);
            self.acked.inc_by(now_sent.saturating_sub(sent));
            sent = now_sent;
            let now_q = outbox.quarantined().unwrap_or(quarantined);
            self.quarantined.inc_by(now_q.saturating_sub(quarantined));
            quarantined = now_q;
            let now_inc = outbox.incarnation();
            if now_inc.id != incarnation {
                self.incarnations.inc();
                self.records_lost.inc_by(now_inc.lost);
                incarnation = now_inc.id;
            }
            self.outbox_depth
                .set(i64::try_from(outbox.pending().unwrap_or(0)).unwrap_or(i64::MAX));
            self.oldest_unacked.set(
                outbox
                    .oldest_unacked_age()
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            );
            self.connected
                .set(i64::from(link.connected.load(Ordering::Relaxed)));
            if let Some(r) = outbox.reserve() {
                self.disk_reserve.set(bytes(r.bytes()));
                self.disk_free.set(r.free().map_or(-1, bytes));
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = shutdown.wait() => return,
            }
        }
    }
}
