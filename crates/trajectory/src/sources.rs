//! Finding input files and streaming their records.
//!
//! `discover` walks the input folder recursively (sorted, hidden folders such as
//! `.cache/huggingface` skipped, symbolic links to files and folders followed, each real folder
//! entered once so link cycles end) for `*.parquet`, `*.jsonl` and, for SWE input, SWE-agent
//! `*.traj` files (docs/prepare.md). `read_records` runs on its own thread and sends batches of raw
//! records in file order through a bounded channel, so decoding overlaps with the parallel
//! replay and at most a few batches are in memory.

use crate::error::{Issue, IssueKind, Result, TrajectoryError};
use crate::parquet_rows::{KeptText, ParquetRows};
use crate::split::Split;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// What kind of file a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Parquet shard.
    Parquet,
    /// One JSON object per line.
    Jsonl,
    /// A SWE-agent trajectory file (one trajectory).
    Traj,
}

/// One input file.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Full path.
    pub path: PathBuf,
    /// Path relative to the input root (as written into provenance).
    pub display: String,
    /// Format.
    pub kind: FileKind,
}

/// Lists the input files under `root` (or `root` itself when it is a file), sorted by path.
pub fn discover(root: &Path, with_traj: bool) -> Result<Vec<InputFile>> {
    let meta = std::fs::metadata(root).map_err(|source| TrajectoryError::Io { path: root.to_path_buf(), source })?;
    let mut paths = Vec::new();
    if meta.is_file() {
        paths.push(root.to_path_buf());
    } else {
        let mut entered = std::collections::HashSet::new();
        walk(root, &mut paths, &mut entered)?;
    }
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let kind = match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") => FileKind::Parquet,
            Some("jsonl") => FileKind::Jsonl,
            Some("traj") if with_traj => FileKind::Traj,
            _ => continue,
        };
        let display = if meta.is_file() {
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        } else {
            path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned()
        };
        files.push(InputFile { path, display, kind });
    }
    Ok(files)
}

/// Walks `dir`; `entered` holds the canonical paths of the folders already walked, so a link
/// back to an ancestor (or a second link to the same folder) is not walked again.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, entered: &mut std::collections::HashSet<PathBuf>) -> Result<()> {
    let real = std::fs::canonicalize(dir).map_err(|source| TrajectoryError::Io { path: dir.to_path_buf(), source })?;
    if !entered.insert(real) {
        tracing::debug!(dir = %dir.display(), "already walked (symbolic link cycle or second link)");
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir)
        .and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>())
        .map_err(|source| TrajectoryError::Io { path: dir.to_path_buf(), source })?;
    // Sorted, so which of two links to one folder is walked does not depend on the file system.
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let mut ft = entry.file_type().map_err(|source| TrajectoryError::Io { path: path.clone(), source })?;
        if ft.is_symlink() {
            // Follow the link; a dangling one is left out.
            match std::fs::metadata(&path) {
                Ok(meta) => ft = meta.file_type(),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "skipped a dangling symbolic link: {e}");
                    continue;
                }
            }
        }
        if ft.is_dir() {
            walk(&path, out, entered)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Rows looked at to tell the split of a file whose name does not declare it.
const DETECT_ROWS: usize = 16;

/// The split of a file whose name does not tell it, from the assistant turns of its first rows
/// ([`Split::vote`]); `None` when they do not tell either (or the file cannot be read: the
/// pipeline reports that itself).
pub fn detect_file_split(file: &InputFile) -> Option<Split> {
    let mut votes = crate::split::SplitVotes::default();
    let mut vote_row = |fields: &serde_json::Map<String, serde_json::Value>| match fields.get("messages") {
        Some(serde_json::Value::String(s)) => {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
                Split::vote(&v, &mut votes);
            }
        }
        Some(v) => Split::vote(v, &mut votes),
        None => {}
    };
    match file.kind {
        FileKind::Traj => return Some(Split::Tool),
        FileKind::Parquet => {
            let mut rows = ParquetRows::open(&file.path, &["messages"], DETECT_ROWS).ok()?;
            if let Some(Ok(list)) = rows.next_rows() {
                list.iter().for_each(&mut vote_row);
            }
        }
        FileKind::Jsonl => {
            let reader = BufReader::new(std::fs::File::open(&file.path).ok()?);
            for line in reader.split(b'\n').take(DETECT_ROWS) {
                let Ok(bytes) = line else { break };
                if let Ok(fields) = line_fields(bytes) {
                    vote_row(&fields);
                }
            }
        }
    }
    votes.winner()
}

