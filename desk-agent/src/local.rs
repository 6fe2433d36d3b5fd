//! The desk's local copy of what the hub pushes (guidance, templates, the
//! procedure catalogue) and the queue of the desk's own template proposals,
//! in its own sled database, so that a desk works fully offline with what it
//! last received.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `guidance` | item id | latest `GuidanceItem`, protobuf |
//! | `templates` | key 0x00 language | latest `Template`, protobuf |
//! | `catalogue` | procedure code | latest `Procedure`, protobuf |
//! | `cards` | code 0x00 language | latest `ProcedureCard`, protobuf |
//! | `proposals` | proposal id | `DeskProposal` waiting for the hub's ack |
//! | `reports` | report id | `DeskReportState`: the operator's report, sent or not, its status (`local/reports.rs`) |
//! | `search_misses` | see `local/misses.rs` | searches that found nothing, counted and queued |
//!
//! Each pushed tree also holds `\0version`, the log version held (u64 BE);
//! `catalogue` also holds `\0glossary`, the search glossary last pushed with
//! it (TOML); the default tree holds `logs_epoch`, the hub's epoch they
//! belong to.

mod reports;

pub use reports::MAX_KEPT_REPORTS;

use domain::{Catalogue, Glossary};
use prost::Message;
use proto::{
    CardUpdate, CatalogueUpdate, DeskProposal, GuidanceItem, GuidanceUpdate, Procedure,
    ProcedureCard, Severity, Template, TemplateUpdate,
};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{watch, Notify};

/// Most proposals waiting for the hub; past it a desk that has been offline
/// for long is told to wait rather than grow its queue without bound.
pub const MAX_QUEUED_PROPOSALS: usize = 100;

const VERSION_KEY: &[u8] = b"\0version";
const GLOSSARY_KEY: &[u8] = b"\0glossary";
const EPOCH_KEY: &[u8] = b"logs_epoch";

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("local copy storage failure: {0}")]
    Backend(#[from] sled::Error),
    #[error("{0}")]
    Refused(String),
    #[error("{MAX_QUEUED_PROPOSALS} proposals are already waiting for the hub; try again once it is reachable")]
    QueueFull,
    #[error("{MAX_KEPT_REPORTS} segnalazioni attendono ancora la risposta del Comune: riprovare quando l'hub avrà risposto / {MAX_KEPT_REPORTS} reports are still waiting for the hub; try again once it has answered")]
    ReportsFull,
}

pub struct LocalCopy {
    db: sled::Db,
    guidance: sled::Tree,
    /// Key `template key` 0x00 `language` → latest `Template`; `\0version`.
    templates: sled::Tree,
    catalogue: sled::Tree,
    /// Key `code` 0x00 `language` → latest `ProcedureCard`; `\0version`.
    cards: sled::Tree,
    proposals: sled::Tree,
    reports: sled::Tree,
    /// Searches that found nothing (`misses.rs`), and the lock that makes
    /// each count or packaging one step.
    misses: sled::Tree,
    misses_lock: Mutex<()>,
    /// The procedures in force: the last pushed catalogue, or the compiled-in
    /// seed before the first push.
    /// The catalogue in force with its version, swapped together once both
    /// are durable, so that no reader sees a new version with old codes.
    active: RwLock<(u64, Arc<Catalogue>)>,
    /// The search glossary pushed with the catalogue, or the compiled one.
    glossary: RwLock<Arc<Glossary>>,
    /// Woken when a proposal is queued, so the sync loop sends it at once.
    pub proposal_queued: Notify,
    /// Woken when a report is queued, so the sync loop sends it at once.
    pub report_queued: Notify,
    // Applying is read-then-write; the sync task is the only writer, the lock
    // keeps that true if it ever is not.
    apply_lock: Mutex<()>,
    guidance_version: watch::Sender<u64>,
}

