//! Atomic output and JSONL input. Every output file of srl-swe is written to a temporary file in
//! the destination folder and renamed into place, so a crash never leaves a partial file.

use crate::{CoreError, Result};
use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CoreError + '_ {
    move |source| CoreError::Io { path: path.to_path_buf(), source }
}

/// A file being written: a buffered temporary file beside `path`, renamed onto `path` by
/// [`AtomicFile::commit`]. Dropped without commit, the temporary file is deleted.
pub struct AtomicFile {
    path: PathBuf,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// Starts writing `path` (its folder is created if missing).
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let tmp =
            tempfile::Builder::new().prefix(".srl-swe-").suffix(".tmp").tempfile_in(&dir).map_err(io_err(&dir))?;
        Ok(Self { path, writer: BufWriter::with_capacity(1 << 20, tmp) })
    }

    /// Writes one value as a JSON line.
    pub fn write_json_line<T: serde::Serialize>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.writer, value)?;
        self.writer.write_all(b"\n").map_err(io_err(&self.path))
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let tmp = self.writer.into_inner().map_err(|e| CoreError::Io { path: path.clone(), source: e.into_error() })?;
        // tempfile creates 0600; output files are ordinary data files.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(io_err(&path))?;
        }
        tmp.as_file().sync_all().map_err(io_err(&path))?;
        tmp.persist(&path).map_err(|e| CoreError::Io { path: path.clone(), source: e.error })?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path.as_ref())?;
    f.write_all(bytes).map_err(io_err(path.as_ref()))?;
    f.commit()
}

/// Writes `value` as pretty JSON (with a final newline) to `path` atomically.
pub fn write_json_pretty<T: serde::Serialize>(path: impl AsRef<Path>, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads a JSONL file into records; the error names the file and the 1-based line. Blank lines
/// are skipped.
pub fn read_jsonl<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<Vec<T>> {
    let path = path.as_ref();
    let mut out = Vec::new();
    for item in jsonl_lines(path)? {
        let (line, text) = item?;
        let value = serde_json::from_str(&text).map_err(|e| CoreError::Record {
            path: path.to_path_buf(),
            line,
            message: e.to_string(),
        })?;
        out.push(value);
    }
    Ok(out)
}

/// Iterates over the non-blank lines of a text file as (1-based line number, text). Invalid
/// UTF-8 is an error naming the line.
pub fn jsonl_lines(path: &Path) -> Result<impl Iterator<Item = Result<(usize, String)>> + '_> {
    let file = File::open(path).map_err(io_err(path))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    Ok(reader.split(b'\n').enumerate().filter_map(move |(i, bytes)| {
        let line = i + 1;
        match bytes {
            Err(source) => Some(Err(CoreError::Io { path: path.to_path_buf(), source })),
            Ok(b) => match String::from_utf8(b) {
                Err(_) => {
                    Some(Err(CoreError::Record { path: path.to_path_buf(), line, message: "invalid UTF-8".into() }))
                }
                Ok(s) if s.trim().is_empty() => None,
                Ok(s) => Some(Ok((line, s))),
            },
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.jsonl");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_json_line(&serde_json::json!({"a": 1})).unwrap();
        assert!(!path.exists());
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        }
        let dropped = AtomicFile::create(dir.path().join("never.jsonl")).unwrap();
        drop(dropped);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, "{\"a\":1}\n\nnot json\n").unwrap();
        let err = read_jsonl::<serde_json::Value>(&path).unwrap_err().to_string();
        assert!(err.contains("x.jsonl:3"), "{err}");
    }
}