impl InputFile {
    /// The split its name declares (`.traj` files hold the raw history, i.e. `tool`).
    pub fn split(&self) -> Option<Split> {
        match self.kind {
            FileKind::Traj => Some(Split::Tool),
            _ => Split::from_file_name(&self.path),
        }
    }
}

/// One decoded record of an input file, for callers that handle records one by one (e.g.
/// `srl-swe replay`) rather than through the prepare pipeline.
#[derive(Debug)]
pub struct DecodedRow {
    /// Index into the file list.
    pub file: usize,
    /// 0-based row (parquet) or line index (JSONL); `None` for `.traj` files.
    pub row: Option<u64>,
    /// The record's columns, or why it could not be read.
    pub fields: std::result::Result<serde_json::Map<String, serde_json::Value>, Issue>,
}

/// Reads and decodes every record of `files` in order, keeping the `wanted` columns. Holds all
/// records in memory: meant for small inputs such as trajectories to replay in containers; the
/// prepare pipeline streams instead.
pub fn read_rows(files: &[InputFile], wanted: &[&str]) -> Vec<DecodedRow> {
    let (tx, rx) = crossbeam_channel::unbounded();
    read_records(files, wanted, 64, &tx);
    drop(tx);
    rx.into_iter()
        .flatten()
        .map(|r| DecodedRow {
            file: r.file,
            row: r.row,
            fields: crate::driver::fields_of(&files[r.file], r.body, None),
        })
        .collect()
}

/// A record as read, before decoding.
#[derive(Debug)]
pub(crate) enum RawBody {
    /// Parquet row: the wanted columns that exist, the `messages` text left in its arrow array.
    Fields(serde_json::Map<String, serde_json::Value>, Option<KeptText>),
    /// JSONL line bytes.
    Line(Vec<u8>),
    /// A whole `.traj` file.
    Traj(Vec<u8>),
    /// The record (or the rest of the file) could not be read.
    Bad(Issue),
}

/// One raw record with its place.
#[derive(Debug)]
pub(crate) struct RawRecord {
    /// Index into the file list.
    pub(crate) file: usize,
    /// 0-based row (parquet) or line index (JSONL).
    pub(crate) row: Option<u64>,
    /// Content.
    pub(crate) body: RawBody,
}

