//! The output folder of a prepare run: held with an exclusive lock for the run, and cleared of
//! the temporary files that earlier runs killed mid-write left behind.
//!
//! Every output goes through [`srl_core::io::AtomicFile`], a `.srl-swe-*.tmp` file beside the
//! target renamed into place on commit. A run killed with SIGKILL never gets to delete its
//! temporary file. Such a file can only be told from one that a running prepare is writing by
//! whether a run holds the folder, so each run takes an advisory lock on
//! `OUT/.srl-swe-prepare.lock` (`flock`, released by the kernel when the process dies, however it
//! dies) and, once it holds it, deletes the `.srl-swe-*.tmp` files it finds there: they belong to
//! dead runs. A second prepare into the same folder while one runs gets a clear error instead.

use crate::error::{Result, TrajectoryError};
use std::fs::File;
use std::path::{Path, PathBuf};

const LOCK_NAME: &str = ".srl-swe-prepare.lock";
const TMP_PREFIX: &str = ".srl-swe-";
const TMP_SUFFIX: &str = ".tmp";

/// The lock on an output folder; dropping it releases the lock and removes the lock file.
#[derive(Debug)]
pub(crate) struct OutDirLock {
    path: PathBuf,
    _file: File,
}

impl OutDirLock {
    /// Creates `out` if needed, locks it and removes stale temporary files. Returns how many
    /// were removed with the lock.
    pub(crate) fn acquire(out: &Path) -> Result<(Self, usize)> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| TrajectoryError::Io { path, source }
        };
        std::fs::create_dir_all(out).map_err(io(out))?;
        let path = out.join(LOCK_NAME);
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(TrajectoryError::OutDirBusy { path: out.to_path_buf() })
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(TrajectoryError::Io { path, source }),
        }
        let mut removed = 0;
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(out).map_err(io(out))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for entry in entries {
            let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.starts_with(TMP_PREFIX) && name.ends_with(TMP_SUFFIX) && entry.is_file() {
                std::fs::remove_file(&entry).map_err(io(&entry))?;
                tracing::info!(file = %entry.display(), "removed a temporary file left by an interrupted run");
                removed += 1;
            }
        }
        Ok((Self { path, _file: file }, removed))
    }
}

impl Drop for OutDirLock {
    fn drop(&mut self) {
        // Removed while still locked, so no other run can be holding it.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temporaries_go_and_a_second_run_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join(".srl-swe-AbC123.tmp"), b"partial").unwrap();
        std::fs::write(out.join("train.jsonl"), b"kept").unwrap();
        let (lock, removed) = OutDirLock::acquire(&out).unwrap();
        assert_eq!(removed, 1);
        assert!(!out.join(".srl-swe-AbC123.tmp").exists());
        assert!(out.join("train.jsonl").exists());
        let busy = OutDirLock::acquire(&out).unwrap_err();
        assert!(matches!(busy, TrajectoryError::OutDirBusy { .. }), "{busy}");
        drop(lock);
        assert!(!out.join(LOCK_NAME).exists());
        let (_again, removed) = OutDirLock::acquire(&out).unwrap();
        assert_eq!(removed, 0);
    }
}
