//! `hub backup` and `hub restore`: one file that holds a consistent copy of
//! the hub's store and the data folder's files (the CA key and the
//! coordinator token included), and the way back from it.
//!
//! The file is a line `RETE-HUB-BACKUP 1`, a line of JSON saying what it is,
//! then frames, each a tag byte:
//!
//! | tag | then |
//! |---|---|
//! | `F` | name length (u16 BE), name, data length (u64 BE), data: a file of the folder |
//! | `T` | name length (u16 BE), name: a store collection, whose entries follow |
//! | `E` | key length (u32 BE), key, value length (u32 BE), value |
//! | `Z` | SHA-256 of every byte before it, tag included: the end |
//!
//! A file cut short or changed anywhere fails the checksum or the framing,
//! and a restore then changes nothing.

use crate::config::{DataDir, FILE_NAME};
use crate::storage::{Importer, SnapshotSink, Store};
use anyhow::Context;
use sha2::{Digest, Sha256};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"RETE-HUB-BACKUP 1\n";
const MAX_HEADER: usize = 4096;
const MAX_NAME: usize = 4096;
const MAX_FILE: u64 = 16 << 20;
const MAX_KEY: usize = 1 << 20;
const MAX_VALUE: usize = 256 << 20;
/// What the coordinator API sends at a time.
pub const CHUNK: usize = 256 << 10;

/// The data folder's files a backup carries besides the store; the last
/// one exists only once a dashboard account was added.
fn folder_files(dir: &DataDir) -> [(PathBuf, bool); 7] {
    // (path, secret): secrets are restored with mode 0600.
    [
        (dir.0.join(FILE_NAME), false),
        (dir.ca_cert(), false),
        (dir.ca_key(), true),
        (dir.hub_cert(), false),
        (dir.hub_key(), true),
        (dir.token(), true),
        (dir.users(), true),
    ]
}

fn is_secret(name: &str) -> bool {
    let dir = DataDir(PathBuf::new());
    folder_files(&dir)
        .iter()
        .any(|(p, secret)| *secret && p.file_name().and_then(|n| n.to_str()) == Some(name))
}

/// What a written backup holds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub bytes: u64,
    pub collections: u64,
    pub entries: u64,
}

struct Framer<W: Write> {
    out: W,
    hash: Sha256,
    written: Written,
}

impl<W: Write> Framer<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hash.update(bytes);
        self.written.bytes += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    fn name(&mut self, tag: u8, name: &[u8]) -> std::io::Result<()> {
        let len = u16::try_from(name.len())
            .map_err(|_| std::io::Error::other("a name longer than 64 KiB"))?;
        self.put(&[tag])?;
        self.put(&len.to_be_bytes())?;
        self.put(name)
    }

    fn file(&mut self, name: &str, data: &[u8]) -> std::io::Result<()> {
        self.name(b'F', name.as_bytes())?;
        self.put(&(data.len() as u64).to_be_bytes())?;
        self.put(data)
    }

    fn finish(mut self) -> std::io::Result<(W, Written)> {
        self.put(b"Z")?;
        let digest = self.hash.finalize();
        self.written.bytes += digest.len() as u64;
        self.out.write_all(&digest)?;
        Ok((self.out, self.written))
    }
}

impl<W: Write> SnapshotSink for Framer<W> {
    fn collection(&mut self, name: &[u8]) -> std::io::Result<()> {
        self.written.collections += 1;
        self.name(b'T', name)
    }

    fn entry(&mut self, key: &[u8], value: &[u8]) -> std::io::Result<()> {
        self.written.entries += 1;
        let len = |n: usize| {
            u32::try_from(n)
                .map(u32::to_be_bytes)
                .map_err(|_| std::io::Error::other("an entry larger than 4 GiB"))
        };
        self.put(b"E")?;
        self.put(&len(key.len())?)?;
        self.put(key)?;
        self.put(&len(value.len())?)?;
        self.put(value)
    }
}