/// Reads every file in order and sends batches of about `batch` records. Stops early when the
/// receiver is gone.
pub(crate) fn read_records(
    files: &[InputFile],
    wanted: &[&str],
    batch: usize,
    tx: &crossbeam_channel::Sender<Vec<RawRecord>>,
) {
    let mut buf: Vec<RawRecord> = Vec::with_capacity(batch);
    let push = |rec: RawRecord, buf: &mut Vec<RawRecord>| -> bool {
        buf.push(rec);
        if buf.len() >= batch {
            return tx.send(std::mem::replace(buf, Vec::with_capacity(batch))).is_ok();
        }
        true
    };
    for (fi, f) in files.iter().enumerate() {
        match f.kind {
            FileKind::Parquet => match ParquetRows::open(&f.path, wanted, batch) {
                Err(issue) => {
                    if !push(RawRecord { file: fi, row: None, body: RawBody::Bad(issue) }, &mut buf) {
                        return;
                    }
                }
                Ok(mut rows) => {
                    let mut row = 0u64;
                    let total = rows.total_rows();
                    while let Some(next) = rows.next_rows_keeping(Some("messages")) {
                        match next {
                            Ok(list) => {
                                for (fields, text) in list {
                                    if !push(
                                        RawRecord { file: fi, row: Some(row), body: RawBody::Fields(fields, text) },
                                        &mut buf,
                                    ) {
                                        return;
                                    }
                                    row += 1;
                                }
                            }
                            Err(mut issue) => {
                                issue.detail = format!("{} (rows {row}..{total} not read)", issue.detail);
                                let _ =
                                    push(RawRecord { file: fi, row: Some(row), body: RawBody::Bad(issue) }, &mut buf);
                                break;
                            }
                        }
                    }
                }
            },
            FileKind::Jsonl => match std::fs::File::open(&f.path) {
                Err(e) => {
                    if !push(
                        RawRecord {
                            file: fi,
                            row: None,
                            body: RawBody::Bad(Issue::new(IssueKind::Unreadable, "file", e.to_string())),
                        },
                        &mut buf,
                    ) {
                        return;
                    }
                }
                Ok(file) => {
                    let reader = BufReader::with_capacity(1 << 20, file);
                    for (i, line) in reader.split(b'\n').enumerate() {
                        let body = match line {
                            Ok(bytes) if bytes.iter().all(|b| b.is_ascii_whitespace()) => continue,
                            Ok(bytes) => RawBody::Line(bytes),
                            Err(e) => RawBody::Bad(Issue::new(IssueKind::Unreadable, "line", e.to_string())),
                        };
                        let stop = matches!(body, RawBody::Bad(_));
                        if !push(RawRecord { file: fi, row: Some(i as u64), body }, &mut buf) {
                            return;
                        }
                        if stop {
                            break;
                        }
                    }
                }
            },
            FileKind::Traj => {
                let body = match std::fs::read(&f.path) {
                    Ok(bytes) => RawBody::Traj(bytes),
                    Err(e) => RawBody::Bad(Issue::new(IssueKind::Unreadable, "file", e.to_string())),
                };
                if !push(RawRecord { file: fi, row: None, body }, &mut buf) {
                    return;
                }
            }
        }
    }
    if !buf.is_empty() {
        let _ = tx.send(buf);
    }
}

/// Decodes a JSONL line into an object.
pub(crate) fn line_fields(bytes: Vec<u8>) -> std::result::Result<serde_json::Map<String, serde_json::Value>, Issue> {
    let text = String::from_utf8(bytes).map_err(|e| {
        Issue::new(IssueKind::InvalidUtf8, "line", format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()))
    })?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(Issue::new(IssueKind::MalformedJson, "line", "not a JSON object")),
        Err(e) => Err(Issue::new(IssueKind::MalformedJson, "line", e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discover_sorts_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        for p in ["b/tool-00001-of-00002.parquet", "a/x.jsonl", ".cache/y.jsonl", "r/i/i.traj", "notes.txt"] {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"").unwrap();
        }
        let files = discover(dir.path(), true).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(names, ["a/x.jsonl", "b/tool-00001-of-00002.parquet", "r/i/i.traj"]);
        assert_eq!(discover(dir.path(), false).unwrap().len(), 2);
    }

    #[test]
    fn discover_follows_folder_links_once() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("elsewhere/run1");
        std::fs::create_dir_all(run.join("iid")).unwrap();
        std::fs::write(run.join("iid/iid.traj"), b"{}").unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::os::unix::fs::symlink(&run, data.join("run1")).unwrap();
        // A second link to the same folder and a link back up to `data` (a cycle).
        std::os::unix::fs::symlink(&run, data.join("run1-again")).unwrap();
        std::os::unix::fs::symlink(&data, run.join("up")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing"), data.join("dangling")).unwrap();
        let files = discover(&data, true).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(names, ["run1/iid/iid.traj"]);
    }

    #[test]
    fn jsonl_line_errors() {
        assert_eq!(line_fields(b"{\"a\": 1".to_vec()).unwrap_err().kind, IssueKind::MalformedJson);
        assert_eq!(line_fields(vec![b'{', 0xff, b'}']).unwrap_err().kind, IssueKind::InvalidUtf8);
        assert_eq!(line_fields(b"[1]".to_vec()).unwrap_err().kind, IssueKind::MalformedJson);
        assert!(line_fields(b"{\"a\": 1}".to_vec()).is_ok());
    }
}
