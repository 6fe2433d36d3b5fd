//! Small tmpfs disks for the full-disk tests (the tests run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for a test, unmounted when dropped.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    pub fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(at.to_path_buf())
    }

    pub fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn free(&self) -> u64 {
        fs2::available_space(&self.0).expect("free space")
    }
}

impl Tmpfs {
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Fills the disk until about `leave` bytes are free (tmpfs allocates
    /// on write, so the filler is written, not just sized).
    pub fn fill_to(&self, leave: u64) -> std::io::Result<()> {
        use std::io::Write;
        let size = self.free().saturating_sub(leave);
        let mut f = std::fs::File::create(self.0.join("filler"))?;
        let chunk = vec![0u8; 1 << 20];
        let mut written = 0u64;
        while written + (1 << 20) <= size {
            f.write_all(&chunk)?;
            written += 1 << 20;
        }
        f.sync_all()
    }

    /// Removes what `fill_to` wrote.
    pub fn empty(&self) -> std::io::Result<()> {
        std::fs::remove_file(self.0.join("filler"))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
