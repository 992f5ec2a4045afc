//! SEARCH/REPLACE edits exactly as Agentless-mini parses and applies them (facebookresearch/swe-rl,
//! `src/swerl/agentless_mini/utils/data.py`: `extract_python_blocks`,
//! `split_edit_multifile_commands`, `parse_diff_edit_commands`; `repair.py`:
//! `_post_process_multifile_repair`; docs/method.md §10 steps 1–4), with one recorded outcome per
//! edit so a report can say why an edit was not applied.
//!
//! Upstream quirks kept on purpose (they change resolve rates):
//! - only ```` ```python ```` fences count;
//! - each piece is `strip()`ped, so trailing blank lines of a REPLACE part vanish, and a REPLACE
//!   part that is empty leaves no `\n=======\n` separator: such a deletion edit is malformed;
//! - SEARCH must be a substring of the **original** file; kept edits are applied in order with
//!   replace-all and no line anchoring.

use crate::prompts::SourceFile;
use crate::pystr::{py_lstrip, py_splitlines, py_strip};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const SEARCH: &str = "<<<<<<< SEARCH";
const REPLACE: &str = ">>>>>>> REPLACE";
const DIVIDER: &str = "\n=======\n";

/// Why an edit was or was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditStatus {
    /// SEARCH was found in the original file and replaced.
    Applied,
    /// The edit names a file that was not given to the model (no file creation).
    UnknownFile,
    /// The edit has no file path line before it in its block.
    NoFileName,
    /// The piece does not contain exactly one `<<<<<<< SEARCH`.
    NoSearchMarker,
    /// SEARCH and REPLACE are not separated by exactly one `\n=======\n`.
    BadDivider,
    /// SEARCH is not an exact substring of the original file.
    SearchNotFound,
    /// Identical to an earlier edit of the same file (deduplicated, not applied twice).
    Duplicate,
}

impl EditStatus {
    /// Snake-case label, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            EditStatus::Applied => "applied",
            EditStatus::UnknownFile => "unknown_file",
            EditStatus::NoFileName => "no_file_name",
            EditStatus::NoSearchMarker => "no_search_marker",
            EditStatus::BadDivider => "bad_divider",
            EditStatus::SearchNotFound => "search_not_found",
            EditStatus::Duplicate => "duplicate",
        }
    }
}

/// One parsed edit and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditOutcome {
    /// File the edit names (empty when none).
    pub file: String,
    /// 0-based index of the fenced block it came from.
    pub block: usize,
    /// Outcome.
    pub status: EditStatus,
}

/// A file after applying its edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditedFile {
    /// Path.
    pub path: String,
    /// Original text.
    pub original: String,
    /// Text after the kept edits (equal to `original` when none applied).
    pub new: String,
}

/// The result of turning a model answer into new file contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairEdits {
    /// Number of ```` ```python ```` blocks found.
    pub num_blocks: usize,
    /// Every edit seen, in order, with its outcome.
    pub edits: Vec<EditOutcome>,
    /// Files that had at least one well-formed edit, in first-edit order (upstream
    /// `edited_files` / `new_contents`).
    pub files: Vec<EditedFile>,
}

impl RepairEdits {
    /// Number of edits applied.
    pub fn num_applied(&self) -> usize {
        self.edits.iter().filter(|e| e.status == EditStatus::Applied).count()
    }

    /// Files whose content changed.
    pub fn changed_files(&self) -> impl Iterator<Item = &EditedFile> {
        self.files.iter().filter(|f| f.new != f.original)
    }
}

fn python_block_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?s)```python\n(.*?)\n```").unwrap_or_else(|_| unreachable!("static regex")))
}

/// `extract_python_blocks`: the bodies of all ```` ```python\n…\n``` ```` fences.
pub fn extract_python_blocks(text: &str) -> Vec<&str> {
    python_block_re().captures_iter(text).filter_map(|c| c.get(1).map(|m| m.as_str())).collect()
}

/// With `THINKING=yes` upstream parses only the text between the first `<solution>` and the
/// next `</solution>`; without both tags the whole answer is kept.
pub fn solution_part(answer: &str) -> &str {
    if let Some(start) = answer.find("<solution>") {
        let rest = &answer[start + "<solution>".len()..];
        if let Some(end) = rest.find("</solution>") {
            return &rest[..end];
        }
    }
    answer
}

struct Command {
    file: String,
    block: usize,
    text: String,
}

