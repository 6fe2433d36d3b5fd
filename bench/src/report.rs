//! The figures of one run: a table for people, or one JSON object keyed by
//! scenario with exactly the agreed figures, for scripts.

use serde_json::{json, Map, Value};
use std::fmt::Write;

pub(crate) struct RawSled {
    pub records_per_s: f64,
}

pub(crate) struct Ingest {
    pub records_per_s: f64,
    pub ratio_to_raw: Option<f64>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub hub_rss_mib: f64,
    /// The second replica's peak, with `--replicas 2`.
    pub replica_rss_mib: Option<f64>,
    /// PostgreSQL's memory (PSS) at its peak, with `--store postgres`.
    pub postgres_mib: Option<f64>,
    /// What the ratio is to: `raw sled` or `raw COPY`.
    pub raw: &'static str,
}

/// `hub migrate --from-sled` of a filled sled hub.
pub(crate) struct Migration {
    pub records: u64,
    pub seconds: f64,
    /// `hub verify` agreed on both sides.
    pub verified: bool,
    pub postgres_mib: f64,
}

/// Binary `COPY` of the same rows into the same PostgreSQL server.
pub(crate) struct RawCopy {
    pub records_per_s: f64,
}

pub(crate) struct Fanout {
    pub desks: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The hub's CPU over the rounds per desk per publish: what one more
    /// desk costs the hub, apart from the simulated desks' share of the
    /// machine.
    pub hub_cpu_us_per_apply: Option<f64>,
}

pub(crate) struct Connections {
    pub desks: usize,
    pub hub_rss_mib: f64,
    pub kib_per_desk: f64,
}

pub(crate) struct Catchup {
    pub records: u64,
    pub records_per_s: f64,
}

