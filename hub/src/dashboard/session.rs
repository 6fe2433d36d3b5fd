//! Dashboard sessions and sign-in throttling. A session exists only once a
//! coordinator has signed in (the sign-in form's CSRF protection keeps no
//! state, `login_token.rs`) and lives in the hub's store, under the SHA-256
//! of its cookie value, so that a restart keeps everyone signed in while a
//! copy of the store opens no session. The throttling is in memory.

use crate::storage::{blocking, SessionKey, StorageError, Store, StoredSession};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const COOKIE: &str = "rete_session";
/// Sessions end after this long without a request (seconds)...
const IDLE: u64 = 60 * 60;
/// ...and after this long in any case.
const ABSOLUTE: u64 = 10 * 60 * 60;
/// Sessions one coordinator keeps at most; the least recently used go.
/// Only a correct password makes a session, so with this bound nothing
/// done without one can grow the table.
const PER_USER: usize = 20;
/// A use is written back at most this often: every page view would
/// otherwise be a store write, for an idle limit counted in hours.
const TOUCH_EVERY: u64 = 60;
/// How often expired sessions are swept out of the store.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// A signed-in coordinator's session, as a request sees it.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) user: String,
    pub(crate) csrf: String,
}

/// The sessions in the store. Every call runs on the blocking pool: a put
/// or a delete waits for a flush.
pub(crate) struct Sessions {
    store: Arc<dyn Store>,
}

/// Compares secrets without telling by timing how much of them matched.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Wall-clock seconds, which mean the same after a restart.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Where a session ends unless used again.
fn expiry(created: u64, used: u64) -> u64 {
    used.saturating_add(IDLE)
        .min(created.saturating_add(ABSOLUTE))
}

/// The store key of a cookie value; `None` for a value this hub never
/// makes, which is refused without a store read.
fn key_of(id: &str) -> Option<SessionKey> {
    (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Sha256::digest(id.as_bytes()).into())
}

impl Sessions {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The live session under cookie value `id`, its use noted.
    pub(crate) async fn get(&self, id: &str) -> Result<Option<Session>, StorageError> {
        let Some(key) = key_of(id) else {
            return Ok(None);
        };
        blocking(&self.store, move |store| {
            let now = unix_now();
            let Some(s) = store.session(&key, now)? else {
                return Ok(None);
            };
            if now.saturating_sub(s.used) >= TOUCH_EVERY {
                store.touch_session(&key, now, expiry(s.created, now))?;
            }
            Ok(Some(Session {
                user: s.user,
                csrf: s.csrf,
            }))
        })
        .await
    }

    /// Starts a signed-in session for `user`; returns its cookie value.
    pub(crate) async fn create(&self, user: &str) -> Result<(String, Session), StorageError> {
        let id = runtime::secret::new_token();
        let key = key_of(&id)
            .ok_or_else(|| StorageError::Corrupt("a new session id is not 64 hex digits".into()))?;
        let now = unix_now();
        let stored = StoredSession {
            user: user.to_owned(),
            csrf: runtime::secret::new_token(),
            created: now,
            used: now,
            expires: expiry(now, now),
        };
        let session = Session {
            user: stored.user.clone(),
            csrf: stored.csrf.clone(),
        };
        blocking(&self.store, move |store| {
            store.put_session(&key, &stored, PER_USER)
        })
        .await?;
        Ok((id, session))
    }

    /// Ends the session under cookie value `id`, if there is one.
    pub(crate) async fn remove(&self, id: &str) -> Result<(), StorageError> {
        match key_of(id) {
            Some(key) => blocking(&self.store, move |store| store.delete_session(&key)).await,
            None => Ok(()),
        }
    }

    /// Deletes the expired sessions; returns how many are left.
    pub(crate) async fn sweep(&self) -> Result<usize, StorageError> {
        blocking(&self.store, |store| store.prune_sessions(unix_now())).await
    }
}

/// The cookie that carries a session id: never readable by scripts, never
/// sent over plain HTTP, never sent with a request another site started.
pub(crate) fn cookie(id: &str) -> String {
    format!("{COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict")
}

