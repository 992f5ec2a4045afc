//! Patch creation as Agentless-mini does it (`fake_git_repo` in
//! facebookresearch/swe-rl `src/swerl/agentless_mini/utils/data.py`): upstream commits the
//! original files to a scratch git repository, writes the new contents and takes `git diff .`;
//! here libgit2 diffs the buffers in memory with git's defaults (3 context lines, indent
//! heuristic, `a/`/`b/` prefixes), which prints the same text (the tests compare with the git
//! CLI), and every `\ No newline at end of file` line is removed.
//!
//! The post-processing of `repair.py` (`post_process_raw_output`) decides whether the patch is
//! kept: see [`finalize`].

use crate::error::{EvalError, Result};
use crate::search_replace::{differ_only_by_empty_lines, is_blank, EditedFile};
use git2::{DiffOptions, Patch};
use serde::{Deserialize, Serialize};
use std::path::Path;

const NO_NEWLINE: &str = "\\ No newline at end of file\n";

/// Builds a `diff --git` unified diff turning each file's `original` into `new`, files in
/// path order as `git diff .` prints them. Files whose content is unchanged contribute nothing.
/// Paths must be relative and stay inside the repository.
///
/// libgit2 diffs the two buffers in memory (`git_patch_from_buffers`), which prints exactly
/// what the scratch repository of upstream prints (same header, `index` line with abbreviated
/// blob ids and mode 100644, hunks; checked against the git CLI in the tests) without touching
/// the disk.
pub fn build_patch(files: &[EditedFile]) -> Result<String> {
    let mut changed: Vec<&EditedFile> = files.iter().filter(|f| f.original != f.new).collect();
    changed.sort_by(|a, b| a.path.cmp(&b.path));
    let mut out = String::new();
    for f in changed {
        check_path(&f.path)?;
        let mut opts = DiffOptions::new();
        opts.context_lines(3).indent_heuristic(true);
        let path = Path::new(&f.path);
        let mut patch =
            Patch::from_buffers(f.original.as_bytes(), Some(path), f.new.as_bytes(), Some(path), Some(&mut opts))
                .map_err(EvalError::git("diff"))?;
        let buf = patch.to_buf().map_err(EvalError::git("print diff"))?;
        out.push_str(&String::from_utf8_lossy(&buf));
    }
    Ok(out.replace(NO_NEWLINE, ""))
}

fn check_path(rel: &str) -> Result<()> {
    let rel_path = Path::new(rel);
    if rel.is_empty()
        || rel_path.is_absolute()
        || rel_path.components().any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(EvalError::Diff {
            file: rel.to_string(),
            message: "path must be relative and inside the repository".into(),
        });
    }
    Ok(())
}

/// Why a repair produced an empty `model_patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyPatchReason {
    /// The answer had no ```` ```python ```` block.
    NoEditBlocks,
    /// Blocks were found but no edit applied (see the per-edit outcomes).
    NoEditApplied,
    /// Edits applied but only blank lines changed.
    OnlyBlankLines,
    /// An edited file does not parse as Python (`ast.parse` in the task container).
    SyntaxError,
    /// The backend failed (after retries) or returned nothing.
    BackendError,
    /// No context file (localization found none, or none could be read).
    NoFiles,
}

/// The patch of one repair sample, as upstream's `model_patch` / `raw_model_patch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairPatch {
    /// The patch to evaluate (empty when rejected).
    pub model_patch: String,
    /// The diff before the syntax/blank-line checks.
    pub raw_model_patch: String,
    /// Why `model_patch` is empty, when it is.
    pub empty_reason: Option<EmptyPatchReason>,
}

