//! Coordinator accounts for the dashboard: names with Argon2id hashes, in
//! the store (`storage::UserDirectory`), so that every replica of a hub on
//! a shared store signs in the same coordinators. `hub user add` goes
//! through the running hub's coordinator API, or on the store when no hub
//! runs. A hub from before kept them in `users.json` in its data folder:
//! [`import_file`] moves them into the store once, at open.

use crate::config::DataDir;
use crate::storage::Store;
use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};

pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;
const MAX_NAME: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("invalid user name `{0}`: use 1 to 32 characters among a-z, 0-9, '.', '_' and '-', starting with a letter")]
    InvalidName(String),
    #[error("the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")]
    InvalidPassword,
    #[error("user `{0}` already exists")]
    Exists(String),
    #[error("the dashboard accounts in {path} are damaged: {message}")]
    Corrupt { path: String, message: String },
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("cannot read or write the users file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

pub use crate::storage::User;

pub fn valid_name(name: &str) -> bool {
    name.len() <= MAX_NAME
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

pub fn check_name(name: &str) -> Result<(), UsersError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(UsersError::InvalidName(name.chars().take(40).collect()))
    }
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, UsersError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&chars) {
        return Err(UsersError::InvalidPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Hash(e.to_string()))
}

/// The accounts of a `users.json`, as hubs before the store kept them.
#[derive(Debug, Default, Serialize, Deserialize)]
struct UsersFile {
    users: Vec<User>,
}

fn load(dir: &DataDir) -> Result<Option<UsersFile>, UsersError> {
    let path = dir.users();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| UsersError::Corrupt {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Moves the accounts of a `users.json` (a hub from before, or a restored
/// backup of one) into a store that holds none, then renames the file
/// `users.json.imported`, so that it is read once and a later account
/// added on the store is never shadowed by it. A store that already holds
/// accounts is left as it is, and the file too, with a warning. How many
/// accounts came in.
pub fn import_file(store: &dyn Store, dir: &DataDir) -> Result<usize, UsersError> {
    let Some(file) = load(dir)? else {
        return Ok(0);
    };
    if !store.users()?.is_empty() {
        tracing::warn!(
            file = %dir.users().display(),
            "the store holds dashboard accounts already; the users file is not read"
        );
        return Ok(0);
    }
    let mut imported = 0;
    for user in &file.users {
        // A damaged entry is refused as `hub user add` would refuse it.
        check_name(&user.name)?;
        PasswordHash::new(&user.hash).map_err(|e| UsersError::Corrupt {
            path: dir.users().display().to_string(),
            message: format!("hash of `{}`: {e}", user.name),
        })?;
        if store.add_user(user)? {
            imported += 1;
        }
    }
    // Renamed only once every account is in: a failure above leaves the
    // file for the next start, which adds what is still missing.
    std::fs::rename(dir.users(), dir.users().with_extension("json.imported"))?;
    tracing::info!(
        accounts = imported,
        "dashboard accounts moved from users.json into the store"
    );
    Ok(imported)
}

pub fn list(store: &dyn Store) -> Result<Vec<User>, UsersError> {
    Ok(store.users()?)
}

/// Adds a user with an already computed hash (the CLI hashes locally, so
/// the password never travels, even to a running hub).
pub fn add(store: &dyn Store, name: &str, hash: &str) -> Result<(), UsersError> {
    check_name(name)?;
    PasswordHash::new(hash).map_err(|e| UsersError::Hash(e.to_string()))?;
    let user = User {
        name: name.into(),
        hash: hash.into(),
        added_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    if !store.add_user(&user)? {
        return Err(UsersError::Exists(name.into()));
    }
    Ok(())
}

/// Adds a user and notes it in the audit log.
pub fn add_audited(
    store: &dyn Store,
    name: &str,
    hash: &str,
    actor: &str,
) -> Result<(), UsersError> {
    add(store, name, hash)?;
    crate::audit::record(store, actor, "user.add", name, "")?;
    Ok(())
}

/// Whether `password` is `name`'s. An unknown name costs one hash too, so
/// that timing does not tell which names exist.
/// What a sign-in found: whether the password is right, and whether the
/// name is an account at all (so that a mistyped name, often a password
/// typed in the wrong box, is never logged as typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    pub known: bool,
}

/// Checks a password with one Argon2 run whether or not the name is an
/// account, so that the time taken does not tell names apart.
pub fn verify(store: &dyn Store, name: &str, password: &str) -> Result<Verified, UsersError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let user = store.user(name)?;
    let stored = user.as_ref().map(|u| u.hash.as_str());
    let known = stored.is_some();
    if password.chars().count() > MAX_PASSWORD {
        return Ok(Verified { ok: false, known });
    }
    let hash = match stored {
        Some(h) => h,
        None => match DUMMY.get() {
            Some(d) => d.as_str(),
            None => {
                let made = hash_password("not-a-user-password")?;
                DUMMY.get_or_init(|| made).as_str()
            }
        },
    };
    let parsed = PasswordHash::new(hash).map_err(|e| UsersError::Corrupt {
        path: "the store".into(),
        message: format!("hash of `{name}`: {e}"),
    })?;
    let ok = password_gives(password.as_bytes(), &parsed);
    Ok(Verified {
        ok: ok && known,
        known,
    })
}

/// How many password checks may run at once: one a core, since each keeps
/// a core busy for its whole run.
pub fn checks_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Whether `password` gives `hash`, computed in working memory that is kept
/// between checks (see [`WORKING_MEMORY`]). A hash that cannot be checked
/// (unknown algorithm, no salt) matches nothing.
fn password_gives(password: &[u8], hash: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut memory = WorkingMemory::take(blocks);
    let mut out = vec![0u8; expected.len()];
    let computed = argon2
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory.0[..blocks])
        .ok()
        .and_then(|()| Output::new(&out).ok());
    memory.give_back();
    // `Output`'s equality is constant-time.
    computed.is_some_and(|c| &c == expected)
}

/// Argon2's working memory, kept for the next check. Allocated and freed at
/// every check (19 MiB at the default cost), it made glibc raise its mmap
/// threshold past that size and then serve it from arenas it rarely gives
/// back: a sign-in flood grew the hub by 300 to 500 MiB. Kept, the checks
/// cost what the dashboard lets run at once (one buffer a core), once.
static WORKING_MEMORY: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());

