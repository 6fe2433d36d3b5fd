//! Sessions and sign-in throttling, in memory: a restart signs everyone out,
//! which is the safe side. A session exists before sign-in too, so that the
//! sign-in form carries a synchronizer CSRF token like every other form.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) const COOKIE: &str = "rete_session";
/// Sessions end after this long without a request...
const IDLE: Duration = Duration::from_secs(60 * 60);
/// ...and after this long in any case.
const ABSOLUTE: Duration = Duration::from_secs(10 * 60 * 60);
/// Bounds memory whatever a client does; beyond it the least recently used go.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) user: Option<String>,
    pub(crate) csrf: String,
    created: Instant,
    used: Instant,
}

#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

pub(crate) fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets without telling by timing how much of them matched.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // Each critical section is a single map operation; a poisoned lock
        // cannot hold a half-made change.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live session under `id`, marked as used.
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.lock();
        let now = Instant::now();
        let live = map
            .get(id)
            .is_some_and(|s| now - s.used < IDLE && now - s.created < ABSOLUTE);
        if !live {
            map.remove(id);
            return None;
        }
        let s = map.get_mut(id)?;
        s.used = now;
        Some(s.clone())
    }

    /// Starts a session (signed in or not) and returns its id.
    pub(crate) fn create(&self, user: Option<String>) -> (String, Session) {
        let now = Instant::now();
        let session = Session {
            user,
            csrf: random_token(),
            created: now,
            used: now,
        };
        let id = random_token();
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| now - s.used < IDLE && now - s.created < ABSOLUTE);
        }
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(id.clone(), session.clone());
        (id, session)
    }

    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(id);
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

    #[test]
    fn sessions_round_trip_and_cookie_reads() {
        let s = Sessions::default();
        let (id, made) = s.create(Some("anna".into()));
        let got = s.get(&id).expect("live");
        assert_eq!(got.csrf, made.csrf);
        s.remove(&id);
        assert!(s.get(&id).is_none());
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; rete_session=xyz".parse().expect("header"),
        );
        assert_eq!(read_cookie(&h, COOKIE).as_deref(), Some("xyz"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd"));
    }
}
