//! The full seed content a desk holds after its first push: the seed
//! catalogue and the seed cards of `hub/seed/cards/` (read here, as the
//! desk agent cannot depend on the hub), and the labelled search queries.

use desk_agent::search::Content;
use domain::card::{Card, Cost, Item};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(v: &toml::Value, key: &str) -> String {
    v.get(key)
        .and_then(toml::Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn items(v: &toml::Value, key: &str) -> Vec<Item> {
    v.get(key)
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .map(|i| Item {
                    id: text(i, "id"),
                    text: text(i, "text"),
                    note: text(i, "note"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One seed card file, `CODE.LANG.toml`.
fn card(path: &Path) -> Card {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    let stem = name.strip_suffix(".toml").expect("a .toml file");
    let (code, language) = stem.rsplit_once('.').expect("CODE.LANG.toml");
    let raw = std::fs::read_to_string(path).expect("seed card");
    let v: toml::Value = toml::from_str(&raw).expect("seed card parses");
    let place = v
        .get("where")
        .cloned()
        .unwrap_or(toml::Value::Table(Default::default()));
    Card {
        code: code.to_string(),
        language: language.to_string(),
        summary: text(&v, "summary"),
        who_can_apply: text(&v, "who_can_apply"),
        steps: items(&v, "step"),
        documents: items(&v, "document"),
        mistakes: items(&v, "mistake"),
        costs: v
            .get("cost")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| Cost {
                        id: text(c, "id"),
                        cents: 0,
                        what: text(c, "what"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        office: text(&place, "office"),
        hours: text(&place, "hours"),
        booking: text(&place, "booking"),
        deadlines: text(&v, "deadlines"),
        waiting_time: text(&v, "waiting_time"),
        legal_basis: v
            .get("legal_basis")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        owner: text(&v, "owner"),
        ..Card::default()
    }
}

pub(crate) fn seed_content() -> Content {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("hub/seed/cards"))
        .expect("hub/seed/cards")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    Content {
        procedures: domain::Catalogue::seed().iter().cloned().collect(),
        cards: paths.iter().map(|p| card(p)).collect(),
        guidance: Vec::new(),
        templates: Vec::new(),
    }
}

// The bench reads only the query and its language; the recall test reads all.
#[allow(dead_code)]
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Labelled {
    pub(crate) query: String,
    pub(crate) code: String,
    pub(crate) lang: String,
    pub(crate) kind: String,
    pub(crate) held_out: bool,
}

pub(crate) fn labelled_queries() -> Vec<Labelled> {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/search_queries.jsonl"),
    )
    .expect("search_queries.jsonl");
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a labelled query"))
        .collect()
}