impl LocalCopy {
    pub fn open(path: &Path) -> Result<Self, LocalError> {
        let db = runtime::embedded::open_sled(path, 8 << 20)?;
        let guidance = db.open_tree("guidance")?;
        let templates = db.open_tree("templates")?;
        let catalogue = db.open_tree("catalogue")?;
        let cards = db.open_tree("cards")?;
        let proposals = db.open_tree("proposals")?;
        let reports = db.open_tree("reports")?;
        let misses = db.open_tree(misses::TREE)?;
        let version = read_version(&guidance)?;
        let active = (
            read_version(&catalogue)?,
            Arc::new(active_catalogue(&catalogue)?),
        );
        let glossary = stored_glossary(&catalogue)?;
        Ok(Self {
            db,
            guidance,
            templates,
            catalogue,
            cards,
            proposals,
            reports,
            misses,
            misses_lock: Mutex::new(()),
            active: RwLock::new(active),
            glossary: RwLock::new(Arc::new(glossary)),
            proposal_queued: Notify::new(),
            report_queued: Notify::new(),
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

    pub fn catalogue_version(&self) -> u64 {
        self.catalogue_in_force().0
    }

    /// Forgets each pushed log the desk holds beyond the hub's version of
    /// it: a hub restored from a backup no longer has those entries and
    /// will give their versions to others, so the desk fetches the log
    /// again whole. Whether anything was forgotten.
    pub fn forget_beyond(&self, hub: &proto::Versions) -> Result<bool, LocalError> {
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut forgot = false;
        for (tree, hub_version) in [
            (&self.guidance, hub.guidance),
            (&self.templates, hub.template),
            (&self.catalogue, hub.catalogue),
            (&self.cards, hub.card),
        ] {
            if read_version(tree)? > hub_version {
                tree.clear()?;
                forgot = true;
            }
        }
        if forgot {
            self.db.flush()?;
            self.reread()?;
        }
        Ok(forgot)
    }

    /// Takes the hub's logs epoch (`Welcome.logs_epoch`). A desk that held
    /// another forgets every pushed log, since the hub (restored from a
    /// backup) may give their versions again with other content, and
    /// fetches them again. Whether anything was forgotten.
    pub fn adopt_epoch(&self, epoch: &str) -> Result<bool, LocalError> {
        if epoch.is_empty() {
            // A hub from before epochs.
            return Ok(false);
        }
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let held = self.db.get(EPOCH_KEY)?;
        if held.as_deref() == Some(epoch.as_bytes()) {
            return Ok(false);
        }
        // A desk's first epoch keeps what it holds: forget_beyond still
        // guards a copy from before epochs.
        let forget = held.is_some();
        if forget {
            for tree in [
                &self.guidance,
                &self.templates,
                &self.catalogue,
                &self.cards,
            ] {
                tree.clear()?;
            }
        }
        self.db.insert(EPOCH_KEY, epoch.as_bytes())?;
        self.db.flush()?;
        if forget {
            self.reread()?;
        }
        Ok(forget)
    }

    /// Makes what readers see follow the trees after they were cleared.
    fn reread(&self) -> Result<(), LocalError> {
        self.guidance_version
            .send_replace(read_version(&self.guidance)?);
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = (
            read_version(&self.catalogue)?,
            Arc::new(active_catalogue(&self.catalogue)?),
        );
        *self.glossary.write().unwrap_or_else(|e| e.into_inner()) =
            Arc::new(stored_glossary(&self.catalogue)?);
        Ok(())
    }

    /// The procedures in force, for intake and `ListProcedures`.
    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.catalogue_in_force().1
    }

    /// The version and the procedures in force, read together.
    pub fn catalogue_in_force(&self) -> (u64, Arc<Catalogue>) {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        (active.0, Arc::clone(&active.1))
    }

    /// Stores a pushed catalogue change set durably, like `apply_guidance`;
    /// a set that would leave an invalid catalogue is refused whole.
    pub fn apply_catalogue(&self, update: CatalogueUpdate) -> Result<u64, LocalError> {
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let held = read_version(&self.catalogue)?;
        if update.version <= held {
            return Ok(held);
        }
        let mut merged = stored_procedures(&self.catalogue)?;
        let mut batch = sled::Batch::default();
        for p in update.procedures {
            if p.code.is_empty() || p.code.as_bytes().starts_with(b"\0") {
                return Err(LocalError::Refused(format!(
                    "catalogue version {} holds a procedure without a code",
                    update.version
                )));
            }
            batch.insert(p.code.as_bytes(), p.encode_to_vec());
            match merged.iter().position(|m| m.code == p.code) {
                Some(i) => merged[i] = p,
                None => merged.push(p),
            }
        }
        let active = to_catalogue(&merged).map_err(|e| {
            LocalError::Refused(format!("catalogue version {}: {e}", update.version))
        })?;
        let glossary = if update.glossary.is_empty() {
            None
        } else {
            let mut g = Glossary::from_toml(&update.glossary).map_err(|e| {
                LocalError::Refused(format!("catalogue version {}: {e}", update.version))
            })?;
            g.version = update.version;
            batch.insert(GLOSSARY_KEY, update.glossary.as_bytes());
            Some(g)
        };
        batch.insert(VERSION_KEY, &update.version.to_be_bytes());
        self.catalogue.apply_batch(batch)?;
        self.db.flush()?;
        *self.active.write().unwrap_or_else(|e| e.into_inner()) =
            (update.version, Arc::new(active));
        if let Some(g) = glossary {
            *self.glossary.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(g);
        }
        Ok(update.version)
    }

    /// The search glossary in force: the last one pushed, else the
    /// compiled default.
    pub fn glossary(&self) -> Arc<Glossary> {
        Arc::clone(&self.glossary.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn card_version(&self) -> Result<u64, LocalError> {
        read_version(&self.cards)
    }

    /// Stores a pushed card update durably, like `apply_templates`.
    pub fn apply_cards(&self, update: CardUpdate) -> Result<u64, LocalError> {
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let held = read_version(&self.cards)?;
        if update.version <= held {
            return Ok(held);
        }
        let mut batch = sled::Batch::default();
        for c in &update.cards {
            if c.code.is_empty() || c.language.is_empty() || c.version > update.version {
                return Err(LocalError::Refused(format!(
                    "card entry of version {} is malformed",
                    c.version
                )));
            }
            batch.insert(template_key(&c.code, &c.language), c.encode_to_vec());
        }
        batch.insert(VERSION_KEY, &update.version.to_be_bytes());
        self.cards.apply_batch(batch)?;
        self.db.flush()?;
        Ok(update.version)
    }

    /// The desk's card of a procedure in one language.
    pub fn card(&self, code: &str, language: &str) -> Result<Option<domain::Card>, LocalError> {
        let Some(bytes) = self.cards.get(template_key(code, language))? else {
            return Ok(None);
        };
        ProcedureCard::decode(bytes.as_ref())
            .map(|c| Some(domain::Card::from(c)))
            .map_err(|e| LocalError::Refused(format!("stored card does not decode: {e}")))
    }

    /// The languages the desk holds a card in for a procedure, Italian first.
    pub fn card_languages(&self, code: &str) -> Result<Vec<String>, LocalError> {
        let mut prefix = code.as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for kv in self.cards.scan_prefix(&prefix) {
            let (k, _) = kv?;
            out.push(String::from_utf8_lossy(&k[prefix.len()..]).into_owned());
        }
        out.sort_by_key(|l| l != REFERENCE_LANGUAGE);
        Ok(out)
    }

    /// Queues a proposal durably until the hub acknowledges it.
    pub fn queue_proposal(&self, proposal: &DeskProposal) -> Result<(), LocalError> {
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.proposals.len() >= MAX_QUEUED_PROPOSALS {
            return Err(LocalError::QueueFull);
        }
        self.proposals
            .insert(proposal.proposal_id.as_bytes(), proposal.encode_to_vec())?;
        self.db.flush()?;
        drop(_one_writer);
        self.proposal_queued.notify_one();
        Ok(())
    }

    /// Proposals not yet acknowledged by the hub, oldest first.
    pub fn queued_proposals(&self) -> Result<Vec<DeskProposal>, LocalError> {
        let mut out = Vec::new();
        for v in self.proposals.iter().values() {
            match DeskProposal::decode(v?.as_ref()) {
                Ok(p) => out.push(p),
                Err(_) => tracing::warn!("a queued proposal does not decode; skipped"),
            }
        }
        Ok(out)
    }

    /// Not flushed on its own: a drop lost in a crash only resends a
    /// proposal the hub already holds, which it recognises by its id.
    pub fn drop_proposal(&self, id: &str) -> Result<(), LocalError> {
        self.proposals.remove(id.as_bytes())?;
        Ok(())
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
            .filter(|i| concerns(i, procedure))
            .collect();
        items.sort_by_key(|i| i.version);
        Ok(items)
    }

    /// One guidance item the desk holds, retired or not.
    pub fn guidance_item(&self, id: &str) -> Result<Option<GuidanceItem>, LocalError> {
        if id.as_bytes() == VERSION_KEY {
            return Ok(None);
        }
        let Some(bytes) = self.guidance.get(id.as_bytes())? else {
            return Ok(None);
        };
        GuidanceItem::decode(bytes.as_ref())
            .map(Some)
            .map_err(|e| LocalError::Refused(format!("stored guidance does not decode: {e}")))
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
                !item.retired && !expired && concerns(item, procedure)
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

fn stored_procedures(tree: &sled::Tree) -> Result<Vec<Procedure>, LocalError> {
    let mut out = Vec::new();
    for kv in tree.iter() {
        let (k, v) = kv?;
        // `\0version`, `\0glossary`: codes never start with a NUL.
        if k.starts_with(b"\0") {
            continue;
        }
        let p = Procedure::decode(v.as_ref())
            .map_err(|e| LocalError::Refused(format!("stored procedure does not decode: {e}")))?;
        out.push(p);
    }
    Ok(out)
}

/// The procedures in force among `procedures` (retired ones left out).
fn to_catalogue(procedures: &[Procedure]) -> Result<Catalogue, domain::CatalogueError> {
    Catalogue::from_procedures(
        procedures
            .iter()
            .filter(|p| !p.retired)
            .map(domain::Procedure::from)
            .collect(),
    )
}

/// The pushed catalogue, or the seed before the first push.
fn active_catalogue(tree: &sled::Tree) -> Result<Catalogue, LocalError> {
    if read_version(tree)? == 0 {
        return Ok(Catalogue::seed());
    }
    to_catalogue(&stored_procedures(tree)?)
        .map_err(|e| LocalError::Refused(format!("stored catalogue: {e}")))
}

/// The glossary stored with the catalogue. It was checked when pushed, so
/// one that no longer parses (a newer format read by an older agent) falls
/// back to the compiled default rather than stopping the desk.
fn stored_glossary(tree: &sled::Tree) -> Result<Glossary, LocalError> {
    let Some(text) = tree.get(GLOSSARY_KEY)? else {
        return Ok(Glossary::compiled());
    };
    let parsed = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| Glossary::from_toml(t).ok());
    Ok(parsed.unwrap_or_else(|| {
        tracing::warn!("the stored search glossary does not parse; the compiled one is used");
        Glossary::compiled()
    }))
}

fn read_version(tree: &sled::Tree) -> Result<u64, LocalError> {
    Ok(tree
        .get(VERSION_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map_or(0, u64::from_be_bytes))
}

/// Whether an item is for `procedure` (empty: every procedure). An item that
/// names no procedure is general news and concerns them all.
fn concerns(item: &GuidanceItem, procedure: &str) -> bool {
    procedure.is_empty()
        || item.procedures.is_empty()
        || item.procedures.iter().any(|p| p == procedure)
}

mod misses;
pub use misses::{MAX_BATCH_MISSES, MAX_QUERIES_PER_WEEK, MAX_QUEUED_BATCHES};

#[cfg(test)]
mod tests;