/// Writes a backup of the folder's files and of `store` (a consistent
/// state: its writes wait meanwhile) to `out`, created with mode 0600 and
/// put on disk before this returns.
pub fn write(dir: &DataDir, store: &dyn Store, out: &Path) -> anyhow::Result<Written> {
    let file = create_secret(out)?;
    let header = serde_json::json!({
        "made_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "hub_version": env!("CARGO_PKG_VERSION"),
        "note": "holds the hub's CA private key and coordinator token: keep it as secret as the data folder",
    });
    let mut framer = Framer {
        out: BufWriter::new(file),
        hash: Sha256::new(),
        written: Written::default(),
    };
    framer.put(MAGIC)?;
    framer.put(format!("{header}\n").as_bytes())?;
    for (path, _) in folder_files(dir) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        match std::fs::read(&path) {
            Ok(data) => framer.file(name, &data)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    store.snapshot(&mut framer)?;
    let (out_buf, written) = framer.finish()?;
    let file = out_buf
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", out.display(), e.error()))?;
    file.sync_all()
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(written)
}

/// A backup written inside the data folder (`.backup-<id>.partial`, where
/// no one else writes), for the running hub to send; what an earlier one
/// left behind is removed first.
pub fn write_in_folder(dir: &DataDir, store: &dyn Store) -> anyhow::Result<PathBuf> {
    if let Ok(list) = std::fs::read_dir(&dir.0) {
        for entry in list.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".backup-") && name.ends_with(".partial") {
                std::fs::remove_file(entry.path()).ok();
            }
        }
    }
    let path = dir
        .0
        .join(format!(".backup-{}.partial", uuid::Uuid::now_v7()));
    match write(dir, store, &path) {
        Ok(_) => Ok(path),
        Err(e) => {
            std::fs::remove_file(&path).ok();
            Err(e)
        }
    }
}

/// Sends the file at `path` in chunks and removes it, sent or not.
pub fn send_chunks(
    path: &Path,
    tx: &tokio::sync::mpsc::Sender<Result<proto::BackupChunk, tonic::Status>>,
) {
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::open(path)?;
        loop {
            let mut data = vec![0u8; CHUNK];
            let n = read_full(&mut file, &mut data)?;
            if n == 0 {
                return Ok(());
            }
            data.truncate(n);
            if tx.blocking_send(Ok(proto::BackupChunk { data })).is_err() {
                // The caller went away; nothing more to send.
                return Ok(());
            }
        }
    })();
    if let Err(e) = result {
        tracing::error!(error = %e, "cannot send the backup");
        let _ = tx.blocking_send(Err(tonic::Status::unavailable(format!(
            "the hub could not read back its backup: {e}"
        ))));
    }
    std::fs::remove_file(path).ok();
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

pub fn create_secret(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Puts a finished `partial` in place of `out` (same folder), durably.
pub fn publish(partial: &Path, out: &Path) -> anyhow::Result<()> {
    std::fs::rename(partial, out).with_context(|| format!("cannot write {}", out.display()))?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent).and_then(|d| d.sync_all()).ok();
    }
    Ok(())
}

/// The temporary name a backup is written under until it is whole.
pub fn partial_name(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Why a backup file cannot be used, in the operator's words.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0} is not a hub backup (made by `hub backup`)")]
    NotABackup(String),
    #[error("{file} is damaged or incomplete ({why}); nothing was changed")]
    Damaged { file: String, why: String },
    #[error("cannot read {file}: {why}")]
    Io { file: String, why: String },
}

/// Everything the reader finds, as it comes.
pub trait Visitor {
    fn file(&mut self, name: &str, data: Vec<u8>) -> anyhow::Result<()>;
    fn store(&mut self) -> &mut dyn SnapshotSink;
}

struct Reader<R: Read> {
    input: R,
    hash: Sha256,
}

impl<R: Read> Reader<R> {
    fn take(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.input.read_exact(&mut buf)?;
        self.hash.update(&buf);
        Ok(buf)
    }

    fn array<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.input.read_exact(&mut buf)?;
        self.hash.update(buf);
        Ok(buf)
    }

    fn bounded(&mut self, n: u64, max: u64, what: &str) -> Result<Vec<u8>, String> {
        if n > max {
            return Err(format!("{what} of {n} bytes is beyond any backup's"));
        }
        self.take(n as usize).map_err(cut)
    }
}

