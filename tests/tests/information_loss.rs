//! Recoding on a realistic hub: a year of visits from ten desks, with the
//! skewed nationalities a Brescia desk sees (a few countries large, a long
//! tail), sent over the real federation port; the standard tables with
//! nationality or age band, every closed month and the year, through
//! `hub stats`. The share of visits hidden drops against the same release
//! without recoding (the same `domain` function with recoding off, on the
//! same counts), and no published figure is below 5 or untrue.
//!
//! Run with `--no-capture` to read the numbers.

use domain::disclosure::{self, CalendarPeriod, Options, ReleaseInput};
use e2e::{path, run_ok, Hub};
use proto::federation_client::FederationClient;
use proto::{desk_message, hub_message, AnonymisedRecord, DeskMessage, Hello, RecordBatch};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// Nationalities at Brescia's desks, largest first; weights fall as
/// 1/rank, so the first few hold most visits and the tail is small.
const NATIONALITIES: [&str; 40] = [
    "RO", "MA", "AL", "IN", "PK", "UA", "CN", "SN", "EG", "BD", "GH", "NG", "LK", "MD", "TN", "BR",
    "PE", "PH", "BF", "CI", "ML", "MK", "RS", "BA", "EC", "CO", "DO", "CU", "TR", "IR", "SY", "AF",
    "ER", "ET", "SO", "GM", "GN", "TG", "VE", "GE",
];
const OUTCOMES: [&str; 6] = [
    "answered",
    "referred",
    "appointment_booked",
    "documents_checked",
    "follow_up_needed",
    "out_of_scope",
];
const AGE_BANDS: [(&str, u32); 7] = [
    ("0-17", 4),
    ("18-24", 12),
    ("25-34", 30),
    ("35-44", 28),
    ("45-54", 16),
    ("55-64", 7),
    ("65+", 3),
];
const PROCEDURES: [&str; 10] = [
    "permesso.rinnovo.lavoro",
    "permesso.kit_postale",
    "ricongiungimento.nulla_osta",
    "cittadinanza.residenza",
    "permesso.ue_lungo_periodo",
    "anagrafe.iscrizione",
    "fisco.codice_fiscale",
    "sanita.iscrizione_ssr",
    "lavoro.decreto_flussi",
    "welfare.assegno_unico",
];
const DESKS: usize = 10;
/// Closed weeks of 2026 when the test was written (its 11 closed months).
const WEEKS: u32 = 48;

fn weighted<'a>(rng: &mut StdRng, items: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (v, w) in items {
        if x < *w {
            return v;
        }
        x -= w;
    }
    items.first().map_or("", |i| i.0)
}

fn records(desk: &str, desk_index: usize, rng: &mut StdRng) -> Vec<AnonymisedRecord> {
    let nationalities: Vec<(&str, u32)> = NATIONALITIES
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, 1000 / (i as u32 + 1)))
        .collect();
    let outcomes: Vec<(&str, u32)> = OUTCOMES
        .iter()
        .zip([40, 20, 15, 12, 8, 5])
        .map(|(o, w)| (*o, w))
        .collect();
    let procedures: Vec<(&str, u32)> = PROCEDURES
        .iter()
        .zip([30, 15, 10, 10, 8, 7, 6, 5, 5, 4])
        .map(|(p, w)| (*p, w))
        .collect();
    // Desks differ in size: 10 to 37 visits a week.
    let per_week = 10 + 3 * desk_index;
    let mut out = Vec::new();
    for week in 1..=WEEKS {
        for _ in 0..per_week {
            let outcome = weighted(rng, &outcomes);
            out.push(AnonymisedRecord {
                id: uuid::Uuid::now_v7().to_string(),
                desk_id: desk.into(),
                week: format!("2026-W{week:02}"),
                procedure: weighted(rng, &procedures).into(),
                channel: "walk_in".into(),
                language: "it".into(),
                outcome: outcome.into(),
                referral: if outcome == "referred" {
                    "questura".into()
                } else {
                    String::new()
                },
                duration_band: "15-30".into(),
                age_band: weighted(rng, &AGE_BANDS).into(),
                sex: if rng.random_bool(0.5) { "F" } else { "M" }.into(),
                nationality: weighted(rng, &nationalities).into(),
                ..Default::default()
            });
        }
    }
    out
}

/// Plays desk `desk` over the federation port: Hello, then the records in
/// batches, each waited for until acknowledged.
async fn send(
    hub: &Hub,
    bundle: &std::path::Path,
    desk: &str,
    all: &[AnonymisedRecord],
) -> anyhow::Result<()> {
    let mut client = FederationClient::new(e2e::desk_channel(hub, bundle).await?);
    let (tx, rx) = mpsc::channel(4);
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Hello(Hello {
            desk_id: desk.into(),
            ..Default::default()
        })),
    })
    .await?;
    let mut inbound = client.sync(ReceiverStream::new(rx)).await?.into_inner();
    let mut seq = 1u64;
    for chunk in all.chunks(500) {
        tx.send(DeskMessage {
            body: Some(desk_message::Body::Batch(RecordBatch {
                first_seq: seq,
                records: chunk.to_vec(),
                ..Default::default()
            })),
        })
        .await?;
        seq += chunk.len() as u64;
        loop {
            match inbound.message().await? {
                Some(proto::HubMessage {
                    body: Some(hub_message::Body::Ack(ack)),
                }) if ack.up_to_seq + 1 >= seq => {
                    anyhow::ensure!(ack.rejected.is_empty(), "refused: {:?}", ack.rejected);
                    break;
                }
                Some(_) => continue,
                None => anyhow::bail!("the hub closed the stream"),
            }
        }
    }
    Ok(())
}

