//! The free space each side keeps in reserve on its data disk. Writes that
//! would eat into it are refused before the disk is truly full: sled keeps a
//! failed write's error for good, so a store that once hit a full disk
//! would refuse everything until restarted. The reserve leaves room for what
//! must still be written (acknowledgements, the flush of what was accepted).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Reserve {
    path: PathBuf,
    bytes: u64,
}

/// The disk holds less free space than the reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Low {
    pub free: u64,
    pub reserve: u64,
}

impl Reserve {
    /// The reserve of `bytes` on the disk that holds `path`.
    pub fn new(path: &Path, bytes: u64) -> Self {
        Self {
            path: path.to_path_buf(),
            bytes,
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Free bytes on the disk, or `None` when the system cannot say.
    pub fn free(&self) -> Option<u64> {
        fs2::available_space(&self.path).ok()
    }

    /// `Err` when the free space is below the reserve. A disk whose free
    /// space cannot be read is not refused: the write itself will say.
    pub fn check(&self) -> Result<(), Low> {
        match self.free() {
            Some(free) if self.bytes > 0 && free < self.bytes => Err(Low {
                free,
                reserve: self.bytes,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_the_disk_refuses_and_none_never_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let free = Reserve::new(dir.path(), 0).free().expect("free space");
        assert!(Reserve::new(dir.path(), 0).check().is_ok());
        let low = Reserve::new(dir.path(), free.saturating_add(1 << 40))
            .check()
            .expect_err("more than the disk holds");
        assert!(low.free <= free + (1 << 30));
    }
}