fn cut(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "it ends before its last part".into()
    } else {
        e.to_string()
    }
}

/// Reads a whole backup, giving its parts to `visitor`; only a backup that
/// reaches its end with the right checksum returns `Ok`.
pub fn read(file: &Path, visitor: &mut dyn Visitor) -> anyhow::Result<()> {
    let name = file.display().to_string();
    let input = std::fs::File::open(file).map_err(|e| ReadError::Io {
        file: name.clone(),
        why: e.to_string(),
    })?;
    let mut r = Reader {
        input: BufReader::with_capacity(1 << 20, input),
        hash: Sha256::new(),
    };
    let damaged = |why: String| ReadError::Damaged {
        file: name.clone(),
        why,
    };
    match r.take(MAGIC.len()) {
        Ok(m) if m == MAGIC => {}
        _ => return Err(ReadError::NotABackup(name.clone()).into()),
    }
    let mut header = Vec::new();
    loop {
        let [b] = r.array::<1>().map_err(|e| damaged(cut(e)))?;
        if b == b'\n' {
            break;
        }
        header.push(b);
        if header.len() > MAX_HEADER {
            return Err(damaged("its header has no end".into()).into());
        }
    }
    serde_json::from_slice::<serde_json::Value>(&header)
        .map_err(|_| damaged("its header is not readable".into()))?;
    loop {
        let [tag] = r.array::<1>().map_err(|e| damaged(cut(e)))?;
        match tag {
            b'F' => {
                let n = u16::from_be_bytes(r.array().map_err(|e| damaged(cut(e)))?);
                let file_name = r
                    .bounded(n.into(), MAX_NAME as u64, "a name")
                    .map_err(&damaged)?;
                let file_name = String::from_utf8(file_name)
                    .ok()
                    .filter(|n| is_folder_file(n))
                    .ok_or_else(|| damaged("it names a file a hub does not keep".into()))?;
                let len = u64::from_be_bytes(r.array().map_err(|e| damaged(cut(e)))?);
                let data = r.bounded(len, MAX_FILE, "a file").map_err(&damaged)?;
                visitor.file(&file_name, data)?;
            }
            b'T' => {
                let n = u16::from_be_bytes(r.array().map_err(|e| damaged(cut(e)))?);
                let tree = r
                    .bounded(n.into(), MAX_NAME as u64, "a name")
                    .map_err(&damaged)?;
                visitor.store().collection(&tree)?;
            }
            b'E' => {
                let n = u32::from_be_bytes(r.array().map_err(|e| damaged(cut(e)))?);
                let key = r
                    .bounded(n.into(), MAX_KEY as u64, "a key")
                    .map_err(&damaged)?;
                let n = u32::from_be_bytes(r.array().map_err(|e| damaged(cut(e)))?);
                let value = r
                    .bounded(n.into(), MAX_VALUE as u64, "a value")
                    .map_err(&damaged)?;
                visitor
                    .store()
                    .entry(&key, &value)
                    .map_err(|e| damaged(format!("an entry does not fit the store: {e}")))?;
            }
            b'Z' => {
                let expected = std::mem::take(&mut r.hash).finalize();
                let mut digest = [0u8; 32];
                r.input
                    .read_exact(&mut digest)
                    .map_err(|e| damaged(cut(e)))?;
                if digest[..] != expected[..] {
                    return Err(damaged("its checksum does not match".into()).into());
                }
                let mut rest = [0u8; 1];
                if r.input
                    .read(&mut rest)
                    .map_err(|e| damaged(e.to_string()))?
                    != 0
                {
                    return Err(damaged("it goes on after its end".into()).into());
                }
                return Ok(());
            }
            _ => return Err(damaged("a part of it has an unknown kind".into()).into()),
        }
    }
}

fn is_folder_file(name: &str) -> bool {
    let dir = DataDir(PathBuf::new());
    folder_files(&dir)
        .iter()
        .any(|(p, _)| p.file_name().and_then(|n| n.to_str()) == Some(name))
}

