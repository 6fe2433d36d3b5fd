//! The full seed content a desk holds after its first push: the seed
//! catalogue and the seed cards of `hub/seed/cards/` (read here, as the
//! desk agent cannot depend on the hub), and the labelled search queries.

use desk_agent::search::Content;
use domain::card::Card;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One seed card file, `CODE.LANG.toml`, read as the hub reads it.
fn card(path: &Path) -> Card {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    let stem = name.strip_suffix(".toml").expect("a .toml file");
    let (code, language) = stem.rsplit_once('.').expect("CODE.LANG.toml");
    let raw = std::fs::read_to_string(path).expect("seed card");
    domain::card::from_toml(&raw, code, language).expect("seed card parses")
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
