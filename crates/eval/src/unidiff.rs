//! Unified diffs in `git diff` form: the files a patch touches (SWE-bench/Agentless-mini take
//! oracle files from `diff --git a/(.*\.py) b/`), reversal (SWE-smith's `patch` is the bug, the
//! fix is its reverse: `git apply --reverse`) and exact in-memory application, used by the
//! `gold` backend to compute fixed file contents. Format: git `diff.c` / GNU diffutils.

use crate::error::{EvalError, Result};
use regex::Regex;
use std::sync::OnceLock;

/// One hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// 1-based start line in the old file (0 for an empty old side).
    pub old_start: usize,
    /// Lines on the old side.
    pub old_len: usize,
    /// 1-based start line in the new file.
    pub new_start: usize,
    /// Lines on the new side.
    pub new_len: usize,
    /// Text after the second `@@`.
    pub section: String,
    /// Body lines, each starting with ` `, `-`, `+` or `\`, without line terminator.
    pub lines: Vec<String>,
}

/// The changes to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePatch {
    /// Old path (`a/` stripped; `None` for a new file).
    pub old_path: Option<String>,
    /// New path (`b/` stripped; `None` for a deleted file).
    pub new_path: Option<String>,
    /// Extended header lines between `diff --git` and `---` (mode, index, rename).
    pub extended: Vec<String>,
    /// Hunks.
    pub hunks: Vec<Hunk>,
}

impl FilePatch {
    /// The path this patch is about (new path, else old).
    pub fn path(&self) -> &str {
        self.new_path.as_deref().or(self.old_path.as_deref()).unwrap_or("")
    }
}

fn git_header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^diff --git a/(.*) b/(.*)$").unwrap_or_else(|_| unreachable!("static regex")))
}

fn hunk_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
            .unwrap_or_else(|_| unreachable!("static regex"))
    })
}

