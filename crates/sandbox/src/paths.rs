//! Path checks, shell quoting and the tar helpers shared by both sandboxes.
use crate::{Result, SandboxError};

/// `/a/b` → `a/b`; relative paths and `..` components are errors.
pub(crate) fn relative_to_root(path: &str) -> Result<String> {
    let Some(rel) = path.strip_prefix('/') else {
        return Err(SandboxError::RelativePath { path: path.to_string() });
    };
    if rel.split('/').any(|c| c == "..") {
        return Err(SandboxError::RelativePath { path: path.to_string() });
    }
    Ok(rel.trim_end_matches('/').to_string())
}

/// Single-quotes a string for bash.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn tar_err(path: &str) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Tar { path: path.to_string(), source }
}

/// A tar archive holding one regular file at `rel` (mode 0644).
pub(crate) fn single_file_tar(rel: &str, contents: &[u8]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(0);
    builder.append_data(&mut header, rel, contents).map_err(tar_err(rel))?;
    builder.into_inner().map_err(tar_err(rel))
}

/// The first entry of a tar archive as a regular file's bytes.
pub(crate) fn first_file_from_tar(tar_bytes: &[u8], path: &str) -> Result<Vec<u8>> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut entries = archive.entries().map_err(tar_err(path))?;
    let Some(entry) = entries.next() else { return Err(SandboxError::NotFound { path: path.to_string() }) };
    let mut entry = entry.map_err(tar_err(path))?;
    match entry.header().entry_type() {
        tar::EntryType::Directory => Err(SandboxError::IsDirectory { path: path.to_string() }),
        _ => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut buf).map_err(tar_err(path))?;
            Ok(buf)
        }
    }
}

/// Packs host files into a tar archive: (path inside the archive, bytes, mode).
pub fn pack_tar<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8], u32)>) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (rel, contents, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(mode);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mtime(0);
        builder.append_data(&mut header, rel, contents).map_err(tar_err(rel))?;
    }
    builder.into_inner().map_err(tar_err("<archive>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_be_absolute_without_dotdot() {
        assert_eq!(relative_to_root("/testbed/a.py").unwrap(), "testbed/a.py");
        assert!(relative_to_root("testbed").is_err());
        assert!(relative_to_root("/testbed/../etc").is_err());
    }

    #[test]
    fn quoting_survives_single_quotes() {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote("it's $HOME")))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "it's $HOME");
    }

    #[test]
    fn tar_round_trip() {
        let tar = single_file_tar("a/b.txt", b"hi").unwrap();
        assert_eq!(first_file_from_tar(&tar, "/a/b.txt").unwrap(), b"hi");
    }
}