/// Only checks a backup, end to end (what `hub backup` does with the file it
/// received from the running hub).
pub fn check(file: &Path) -> anyhow::Result<()> {
    struct Discard;
    impl SnapshotSink for Discard {
        fn collection(&mut self, _: &[u8]) -> std::io::Result<()> {
            Ok(())
        }
        fn entry(&mut self, _: &[u8], _: &[u8]) -> std::io::Result<()> {
            Ok(())
        }
    }
    struct Check(Discard);
    impl Visitor for Check {
        fn file(&mut self, _: &str, _: Vec<u8>) -> anyhow::Result<()> {
            Ok(())
        }
        fn store(&mut self) -> &mut dyn SnapshotSink {
            &mut self.0
        }
    }
    read(file, &mut Check(Discard))
}

/// What a restore put in place.
#[derive(Debug)]
pub struct Restored {
    pub records: u64,
    pub desks: usize,
    /// Where the folder's previous state was moved, if it had one.
    pub previous: Option<PathBuf>,
}

struct Staging {
    dir: PathBuf,
    store: Importer,
    files: Vec<String>,
}

impl Visitor for Staging {
    fn file(&mut self, name: &str, data: Vec<u8>) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        if is_secret(name) {
            runtime::secret::write_secret(&path, &data)?;
        } else {
            std::fs::write(&path, &data)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        self.files.push(name.to_owned());
        Ok(())
    }

    fn store(&mut self) -> &mut dyn SnapshotSink {
        &mut self.store
    }
}

