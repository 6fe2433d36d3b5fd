//! Which desks are connected right now, and the switch that ends a desk's
//! stream when it is revoked or replaced by a newer connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Why the hub ended a stream from its side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kick {
    Revoked,
    Replaced,
}

struct Conn {
    id: u64,
    kick: watch::Sender<Option<Kick>>,
}

#[derive(Default)]
pub struct Connections {
    next_id: AtomicU64,
    live: Mutex<HashMap<String, Conn>>,
    last_seen: Mutex<HashMap<String, chrono::DateTime<chrono::Utc>>>,
    desk_side: Mutex<HashMap<String, DeskSide>>,
}

/// What the hub knows of a desk's side since it started: the top of its
/// outbox as last reported, and when a batch of it was last acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeskSide {
    pub outbox_last_seq: u64,
    pub last_ack: Option<chrono::DateTime<chrono::Utc>>,
}

/// Held by a stream while it runs; unregisters on drop, whatever ends it.
pub struct Registration {
    conns: Arc<Connections>,
    desk_id: String,
    id: u64,
    pub kicked: watch::Receiver<Option<Kick>>,
}

impl Connections {
    pub fn register(self: &Arc<Self>, desk_id: &str) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (kick, kicked) = watch::channel(None);
        let old = self
            .lock_live()
            .insert(desk_id.to_string(), Conn { id, kick });
        if let Some(old) = old {
            // One stream per desk: a desk that reconnects before the hub
            // noticed its old connection died must not be refused.
            let _ = old.kick.send(Some(Kick::Replaced));
        }
        self.touch(desk_id);
        Registration {
            conns: Arc::clone(self),
            desk_id: desk_id.to_string(),
            id,
            kicked,
        }
    }

    pub fn kick(&self, desk_id: &str, why: Kick) {
        if let Some(conn) = self.lock_live().get(desk_id) {
            let _ = conn.kick.send(Some(why));
        }
    }

    pub fn is_connected(&self, desk_id: &str) -> bool {
        self.lock_live().contains_key(desk_id)
    }

    pub fn connected_count(&self) -> usize {
        self.lock_live().len()
    }

    pub fn touch(&self, desk_id: &str) {
        self.lock_seen()
            .insert(desk_id.to_string(), chrono::Utc::now());
    }

    pub fn last_seen(&self, desk_id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        self.lock_seen().get(desk_id).copied()
    }

    /// Notes the top of a desk's outbox (0, from an older agent, is ignored).
    pub fn report_outbox(&self, desk_id: &str, outbox_last_seq: u64) {
        if outbox_last_seq > 0 {
            let mut sides = self.lock_sides();
            let side = sides.entry(desk_id.to_string()).or_default();
            side.outbox_last_seq = side.outbox_last_seq.max(outbox_last_seq);
        }
    }

    pub fn acked(&self, desk_id: &str) {
        self.lock_sides()
            .entry(desk_id.to_string())
            .or_default()
            .last_ack = Some(chrono::Utc::now());
    }

    pub fn desk_side(&self, desk_id: &str) -> DeskSide {
        self.lock_sides().get(desk_id).copied().unwrap_or_default()
    }

    fn lock_sides(&self) -> std::sync::MutexGuard<'_, HashMap<String, DeskSide>> {
        self.desk_side.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Conn>> {
        // A panic while holding this lock cannot leave the map half-updated
        // (every critical section is one insert or remove), so poisoning is
        // safe to ignore.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_seen(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, chrono::DateTime<chrono::Utc>>> {
        self.last_seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.conns.touch(&self.desk_id);
        let mut live = self.conns.lock_live();
        if live.get(&self.desk_id).is_some_and(|c| c.id == self.id) {
            live.remove(&self.desk_id);
        }
    }
}