pub(crate) struct Intake {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Handout render latency at the desk, per language.
pub(crate) struct Handout {
    pub renders: usize,
    pub languages: Vec<HandoutLanguage>,
}

pub(crate) struct HandoutLanguage {
    pub language: &'static str,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub pdf_kib: f64,
}

/// `Desk.Search` at a desk holding the seed content.
pub(crate) struct Search {
    pub queries: usize,
    pub rounds: usize,
    /// The first search after the cards arrived: the index rebuild included.
    pub first_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub recall_at_1: f64,
    pub recall_at_3: f64,
}

pub(crate) struct SigninFlood {
    pub clients: usize,
    pub before_records_per_s: f64,
    pub during_records_per_s: f64,
    /// Seconds from the flood's end to a window back at 90% of the rate.
    pub recovery_s: Option<f64>,
    pub attempts: u64,
    /// Answered 401 after a password check.
    pub checked: u64,
    /// Answered 429: the address had failed too often.
    pub throttled: u64,
    /// Answered 503 before any hashing: every check was busy.
    pub busy: u64,
    /// Any other answer.
    pub other: u64,
    /// No answer: the connection was closed at once by a connection cap
    /// (or failed).
    pub unanswered: u64,
    pub hub_rss_before_mib: f64,
    pub hub_rss_peak_mib: f64,
}

pub(crate) struct DashboardLoad {
    /// Records filled in before measuring.
    pub records: u64,
    pub page_views_per_s: u32,
    pub quiet_p99_ms: f64,
    pub busy_p99_ms: f64,
    pub quiet_records_per_s: f64,
    pub busy_records_per_s: f64,
    pub pages_served: u64,
    pub pages_failed: u64,
    pub page_p50_ms: f64,
    pub page_p99_ms: f64,
    /// Each page's p99, in the order they are opened.
    pub per_page_p99_ms: Vec<(&'static str, f64)>,
}

pub(crate) struct History {
    pub records: u64,
    /// Peak while the desks ingest on the full store.
    pub hub_rss_mib: f64,
    pub restart_s: f64,
    pub recovery_s: f64,
    pub stats_p50_ms: f64,
    pub stats_p99_ms: f64,
}

pub(crate) struct DeskFlood {
    pub desks: usize,
    pub limit_per_s: u64,
    /// What the flooding desk took in, records a second.
    pub flood_offered_per_s: f64,
    /// What the hub acknowledged it.
    pub flood_acked_per_s: f64,
    /// The other desks, without the flood and with it.
    pub quiet_records_per_s: f64,
    pub busy_records_per_s: f64,
    pub quiet_p50_ms: f64,
    pub busy_p50_ms: f64,
    pub quiet_p99_ms: f64,
    pub busy_p99_ms: f64,
    /// The same flood against a hub with no limit.
    pub unlimited_acked_per_s: f64,
    pub unlimited_busy_p99_ms: f64,
}

#[derive(Default)]
pub(crate) struct Results {
    pub raw_sled: Option<RawSled>,
    pub raw_copy: Option<RawCopy>,
    pub migrate: Option<Migration>,
    pub ingest: Option<Ingest>,
    pub fanout: Option<Fanout>,
    pub connections: Option<Connections>,
    pub catchup: Option<Catchup>,
    pub intake: Option<Intake>,
    pub handout: Option<Handout>,
    pub search: Option<Search>,
    pub signin_flood: Option<SigninFlood>,
    pub dashboard: Option<DashboardLoad>,
    pub desk_flood: Option<DeskFlood>,
    pub history: Option<History>,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

impl Results {
    pub(crate) fn to_json(&self) -> Value {
        let mut o = Map::new();
        if let Some(r) = &self.raw_sled {
            o.insert(
                "raw-sled".into(),
                json!({"records_per_s": round(r.records_per_s, 0)}),
            );
        }
        if let Some(r) = &self.migrate {
            o.insert(
                "migrate".into(),
                json!({
                    "records": r.records,
                    "seconds": round(r.seconds, 2),
                    "records_per_s": round(r.records as f64 / r.seconds.max(1e-9), 0),
                    "verified": r.verified,
                    "postgres_mib": round(r.postgres_mib, 1),
                }),
            );
        }
        if let Some(r) = &self.raw_copy {
            o.insert(
                "raw-copy".into(),
                json!({"records_per_s": round(r.records_per_s, 0)}),
            );
        }
        if let Some(r) = &self.ingest {
            let mut figures = json!({
                "records_per_s": round(r.records_per_s, 0),
                "ratio_to_raw": r.ratio_to_raw.map(|x| round(x, 3)),
                "p50_ms": round(r.p50_ms, 2),
                "p99_ms": round(r.p99_ms, 2),
                "hub_rss_mib": round(r.hub_rss_mib, 1),
            });
            if let Some(m) = r.postgres_mib {
                figures["postgres_mib"] = json!(round(m, 1));
            }
            if let Some(m) = r.replica_rss_mib {
                figures["replica_rss_mib"] = json!(round(m, 1));
            }
            o.insert("ingest".into(), figures);
        }
        if let Some(r) = &self.fanout {
            o.insert(
                "fanout".into(),
                json!({
                    "desks": r.desks,
                    "p50_ms": round(r.p50_ms, 2),
                    "p99_ms": round(r.p99_ms, 2),
                    "hub_cpu_us_per_apply": r.hub_cpu_us_per_apply.map(|v| round(v, 1)),
                }),
            );
        }
        if let Some(r) = &self.connections {
            o.insert(
                "connections".into(),
                json!({
                    "desks": r.desks,
                    "hub_rss_mib": round(r.hub_rss_mib, 1),
                    "kib_per_desk": round(r.kib_per_desk, 1),
                }),
            );
        }
        if let Some(r) = &self.catchup {
            o.insert(
                "catchup".into(),
                json!({"records": r.records, "records_per_s": round(r.records_per_s, 0)}),
            );
        }
        if let Some(r) = &self.intake {
            o.insert(
                "intake".into(),
                json!({
                    "p50_ms": round(r.p50_ms, 2),
                    "p99_ms": round(r.p99_ms, 2),
                    "max_ms": round(r.max_ms, 2),
                }),
            );
        }
        if let Some(r) = &self.handout {
            let per: serde_json::Map<String, serde_json::Value> = r
                .languages
                .iter()
                .map(|l| {
                    (
                        l.language.to_string(),
                        json!({
                            "p50_ms": round(l.p50_ms, 2),
                            "p99_ms": round(l.p99_ms, 2),
                            "pdf_kib": round(l.pdf_kib, 1),
                        }),
                    )
                })
                .collect();
            o.insert(
                "handout".into(),
                json!({"renders": r.renders, "languages": per}),
            );
        }
        if let Some(r) = &self.search {
            o.insert(
                "search".into(),
                json!({
                    "queries": r.queries,
                    "rounds": r.rounds,
                    "first_ms": round(r.first_ms, 2),
                    "p50_ms": round(r.p50_ms, 2),
                    "p99_ms": round(r.p99_ms, 2),
                    "max_ms": round(r.max_ms, 2),
                    "recall_at_1": round(r.recall_at_1, 3),
                    "recall_at_3": round(r.recall_at_3, 3),
                }),
            );
        }
        if let Some(r) = &self.signin_flood {
            o.insert(
                "signin-flood".into(),
                json!({
                    "clients": r.clients,
                    "before_records_per_s": round(r.before_records_per_s, 0),
                    "during_records_per_s": round(r.during_records_per_s, 0),
                    "during_ratio": round(r.during_ratio(), 3),
                    "recovery_s": r.recovery_s.map(|x| round(x, 2)),
                    "attempts": r.attempts,
                    "checked": r.checked,
                    "throttled": r.throttled,
                    "refused_busy": r.busy,
                    "other": r.other,
                    "closed_at_connect": r.unanswered,
                    "hub_rss_before_mib": round(r.hub_rss_before_mib, 1),
                    "hub_rss_peak_mib": round(r.hub_rss_peak_mib, 1),
                }),
            );
        }
        if let Some(r) = &self.dashboard {
            o.insert(
                "dashboard".into(),
                json!({
                    "records": r.records,
                    "page_views_per_s": r.page_views_per_s,
                    "quiet_p99_ms": round(r.quiet_p99_ms, 2),
                    "busy_p99_ms": round(r.busy_p99_ms, 2),
                    "quiet_records_per_s": round(r.quiet_records_per_s, 0),
                    "busy_records_per_s": round(r.busy_records_per_s, 0),
                    "ingest_ratio": round(r.ingest_ratio(), 3),
                    "pages_served": r.pages_served,
                    "pages_failed": r.pages_failed,
                    "page_p50_ms": round(r.page_p50_ms, 2),
                    "page_p99_ms": round(r.page_p99_ms, 2),
                    "per_page_p99_ms": r
                        .per_page_p99_ms
                        .iter()
                        .map(|(page, ms)| ((*page).to_string(), json!(round(*ms, 2))))
                        .collect::<serde_json::Map<_, _>>(),
                }),
            );
        }
        if let Some(r) = &self.desk_flood {
            o.insert(
                "desk-flood".into(),
                json!({
                    "desks": r.desks,
                    "limit_per_s": r.limit_per_s,
                    "flood_offered_per_s": round(r.flood_offered_per_s, 0),
                    "flood_acked_per_s": round(r.flood_acked_per_s, 0),
                    "others_quiet_records_per_s": round(r.quiet_records_per_s, 0),
                    "others_busy_records_per_s": round(r.busy_records_per_s, 0),
                    "others_ratio": round(r.others_ratio(), 3),
                    "others_quiet_p50_ms": round(r.quiet_p50_ms, 2),
                    "others_busy_p50_ms": round(r.busy_p50_ms, 2),
                    "others_quiet_p99_ms": round(r.quiet_p99_ms, 2),
                    "others_busy_p99_ms": round(r.busy_p99_ms, 2),
                    "unlimited_flood_acked_per_s": round(r.unlimited_acked_per_s, 0),
                    "unlimited_others_busy_p99_ms": round(r.unlimited_busy_p99_ms, 2),
                }),
            );
        }
        if let Some(r) = &self.history {
            o.insert(
                "history".into(),
                json!({
                    "records": r.records,
                    "hub_rss_mib": round(r.hub_rss_mib, 1),
                    "restart_s": round(r.restart_s, 2),
                    "recovery_s": round(r.recovery_s, 2),
                    "stats_p50_ms": round(r.stats_p50_ms, 2),
                    "stats_p99_ms": round(r.stats_p99_ms, 2),
                }),
            );
        }
        Value::Object(o)
    }

