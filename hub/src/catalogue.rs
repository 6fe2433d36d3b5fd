//! The procedure catalogue as a versioned log: the compiled-in seed
//! (`domain::Catalogue::seed`, CATALOGUE.md) is version 1 on the hub's first
//! start; every later change set (procedures added, amended under the same
//! code, or retired) is a new version, pushed to every desk like guidance.

use crate::push::Push;
use crate::storage::{StorageError, Store};
use domain::CatalogueEntry as Procedure;
use domain::{Catalogue, CatalogueError};

/// Most procedures in one change set, so that one update stays far below
/// the message limit.
pub const MAX_PROCEDURES: usize = 200;
/// Most procedures the catalogue may hold, retired ones included.
const MAX_CATALOGUE: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueLogError {
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Procedure(#[from] CatalogueError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> CatalogueLogError {
    CatalogueLogError::Invalid {
        field,
        message: message.into(),
    }
}

/// Writes the seed as version 1 when the log is empty; returns the version.
pub fn ensure_seeded(store: &dyn Store) -> Result<u64, StorageError> {
    let held = store.catalogue_version()?;
    if held > 0 {
        return Ok(held);
    }
    let seed: Vec<Procedure> = Catalogue::seed().iter().map(Procedure::from).collect();
    let version = store.append_catalogue(seed, String::new())?;
    tracing::info!(version, "procedure catalogue seeded");
    Ok(version)
}

/// The latest entry per code, in the order codes first appeared.
pub fn current(store: &dyn Store) -> Result<Vec<Procedure>, StorageError> {
    let mut order: Vec<Procedure> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    for update in store.catalogue_since(0)? {
        for p in update.procedures {
            match at.get(&p.code) {
                Some(&i) => order[i] = p,
                None => {
                    at.insert(p.code.clone(), order.len());
                    order.push(p);
                }
            }
        }
    }
    Ok(order)
}

/// (every code ever, the procedures in force), with the seed before the
/// log has any entry.
pub fn catalogues(store: &dyn Store) -> Result<(Catalogue, Catalogue), StorageError> {
    let entries = current(store)?;
    if entries.is_empty() {
        return Ok((Catalogue::seed(), Catalogue::seed()));
    }
    let build = |keep: &dyn Fn(&Procedure) -> bool| {
        let procs = entries
            .iter()
            .filter(|p| keep(p))
            .map(domain::Procedure::from)
            .collect();
        Catalogue::from_procedures(procs)
            .map_err(|e| StorageError::Corrupt(format!("stored catalogue: {e}")))
    };
    Ok((build(&|_| true)?, build(&|p| !p.retired)?))
}

/// Checks a change set against the current catalogue and appends it as a
/// new version, pushed at once when `push` is given.
pub fn put(
    store: &dyn Store,
    push: Option<&Push>,
    changes: Vec<Procedure>,
    actor: &str,
) -> Result<u64, CatalogueLogError> {
    if changes.is_empty() || changes.len() > MAX_PROCEDURES {
        return Err(invalid(
            "procedures",
            format!("a change holds 1 to {MAX_PROCEDURES} procedures"),
        ));
    }
    ensure_seeded(store)?;
    let mut merged = current(store)?;
    let mut checked = Vec::with_capacity(changes.len());
    let mut seen = std::collections::HashSet::new();
    for mut p in changes {
        p.code = p.code.trim().to_string();
        if !seen.insert(p.code.clone()) {
            return Err(CatalogueError::Duplicate { code: p.code }.into());
        }
        let held = merged.iter().position(|h| h.code == p.code);
        if p.retired {
            // Retiring needs only the code; the names stay as they were.
            let Some(i) = held else {
                return Err(invalid(
                    "code",
                    format!(
                        "`{}` is not in the catalogue, so it cannot be retired",
                        p.code.escape_debug()
                    ),
                ));
            };
            if merged[i].retired {
                return Err(invalid(
                    "retired",
                    format!("`{}` is already retired", p.code),
                ));
            }
            p = Procedure {
                retired: true,
                ..merged[i].clone()
            };
        } else if p.family.is_empty() {
            p.family = domain::catalogue::family_of(&p.code).to_string();
        }
        match held {
            Some(i) => merged[i] = p.clone(),
            None => merged.push(p.clone()),
        }
        checked.push(p);
    }
    if merged.len() > MAX_CATALOGUE {
        return Err(invalid(
            "procedures",
            format!("the catalogue may hold at most {MAX_CATALOGUE} procedures"),
        ));
    }
    // The whole catalogue must still be valid: codes, families, names, offices.
    let every = Catalogue::from_procedures(merged.iter().map(domain::Procedure::from).collect())?;
    let active = Catalogue::from_procedures(
        merged
            .iter()
            .filter(|p| !p.retired)
            .map(domain::Procedure::from)
            .collect(),
    )?;
    let codes: Vec<&str> = checked.iter().map(|p| p.code.as_str()).collect();
    let detail = codes.join(", ");
    let version = store.append_catalogue(checked, String::new())?;
    crate::audit::record(
        store,
        actor,
        "catalogue.put",
        &format!("v{version}"),
        &detail,
    )?;
    if let Some(p) = push {
        p.catalogue_published(version, every, active);
    }
    Ok(version)
}

/// Most bytes of a glossary file: far above the default (about 4 KiB), far
/// below what would slow a desk's index rebuild or a push.
pub const MAX_GLOSSARY_BYTES: usize = 64 * 1024;

/// The search glossary in force (TOML): the last one put, else the default
/// compiled into every desk.
pub fn glossary(store: &dyn Store) -> Result<String, StorageError> {
    let latest = store
        .catalogue_since(0)?
        .into_iter()
        .rev()
        .find(|u| !u.glossary.is_empty())
        .map(|u| u.glossary);
    Ok(latest.unwrap_or_else(|| domain::glossary::DEFAULT_GLOSSARY.to_string()))
}

/// Replaces the search glossary: a new catalogue version with no procedure
/// changes, pushed with the catalogue so that every desk rebuilds its search
/// index from the same synonyms.
pub fn put_glossary(
    store: &dyn Store,
    push: Option<&Push>,
    toml: String,
    actor: &str,
) -> Result<u64, CatalogueLogError> {
    if toml.len() > MAX_GLOSSARY_BYTES {
        return Err(invalid(
            "glossary",
            format!(
                "il glossario supera {} KiB / the glossary is larger than {} KiB",
                MAX_GLOSSARY_BYTES / 1024,
                MAX_GLOSSARY_BYTES / 1024
            ),
        ));
    }
    let parsed =
        domain::Glossary::from_toml(&toml).map_err(|e| invalid("glossary", e.to_string()))?;
    if parsed.groups.is_empty() {
        // An empty text would read as "unchanged" on the wire.
        return Err(invalid(
            "glossary",
            "il glossario non ha gruppi / the glossary has no groups",
        ));
    }
    ensure_seeded(store)?;
    let version = store.append_catalogue(Vec::new(), toml)?;
    crate::audit::record(
        store,
        actor,
        "glossary.put",
        &format!("v{version}"),
        &format!("{} groups", parsed.groups.len()),
    )?;
    if let Some(p) = push {
        let (every, active) = catalogues(store)?;
        p.catalogue_published(version, every, active);
    }
    Ok(version)
}

/// One procedure as the coordinator writes it in a catalogue TOML file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcedureEntry {
    code: String,
    #[serde(default)]
    name_it: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    retired: bool,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    procedure: Vec<ProcedureEntry>,
}

/// Reads a catalogue change file (`hub catalogue put FILE.toml`): one
/// `[[procedure]]` table per procedure added, amended or retired.
pub fn from_toml(text: &str) -> Result<Vec<Procedure>, CatalogueLogError> {
    let file: CatalogueFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .and_then(|r| text.get(..r.start))
            .map_or(1, |before| before.matches('\n').count() + 1);
        invalid("file", format!("line {line}: {}", e.message()))
    })?;
    Ok(file
        .procedure
        .into_iter()
        .map(|p| Procedure {
            family: String::new(),
            code: p.code,
            name_it: p.name_it,
            name_en: p.name_en,
            office: p.office,
            retired: p.retired,
        })
        .collect())
}
