//! Push, xDS-style: the hub's current log versions, watched by every desk
//! stream. A publish only moves a version; each stream then reads what its
//! desk lacks and sends it on its own task, so a slow or stuck desk never
//! delays the others.

use crate::storage::{StorageError, Store};
use domain::Catalogue;
use proto::{CardUpdate, CatalogueUpdate, GuidanceUpdate, TemplateUpdate};
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// Most bytes of log entries in one update, so that a desk far behind gets
/// several messages well under the message size limit (4 MiB by default)
/// whatever its entries hold: a hundred Chinese translations at the body
/// limit are 5.7 MB, which counting entries let through in one message.
/// One entry is always sent, and is bounded on its own (a template body is
/// at most 20,000 characters, 80 KB).
///
/// Small, because a stream's encode buffer keeps the size of the largest
/// message it ever sent (tonic grows it, never shrinks it): with 1 MiB
/// updates, the seed cards pushed to a new desk left about 90 KiB in each
/// connection for good (`bench connections`: 136 KiB per idle desk, 77 KiB
/// with 16 KiB updates, 44 KiB when nothing is pushed).
pub const MAX_UPDATE_BYTES: usize = 16 << 10;

#[derive(Clone)]
pub struct Push {
    guidance: watch::Sender<u64>,
    templates: watch::Sender<u64>,
    catalogue: watch::Sender<u64>,
    cards: watch::Sender<u64>,
    /// Counts decisions on operators' reports: each desk stream, woken,
    /// sends its desk the statuses that changed.
    reports: watch::Sender<u64>,
    // What records are re-checked against (retired codes included, since a
    // desk may still hold visits recorded before the retirement) and what
    // guidance may name (active codes only).
    codes: Arc<RwLock<Codes>>,
}

#[derive(Clone)]
struct Codes {
    every: Arc<Catalogue>,
    active: Arc<Catalogue>,
}

fn advance(sender: &watch::Sender<u64>, version: u64) {
    sender.send_if_modified(|v| {
        let newer = version > *v;
        *v = (*v).max(version);
        newer
    });
}

impl Push {
    pub fn new(store: &dyn Store) -> Result<Self, StorageError> {
        let (every, active) = crate::catalogue::catalogues(store)?;
        Ok(Self {
            guidance: watch::Sender::new(store.guidance_version()?),
            templates: watch::Sender::new(store.template_version()?),
            catalogue: watch::Sender::new(store.catalogue_version()?),
            cards: watch::Sender::new(store.card_version()?),
            reports: watch::Sender::new(0),
            codes: Arc::new(RwLock::new(Codes {
                every: Arc::new(every),
                active: Arc::new(active),
            })),
        })
    }

    /// A new catalogue version: records and guidance are checked against
    /// it from now on, and every desk is sent it.
    pub fn catalogue_published(&self, version: u64, every: Catalogue, active: Catalogue) {
        *self.codes.write().unwrap_or_else(|e| e.into_inner()) = Codes {
            every: Arc::new(every),
            active: Arc::new(active),
        };
        advance(&self.catalogue, version);
    }

    /// Every code ever in the catalogue, retired ones included.
    pub fn recheck_catalogue(&self) -> Arc<Catalogue> {
        Arc::clone(&self.codes.read().unwrap_or_else(|e| e.into_inner()).every)
    }

    /// The procedures in force.
    pub fn active_catalogue(&self) -> Arc<Catalogue> {
        Arc::clone(&self.codes.read().unwrap_or_else(|e| e.into_inner()).active)
    }

    pub fn catalogue_version(&self) -> u64 {
        *self.catalogue.borrow()
    }

    pub fn watch_catalogue(&self) -> watch::Receiver<u64> {
        self.catalogue.subscribe()
    }

    pub fn guidance_published(&self, version: u64) {
        advance(&self.guidance, version);
    }

    pub fn template_published(&self, version: u64) {
        advance(&self.templates, version);
    }

    pub fn guidance_version(&self) -> u64 {
        *self.guidance.borrow()
    }

    pub fn template_version(&self) -> u64 {
        *self.templates.borrow()
    }

    pub fn watch_guidance(&self) -> watch::Receiver<u64> {
        self.guidance.subscribe()
    }

    pub fn watch_templates(&self) -> watch::Receiver<u64> {
        self.templates.subscribe()
    }

    pub fn card_published(&self, version: u64) {
        advance(&self.cards, version);
    }

    pub fn card_version(&self) -> u64 {
        *self.cards.borrow()
    }

    pub fn watch_cards(&self) -> watch::Receiver<u64> {
        self.cards.subscribe()
    }

