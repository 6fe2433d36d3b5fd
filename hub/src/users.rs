//! Coordinator accounts for the dashboard: `users.json` in the hub's data
//! folder (mode 0600), names with Argon2id hashes. The file, not the store,
//! holds them so that `hub user add` works while the hub runs (sled allows
//! one process) and the hub reads them afresh at every sign-in.

use crate::config::DataDir;
use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use runtime::secret::write_secret;
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
    #[error("the users file {path} is damaged: {message}")]
    Corrupt { path: String, message: String },
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("cannot read or write the users file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// PHC string, `$argon2id$v=19$...`.
    pub hash: String,
    pub added_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct UsersFile {
    users: Vec<User>,
}

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

fn load(dir: &DataDir) -> Result<UsersFile, UsersError> {
    let path = dir.users();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| UsersError::Corrupt {
            path: path.display().to_string(),
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UsersFile::default()),
        Err(e) => Err(e.into()),
    }
}

pub fn list(dir: &DataDir) -> Result<Vec<User>, UsersError> {
    Ok(load(dir)?.users)
}

/// Adds a user with an already computed hash (the CLI hashes locally, so
/// the password never travels, even to a running hub).
pub fn add(dir: &DataDir, name: &str, hash: &str) -> Result<(), UsersError> {
    check_name(name)?;
    PasswordHash::new(hash).map_err(|e| UsersError::Hash(e.to_string()))?;
    let mut file = load(dir)?;
    if file.users.iter().any(|u| u.name == name) {
        return Err(UsersError::Exists(name.into()));
    }
    file.users.push(User {
        name: name.into(),
        hash: hash.into(),
        added_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    let bytes = serde_json::to_vec_pretty(&file).map_err(|e| UsersError::Corrupt {
        path: dir.users().display().to_string(),
        message: e.to_string(),
    })?;
    // Written aside and renamed, so a sign-in never reads half a file.
    let tmp = dir.users().with_extension("json.tmp");
    write_secret(&tmp, &bytes)?;
    std::fs::rename(&tmp, dir.users())?;
    Ok(())
}

/// Adds a user and notes it in the audit log.
pub fn add_audited(
    store: &dyn crate::storage::Store,
    dir: &DataDir,
    name: &str,
    hash: &str,
    actor: &str,
) -> Result<(), UsersError> {
    add(dir, name, hash)?;
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
pub fn verify(dir: &DataDir, name: &str, password: &str) -> Result<Verified, UsersError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let users = load(dir)?.users;
    let stored = users
        .iter()
        .find(|u| u.name == name)
        .map(|u| u.hash.as_str());
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
        path: dir.users().display().to_string(),
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

    #[test]
    fn add_then_verify() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = DataDir(tmp.path().to_path_buf());
        let hash = hash_password("una-password-lunga").expect("hash");
        add(&dir, "coordinatore", &hash).expect("add");
        let v = |name, password| verify(&dir, name, password).expect("verify");
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
            add(&dir, "coordinatore", &hash),
            Err(UsersError::Exists(_))
        ));
        assert!(matches!(
            hash_password("corta"),
            Err(UsersError::InvalidPassword)
        ));
        assert!(!valid_name("Coordinatore"));
        assert!(!valid_name("9abc"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.users())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!std::fs::read_to_string(dir.users())
            .expect("read")
            .contains("una-password-lunga"));
    }
}
