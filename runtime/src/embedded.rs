//! Opening the embedded sled database both sides keep their state in.

use std::path::Path;
use std::time::{Duration, Instant};

/// How long an open waits for a folder another handle is still closing.
const LOCK_PATIENCE: Duration = Duration::from_secs(3);

/// Opens the sled database at `path` with a bounded page cache and no
/// background flusher: callers flush before they acknowledge, and the
/// flusher would only add write amplification.
///
/// sled releases its file lock from its I/O threads a moment after the last
/// handle is dropped, so a store reopened at once (a restart, a test) can find
/// the folder still locked. The open is retried for a few seconds; a folder
/// that stays locked is in use by another process, and that error is returned.
pub fn open_sled(path: &Path, cache_bytes: u64) -> sled::Result<sled::Db> {
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(cache_bytes)
        .flush_every_ms(None);
    let started = Instant::now();
    loop {
        match config.open() {
            Err(e) if is_locked(&e) && started.elapsed() < LOCK_PATIENCE => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Whether an open failed because another process holds the folder.
pub fn is_locked(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::WouldBlock
                || io.to_string().contains("could not acquire lock")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_reopened_at_once_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        for round in 0..20u32 {
            let db = open_sled(&path, 1 << 20).expect("opens after the last handle closed");
            db.insert(round.to_be_bytes(), &[1]).expect("insert");
            db.flush().expect("flush");
        }
        let db = open_sled(&path, 1 << 20).expect("opens");
        assert_eq!(db.len(), 20);
    }

    #[test]
    fn a_folder_held_open_stays_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        let _held = open_sled(&path, 1 << 20).expect("opens");
        let e = open_sled(&path, 1 << 20).expect_err("a second open is refused");
        assert!(is_locked(&e), "{e}");
    }
}