/// `post_process_raw_output`: keeps the diff only if every edited file passed the syntax check
/// (`syntax_ok`, computed by the caller, e.g. with `ast.parse` in the container; upstream also
/// rejects a blank file) and the change is more than blank lines.
pub fn finalize(num_blocks: usize, files: &[EditedFile], syntax_ok: bool) -> Result<RepairPatch> {
    let raw = build_patch(files)?;
    let reason = if num_blocks == 0 {
        Some(EmptyPatchReason::NoEditBlocks)
    } else if files.iter().all(|f| f.original == f.new) {
        Some(EmptyPatchReason::NoEditApplied)
    } else if !syntax_ok || files.iter().any(|f| is_blank(&f.new)) {
        Some(EmptyPatchReason::SyntaxError)
    } else if differ_only_by_empty_lines(files) {
        Some(EmptyPatchReason::OnlyBlankLines)
    } else {
        None
    };
    let model_patch = if reason.is_none() { raw.clone() } else { String::new() };
    Ok(RepairPatch { model_patch, raw_model_patch: raw, empty_reason: reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ef(path: &str, original: &str, new: &str) -> EditedFile {
        EditedFile { path: path.into(), original: original.into(), new: new.into() }
    }

    /// The expected text is what `git diff` (git 2.39) prints for the same change, checked by
    /// `git_cli_agrees` below.
    #[test]
    fn builds_git_style_diff() {
        let p =
            build_patch(&[ef("pkg/m.py", "def f(x):\n    return x + 1\n", "def f(x):\n    return x - 1\n")]).unwrap();
        let lines: Vec<&str> = p.lines().collect();
        assert_eq!(lines[0], "diff --git a/pkg/m.py b/pkg/m.py");
        assert!(lines[1].starts_with("index ") && lines[1].ends_with(" 100644"), "{p}");
        assert_eq!(
            &lines[2..],
            [
                "--- a/pkg/m.py",
                "+++ b/pkg/m.py",
                "@@ -1,2 +1,2 @@",
                " def f(x):",
                "-    return x + 1",
                "+    return x - 1"
            ]
        );
        assert!(p.ends_with('\n'));
    }

    #[test]
    fn removes_no_newline_markers() {
        let p = build_patch(&[ef("a.py", "x = 1", "x = 2")]).unwrap();
        assert!(!p.contains("No newline"), "{p}");
        assert!(p.ends_with("-x = 1\n+x = 2\n"), "{p}");
    }

    #[test]
    fn unchanged_files_give_empty_patch() {
        assert_eq!(build_patch(&[ef("a.py", "x", "x")]).unwrap(), "");
    }

    #[test]
    fn rejects_escaping_paths() {
        assert!(build_patch(&[ef("../x.py", "a", "b")]).is_err());
    }

    #[test]
    fn git_cli_agrees() {
        // Compare with the real `git diff` (the reference Agentless-mini shells out to).
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("git must be installed (apt-get install git)");
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        let original = "import os\n\n\ndef f(x):\n    if x:\n        return 1\n    return 2\n\n\ndef g():\n    pass\n";
        let new = "import os\n\n\ndef f(x):\n    if not x:\n        return 1\n    return 2\n\n\ndef h():\n    pass\n\n\ndef g():\n    pass\n";
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/m.py"), original).unwrap();
        std::fs::write(dir.path().join("aaa.py"), "x = 1").unwrap();
        run(&["init", "-q"]);
        run(&["add", "."]);
        run(&["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "i"]);
        std::fs::write(dir.path().join("pkg/m.py"), new).unwrap();
        std::fs::write(dir.path().join("aaa.py"), "x = 2").unwrap();
        // Upstream removes the `\ No newline at end of file` lines from git's output too.
        let expected = run(&["-c", "core.abbrev=7", "diff", "."]).replace("\\ No newline at end of file\n", "");
        let ours = build_patch(&[ef("pkg/m.py", original, new), ef("aaa.py", "x = 1", "x = 2")]).unwrap();
        assert_eq!(ours, expected);
    }

    #[test]
    fn finalize_reasons() {
        let ok = [ef("a.py", "x = 1\n", "x = 2\n")];
        assert_eq!(finalize(1, &ok, true).unwrap().empty_reason, None);
        assert_eq!(finalize(1, &ok, false).unwrap().empty_reason, Some(EmptyPatchReason::SyntaxError));
        assert_eq!(finalize(0, &[], true).unwrap().empty_reason, Some(EmptyPatchReason::NoEditBlocks));
        assert_eq!(
            finalize(1, &[ef("a.py", "x\n", "x\n")], true).unwrap().empty_reason,
            Some(EmptyPatchReason::NoEditApplied)
        );
        let blank = finalize(1, &[ef("a.py", "x\ny\n", "x\n\ny\n")], true).unwrap();
        assert_eq!(blank.empty_reason, Some(EmptyPatchReason::OnlyBlankLines));
        assert_eq!(blank.model_patch, "");
        assert!(!blank.raw_model_patch.is_empty());
    }
}