/// `split_edit_multifile_commands` with outcomes for the pieces it skips.
fn split_commands(blocks: &[&str], outcomes: &mut Vec<EditOutcome>) -> Vec<Command> {
    let mut commands: Vec<Command> = Vec::new();
    for (bi, block) in blocks.iter().enumerate() {
        let mut file_name: Option<String> = None;
        let mut pieces: Vec<&str> = block.split(REPLACE).collect();
        pieces.pop(); // text after the last REPLACE marker (or the whole block) is not an edit
        for piece in pieces {
            let piece = py_strip(piece);
            if let Some(pos) = piece.find(SEARCH) {
                let fname = py_strip(piece[..pos].trim_start_matches('#'));
                if !fname.is_empty() {
                    file_name = Some(fname.to_string());
                }
            }
            let parts: Vec<&str> = piece.split(SEARCH).collect();
            if parts.len() != 2 {
                outcomes.push(EditOutcome {
                    file: file_name.clone().unwrap_or_default(),
                    block: bi,
                    status: EditStatus::NoSearchMarker,
                });
                continue;
            }
            let converted = format!("{SEARCH}{}\n{REPLACE}", parts[1]);
            let Some(file) = file_name.clone() else {
                outcomes.push(EditOutcome { file: String::new(), block: bi, status: EditStatus::NoFileName });
                continue;
            };
            if commands.iter().any(|c| c.file == file && c.text == converted) {
                outcomes.push(EditOutcome { file, block: bi, status: EditStatus::Duplicate });
                continue;
            }
            commands.push(Command { file, block: bi, text: converted });
        }
    }
    commands
}

/// Parses the SEARCH/REPLACE edits in `answer` and applies them to `files` (the files given to
/// the model), following upstream step by step.
pub fn apply_answer(answer: &str, files: &[SourceFile]) -> RepairEdits {
    let blocks = extract_python_blocks(answer);
    let mut outcomes = Vec::new();
    let commands = split_commands(&blocks, &mut outcomes);

    // Group by file in first-appearance order (upstream's OrderedDict).
    let mut order: Vec<&str> = Vec::new();
    for c in &commands {
        if !order.contains(&c.file.as_str()) {
            order.push(&c.file);
        }
    }
    let mut edited = Vec::new();
    for fname in order {
        let file_cmds: Vec<&Command> = commands.iter().filter(|c| c.file == fname).collect();
        let Some(src) = files.iter().find(|f| f.path == fname) else {
            outcomes.extend(file_cmds.iter().map(|c| EditOutcome {
                file: c.file.clone(),
                block: c.block,
                status: EditStatus::UnknownFile,
            }));
            continue;
        };
        // parse_diff_edit_commands: check all edits against the original, then apply in order.
        let mut can_apply: Vec<(String, String)> = Vec::new();
        for c in file_cmds {
            let lines = py_splitlines(&c.text);
            let inner = if lines.len() >= 2 { lines[1..lines.len() - 1].join("\n") } else { String::new() };
            let parts: Vec<&str> = inner.split(DIVIDER).collect();
            if parts.len() != 2 {
                outcomes.push(EditOutcome { file: c.file.clone(), block: c.block, status: EditStatus::BadDivider });
                continue;
            }
            if src.content.contains(parts[0]) {
                can_apply.push((parts[0].to_string(), parts[1].to_string()));
                outcomes.push(EditOutcome { file: c.file.clone(), block: c.block, status: EditStatus::Applied });
            } else {
                outcomes.push(EditOutcome { file: c.file.clone(), block: c.block, status: EditStatus::SearchNotFound });
            }
        }
        let mut content = src.content.clone();
        for (search, replace) in &can_apply {
            content = content.replace(search.as_str(), replace);
        }
        // Upstream drops a file whose new content is the empty string.
        if content.is_empty() {
            continue;
        }
        edited.push(EditedFile { path: src.path.clone(), original: src.content.clone(), new: content });
    }
    outcomes.sort_by_key(|o| o.block);
    RepairEdits { num_blocks: blocks.len(), edits: outcomes, files: edited }
}

/// `remove_empty_lines`: lines that are not blank, joined by `\n`.
fn remove_empty_lines(code: &str) -> String {
    py_splitlines(code).into_iter().filter(|l| !py_strip(l).is_empty()).collect::<Vec<_>>().join("\n")
}

