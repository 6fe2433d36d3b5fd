//! Lists the seed procedure cards (`seed/cards/CODE.LANG.toml`) for
//! `cards.rs` to compile in, so that adding a card file is all a new seed
//! card needs.
use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("seed/cards");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries = Vec::new();
    if dir.is_dir() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Some(stem) = name.strip_suffix(".toml") else {
                continue;
            };
            let Some((code, lang)) = stem.rsplit_once('.') else {
                continue;
            };
            println!("cargo:rerun-if-changed={}", path.display());
            entries.push(format!(
                "({code:?}, {lang:?}, include_str!({:?}))",
                path.display().to_string()
            ));
        }
    }
    entries.sort();
    let out = PathBuf::from(env::var("OUT_DIR")?).join("seed_cards.rs");
    fs::write(out, format!("[{}]", entries.join(",\n")))?;
    Ok(())
}