    pub(crate) fn table(&self) -> String {
        let mut t = String::new();
        let mut row = |scenario: &str, figures: String| {
            let _ = writeln!(t, "{scenario:<12} {figures}");
        };
        row("scenario", "figures".into());
        if let Some(r) = &self.raw_sled {
            row("raw-sled", format!("{:.0} records/s", r.records_per_s));
        }
        if let Some(r) = &self.raw_copy {
            row("raw-copy", format!("{:.0} records/s", r.records_per_s));
        }
        if let Some(r) = &self.migrate {
            row(
                "migrate",
                format!(
                    "{} records from sled to PostgreSQL in {:.2} s ({:.0} records/s), hub verify {} on both sides, PostgreSQL {:.1} MiB (PSS)",
                    r.records,
                    r.seconds,
                    r.records as f64 / r.seconds.max(1e-9),
                    if r.verified { "agrees" } else { "DISAGREES" },
                    r.postgres_mib
                ),
            );
        }
        if let Some(r) = &self.ingest {
            let ratio = r
                .ratio_to_raw
                .map_or("n/a".to_string(), |x| format!("{x:.3}"));
            let mut more = String::new();
            if let Some(m) = r.replica_rss_mib {
                let _ = write!(more, ", second replica {m:.1} MiB");
            }
            if let Some(m) = r.postgres_mib {
                let _ = write!(more, ", PostgreSQL {m:.1} MiB (PSS)");
            }
            row(
                "ingest",
                format!(
                    "{:.0} records/s, {ratio} of {}, p50 {:.2} ms, p99 {:.2} ms, hub peak RSS {:.1} MiB{more}",
                    r.records_per_s, r.raw, r.p50_ms, r.p99_ms, r.hub_rss_mib
                ),
            );
        }
        if let Some(r) = &self.fanout {
            row(
                "fanout",
                format!(
                    "{} desks, publish to applied p50 {:.2} ms, p99 {:.2} ms; hub CPU per desk per publish {}",
                    r.desks,
                    r.p50_ms,
                    r.p99_ms,
                    r.hub_cpu_us_per_apply
                        .map_or_else(|| "n/a".to_string(), |us| format!("{us:.0} µs"))
                ),
            );
        }
        if let Some(r) = &self.connections {
            row(
                "connections",
                format!(
                    "{} desks, hub RSS {:.1} MiB, {:.1} KiB per desk",
                    r.desks, r.hub_rss_mib, r.kib_per_desk
                ),
            );
        }
        if let Some(r) = &self.catchup {
            row(
                "catchup",
                format!("{} records, {:.0} records/s", r.records, r.records_per_s),
            );
        }
        if let Some(r) = &self.intake {
            row(
                "intake",
                format!(
                    "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    r.p50_ms, r.p99_ms, r.max_ms
                ),
            );
        }
        if let Some(r) = &self.handout {
            for l in &r.languages {
                row(
                    "handout",
                    format!(
                        "{}: p50 {:.1} ms, p99 {:.1} ms, {:.0} KiB ({} renders)",
                        l.language, l.p50_ms, l.p99_ms, l.pdf_kib, r.renders
                    ),
                );
            }
        }
        if let Some(r) = &self.search {
            row(
                "search",
                format!(
                    "{} queries x {}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; first (index rebuilt) {:.1} ms; recall@1 {:.3}, @3 {:.3}",
                    r.queries, r.rounds, r.p50_ms, r.p99_ms, r.max_ms, r.first_ms, r.recall_at_1, r.recall_at_3
                ),
            );
        }
        if let Some(r) = &self.signin_flood {
            let recovery = r
                .recovery_s
                .map_or("not within 30 s".to_string(), |x| format!("{x:.2} s"));
            row(
                "signin-flood",
                format!(
                    "{} clients: ingest {:.0} → {:.0} records/s ({:.3}), back in {recovery}; {} attempts: {} checked, {} throttled, {} refused busy, {} closed at connect, {} other; hub RSS {:.1} → peak {:.1} MiB",
                    r.clients,
                    r.before_records_per_s,
                    r.during_records_per_s,
                    r.during_ratio(),
                    r.attempts,
                    r.checked,
                    r.throttled,
                    r.busy,
                    r.unanswered,
                    r.other,
                    r.hub_rss_before_mib,
                    r.hub_rss_peak_mib
                ),
            );
        }
        if let Some(r) = &self.dashboard {
            row(
                "dashboard",
                format!(
                    "{} records held; ack p99 {:.2} ms quiet vs {:.2} ms at {} page views/s ({:.0} vs {:.0} records/s, {:.3}); pages p50 {:.2} ms, p99 {:.2} ms ({}), {} served, {} failed",
                    r.records,
                    r.quiet_p99_ms,
                    r.busy_p99_ms,
                    r.page_views_per_s,
                    r.quiet_records_per_s,
                    r.busy_records_per_s,
                    r.ingest_ratio(),
                    r.page_p50_ms,
                    r.page_p99_ms,
                    r.per_page_p99_ms
                        .iter()
                        .map(|(page, ms)| format!("{page} {ms:.0}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    r.pages_served,
                    r.pages_failed
                ),
            );
        }
        if let Some(r) = &self.desk_flood {
            row(
                "desk-flood",
                format!(
                    "1 of {} desks takes in {:.0} records/s against a limit of {}, {:.0}/s acknowledged; the others {:.0} → {:.0} records/s ({:.3}), ack p50 {:.2} → {:.2} ms, p99 {:.2} → {:.2} ms; with no limit {:.0}/s acknowledged and the others' p99 {:.2} ms",
                    r.desks,
                    r.flood_offered_per_s,
                    r.limit_per_s,
                    r.flood_acked_per_s,
                    r.quiet_records_per_s,
                    r.busy_records_per_s,
                    r.others_ratio(),
                    r.quiet_p50_ms,
                    r.busy_p50_ms,
                    r.quiet_p99_ms,
                    r.busy_p99_ms,
                    r.unlimited_acked_per_s,
                    r.unlimited_busy_p99_ms
                ),
            );
        }
        if let Some(r) = &self.history {
            row(
                "history",
                format!(
                    "{} records held: hub RSS {:.1} MiB while the desks ingest; serving {:.2} s after a restart, {:.2} s after SIGKILL; stats query p50 {:.2} ms, p99 {:.2} ms",
                    r.records,
                    r.hub_rss_mib,
                    r.restart_s,
                    r.recovery_s,
                    r.stats_p50_ms,
                    r.stats_p99_ms
                ),
            );
        }
        t
    }
}

impl DeskFlood {
    pub(crate) fn others_ratio(&self) -> f64 {
        self.busy_records_per_s / self.quiet_records_per_s.max(1e-9)
    }
}

impl DashboardLoad {
    /// Ingest's rate with page views over its rate without.
    pub(crate) fn ingest_ratio(&self) -> f64 {
        self.busy_records_per_s / self.quiet_records_per_s.max(1e-9)
    }
}

impl SigninFlood {
    pub(crate) fn during_ratio(&self) -> f64 {
        self.during_records_per_s / self.before_records_per_s.max(1e-9)
    }
}