/// The count cells the hub's release works from: week first, then the
/// values of `dims` (canonical order).
/// Count cells: the week and one value per dimension, with the count.
type Cells = Vec<(Vec<String>, u64)>;

fn cells(all: &[AnonymisedRecord], dims: &[&str]) -> Cells {
    let mut out: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for r in all {
        let mut key = vec![r.week.clone()];
        for d in dims {
            key.push(match *d {
                "nationality" => r.nationality.clone(),
                "outcome" => r.outcome.clone(),
                "age_band" => r.age_band.clone(),
                "family" => domain::catalogue::family_of(&r.procedure).to_string(),
                _ => String::new(),
            });
        }
        *out.entry(key).or_default() += 1;
    }
    out.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recoding_hides_fewer_visits_on_a_realistic_year_and_discloses_nothing(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let mut rng = StdRng::seed_from_u64(2026);
    let mut all = Vec::new();
    for i in 0..DESKS {
        let desk = format!("sportello-{i:02}");
        let bundle = hub.add_desk(&desk);
        let records = records(&desk, i, &mut rng);
        send(&hub, &bundle, &desk, &records).await?;
        all.extend(records);
    }
    hub.terminate()?;
    println!(
        "{} visits from {DESKS} desks over weeks 1–{WEEKS} of 2026",
        all.len()
    );

    let tables: [&[&str]; 3] = [
        &["nationality", "outcome"],
        &["family", "nationality"],
        &["age_band", "outcome"],
    ];
    let mut periods: Vec<String> = (1..=11).map(|m| format!("2026-{m:02}")).collect();
    periods.push("2026".into());
    let (mut before_hidden, mut after_hidden, mut visits) = (0u64, 0u64, 0u64);
    for dims in tables {
        let by = dims.join(",");
        let canonical: Vec<String> = dims.iter().map(|d| (*d).to_string()).collect();
        let counts = cells(&all, dims);
        let one_way: Vec<(Vec<String>, Cells)> = dims
            .iter()
            .filter(|d| disclosure::SENSITIVE_DIMENSIONS.contains(d))
            .map(|d| (vec![(*d).to_string()], cells(&all, &[*d])))
            .collect();
        let empty = BTreeMap::new();
        let (mut b, mut a, mut v) = (0u64, 0u64, 0u64);
        let mut recoded = String::new();
        for period in &periods {
            let t: serde_json::Value = serde_json::from_str(&run_ok(
                "hub",
                &[
                    "stats",
                    "--data",
                    path(&hub.data),
                    "--by",
                    &by,
                    "--period",
                    period,
                    "--json",
                ],
            ))?;
            // No figure below 5 where nationality or age band is counted.
            for r in t["rows"].as_array().into_iter().flatten() {
                if let Some(n) = r["count"].as_u64() {
                    assert!(n == 0 || n >= 5, "{by} {period}: {r}");
                }
            }
            // Every visit outside a published cell is hidden (the total too
            // may be hidden, so it comes from the records).
            let weeks = CalendarPeriod::parse(period)?.weeks();
            let total = all.iter().filter(|r| weeks.contains(&r.week)).count() as u64;
            let shown: u64 = t["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["count"].as_u64())
                .sum();
            let after = total - shown;
            if let Some(h) = t["hidden_visits"].as_u64() {
                assert_eq!(h, after, "{by} {period}: hidden_visits");
            }
            // Before recoding: the same release, margins agreeing with the
            // one-way tables as the hub's do, with nothing recoded.
            let calendar = CalendarPeriod::parse(period)?;
            let no_recoding = |dims, cells, margins| ReleaseInput {
                dims,
                cells,
                period: calendar,
                earlier: &empty,
                legacy: &[],
                current_week: "2027-W01",
                recode: false,
                detail: None,
                options: Options::default(),
                margins,
            };
            let margins: Vec<ReleaseInput<'_>> = one_way
                .iter()
                .map(|(d, c)| no_recoding(d.as_slice(), c.as_slice(), &[]))
                .collect();
            let released = disclosure::release(&no_recoding(&canonical, &counts, &margins))?;
            let before = total
                - released
                    .table
                    .rows()
                    .iter()
                    .filter_map(|(_, c)| c.published())
                    .sum::<u64>();
            b += before;
            a += after;
            v += total;
            recoded = t["recoded"].as_str().unwrap_or("").to_string();
        }
        println!(
            "{by}: 11 months and the year, {v} visits: hidden before recoding {:.1}%, after {:.1}% (recoded: {recoded})",
            100.0 * b as f64 / v.max(1) as f64,
            100.0 * a as f64 / v.max(1) as f64,
        );
        before_hidden += b;
        after_hidden += a;
        visits += v;
    }
    let (before, after) = (
        before_hidden as f64 / visits.max(1) as f64,
        after_hidden as f64 / visits.max(1) as f64,
    );
    println!(
        "standard tables: hidden before recoding {:.1}%, after {:.1}%",
        100.0 * before,
        100.0 * after
    );
    assert!(
        after < before,
        "recoding must hide less: {before} → {after}"
    );
    Ok(())
}
