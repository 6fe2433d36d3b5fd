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

/// Failed sign-ins per client address and per user name in a sliding
/// window; past the limit every attempt is refused until the window moves.
pub(crate) struct Limiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Keys the limiter tracks at most, so that a flood of names cannot grow it.
const MAX_KEYS: usize = 10_000;

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

    /// `Some(wait)` when any of `keys` is over the limit.
    pub(crate) fn blocked(&self, keys: &[String]) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.lock();
        let mut wait = None;
        for key in keys {
            if let Some(times) = map.get_mut(key) {
                times.retain(|t| now - *t < self.window);
                if times.len() >= self.max_failures {
                    let oldest = times.iter().min().copied().unwrap_or(now);
                    let w = self.window.saturating_sub(now - oldest);
                    wait = Some(wait.map_or(w, |x: Duration| x.max(w)));
                }
            }
        }
        wait
    }

    pub(crate) fn failed(&self, keys: &[String]) {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| times.iter().any(|t| now - *t < self.window));
        }
        for key in keys {
            if map.len() < MAX_KEYS || map.contains_key(key) {
                map.entry(key.clone()).or_default().push(now);
            }
        }
    }

    pub(crate) fn succeeded(&self, keys: &[String]) {
        let mut map = self.lock();
        for key in keys {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_the_limit_and_forgets_on_success() {
        let l = Limiter::new(Duration::from_secs(60), 3);
        let keys = vec!["ip:127.0.0.1".to_string()];
        for _ in 0..3 {
            assert!(l.blocked(&keys).is_none());
            l.failed(&keys);
        }
        assert!(l.blocked(&keys).is_some());
        l.succeeded(&keys);
        assert!(l.blocked(&keys).is_none());
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