pub(crate) fn expired_cookie() -> String {
    format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub(crate) fn read_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Failed sign-ins in a sliding window, per client address (`ip:…`) and per
/// account (`user:…`). An address past the limit is refused until the
/// window moves; an account is only slowed down, never locked, so that
/// someone who knows a coordinator's name cannot keep them out.
pub(crate) struct Limiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Keys the limiter tracks at most, so that a flood of names cannot grow it.
const MAX_KEYS: usize = 10_000;

/// The longest an account's sign-in is slowed down after failures.
const MAX_ACCOUNT_DELAY: Duration = Duration::from_secs(8);

impl Limiter {
    pub(crate) fn new(window: Duration, max_failures: usize) -> Self {
        Self {
            window,
            max_failures,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Instant>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Recent failures of `key`, pruning the old ones.
    fn recent(&self, map: &mut HashMap<String, Vec<Instant>>, key: &str, now: Instant) -> usize {
        match map.get_mut(key) {
            Some(times) => {
                times.retain(|t| now - *t < self.window);
                times.len()
            }
            None => 0,
        }
    }

    /// Takes an attempt from the address `source`, counted as a failure at
    /// once (check and count in one step, so that concurrent attempts cannot
    /// all pass the check) until `succeeded` clears it. `Err(wait)` when the
    /// address is over the limit, or when the table is full of other
    /// addresses' recent failures: it fails closed.
    pub(crate) fn attempt(&self, source: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.lock();
        if self.recent(&mut map, source, now) >= self.max_failures {
            let oldest = map
                .get(source)
                .and_then(|t| t.iter().min().copied())
                .unwrap_or(now);
            return Err(self.window.saturating_sub(now - oldest));
        }
        if !map.contains_key(source) && map.len() >= MAX_KEYS {
            map.retain(|_, times| times.iter().any(|t| now - *t < self.window));
            if map.len() >= MAX_KEYS {
                return Err(self.window);
            }
        }
        map.entry(source.to_owned()).or_default().push(now);
        Ok(())
    }

    /// How long to wait before checking a password for `account`: nothing
    /// up to the limit, then doubling from a quarter of a second.
    pub(crate) fn account_delay(&self, account: &str) -> Duration {
        let now = Instant::now();
        let mut map = self.lock();
        let n = self.recent(&mut map, account, now);
        if n < self.max_failures {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(n - self.max_failures)
            .unwrap_or(u32::MAX)
            .min(8);
        (Duration::from_millis(250) * (1u32 << doublings)).min(MAX_ACCOUNT_DELAY)
    }

    /// A wrong password for `account` (the address was counted by `attempt`).
    pub(crate) fn account_failed(&self, account: &str) {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() < MAX_KEYS || map.contains_key(account) {
            map.entry(account.to_owned()).or_default().push(now);
        }
    }

    /// Takes back the attempt `attempt` counted for `source` (it was
    /// refused for another reason before any password was checked).
    pub(crate) fn forget_attempt(&self, source: &str) {
        if let Some(times) = self.lock().get_mut(source) {
            times.pop();
        }
    }

    pub(crate) fn succeeded(&self, keys: &[&str]) {
        let mut map = self.lock();
        for key in keys {
            map.remove(*key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_past_the_limit_and_an_account_only_slowed() {
        let l = Limiter::new(Duration::from_secs(60), 3);
        let (ip, user) = ("ip:127.0.0.1", "user:anna");
        for _ in 0..3 {
            assert!(l.attempt(ip).is_ok());
            l.account_failed(user);
        }
        assert!(l.attempt(ip).is_err(), "the address waits");
        assert!(
            l.attempt("ip:127.0.0.2").is_ok(),
            "another address does not"
        );
        assert_eq!(l.account_delay(user), Duration::from_millis(250));
        for _ in 0..20 {
            l.account_failed(user);
        }
        assert_eq!(l.account_delay(user), MAX_ACCOUNT_DELAY, "bounded");
        l.succeeded(&[ip, user]);
        assert!(l.attempt(ip).is_ok());
        assert_eq!(l.account_delay(user), Duration::ZERO);
    }

    #[test]
    fn a_full_table_fails_closed() {
        let l = Limiter::new(Duration::from_secs(60), 3);
        for n in 0..MAX_KEYS {
            assert!(l.attempt(&format!("ip:{n}")).is_ok());
        }
        assert!(l.attempt("ip:new").is_err());
        assert!(l.attempt("ip:7").is_ok(), "a known address keeps its count");
    }

    #[tokio::test]
    async fn sessions_round_trip_by_hash_and_cookie_reads() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store: Arc<dyn Store> =
            Arc::new(crate::storage::SledStore::open(dir.path(), 8 << 20).expect("open"));
        let s = Sessions::new(Arc::clone(&store));
        let (id, made) = s.create("anna").await.expect("create");
        let got = s.get(&id).await.expect("read").expect("live");
        assert_eq!((got.user.as_str(), got.csrf), ("anna", made.csrf));
        // The store holds the hash of the cookie value, never the value.
        let now = unix_now();
        assert!(store
            .session(&key_of(&id).expect("key"), now)
            .expect("read")
            .is_some());
        let mut raw = [0u8; 32];
        for (i, b) in raw.iter_mut().enumerate() {
            *b = u8::from_str_radix(&id[2 * i..2 * i + 2], 16).expect("hex");
        }
        assert!(store.session(&raw, now).expect("read").is_none());
        assert!(s.get("not-a-session").await.expect("read").is_none());
        s.remove(&id).await.expect("remove");
        assert!(s.get(&id).await.expect("read").is_none());
        assert_eq!(s.sweep().await.expect("sweep"), 0);
        assert_eq!(expiry(0, 0), IDLE);
        assert_eq!(expiry(0, ABSOLUTE), ABSOLUTE, "the absolute limit holds");
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; rete_session=xyz".parse().expect("header"),
        );
        assert_eq!(read_cookie(&h, COOKIE).as_deref(), Some("xyz"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd"));
    }
}