    /// A report was decided: every connected desk looks whether it was one
    /// of its own.
    pub fn report_decided(&self) {
        self.reports.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn watch_reports(&self) -> watch::Receiver<u64> {
        self.reports.subscribe()
    }
}

/// Splits log entries into updates of at most `MAX_UPDATE_BYTES` of
/// entries (and at least one), each naming the last version it holds.
fn chunked<T: prost::Message, U>(
    entries: Vec<T>,
    held: u64,
    version_of: impl Fn(&T) -> u64,
    update: impl Fn(u64, Vec<T>) -> U,
) -> Vec<U> {
    let mut out = Vec::new();
    let mut chunk: Vec<T> = Vec::new();
    let mut bytes = 0;
    for entry in entries {
        // Each entry costs its length and a few bytes of framing.
        let len = entry.encoded_len() + 8;
        if !chunk.is_empty() && bytes + len > MAX_UPDATE_BYTES {
            let last = chunk.last().map_or(held, &version_of);
            out.push(update(last, std::mem::take(&mut chunk)));
            bytes = 0;
        }
        bytes += len;
        chunk.push(entry);
    }
    if !chunk.is_empty() {
        out.push(update(chunk.last().map_or(held, &version_of), chunk));
    }
    out
}

/// The updates that bring a desk holding guidance version `held` up to date.
pub fn guidance_updates(store: &dyn Store, held: u64) -> Result<Vec<GuidanceUpdate>, StorageError> {
    let items = wire(store.guidance_since(held)?);
    Ok(chunked(
        items,
        held,
        |i: &proto::GuidanceItem| i.version,
        |version, items| GuidanceUpdate { version, items },
    ))
}

/// The updates that bring a desk holding template version `held` up to date.
pub fn template_updates(store: &dyn Store, held: u64) -> Result<Vec<TemplateUpdate>, StorageError> {
    let templates = wire(store.templates_since(held)?);
    Ok(chunked(
        templates,
        held,
        |t: &proto::Template| t.version,
        |version, templates| TemplateUpdate { version, templates },
    ))
}

/// The updates that bring a desk holding card version `held` up to date.
pub fn card_updates(store: &dyn Store, held: u64) -> Result<Vec<CardUpdate>, StorageError> {
    let cards = wire(store.cards_since(held)?);
    Ok(chunked(
        cards,
        held,
        |c: &proto::ProcedureCard| c.version,
        |version, cards| CardUpdate { version, cards },
    ))
}

/// The updates that bring a desk holding catalogue version `held` up to
/// date: one per change set, each well under the message limit (a change
/// set holds at most `catalogue::MAX_PROCEDURES` procedures).
pub fn catalogue_updates(
    store: &dyn Store,
    held: u64,
) -> Result<Vec<CatalogueUpdate>, StorageError> {
    Ok(wire(store.catalogue_since(held)?))
}

/// Log entries as the desks receive them.
fn wire<D, W: From<D>>(entries: Vec<D>) -> Vec<W> {
    entries.into_iter().map(W::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn template(version: u64, chars: usize) -> proto::Template {
        proto::Template {
            key: "permesso.rinnovo.lavoro/documenti".into(),
            language: "zh".into(),
            body: "请".repeat(chars),
            version,
            ..Default::default()
        }
    }

    #[test]
    fn updates_are_bounded_in_bytes_whatever_their_entries_hold() {
        // A hundred Chinese translations at the body limit: 5.7 MB.
        let entries: Vec<_> = (1..=100).map(|v| template(v, 19_000)).collect();
        let updates = chunked(
            entries,
            0,
            |t| t.version,
            |version, templates| TemplateUpdate { version, templates },
        );
        assert!(updates.len() >= 6, "{} updates", updates.len());
        let mut next = 1;
        for u in &updates {
            // An entry larger than the bound travels alone.
            assert!(
                u.encoded_len() <= MAX_UPDATE_BYTES + 64 || u.templates.len() == 1,
                "{}",
                u.encoded_len()
            );
            for t in &u.templates {
                assert_eq!(t.version, next, "every entry once, in order");
                next += 1;
            }
            assert_eq!(u.version, next - 1);
        }
        assert_eq!(next, 101);
        // Small entries still travel many to a message.
        let small: Vec<_> = (1..=100).map(|v| template(v, 10)).collect();
        assert_eq!(chunked(small, 0, |t| t.version, |v, t| (v, t)).len(), 1);
        assert!(chunked(
            Vec::new(),
            7,
            |t: &proto::Template| t.version,
            |v, t| (v, t)
        )
        .is_empty());
    }
}
