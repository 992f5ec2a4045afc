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

/// A tar archive holding one regular file at `rel` (mode 0644, owned by `owner` = (uid, gid)).
pub(crate) fn single_file_tar(rel: &str, contents: &[u8], owner: (u32, u32)) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(0o644);
    header.set_uid(owner.0.into());
    header.set_gid(owner.1.into());
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

/// Re-packs a tar archive with every entry owned by `owner` = (uid, gid) (Docker extracts
/// uploads with the archive's owners), without the leading `strip` folder (entries outside it
/// are dropped, hard-link targets rewritten), and with an entry for each parent folder the
/// archive only implies (Docker would create those as root).
pub(crate) fn repack_tar(tar_bytes: &[u8], owner: (u32, u32), strip: Option<&str>) -> Result<Vec<u8>> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut builder = tar::Builder::new(Vec::new());
    let mut dirs: std::collections::HashSet<String> = std::collections::HashSet::new();
    let strip_path = |p: &str| -> Option<String> {
        let p = p.trim_start_matches("./");
        match strip {
            None => Some(p.to_string()),
            Some(s) => p.strip_prefix(s).and_then(|r| r.strip_prefix('/')).map(str::to_string),
        }
    };
    for entry in archive.entries().map_err(tar_err("<upload>"))? {
        let mut entry = entry.map_err(tar_err("<upload>"))?;
        let raw = entry.path().map_err(tar_err("<upload>"))?.to_string_lossy().into_owned();
        let Some(rel) = strip_path(&raw) else { continue };
        let rel = rel.trim_end_matches('/').to_string();
        if rel.is_empty() {
            continue;
        }
        let mut header = entry.header().clone();
        header.set_uid(owner.0.into());
        header.set_gid(owner.1.into());
        // Parents the archive does not list.
        let mut parent = String::new();
        for comp in rel.split('/').collect::<Vec<_>>().iter().rev().skip(1).rev() {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(comp);
            if dirs.insert(parent.clone()) {
                let mut dh = tar::Header::new_gnu();
                dh.set_entry_type(tar::EntryType::Directory);
                dh.set_mode(0o755);
                dh.set_size(0);
                dh.set_uid(owner.0.into());
                dh.set_gid(owner.1.into());
                dh.set_mtime(header.mtime().unwrap_or(0));
                builder.append_data(&mut dh, format!("{parent}/"), std::io::empty()).map_err(tar_err("<upload>"))?;
            }
        }
        match header.entry_type() {
            tar::EntryType::Directory => {
                if !dirs.insert(rel.clone()) {
                    continue;
                }
                builder.append_data(&mut header, format!("{rel}/"), std::io::empty()).map_err(tar_err("<upload>"))?;
            }
            tar::EntryType::Link => {
                let target = entry.link_name().map_err(tar_err("<upload>"))?.map(|t| t.to_string_lossy().into_owned());
                let Some(target) = target.as_deref().and_then(strip_path) else { continue };
                builder.append_link(&mut header, &rel, target).map_err(tar_err("<upload>"))?;
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name().map_err(tar_err("<upload>"))?.map(|t| t.into_owned());
                let Some(target) = target else { continue };
                builder.append_link(&mut header, &rel, target).map_err(tar_err("<upload>"))?;
            }
            _ => {
                builder.append_data(&mut header, &rel, &mut entry).map_err(tar_err("<upload>"))?;
            }
        }
    }
    builder.into_inner().map_err(tar_err("<upload>"))
}