struct WorkingMemory(Vec<Block>);

impl WorkingMemory {
    fn take(blocks: usize) -> Self {
        let kept = WORKING_MEMORY
            .lock()
            .ok()
            .and_then(|mut kept| kept.pop())
            .filter(|m| m.len() >= blocks);
        Self(kept.unwrap_or_else(|| vec![Block::default(); blocks]))
    }

    fn give_back(self) {
        if let Ok(mut kept) = WORKING_MEMORY.lock() {
            if kept.len() < checks_at_once() {
                kept.push(self.0);
            }
        }
    }
}

/// How a name typed at sign-in is logged and audited: as typed when it is
/// an account, else only a short hash (it may be a password typed in the
/// wrong box).
pub fn shown_name(name: &str, known: bool) -> String {
    if known {
        return name.to_owned();
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let short = runtime::secret::to_hex(&digest[..4]);
    format!("unknown#{short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_working_memory_checks_hashes_of_any_cost() {
        use argon2::password_hash::CustomizedPasswordHasher;
        let salt = b"sale-di-prova-16";
        let made = |algorithm: &str, m_cost, output| {
            let params = Params::new(m_cost, 1, 1, Some(output)).expect("params");
            Argon2::default()
                .hash_password_customized(
                    b"una-password-lunga",
                    salt,
                    Some(algorithm),
                    None,
                    params,
                )
                .expect("hash")
        };
        // Big then small, then big again: a kept buffer of either size serves.
        let hashes = [
            made("argon2id", 19 * 1024, 32),
            made("argon2i", 64, 16),
            made("argon2d", 4 * 1024, 64),
            made("argon2id", 19 * 1024, 32),
        ];
        for hash in &hashes {
            assert!(password_gives(b"una-password-lunga", hash), "{hash}");
            assert!(!password_gives(b"una-password-lungA", hash), "{hash}");
        }
        let kept = WORKING_MEMORY.lock().expect("lock").len();
        assert!(
            (1..=checks_at_once()).contains(&kept),
            "{kept} buffers kept"
        );
    }

    fn store(dir: &tempfile::TempDir) -> crate::storage::SledStore {
        crate::storage::SledStore::open(&dir.path().join("store"), 8 << 20).expect("store opens")
    }

    #[test]
    fn add_then_verify() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = store(&tmp);
        let hash = hash_password("una-password-lunga").expect("hash");
        add(&store, "coordinatore", &hash).expect("add");
        let v = |name, password| verify(&store, name, password).expect("verify");
        let right = v("coordinatore", "una-password-lunga");
        assert_eq!((right.ok, right.known), (true, true));
        let wrong = v("coordinatore", "sbagliata-sbagliata");
        assert_eq!((wrong.ok, wrong.known), (false, true));
        let nobody = v("nessuno", "una-password-lunga");
        assert_eq!((nobody.ok, nobody.known), (false, false));
        assert_eq!(shown_name("coordinatore", true), "coordinatore");
        let hidden = shown_name("la-mia-password", false);
        assert!(hidden.starts_with("unknown#") && !hidden.contains("password"));
        assert!(matches!(
            add(&store, "coordinatore", &hash),
            Err(UsersError::Exists(_))
        ));
        assert!(matches!(
            hash_password("corta"),
            Err(UsersError::InvalidPassword)
        ));
        assert!(!valid_name("Coordinatore"));
        assert!(!valid_name("9abc"));
        // The store keeps the hash, never the password.
        let held = list(&store).expect("list");
        assert_eq!(held.len(), 1);
        assert!(held[0].hash.starts_with("$argon2id$"));
        assert!(!held[0].hash.contains("una-password-lunga"));
    }

    #[test]
    fn a_users_file_is_moved_into_an_empty_store_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DataDir(tmp.path().to_path_buf());
        let hash = hash_password("una-password-lunga").expect("hash");
        let file = UsersFile {
            users: vec![User {
                name: "coordinatore".into(),
                hash: hash.clone(),
                added_at: "2026-11-01T10:00:00Z".into(),
            }],
        };
        let write = |file: &UsersFile| {
            std::fs::write(dir.users(), serde_json::to_vec(file).expect("json")).expect("write")
        };
        write(&file);
        {
            let store = store(&tmp);
            assert_eq!(import_file(&store, &dir).expect("import"), 1);
            assert!(!dir.users().exists());
            assert!(dir.users().with_extension("json.imported").exists());
            // Nothing left to read the second time.
            assert_eq!(import_file(&store, &dir).expect("import"), 0);
        }
        let store = store(&tmp);
        assert!(
            verify(&store, "coordinatore", "una-password-lunga")
                .expect("verify")
                .ok
        );
        // A file that turns up beside a store holding accounts is not read.
        let mut other = file;
        other.users[0].name = "altro".into();
        write(&other);
        assert_eq!(import_file(&store, &dir).expect("import"), 0);
        assert!(dir.users().exists());
        assert_eq!(list(&store).expect("list").len(), 1);
    }
}
