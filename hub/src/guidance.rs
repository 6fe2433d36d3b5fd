//! Guidance: the Comune's procedural news (a Questura rule change, a new
//! form), kept as a versioned log. Publishing, amending (publishing again
//! under the same id) and retiring each append one entry; the push module
//! tells every connected desk at once.

use crate::audit;
use crate::push::Push;
use crate::storage::{StorageError, Store};
use domain::{Catalogue, GuidanceItem, Severity};

const MAX_TITLE: usize = 200;
const MAX_BODY: usize = 8_000;
const MAX_PROCEDURES: usize = 50;
/// Law references per item, and characters per reference.
const MAX_LAWS: usize = 20;
const MAX_LAW: usize = 200;
const MAX_ID: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum GuidanceError {
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no guidance item with id `{0}`")]
    NotFound(String),
    #[error("guidance item `{0}` is already retired")]
    AlreadyRetired(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> GuidanceError {
    GuidanceError::Invalid {
        field,
        message: message.into(),
    }
}

fn check_date(field: &'static str, value: &str) -> Result<chrono::NaiveDate, GuidanceError> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| invalid(field, "must be a date written YYYY-MM-DD"))
}

/// Checks an item as the coordinator sent it and fills what may be left out:
/// a new id, today's date.
pub fn validate(
    mut item: GuidanceItem,
    catalogue: &Catalogue,
    today: chrono::NaiveDate,
) -> Result<GuidanceItem, GuidanceError> {
    item.id = item.id.trim().to_string();
    if item.id.is_empty() {
        item.id = uuid::Uuid::now_v7().to_string();
    } else if item.id.len() > MAX_ID
        || !item
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(invalid(
            "id",
            format!("use 1 to {MAX_ID} characters among letters, digits, '-', '_' and '.'"),
        ));
    }
    item.title = item.title.trim().to_string();
    if item.title.is_empty() || item.title.chars().count() > MAX_TITLE {
        return Err(invalid(
            "title",
            format!("must be 1 to {MAX_TITLE} characters"),
        ));
    }
    if item.body.trim().is_empty() || item.body.chars().count() > MAX_BODY {
        return Err(invalid(
            "body",
            format!("must be 1 to {MAX_BODY} characters"),
        ));
    }
    if item.procedures.len() > MAX_PROCEDURES {
        return Err(invalid(
            "procedures",
            format!("at most {MAX_PROCEDURES} procedures per item"),
        ));
    }
    for code in &item.procedures {
        if !catalogue.contains(code) {
            return Err(invalid(
                "procedures",
                format!(
                    "`{}` is not a code of the procedure catalogue",
                    code.escape_debug()
                ),
            ));
        }
    }
    item.legal_basis = item
        .legal_basis
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if item.legal_basis.len() > MAX_LAWS
        || item.legal_basis.iter().any(|r| r.chars().count() > MAX_LAW)
    {
        return Err(invalid(
            "legal_basis",
            format!("at most {MAX_LAWS} law references of at most {MAX_LAW} characters each"),
        ));
    }
    let from = if item.effective_from.trim().is_empty() {
        item.effective_from = today.format("%Y-%m-%d").to_string();
        today
    } else {
        check_date("effective_from", item.effective_from.trim())?
    };
    if !item.expires_at.trim().is_empty() {
        let until = check_date("expires_at", item.expires_at.trim())?;
        if until < from {
            return Err(invalid("expires_at", "must not be before effective_from"));
        }
    }
    item.retired = false;
    item.version = 0;
    Ok(item)
}

/// The latest entry per id, in log order.
pub fn current(store: &dyn Store) -> Result<Vec<GuidanceItem>, StorageError> {
    let mut latest: std::collections::BTreeMap<String, GuidanceItem> = Default::default();
    for item in store.guidance_since(0)? {
        latest.insert(item.id.clone(), item);
    }
    let mut items: Vec<_> = latest.into_values().collect();
    items.sort_by_key(|i| i.version);
    Ok(items)
}

/// Publishes (or amends) an item and pushes it; returns the new version.
pub fn publish(
    store: &dyn Store,
    push: Option<&Push>,
    catalogue: &Catalogue,
    item: GuidanceItem,
    actor: &str,
) -> Result<u64, GuidanceError> {
    let item = validate(item, catalogue, chrono::Utc::now().date_naive())?;
    let amends = current(store)?.iter().any(|i| i.id == item.id);
    let (id, title) = (item.id.clone(), item.title.clone());
    let version = store.append_guidance(item)?;
    let action = if amends {
        "guidance.amend"
    } else {
        "guidance.publish"
    };
    audit::record(store, actor, action, &id, &format!("v{version}: {title}"))?;
    if let Some(p) = push {
        p.guidance_published(version);
    }
    Ok(version)
}

/// Retires an item (a new version that marks it retired) and pushes it.
pub fn retire(
    store: &dyn Store,
    push: Option<&Push>,
    id: &str,
    actor: &str,
) -> Result<u64, GuidanceError> {
    let mut item = current(store)?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| GuidanceError::NotFound(id.to_string()))?;
    if item.retired {
        return Err(GuidanceError::AlreadyRetired(id.to_string()));
    }
    item.retired = true;
    let version = store.append_guidance(item)?;
    audit::record(store, actor, "guidance.retire", id, &format!("v{version}"))?;
    if let Some(p) = push {
        p.guidance_published(version);
    }
    Ok(version)
}

/// A guidance item as the coordinator writes it in a TOML file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GuidanceFile {
    #[serde(default)]
    id: String,
    title: String,
    body: String,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    procedures: Vec<String>,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    expires_at: String,
    /// Law references, e.g. ["art. 5 D.Lgs. 286/1998"]: cards resting on
    /// them become due for review.
    #[serde(default)]
    legal_basis: Vec<String>,
}

/// Reads a guidance TOML file (`hub guidance publish FILE.toml`).
pub fn from_toml(text: &str) -> Result<GuidanceItem, GuidanceError> {
    let file: GuidanceFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .and_then(|r| text.get(..r.start))
            .map_or(1, |before| before.matches('\n').count() + 1);
        invalid("file", format!("line {line}: {}", e.message()))
    })?;
    let severity = match file.severity.as_deref().map(str::trim) {
        None | Some("") => Severity::Info,
        Some(name) => Severity::from_name(name)
            .ok_or_else(|| invalid("severity", "must be info, important or urgent"))?,
    };
    Ok(GuidanceItem {
        id: file.id,
        title: file.title,
        body: file.body,
        procedures: file.procedures,
        severity,
        effective_from: file.effective_from,
        expires_at: file.expires_at,
        version: 0,
        retired: false,
        legal_basis: file.legal_basis,
    })
}