/// Files touched by a diff, in order: every `diff --git a/(.*) b/` header, as Agentless-mini
/// reads oracle files (`prepare_gt_files.py` keeps the `.py` ones).
pub fn touched_files(diff: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in diff.lines() {
        if let Some(c) = git_header_re().captures(line) {
            let p = c.get(2).map_or("", |m| m.as_str()).to_string();
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn strip_prefix_path(raw: &str, prefix: &str) -> Option<String> {
    let raw = raw.split('\t').next().unwrap_or(raw).trim_end();
    if raw == "/dev/null" {
        return None;
    }
    Some(raw.strip_prefix(prefix).unwrap_or(raw).to_string())
}

fn parse_count(m: Option<regex::Match<'_>>) -> usize {
    m.map_or(1, |m| m.as_str().parse().unwrap_or(0))
}

/// Parses a (possibly multi-file) unified diff.
pub fn parse(diff: &str) -> Result<Vec<FilePatch>> {
    let mut files: Vec<FilePatch> = Vec::new();
    let lines: Vec<&str> = diff.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(c) = git_header_re().captures(line) {
            files.push(FilePatch {
                old_path: c.get(1).map(|m| m.as_str().to_string()),
                new_path: c.get(2).map(|m| m.as_str().to_string()),
                extended: Vec::new(),
                hunks: Vec::new(),
            });
            i += 1;
            continue;
        }
        if line.starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ ")) {
            let old = strip_prefix_path(&line[4..], "a/");
            let new = strip_prefix_path(&lines[i + 1][4..], "b/");
            match files.last_mut() {
                Some(f) if f.hunks.is_empty() => {
                    f.old_path = old;
                    f.new_path = new;
                }
                _ => files.push(FilePatch { old_path: old, new_path: new, extended: Vec::new(), hunks: Vec::new() }),
            }
            i += 2;
            continue;
        }
        if let Some(c) = hunk_re().captures(line) {
            let Some(file) = files.last_mut() else {
                return Err(EvalError::Diff {
                    file: "-".into(),
                    message: format!("hunk header outside a file: {line}"),
                });
            };
            let num = |k: usize| c.get(k).map_or(0, |m| m.as_str().parse().unwrap_or(0));
            let mut hunk = Hunk {
                old_start: num(1),
                old_len: parse_count(c.get(2)),
                new_start: num(3),
                new_len: parse_count(c.get(4)),
                section: c.get(5).map_or(String::new(), |m| m.as_str().to_string()),
                lines: Vec::new(),
            };
            let (mut old_seen, mut new_seen) = (0usize, 0usize);
            i += 1;
            while i < lines.len() && (old_seen < hunk.old_len || new_seen < hunk.new_len || lines[i].starts_with('\\'))
            {
                let l = lines[i];
                match l.chars().next() {
                    Some(' ') => {
                        old_seen += 1;
                        new_seen += 1;
                    }
                    None => {
                        // A context line whose single space was lost (some tools strip it).
                        old_seen += 1;
                        new_seen += 1;
                    }
                    Some('-') => old_seen += 1,
                    Some('+') => new_seen += 1,
                    Some('\\') => {}
                    _ => break,
                }
                hunk.lines.push(if l.is_empty() { " ".to_string() } else { l.to_string() });
                i += 1;
            }
            if old_seen != hunk.old_len || new_seen != hunk.new_len {
                return Err(EvalError::Diff {
                    file: file.path().to_string(),
                    message: format!("truncated hunk `{line}`"),
                });
            }
            file.hunks.push(hunk);
            continue;
        }
        if let Some(f) = files.last_mut() {
            if f.hunks.is_empty() && !line.is_empty() {
                f.extended.push(line.to_string());
            }
        }
        i += 1;
    }
    Ok(files)
}

/// Reverses a patch (what `git apply --reverse` applies): sides, paths, modes and line signs
/// swap.
pub fn reverse(files: &[FilePatch]) -> Vec<FilePatch> {
    files
        .iter()
        .map(|f| FilePatch {
            old_path: f.new_path.clone(),
            new_path: f.old_path.clone(),
            extended: f
                .extended
                .iter()
                .map(|l| {
                    if let Some(r) = l.strip_prefix("new file mode") {
                        format!("deleted file mode{r}")
                    } else if let Some(r) = l.strip_prefix("deleted file mode") {
                        format!("new file mode{r}")
                    } else {
                        l.clone()
                    }
                })
                .collect(),
            hunks: f
                .hunks
                .iter()
                .map(|h| Hunk {
                    old_start: h.new_start,
                    old_len: h.new_len,
                    new_start: h.old_start,
                    new_len: h.old_len,
                    section: h.section.clone(),
                    lines: reverse_lines(&h.lines),
                })
                .collect(),
        })
        .collect()
}

fn reverse_lines(lines: &[String]) -> Vec<String> {
    // Swap signs; keep `-` before `+` inside each change run, with `\` markers following their line.
    let mut out = Vec::with_capacity(lines.len());
    let mut minus: Vec<String> = Vec::new();
    let mut plus: Vec<String> = Vec::new();
    let mut last_was_plus = false;
    let flush = |out: &mut Vec<String>, minus: &mut Vec<String>, plus: &mut Vec<String>| {
        out.append(minus);
        out.append(plus);
    };
    for l in lines {
        if let Some(r) = l.strip_prefix('+') {
            minus.push(format!("-{r}"));
            last_was_plus = true;
        } else if let Some(r) = l.strip_prefix('-') {
            plus.push(format!("+{r}"));
            last_was_plus = false;
        } else if l.starts_with('\\') {
            if last_was_plus {
                minus.push(l.clone())
            } else {
                plus.push(l.clone())
            }
        } else {
            flush(&mut out, &mut minus, &mut plus);
            out.push(l.clone());
        }
    }
    flush(&mut out, &mut minus, &mut plus);
    out
}

/// Applies one file's hunks to `old` exactly (each hunk's old side must match at its stated
/// line, or anywhere after the previous hunk if the line numbers are off). Handles missing
/// final newlines (`\ No newline at end of file`).
pub fn apply_to_text(old: &str, patch: &FilePatch) -> Result<String> {
    let err = |message: String| EvalError::Diff { file: patch.path().to_string(), message };
    let old_has_final_nl = old.is_empty() || old.ends_with('\n');
    let src: Vec<&str> =
        if old.is_empty() { Vec::new() } else { old.strip_suffix('\n').unwrap_or(old).split('\n').collect() };
    let mut out: Vec<String> = Vec::new();
    let mut pos = 0usize; // next unconsumed source line
    let mut marker_seen = false;
    let mut new_no_final_nl = false;
    for h in &patch.hunks {
        let mut old_side: Vec<&str> = Vec::new();
        let mut new_side: Vec<&str> = Vec::new();
        let mut prev: char = ' ';
        for l in &h.lines {
            let (sign, text) = l.split_at(l.chars().next().map_or(0, char::len_utf8));
            match sign {
                " " => {
                    old_side.push(text);
                    new_side.push(text);
                }
                "-" => old_side.push(text),
                "+" => new_side.push(text),
                "\\" => {
                    marker_seen = true;
                    if prev == '+' || prev == ' ' {
                        new_no_final_nl = true;
                    }
                }
                _ => {}
            }
            if let Some(c) = sign.chars().next() {
                if c != '\\' {
                    prev = c;
                }
            }
        }
        let stated = h.old_start.saturating_sub(1);
        let stated = if h.old_len == 0 { h.old_start } else { stated };
        let matches_at = |at: usize| at + old_side.len() <= src.len() && src[at..at + old_side.len()] == old_side[..];
        let at = if stated >= pos && matches_at(stated) {
            stated
        } else {
            (pos..=src.len().saturating_sub(old_side.len()))
                .find(|&a| matches_at(a))
                .ok_or_else(|| err(format!("hunk @@ -{},{} does not match", h.old_start, h.old_len)))?
        };
        out.extend(src[pos..at].iter().map(|s| s.to_string()));
        out.extend(new_side.iter().map(|s| s.to_string()));
        pos = at + old_side.len();
    }
    out.extend(src[pos..].iter().map(|s| s.to_string()));
    if out.is_empty() {
        return Ok(String::new());
    }
    let mut text = out.join("\n");
    let new_final_nl = if marker_seen { !new_no_final_nl } else { old_has_final_nl };
    if new_final_nl {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/pkg/m.py b/pkg/m.py\nindex 1111111..2222222 100644\n--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -1,4 +1,4 @@\n def f(x):\n-    return x + 1\n+    return x - 1\n \n x = 1\ndiff --git a/README b/README\n--- a/README\n+++ b/README\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n";

    #[test]
    fn lists_touched_files() {
        assert_eq!(touched_files(DIFF), ["pkg/m.py", "README"]);
    }

    #[test]
    fn applies_and_reverses() {
        let files = parse(DIFF).unwrap();
        assert_eq!(files.len(), 2);
        let old = "def f(x):\n    return x + 1\n\nx = 1\n";
        let new = apply_to_text(old, &files[0]).unwrap();
        assert_eq!(new, "def f(x):\n    return x - 1\n\nx = 1\n");
        let rev = reverse(&files);
        assert_eq!(apply_to_text(&new, &rev[0]).unwrap(), old);
        assert_eq!(apply_to_text("a", &files[1]).unwrap(), "b");
        assert_eq!(apply_to_text("b", &rev[1]).unwrap(), "a");
    }

    #[test]
    fn mismatching_hunk_is_an_error() {
        let files = parse(DIFF).unwrap();
        let err = apply_to_text("something else\n", &files[0]).unwrap_err().to_string();
        assert!(err.contains("pkg/m.py") && err.contains("does not match"), "{err}");
    }

    #[test]
    fn new_file_round_trip() {
        let d = "diff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,2 @@\n+a\n+b\n";
        let files = parse(d).unwrap();
        assert_eq!(files[0].old_path, None);
        assert_eq!(apply_to_text("", &files[0]).unwrap(), "a\nb\n");
        let rev = reverse(&files);
        assert_eq!(rev[0].extended, ["deleted file mode 100644"]);
        assert_eq!(apply_to_text("a\nb\n", &rev[0]).unwrap(), "");
    }
}
