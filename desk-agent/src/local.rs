//! The desk's local copy of what the hub pushes (guidance now; templates and
//! the catalogue follow the same shape), in its own sled database, so that a
//! desk works fully offline with what it last received.
//!
//! | tree `guidance` key | value |
//! |---|---|
//! | item id | latest `GuidanceItem`, protobuf |
//! | `\0version` | guidance log version held (u64 BE) |

use prost::Message;
use proto::{GuidanceItem, GuidanceUpdate, Severity, Template, TemplateUpdate};
use std::path::Path;
use std::sync::Mutex;
use tokio::sync::watch;

const VERSION_KEY: &[u8] = b"\0version";

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("local copy storage failure: {0}")]
    Backend(#[from] sled::Error),
    #[error("{0}")]
    Refused(String),
}

pub struct LocalCopy {
    db: sled::Db,
    guidance: sled::Tree,
    /// Key `template key` 0x00 `language` → latest `Template`; `\0version`.
    templates: sled::Tree,
    // Applying is read-then-write; the sync task is the only writer, the lock
    // keeps that true if it ever is not.
    apply_lock: Mutex<()>,
    guidance_version: watch::Sender<u64>,
}

impl LocalCopy {
    pub fn open(path: &Path) -> Result<Self, LocalError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(8 << 20)
            .flush_every_ms(None)
            .open()?;
        let guidance = db.open_tree("guidance")?;
        let templates = db.open_tree("templates")?;
        let version = read_version(&guidance)?;
        Ok(Self {
            db,
            guidance,
            templates,
            apply_lock: Mutex::new(()),
            guidance_version: watch::Sender::new(version),
        })
    }

    pub fn guidance_version(&self) -> u64 {
        *self.guidance_version.borrow()
    }

    pub fn watch_guidance(&self) -> watch::Receiver<u64> {
        self.guidance_version.subscribe()
    }

    /// Stores a pushed update durably; only then may the desk answer
    /// `Applied`. An update older than what is held changes nothing.
    pub fn apply_guidance(&self, update: GuidanceUpdate) -> Result<u64, LocalError> {
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let held = read_version(&self.guidance)?;
        if update.version <= held {
            return Ok(held);
        }
        let mut batch = sled::Batch::default();
        for item in &update.items {
            if item.id.is_empty() || item.id.as_bytes().starts_with(b"\0") {
                return Err(LocalError::Refused(format!(
                    "guidance entry of version {} has no valid id",
                    item.version
                )));
            }
            if item.version > update.version {
                return Err(LocalError::Refused(format!(
                    "guidance item `{}` has version {} beyond the update's {}",
                    item.id, item.version, update.version
                )));
            }
            batch.insert(item.id.as_bytes(), item.encode_to_vec());
        }
        batch.insert(VERSION_KEY, &update.version.to_be_bytes());
        self.guidance.apply_batch(batch)?;
        self.db.flush()?;
        self.guidance_version.send_replace(update.version);
        Ok(update.version)
    }

    pub fn template_version(&self) -> Result<u64, LocalError> {
        read_version(&self.templates)
    }

    /// Stores a pushed template update durably, like `apply_guidance`.
    pub fn apply_templates(&self, update: TemplateUpdate) -> Result<u64, LocalError> {
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let held = read_version(&self.templates)?;
        if update.version <= held {
            return Ok(held);
        }
        let mut batch = sled::Batch::default();
        for t in &update.templates {
            if t.key.is_empty() || t.language.is_empty() || t.version > update.version {
                return Err(LocalError::Refused(format!(
                    "template entry of version {} is malformed",
                    t.version
                )));
            }
            batch.insert(template_key(&t.key, &t.language), t.encode_to_vec());
        }
        batch.insert(VERSION_KEY, &update.version.to_be_bytes());
        self.templates.apply_batch(batch)?;
        self.db.flush()?;
        Ok(update.version)
    }

    /// The desk's copy of a template, with `stale` set when the Italian
    /// reference moved on since the translation was made.
    pub fn template(&self, key: &str, language: &str) -> Result<Option<Template>, LocalError> {
        let Some(bytes) = self.templates.get(template_key(key, language))? else {
            return Ok(None);
        };
        let mut t = Template::decode(bytes.as_ref())
            .map_err(|e| LocalError::Refused(format!("stored template does not decode: {e}")))?;
        if language != REFERENCE_LANGUAGE {
            if let Some(r) = self.templates.get(template_key(key, REFERENCE_LANGUAGE))? {
                let r = Template::decode(r.as_ref()).map_err(|e| {
                    LocalError::Refused(format!("stored template does not decode: {e}"))
                })?;
                t.stale = t.reference_version < r.reference_version;
            }
        }
        Ok(Some(t))
    }

    /// The template keys the desk holds, each once, in order; only those of
    /// one procedure (`procedure/...`) when `procedure` is not empty.
    pub fn template_keys(&self, procedure: &str) -> Result<Vec<String>, LocalError> {
        let prefix = if procedure.is_empty() {
            Vec::new()
        } else {
            format!("{procedure}/").into_bytes()
        };
        let mut keys: Vec<String> = Vec::new();
        for kv in self.templates.scan_prefix(&prefix) {
            let (k, _) = kv?;
            let key = k.split(|b| *b == 0).next().unwrap_or_default();
            if key.is_empty() {
                continue;
            }
            let key = String::from_utf8_lossy(key);
            if keys.last().map(String::as_str) != Some(key.as_ref()) {
                keys.push(key.into_owned());
            }
        }
        Ok(keys)
    }

    /// The languages the desk holds for a template key.
    pub fn template_languages(&self, key: &str) -> Result<Vec<String>, LocalError> {
        let mut prefix = key.as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for kv in self.templates.scan_prefix(&prefix) {
            let (k, _) = kv?;
            out.push(String::from_utf8_lossy(&k[prefix.len()..]).into_owned());
        }
        Ok(out)
    }

    /// Items written after version `after` for a procedure (or all),
    /// retirements included, oldest first: what a watcher has not seen.
    pub fn guidance_changed_since(
        &self,
        after: u64,
        procedure: &str,
    ) -> Result<Vec<GuidanceItem>, LocalError> {
        let mut items: Vec<GuidanceItem> = self
            .stored_items()?
            .into_iter()
            .filter(|i| i.version > after)
            .filter(|i| procedure.is_empty() || i.procedures.iter().any(|p| p == procedure))
            .collect();
        items.sort_by_key(|i| i.version);
        Ok(items)
    }

    fn stored_items(&self) -> Result<Vec<GuidanceItem>, LocalError> {
        let mut items = Vec::new();
        for kv in self.guidance.iter() {
            let (k, v) = kv?;
            if k.as_ref() == VERSION_KEY {
                continue;
            }
            match GuidanceItem::decode(v.as_ref()) {
                Ok(item) => items.push(item),
                Err(_) => tracing::warn!("a stored guidance item does not decode; skipped"),
            }
        }
        Ok(items)
    }

    /// The guidance in force on `today`, for one procedure or all: urgent
    /// first, then the newest.
    pub fn guidance(
        &self,
        procedure: &str,
        today: chrono::NaiveDate,
    ) -> Result<Vec<GuidanceItem>, LocalError> {
        let today = today.format("%Y-%m-%d").to_string();
        let items: Vec<GuidanceItem> = self
            .stored_items()?
            .into_iter()
            .filter(|item| {
                let expired = !item.expires_at.is_empty() && item.expires_at < today;
                let concerns =
                    procedure.is_empty() || item.procedures.iter().any(|p| p == procedure);
                !item.retired && !expired && concerns
            })
            .collect();
        let mut items = items;
        items.sort_by(|a, b| {
            let rank = |i: &GuidanceItem| Severity::try_from(i.severity).unwrap_or(Severity::Info);
            rank(b).cmp(&rank(a)).then(b.version.cmp(&a.version))
        });
        Ok(items)
    }
}