/// Re-orders a tar archive (entries relative to its root, parents before children) so that,
/// extracted into a tmpfs, each folder lists its entries in `readdir` order (paths relative to
/// the root, e.g. GNU `find -printf '%P\0'` in the image). tmpfs lists the newest entry first,
/// so each folder's children are written in reverse. Keeps observations such as
/// `find /testbed` in the image's order; entries `readdir` lacks come last.
pub(crate) fn order_for_tmpfs(tar_bytes: &[u8], readdir: &[String]) -> Result<Vec<u8>> {
    use std::collections::HashMap;
    struct Item {
        header: tar::Header,
        link: Option<std::path::PathBuf>,
        data: Vec<u8>,
    }
    let err = || tar_err("<testbed>");
    let mut items: HashMap<String, Item> = HashMap::new();
    let mut tar_order: Vec<String> = Vec::new();
    for entry in tar::Archive::new(tar_bytes).entries().map_err(err())? {
        let mut entry = entry.map_err(err())?;
        let path = entry.path().map_err(err())?.to_string_lossy().trim_end_matches('/').to_string();
        let link = entry.link_name().map_err(err())?.map(|l| l.into_owned());
        let header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).map_err(err())?;
        tar_order.push(path.clone());
        items.insert(path, Item { header, link, data });
    }
    let parent_of = |p: &str| p.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    let mut placed = std::collections::HashSet::new();
    for p in readdir.iter().chain(&tar_order) {
        if items.contains_key(p) && placed.insert(p.clone()) {
            children.entry(parent_of(p)).or_default().push(p.clone());
        }
    }
    let mut builder = tar::Builder::new(Vec::new());
    let mut stack: Vec<String> = children.get("").map(|c| c.to_vec()).unwrap_or_default();
    // Depth first; popping from the end emits each folder's children last-listed first.
    while let Some(p) = stack.pop() {
        let Some(mut item) = items.remove(&p) else { continue };
        match (item.header.entry_type(), item.link.take()) {
            (tar::EntryType::Link | tar::EntryType::Symlink, Some(target)) => {
                builder.append_link(&mut item.header, &p, target).map_err(err())?
            }
            (tar::EntryType::Directory, _) => {
                builder.append_data(&mut item.header, format!("{p}/"), std::io::empty()).map_err(err())?
            }
            _ => builder.append_data(&mut item.header, &p, item.data.as_slice()).map_err(err())?,
        }
        if let Some(kids) = children.get(&p) {
            stack.extend(kids.iter().cloned());
        }
    }
    builder.into_inner().map_err(err())
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
        let tar = single_file_tar("a/b.txt", b"hi", (0, 0)).unwrap();
        assert_eq!(first_file_from_tar(&tar, "/a/b.txt").unwrap(), b"hi");
    }

    #[test]
    fn tmpfs_order_writes_each_folders_children_in_reverse() {
        let files: Vec<(&str, &[u8], u32)> =
            vec![("a/x.py", b"x", 0o644), ("a/y.py", b"y", 0o644), ("b.txt", b"b", 0o644)];
        let tar = repack_tar(&pack_tar(files).unwrap(), (0, 0), None).unwrap();
        let readdir: Vec<String> = ["b.txt", "a", "a/y.py", "a/x.py"].iter().map(|s| s.to_string()).collect();
        let out = order_for_tmpfs(&tar, &readdir).unwrap();
        let names: Vec<String> = tar::Archive::new(out.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        // Created last = listed first: a (then its x, y), then b.txt.
        assert_eq!(names, ["a/", "a/x.py", "a/y.py", "b.txt"]);
    }

    #[test]
    fn repack_sets_owners_strips_the_root_and_adds_implied_folders() {
        let mut b = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        b.append_data(&mut dir, "testbed/", std::io::empty()).unwrap();
        let mut f = tar::Header::new_gnu();
        f.set_size(2);
        f.set_mode(0o600);
        b.append_data(&mut f, "testbed/pkg/deep/x.py", &b"hi"[..]).unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Link);
        l.set_size(0);
        l.set_mode(0o644);
        b.append_link(&mut l, "testbed/y.py", "testbed/pkg/deep/x.py").unwrap();
        let out = repack_tar(&b.into_inner().unwrap(), (1000, 1001), Some("testbed")).unwrap();
        let mut seen = Vec::new();
        for e in tar::Archive::new(out.as_slice()).entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (1000, 1001));
            let link = e.link_name().unwrap().map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
            seen.push(format!("{} {:o} {link}", e.path().unwrap().display(), h.mode().unwrap()));
        }
        assert_eq!(seen, ["pkg/ 755 ", "pkg/deep/ 755 ", "pkg/deep/x.py 600 ", "y.py 644 pkg/deep/x.py"]);
    }
}
