//! The sign-in form's CSRF protection, with no server state: a signed
//! double-submit cookie. The form carries a random token; the cookie carries
//! the same token, its issue time and an HMAC-SHA256 of both under a key
//! only this hub holds (`dashboard.key` in the data folder, 0600, so that
//! forms stay valid across a restart). A visitor who has not signed in
//! costs the hub nothing to remember, and a cookie planted by someone else
//! cannot be made without the key; the `__Host-` prefix keeps a sibling
//! host from setting one at all.

use hmac::{Hmac, Mac};
use runtime::secret::{from_hex, to_hex as hex};
use sha2::Sha256;
use std::path::Path;

pub(crate) const COOKIE: &str = "__Host-rete_login";
/// How long a sign-in form stays valid.
const LIFE: u64 = 12 * 60 * 60;
/// A form is given a fresh token once its cookie has less than this left.
const RENEW_BEFORE: u64 = 60 * 60;
const KEY_FILE: &str = "dashboard.key";
/// Bound into every MAC, so that this key signs nothing else by accident.
const CONTEXT: &[u8] = b"rete-sportelli sign-in form v1\0";

/// The hub's key for sign-in cookies.
pub struct LoginKey([u8; 32]);

impl std::fmt::Debug for LoginKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginKey(..)")
    }
}

/// Why a sign-in POST was refused before any password was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    NoCookie,
    BadCookie,
    NoToken,
    Mismatch,
}

impl LoginKey {
    /// Where the key lives in a data folder.
    pub fn path(data: &Path) -> std::path::PathBuf {
        data.join(KEY_FILE)
    }

    /// The key in `data/dashboard.key`, made (random, 0600) on first use.
    pub fn load_or_create(data: &Path) -> std::io::Result<Self> {
        let path = Self::path(data);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = from_hex(text.trim()).and_then(|b| <[u8; 32]>::try_from(b).ok());
                bytes.map(Self).ok_or_else(|| {
                    std::io::Error::other(format!(
                        "{} is not 64 hexadecimal digits: delete it and start the hub \
                         again (open sign-in forms will need a reload)",
                        path.display()
                    ))
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use rand::Rng;
                let key: [u8; 32] = rand::rng().random();
                runtime::secret::write_secret(&path, hex(&key).as_bytes())?;
                Ok(Self(key))
            }
            Err(e) => Err(e),
        }
    }

    #[cfg(test)]
    pub(crate) fn fixed(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, token: &str, issued: u64) -> Hmac<Sha256> {
        // HMAC takes keys of any length; 32 bytes never fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(CONTEXT);
        mac.update(token.as_bytes());
        mac.update(b".");
        mac.update(issued.to_string().as_bytes());
        mac
    }

    /// A new form token and the cookie value that goes with it.
    pub(crate) fn issue(&self, now: u64) -> (String, String) {
        let token = runtime::secret::new_token();
        let tag = hex(&self.mac(&token, now).finalize().into_bytes());
        let cookie = format!("{token}.{now}.{tag}");
        (token, cookie)
    }

    /// The token of `cookie` if this hub signed it and it has not expired
    /// at `now`, with its issue time.
    fn verified<'c>(&self, cookie: &'c str, now: u64) -> Option<(&'c str, u64)> {
        let mut parts = cookie.splitn(3, '.');
        let (token, issued, tag) = (parts.next()?, parts.next()?, parts.next()?);
        let issued: u64 = issued.parse().ok()?;
        let tag = from_hex(tag)?;
        // `verify_slice` compares in constant time.
        self.mac(token, issued).verify_slice(&tag).ok()?;
        // Issued in the future means a clock step back: refused like an expired one.
        (issued <= now && now - issued < LIFE).then_some((token, issued))
    }

    /// The token a sign-in page shows: the cookie's own while it has time
    /// left (so that two open tabs both work), else a new one with the
    /// cookie to set.
    pub(crate) fn for_page(&self, cookie: Option<&str>, now: u64) -> (String, Option<String>) {
        match cookie.and_then(|c| self.verified(c, now)) {
            Some((token, issued)) if now - issued + RENEW_BEFORE < LIFE => (token.to_owned(), None),
            _ => {
                let (token, cookie) = self.issue(now);
                (token, Some(cookie))
            }
        }
    }

    /// The double-submit check: the cookie is this hub's and unexpired, and
    /// the form's token is the cookie's. Nothing is stored either way.
    pub(crate) fn check(
        &self,
        cookie: Option<&str>,
        presented: Option<&str>,
        now: u64,
    ) -> Result<(), Refusal> {
        let cookie = cookie.ok_or(Refusal::NoCookie)?;
        let (token, _) = self.verified(cookie, now).ok_or(Refusal::BadCookie)?;
        let presented = presented.ok_or(Refusal::NoToken)?;
        if super::session::same_secret(token, presented) {
            Ok(())
        } else {
            Err(Refusal::Mismatch)
        }
    }
}

/// The `Set-Cookie` value: sent back only over HTTPS, to this host, never
/// to scripts nor with requests other sites start.
pub(crate) fn cookie(value: &str) -> String {
    format!("{COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={LIFE}")
}

pub(crate) fn expired_cookie() -> String {
    format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_signed_unexpired_cookie_with_its_own_token_passes() {
        let key = LoginKey::fixed([7; 32]);
        let (token, cookie) = key.issue(1_000);
        assert_eq!(key.check(Some(&cookie), Some(&token), 1_010), Ok(()));
        assert_eq!(key.check(None, Some(&token), 1_010), Err(Refusal::NoCookie));
        assert_eq!(key.check(Some(&cookie), None, 1_010), Err(Refusal::NoToken));
        let (other, _) = key.issue(1_000);
        assert_eq!(
            key.check(Some(&cookie), Some(&other), 1_010),
            Err(Refusal::Mismatch)
        );
        // Unsigned, signed by another key, altered, expired.
        for (forged, at) in [
            (token.clone(), 1_010),
            (LoginKey::fixed([8; 32]).issue(1_000).1, 1_010),
            (cookie.replacen(".1000.", ".1001.", 1), 1_010),
            (cookie.clone(), 1_000 + LIFE),
            (cookie.clone(), 999),
        ] {
            assert_eq!(
                key.check(Some(&forged), Some(&token), at),
                Err(Refusal::BadCookie),
                "{forged} at {at}"
            );
        }
    }

    #[test]
    fn a_page_reuses_a_fresh_cookie_and_renews_an_old_one() {
        let key = LoginKey::fixed([7; 32]);
        let (token, cookie) = key.issue(1_000);
        assert_eq!(key.for_page(Some(&cookie), 1_100), (token.clone(), None));
        let (renewed, set) = key.for_page(Some(&cookie), 1_000 + LIFE - 10);
        assert_ne!(renewed, token);
        let set = set.expect("a new cookie");
        assert_eq!(key.check(Some(&set), Some(&renewed), 1_000 + LIFE), Ok(()));
    }

    #[test]
    fn the_key_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let first = LoginKey::load_or_create(dir.path()).expect("make");
        let again = LoginKey::load_or_create(dir.path()).expect("load");
        assert_eq!(first.0, again.0);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(dir.path().join(KEY_FILE), "short").expect("damage");
        assert!(LoginKey::load_or_create(dir.path()).is_err());
    }
}
