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
}

pub(crate) struct Fanout {
    pub desks: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
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

#[derive(Default)]
pub(crate) struct Results {
    pub raw_sled: Option<RawSled>,
    pub ingest: Option<Ingest>,
    pub fanout: Option<Fanout>,
    pub connections: Option<Connections>,
    pub catchup: Option<Catchup>,
    pub intake: Option<Intake>,
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
        if let Some(r) = &self.ingest {
            o.insert(
                "ingest".into(),
                json!({
                    "records_per_s": round(r.records_per_s, 0),
                    "ratio_to_raw": r.ratio_to_raw.map(|x| round(x, 3)),
                    "p50_ms": round(r.p50_ms, 2),
                    "p99_ms": round(r.p99_ms, 2),
                    "hub_rss_mib": round(r.hub_rss_mib, 1),
                }),
            );
        }
        if let Some(r) = &self.fanout {
            o.insert(
                "fanout".into(),
                json!({
                    "desks": r.desks,
                    "p50_ms": round(r.p50_ms, 2),
                    "p99_ms": round(r.p99_ms, 2),
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
        if let Some(r) = &self.ingest {
            let ratio = r
                .ratio_to_raw
                .map_or("n/a".to_string(), |x| format!("{x:.3}"));
            row(
                "ingest",
                format!(
                    "{:.0} records/s, {ratio} of raw sled, p50 {:.2} ms, p99 {:.2} ms, hub peak RSS {:.1} MiB",
                    r.records_per_s, r.p50_ms, r.p99_ms, r.hub_rss_mib
                ),
            );
        }
        if let Some(r) = &self.fanout {
            row(
                "fanout",
                format!(
                    "{} desks, publish to applied p50 {:.2} ms, p99 {:.2} ms",
                    r.desks, r.p50_ms, r.p99_ms
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
        t
    }
}