/// `check_code_differ_by_just_empty_lines` over all edited files (concatenated, as upstream).
pub fn differ_only_by_empty_lines(files: &[EditedFile]) -> bool {
    let a: String = files.iter().map(|f| remove_empty_lines(&f.new)).collect();
    let b: String = files.iter().map(|f| remove_empty_lines(&f.original)).collect();
    a == b
}

/// Upstream's `check_syntax` also rejects a file that is empty after stripping.
pub fn is_blank(code: &str) -> bool {
    py_lstrip(code).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str, content: &str) -> SourceFile {
        SourceFile { path: path.into(), content: content.into() }
    }

    const ORIG: &str = "def f(x):\n    return x+1\n\n\ndef g():\n    return 0\n";

    #[test]
    fn applies_a_well_formed_edit() {
        let answer = "Fix:\n```python\n### pkg/util.py\n<<<<<<< SEARCH\n    return x+1\n=======\n    return x + 2\n>>>>>>> REPLACE\n```\n";
        let r = apply_answer(answer, &[src("pkg/util.py", ORIG)]);
        assert_eq!(r.num_blocks, 1);
        assert_eq!(r.edits, vec![EditOutcome { file: "pkg/util.py".into(), block: 0, status: EditStatus::Applied }]);
        assert_eq!(r.files[0].new, "def f(x):\n    return x + 2\n\n\ndef g():\n    return 0\n");
    }

    #[test]
    fn records_each_failure_reason() {
        let answer = concat!(
            "```python\n### other.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n",
            "```python\n### pkg/util.py\n<<<<<<< SEARCH\nnot there\n=======\ny\n>>>>>>> REPLACE\n```\n",
            "```python\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n",
            "```python\n### pkg/util.py\n<<<<<<< SEARCH\n    return 0\n>>>>>>> REPLACE\n```\n",
            "```rust\n### pkg/util.py\n<<<<<<< SEARCH\n    return 0\n=======\n    return 1\n>>>>>>> REPLACE\n```\n",
        );
        let r = apply_answer(answer, &[src("pkg/util.py", ORIG)]);
        let statuses: Vec<_> = r.edits.iter().map(|e| e.status).collect();
        assert_eq!(r.num_blocks, 4);
        assert_eq!(
            statuses,
            [EditStatus::UnknownFile, EditStatus::SearchNotFound, EditStatus::NoFileName, EditStatus::BadDivider]
        );
        assert_eq!(r.num_applied(), 0);
        assert_eq!(r.changed_files().count(), 0);
    }

    #[test]
    fn carries_file_name_and_replaces_all_occurrences() {
        // Two edits in one block; the second has no header and inherits the file name.
        let answer = "```python\n### a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n<<<<<<< SEARCH\ny\n=======\nz\n>>>>>>> REPLACE\n```";
        let r = apply_answer(answer, &[src("a.py", "x = 1\nyy\nx = 1\n")]);
        assert_eq!(r.num_applied(), 2);
        assert_eq!(r.files[0].new, "x = 2\nzz\nx = 2\n");
    }

    #[test]
    fn deletion_with_empty_replace_is_malformed_like_upstream() {
        let answer = "```python\n### a.py\n<<<<<<< SEARCH\nx = 1\n=======\n>>>>>>> REPLACE\n```";
        let r = apply_answer(answer, &[src("a.py", "x = 1\n")]);
        assert_eq!(r.edits[0].status, EditStatus::BadDivider);
    }

    #[test]
    fn duplicates_are_applied_once() {
        let e = "```python\n### a.py\n<<<<<<< SEARCH\na\n=======\nab\n>>>>>>> REPLACE\n```\n";
        let r = apply_answer(&format!("{e}{e}"), &[src("a.py", "a\n")]);
        assert_eq!(r.edits.iter().map(|e| e.status).collect::<Vec<_>>(), [EditStatus::Applied, EditStatus::Duplicate]);
        assert_eq!(r.files[0].new, "ab\n");
    }

    #[test]
    fn solution_tags_and_blank_checks() {
        assert_eq!(solution_part("<think>t</think><solution>s</solution>"), "s");
        assert_eq!(solution_part("no tags"), "no tags");
        let f = EditedFile { path: "a".into(), original: "a\n\nb\n".into(), new: "a\nb\n\n".into() };
        assert!(differ_only_by_empty_lines(&[f]));
        assert!(is_blank(" \n\t"));
    }
}