/// Italian is the reference every translation follows.
pub const REFERENCE_LANGUAGE: &str = "it";

fn template_key(key: &str, language: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + language.len() + 1);
    k.extend_from_slice(key.as_bytes());
    k.push(0);
    k.extend_from_slice(language.as_bytes());
    k
}

fn read_version(tree: &sled::Tree) -> Result<u64, LocalError> {
    Ok(tree
        .get(VERSION_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map_or(0, u64::from_be_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, version: u64, severity: Severity, procedures: &[&str]) -> GuidanceItem {
        GuidanceItem {
            id: id.into(),
            title: format!("title {id}"),
            body: "body".into(),
            procedures: procedures.iter().map(|p| p.to_string()).collect(),
            severity: severity as i32,
            effective_from: "2026-01-01".into(),
            expires_at: String::new(),
            version,
            retired: false,
        }
    }

    #[test]
    fn updates_survive_a_reopen_and_old_updates_change_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        {
            let local = LocalCopy::open(&dir.path().join("local")).expect("open");
            let update = GuidanceUpdate {
                version: 2,
                items: vec![
                    item("a", 1, Severity::Info, &["permesso.rinnovo.lavoro"]),
                    item("b", 2, Severity::Urgent, &[]),
                ],
            };
            assert_eq!(local.apply_guidance(update).expect("apply"), 2);
            let stale = GuidanceUpdate {
                version: 1,
                items: vec![item("c", 1, Severity::Info, &[])],
            };
            assert_eq!(local.apply_guidance(stale).expect("stale"), 2);
        }
        let local = LocalCopy::open(&dir.path().join("local")).expect("reopen");
        assert_eq!(local.guidance_version(), 2);
        let all = local.guidance("", today).expect("list");
        let ids: Vec<_> = all.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"], "urgent first");
        let one = local
            .guidance("permesso.rinnovo.lavoro", today)
            .expect("list");
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn retired_and_expired_items_are_not_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = LocalCopy::open(&dir.path().join("local")).expect("open");
        let mut retired = item("r", 1, Severity::Info, &[]);
        retired.retired = true;
        let mut expired = item("e", 2, Severity::Info, &[]);
        expired.expires_at = "2026-01-31".into();
        let update = GuidanceUpdate {
            version: 3,
            items: vec![retired, expired, item("ok", 3, Severity::Info, &[])],
        };
        local.apply_guidance(update).expect("apply");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let ids: Vec<_> = local
            .guidance("", today)
            .expect("list")
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, ["ok"]);
    }

    #[test]
    fn an_update_with_a_bad_item_is_refused_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = LocalCopy::open(&dir.path().join("local")).expect("open");
        let update = GuidanceUpdate {
            version: 2,
            items: vec![
                item("a", 1, Severity::Info, &[]),
                item("", 2, Severity::Info, &[]),
            ],
        };
        assert!(matches!(
            local.apply_guidance(update),
            Err(LocalError::Refused(_))
        ));
        assert_eq!(local.guidance_version(), 0);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        assert!(local.guidance("", today).expect("list").is_empty());
    }
}
