//! The CLI's proposals, harmonisation and catalogue commands: through the
//! running hub's coordinator API, so that a change is pushed at once, or on
//! the store itself when no hub answers (then desks get it on their next
//! connection to a started hub).

use crate::config::{DataDir, HubConfig};
use crate::harmonise::Listing;
use crate::proposals::ProposalRow;
use crate::server;
use anyhow::Context;
use std::path::Path;

enum Way {
    Hub(super::Client),
    Store(crate::storage::SledStore),
}

async fn open(data: &Path) -> anyhow::Result<Way> {
    let config = HubConfig::load(data, std::env::vars()).with_context(|| {
        format!(
            "{} is not a hub data folder (run `hub init --data {0}`)",
            data.display()
        )
    })?;
    let dir = DataDir(data.to_path_buf());
    Ok(match super::connect(&dir, &config).await? {
        Some(client) => Way::Hub(client),
        None => Way::Store(server::open_store(&dir, &config)?),
    })
}

fn refused(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}", s.message())
}

pub async fn proposals(data: &Path) -> anyhow::Result<Vec<ProposalRow>> {
    let list = match open(data).await? {
        Way::Hub(mut c) => {
            c.list_proposals(proto::ListProposalsRequest {})
                .await
                .map_err(refused)?
                .into_inner()
                .proposals
        }
        Way::Store(store) => crate::proposals::list(&store)?,
    };
    Ok(list.into_iter().map(ProposalRow::from).collect())
}

/// Returns the new template version when the proposal was accepted.
pub async fn decide(data: &Path, id: &str, accept: bool) -> anyhow::Result<Option<u64>> {
    match open(data).await? {
        Way::Hub(mut c) => {
            let v = c
                .decide_proposal(proto::DecideProposalRequest {
                    id: id.into(),
                    accept,
                })
                .await
                .map_err(refused)?
                .into_inner()
                .template_version;
            Ok((accept && v > 0).then_some(v))
        }
        Way::Store(store) => Ok(crate::proposals::decide(
            &store,
            None,
            id,
            accept,
            crate::audit::CLI,
        )?),
    }
}

pub async fn templates(data: &Path) -> anyhow::Result<serde_json::Value> {
    match open(data).await? {
        Way::Hub(mut c) => {
            let json = c
                .list_templates(proto::ListTemplatesRequest {})
                .await
                .map_err(refused)?
                .into_inner()
                .listing_json;
            Ok(serde_json::from_str(&json)?)
        }
        Way::Store(store) => {
            let listing: Listing = crate::harmonise::listing(&store)?;
            Ok(serde_json::to_value(&listing)?)
        }
    }
}

pub async fn put_catalogue(data: &Path, changes: Vec<proto::Procedure>) -> anyhow::Result<u64> {
    match open(data).await? {
        Way::Hub(mut c) => Ok(c
            .put_catalogue(proto::PutCatalogueRequest {
                procedures: changes,
            })
            .await
            .map_err(refused)?
            .into_inner()
            .version),
        Way::Store(store) => Ok(crate::catalogue::put(&store, None, changes)?),
    }
}

pub fn print_proposals(rows: &[ProposalRow]) {
    if rows.is_empty() {
        println!("nessuna proposta / no proposals");
    }
    for p in rows {
        println!(
            "{}  {}  {} [{}]  sportello / desk {}  somiglianza / similarity {:.2}",
            p.id, p.state, p.key, p.language, p.desk_id, p.similarity
        );
        println!("    {}", p.diff.replace('\n', "\n    "));
    }
}

/// The listing as a translator reads it: one line per key and language.
pub fn print_templates(listing: &serde_json::Value) {
    let empty = Vec::new();
    for t in listing["templates"].as_array().unwrap_or(&empty) {
        let current = t["rollout"]["current"].as_array().map_or(0, Vec::len);
        let behind = t["rollout"]["behind"].as_array().map_or(0, Vec::len);
        println!(
            "{}  v{}  sportelli aggiornati / desks current {current}/{}",
            t["key"].as_str().unwrap_or_default(),
            t["current_version"],
            current + behind
        );
        for l in t["languages"].as_array().unwrap_or(&empty) {
            println!(
                "    {:<6} {:<10} v{}",
                l["language"].as_str().unwrap_or_default(),
                l["state"].as_str().unwrap_or_default(),
                l["version"]
            );
            if let Some(diff) = l["reference_diff"].as_str() {
                println!("           {diff}");
            }
        }
        let missing: Vec<&str> = t["missing"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter_map(|m| m.as_str())
            .collect();
        if !missing.is_empty() {
            println!("    mancano / missing: {}", missing.join(", "));
        }
    }
}