/// Restores `file` into the folder `dir` of a stopped hub: the backup is
/// read whole and checked into a folder beside, and only then does it take
/// the place of the folder's files and store, which are kept in
/// `before-restore-<time>/`.
pub fn restore(file: &Path, dir: &DataDir) -> anyhow::Result<Restored> {
    runtime::secret::private_dir(&dir.0)
        .with_context(|| format!("cannot create {}", dir.0.display()))?;
    if dir.store().exists() {
        // sled's lock on the store tells whether a hub is running on it; a
        // store that fails to open otherwise is what a restore replaces.
        match runtime::embedded::open_sled(&dir.store(), 8 << 20) {
            Err(e) if runtime::embedded::is_locked(&e) => anyhow::bail!(
                "a hub is running on {} (its store is in use): stop it before restoring",
                dir.0.display()
            ),
            _ => {}
        }
    }
    let staging = dir.0.join(format!(".restore-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let result = stage(file, &staging).and_then(|s| swap_in(dir, &staging, s));
    // Whatever happened, the staging folder is not the hub's.
    std::fs::remove_dir_all(&staging).ok();
    result
}

fn stage(file: &Path, staging: &Path) -> anyhow::Result<(Vec<String>, u64, usize)> {
    let mut visitor = Staging {
        dir: staging.to_path_buf(),
        store: Importer::create(&staging.join("store"))?,
        files: Vec::new(),
    };
    read(file, &mut visitor)?;
    if !visitor.files.iter().any(|f| f == FILE_NAME) {
        anyhow::bail!(
            "{} holds no hub.toml: it is not a whole hub backup; nothing was changed",
            file.display()
        );
    }
    let store = visitor.store.finish()?;
    let v = store.verify()?;
    if !v.problems.is_empty() {
        anyhow::bail!(
            "the store in {} does not check out ({}); nothing was changed",
            file.display(),
            v.problems.join("; ")
        );
    }
    let desks = store.desks()?.len();
    store.flush()?;
    drop(store);
    Ok((visitor.files, v.records, desks))
}

fn swap_in(
    dir: &DataDir,
    staging: &Path,
    (files, records, desks): (Vec<String>, u64, usize),
) -> anyhow::Result<Restored> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let previous = dir.0.join(format!("before-restore-{stamp}"));
    let mut moved = false;
    let mut names: Vec<String> = folder_files(dir)
        .iter()
        .filter_map(|(p, _)| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .collect();
    names.push("store".into());
    for name in &names {
        let old = dir.0.join(name);
        if old.exists() {
            if !moved {
                std::fs::create_dir_all(&previous)
                    .with_context(|| format!("cannot create {}", previous.display()))?;
                moved = true;
            }
            std::fs::rename(&old, previous.join(name))
                .with_context(|| format!("cannot move {} aside", old.display()))?;
        }
    }
    for name in files.iter().chain(std::iter::once(&"store".to_owned())) {
        std::fs::rename(staging.join(name), dir.0.join(name))
            .with_context(|| format!("cannot put {name} in place"))?;
    }
    std::fs::File::open(&dir.0).and_then(|d| d.sync_all()).ok();
    Ok(Restored {
        records,
        desks,
        previous: moved.then_some(previous),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HubConfig;
    use crate::storage::SledStore;

    fn notice(id: &str) -> domain::GuidanceItem {
        domain::GuidanceItem {
            id: id.into(),
            title: format!("Avviso {id}"),
            body: "Testo.".into(),
            ..Default::default()
        }
    }

    fn hub(root: &Path) -> DataDir {
        let dir = DataDir(root.join("hub"));
        crate::server::init(&dir.0, &HubConfig::default(), &[]).expect("init");
        dir
    }

    fn open(dir: &DataDir) -> SledStore {
        SledStore::open(&dir.store(), 8 << 20).expect("open")
    }

    #[test]
    fn a_restore_brings_back_the_backed_up_state_with_a_new_logs_epoch() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = hub(root.path());
        let file = root.path().join("hub.backup");
        let epoch = {
            let store = open(&dir);
            store.append_guidance(notice("prima")).expect("append");
            let w = write(&dir, &store, &file).expect("backup");
            assert!(w.entries > 0 && w.collections > 0);
            store.append_guidance(notice("dopo")).expect("append");
            store.logs_epoch().expect("epoch")
        };
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the backup holds the CA key");
        check(&file).expect("a whole backup checks out");

        let restored = restore(&file, &dir).expect("restore");
        let previous = restored.previous.expect("the old state is kept");
        assert!(previous.join("store").is_dir() && previous.join("ca.key").is_file());
        let store = open(&dir);
        assert_eq!(store.guidance_version().expect("version"), 1);
        assert_ne!(store.logs_epoch().expect("epoch"), epoch);
        assert_eq!(
            std::fs::read(dir.ca_key()).expect("ca.key"),
            std::fs::read(previous.join("ca.key")).expect("old ca.key")
        );
        let mode = std::fs::metadata(dir.token())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(store.verify().expect("verify").problems.is_empty());
    }

    #[test]
    fn a_damaged_or_cut_or_foreign_file_changes_nothing() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = hub(root.path());
        let file = root.path().join("hub.backup");
        {
            let store = open(&dir);
            store.append_guidance(notice("uno")).expect("append");
            write(&dir, &store, &file).expect("backup");
            store.append_guidance(notice("due")).expect("append");
        }
        let good = std::fs::read(&file).expect("read");
        let mut flipped = good.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x40;
        let cases: [(&str, Vec<u8>, &str); 4] = [
            ("flipped", flipped, "damaged"),
            ("cut", good[..good.len() - 40].to_vec(), "damaged"),
            ("longer", [&good[..], b"x"].concat(), "damaged"),
            ("foreign", b"hello\n".to_vec(), "not a hub backup"),
        ];
        for (name, bytes, why) in cases {
            let bad = root.path().join(name);
            std::fs::write(&bad, bytes).expect("write");
            let e = restore(&bad, &dir).expect_err(name);
            assert!(format!("{e:#}").contains(why), "{name}: {e:#}");
            let store = open(&dir);
            assert_eq!(store.guidance_version().expect("version"), 2, "{name}");
        }
        let left: Vec<_> = std::fs::read_dir(&dir.0)
            .expect("read dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') || n.starts_with("before-restore"))
            .collect();
        assert!(left.is_empty(), "a failed restore leaves nothing: {left:?}");
    }

    #[test]
    fn a_store_in_use_is_not_restored_over() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = hub(root.path());
        let file = root.path().join("hub.backup");
        let store = open(&dir);
        write(&dir, &store, &file).expect("backup");
        let e = restore(&file, &dir).expect_err("in use");
        assert!(format!("{e:#}").contains("stop it"), "{e:#}");
    }
}
